"""Checks deploy/ and the container images without a cluster or a Docker engine.

The manifests are read as YAML and held to what the services need: a Deployment,
Service and ServiceAccount each, hardened pods, gRPC probes, resource limits, and only
environment variables that the service's ``Settings`` (or the tracing set-up) reads, with
values those settings accept. The few patch forms used in deploy/k8s are applied here
by hand to compute what a pod would see and what an overlay renders; where kubectl is
installed, its kustomize checks that model against the real rendering.
"""

from __future__ import annotations

import ast
import copy
import importlib
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
PRODUCTION = K8S / "overlays" / "production"

# Deployment name -> Python package under services/<name>/notewell/.
SERVICES = {
    "transcriber": "transcriber",
    "drafter": "drafter",
    "notes-store": "notes_store",
    "exporter": "exporter",
    "prompts": "prompts",
}
DATABASES = {
    "transcriber": "notewell_transcriber",
    "drafter": "notewell_drafter",
    "notes-store": "notewell_notes",
    "exporter": "notewell_exporter",
    "prompts": "notewell_prompts",
}
AUTOSCALED = ["drafter", "exporter"]
# Deployment -> (topic, consumer-group suffix) of the subscriptions KEDA scales it on.
# The group is the service's Settings.group_id plus the suffix its app.py (or
# notewell.clinical.intake) adds for a second subscription.
SCALED_ON = {
    "transcriber": [("session.ended", "")],
    "drafter": [("transcript.ready", "")],
    "notes-store": [("draft.created", "")],
    "exporter": [("note.saved", "")],
    "prompts": [("measurement.recorded", ""), ("wearable.summary", "-wearables")],
}
KEDA_LAG = K8S / "components" / "keda-lag"
TOPICS = K8S / "components" / "strimzi-topics" / "topics.yaml"
# What a KEDA kafka trigger reads from a TriggerAuthentication.
KAFKA_AUTH_PARAMETERS = {"sasl", "username", "password", "tls", "ca", "cert", "key"}
GRPC_PORT = 50051
USER_ID = 10001
SECRETS = {"notewell-mongodb", "notewell-llm", "notewell-auth"}
# Read outside any Settings class: by notewell.platform.telemetry, by the OTLP exporter,
# and by the OpenTelemetry SDK when it builds a span resource.
TRACING_VARIABLES = {
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_RESOURCE_ATTRIBUTES",
}


# ---------------------------------------------------------------- reading manifests


def read_docs(path: Path) -> list[Any]:
    with path.open(encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def yaml_files() -> list[Path]:
    return sorted(
        p for p in (ROOT / "deploy").rglob("*") if p.suffix in {".yaml", ".yml"}
    )


def kustomization_dirs() -> list[Path]:
    return sorted(p.parent for p in K8S.rglob("kustomization.yaml"))


def kustomization(folder: Path) -> dict[str, Any]:
    (doc,) = read_docs(folder / "kustomization.yaml")
    assert isinstance(doc, dict)
    return doc


def resources(folder: Path) -> list[dict[str, Any]]:
    """The objects a kustomization's own ``resources`` files declare (not patches)."""
    out: list[dict[str, Any]] = []
    for entry in kustomization(folder).get("resources", []):
        target = (folder / entry).resolve()
        if target.is_dir():
            out.extend(resources(target))
        else:
            out.extend(read_docs(target))
    return out


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def base_objects() -> list[dict[str, Any]]:
    return resources(BASE)


def pod_spec(deployment: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


def server(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = pod_spec(deployment)["containers"]
    assert len(containers) == 1, "one container per pod: the patches address index 0"
    container: dict[str, Any] = containers[0]
    return container


def quantity(value: str | int) -> float:
    """A Kubernetes CPU or memory quantity in cores or bytes."""
    text = str(value)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


# ------------------------------------------------ what a pod sees after an overlay


def patch_entries(folder: Path) -> Iterator[tuple[dict[str, Any], list[Any]]]:
    """(entry, documents) for each patch file of a kustomization and its components."""
    kust = kustomization(folder)
    for component in kust.get("components", []):
        yield from patch_entries((folder / component).resolve())
    for entry in kust.get("patches", []):
        yield entry, read_docs(folder / entry["path"])


def selects(entry: dict[str, Any], obj: dict[str, Any]) -> bool:
    target = entry.get("target", {})
    if target.get("kind") not in (None, obj["kind"]):
        return False
    if target.get("name") not in (None, obj["metadata"]["name"]):
        return False
    selector = target.get("labelSelector")
    if selector:
        labels = obj["metadata"].get("labels", {})
        wanted = dict(pair.split("=", 1) for pair in selector.split(","))
        return all(labels.get(k) == v for k, v in wanted.items())
    return True


def with_common_labels(obj: dict[str, Any]) -> dict[str, Any]:
    """The object with the base kustomization's ``labels`` applied to its metadata."""
    labels = dict(obj["metadata"].get("labels", {}))
    for group in kustomization(BASE).get("labels", []):
        labels.update(group["pairs"])
    return {**obj, "metadata": {**obj["metadata"], "labels": labels}}


def effective_env(folder: Path, deployment: dict[str, Any]) -> list[dict[str, Any]]:
    """The server container's env after the overlay at ``folder`` is applied."""
    env = [dict(e) for e in server(deployment).get("env", [])]
    name = deployment["metadata"]["name"]
    labelled = with_common_labels(deployment)
    for entry, docs in patch_entries(folder):
        if docs and isinstance(docs[0], list):
            if not selects(entry, labelled):
                continue
            for op in docs[0]:
                is_env_add = op["op"] == "add" and op["path"].endswith("/env/-")
                assert is_env_add, f"model this patch form here: {entry['path']}"
                env.append(dict(op["value"]))
            continue
        for doc in docs:
            if doc["kind"] != "Deployment" or doc["metadata"]["name"] != name:
                continue
            template = doc["spec"].get("template", {})
            for container in template.get("spec", {}).get("containers", []):
                for item in container.get("env", []):
                    env = [e for e in env if e["name"] != item["name"]] + [dict(item)]
    return env


def component_dirs(folder: Path) -> list[Path]:
    return [(folder / c).resolve() for c in kustomization(folder).get("components", [])]


def rendered(folder: Path) -> list[dict[str, Any]]:
    """The objects an overlay renders, as far as the patch forms used here go: its own
    and its components' resources, less those a ``$patch: delete`` removes, with the
    ``replicas`` of a Deployment that a patch sets to null taken out."""
    objects = copy.deepcopy(resources(folder))
    for component in component_dirs(folder):
        objects += copy.deepcopy(resources(component))
    for _, docs in patch_entries(folder):
        for doc in docs:
            if not isinstance(doc, dict):
                continue
            key = (doc["kind"], doc["metadata"]["name"])
            matches = [o for o in objects if (o["kind"], o["metadata"]["name"]) == key]
            if doc.get("$patch") == "delete":
                objects = [o for o in objects if o not in matches]
            elif doc["kind"] == "Deployment" and "replicas" in doc.get("spec", {}):
                assert doc["spec"]["replicas"] is None, "model this patch form here"
                for obj in matches:
                    obj["spec"].pop("replicas", None)
    return objects


def effective_config(folder: Path) -> dict[str, str]:
    config = dict(find(base_objects(), "ConfigMap", "notewell-config")["data"])
    for _, docs in patch_entries(folder):
        for doc in docs:
            is_config = isinstance(doc, dict) and doc.get("kind") == "ConfigMap"
            if is_config and doc["metadata"]["name"] == "notewell-config":
                config.update(doc["data"])
    return config


def pod_environment(folder: Path, deployment: dict[str, Any]) -> dict[str, str]:
    """Name -> value as the process would see it; Secret values become stand-ins."""
    env = dict(effective_config(folder))
    for item in effective_env(folder, deployment):
        if "value" in item:
            env[item["name"]] = str(item["value"])
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = f"secret:{ref['name']}/{ref['key']}"
    return env


# ------------------------------------------------------------------ settings classes


def settings_class(package: str) -> Any:
    """The service's Settings, or a skip naming the service when it is not written yet."""
    folder = ROOT / "services" / package.replace("_", "-")
    if not (folder / "notewell" / package / "settings.py").exists():
        pytest.skip(f"services/{folder.name} has no settings module yet")
    if str(folder) not in sys.path:
        # What scripts/bootstrap.sh's .pth file does for every service folder.
        sys.path.append(str(folder))
    module = importlib.import_module(f"notewell.{package}.settings")
    return module.Settings


def aliases(model: Any) -> set[str]:
    names: set[str] = set()
    for field in model.model_fields.values():
        for alias in (field.alias, field.validation_alias):
            if isinstance(alias, str):
                names.add(alias)
            elif alias is not None and hasattr(alias, "choices"):
                names.update(c for c in alias.choices if isinstance(c, str))
    return names


def platform_aliases() -> set[str]:
    from notewell.platform.settings import PlatformSettings

    return aliases(PlatformSettings)


# --------------------------------------------------------------------------- tests


def test_every_yaml_file_parses() -> None:
    files = yaml_files()
    assert len(files) >= 10
    for path in files:
        docs = read_docs(path)
        assert docs, f"{path} is empty"
        for doc in docs:
            if isinstance(doc, list):
                assert all({"op", "path"} <= set(op) for op in doc), path
            else:
                assert {"apiVersion", "kind"} <= set(doc), path


@pytest.mark.parametrize(
    "folder", kustomization_dirs(), ids=lambda p: str(p.relative_to(K8S))
)
def test_kustomization_lists_existing_files(folder: Path) -> None:
    kust = kustomization(folder)
    expected_kind = "Component" if folder.parent.name == "components" else "Kustomization"
    assert kust["kind"] == expected_kind

    listed: set[Path] = set()
    for entry in kust.get("resources", []):
        target = (folder / entry).resolve()
        assert target.exists(), f"{folder}: resource {entry} does not exist"
        if target.is_dir():
            assert (target / "kustomization.yaml").exists(), entry
        listed.add(target)
    for entry in kust.get("components", []):
        target = (folder / entry).resolve()
        assert kustomization(target)["kind"] == "Component", entry
    for entry in kust.get("patches", []):
        target = (folder / entry["path"]).resolve()
        assert target.is_file(), f"{folder}: patch {entry['path']} does not exist"
        listed.add(target)

    own = {p.resolve() for p in folder.glob("*.yaml")} - {folder / "kustomization.yaml"}
    assert own <= listed, f"{folder}: not listed: {sorted(p.name for p in own - listed)}"


@pytest.mark.parametrize("name", SERVICES)
def test_service_file_holds_deployment_service_and_account(name: str) -> None:
    objects = read_docs(BASE / f"{name}.yaml")
    deployment = find(objects, "Deployment", name)
    service = find(objects, "Service", name)
    account = find(objects, "ServiceAccount", name)

    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert pod_spec(deployment)["serviceAccountName"] == account["metadata"]["name"]

    (port,) = service["spec"]["ports"]
    assert port["name"] == "grpc"
    assert port["port"] == GRPC_PORT
    container_ports = {p["name"]: p["containerPort"] for p in server(deployment)["ports"]}
    assert container_ports == {"grpc": GRPC_PORT}
    assert port["targetPort"] in ("grpc", GRPC_PORT)
    assert server(deployment)["image"] == f"notewell/{name}"


@pytest.mark.parametrize("name", SERVICES)
def test_pod_runs_non_root_with_read_only_root(name: str) -> None:
    deployment = find(base_objects(), "Deployment", name)
    spec = pod_spec(deployment)
    pod = spec["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert pod["runAsUser"] == USER_ID
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}

    for container in spec["containers"]:
        ctx = container["securityContext"]
        assert ctx["allowPrivilegeEscalation"] is False
        assert ctx["readOnlyRootFilesystem"] is True
        assert ctx["capabilities"]["drop"] == ["ALL"]
        assert "add" not in ctx["capabilities"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]], "/tmp must be a writable emptyDir"


@pytest.mark.parametrize("name", SERVICES)
def test_probes_use_grpc_health(name: str) -> None:
    container = server(find(base_objects(), "Deployment", name))
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"] == {"port": GRPC_PORT}, probe
    if "startupProbe" in container:
        assert container["startupProbe"]["grpc"] == {"port": GRPC_PORT}


@pytest.mark.parametrize("name", SERVICES)
def test_resources_have_requests_within_limits(name: str) -> None:
    resources_ = server(find(base_objects(), "Deployment", name))["resources"]
    for kind in ("cpu", "memory"):
        request = quantity(resources_["requests"][kind])
        limit = quantity(resources_["limits"][kind])
        assert 0 < request <= limit, f"{name} {kind}"


def limit(objects: list[dict[str, Any]], name: str, kind: str) -> float:
    return quantity(
        server(find(objects, "Deployment", name))["resources"]["limits"][kind]
    )


def test_transcriber_gets_the_most_cpu_and_memory() -> None:
    objects = base_objects()
    for kind in ("cpu", "memory"):
        limits = {name: limit(objects, name, kind) for name in SERVICES}
        assert max(limits, key=lambda n: limits[n]) == "transcriber", (kind, limits)


def test_shared_config_names_only_platform_settings() -> None:
    config = effective_config(BASE)
    assert set(config) <= platform_aliases(), set(config) - platform_aliases()
    assert config["KAFKA_ENABLE_IDEMPOTENCE"] == "true"
    assert config["KAFKA_CREATE_TOPICS"] == "false"
    assert "S3_ENDPOINT_URL" not in config
    assert "@" not in config["MONGODB_URI"], "credentials belong in notewell-mongodb"
    for deployment in (o for o in base_objects() if o["kind"] == "Deployment"):
        refs = [r["configMapRef"]["name"] for r in server(deployment)["envFrom"]]
        assert refs == ["notewell-config"], deployment["metadata"]["name"]


@pytest.mark.parametrize("folder", [BASE, PRODUCTION], ids=["base", "production"])
@pytest.mark.parametrize("name", SERVICES)
def test_environment_is_what_settings_read(name: str, folder: Path) -> None:
    settings_type = settings_class(SERVICES[name])
    deployment = find(base_objects(), "Deployment", name)
    env = pod_environment(folder, deployment)

    unknown = set(env) - aliases(settings_type) - TRACING_VARIABLES
    assert not unknown, f"{name} sets variables its Settings does not read: {unknown}"

    # The values must be ones the settings accept, and do what deploy/README.md says.
    read = {k: v for k, v in env.items() if k not in TRACING_VARIABLES}
    settings = settings_type(**read)
    assert settings.service_name == settings_type.model_fields["service_name"].default
    assert settings.grpc_port == GRPC_PORT
    assert settings.kafka_enable_idempotence is True
    assert settings.kafka_create_topics is False
    assert settings.s3_endpoint_url is None
    assert settings.kms_key_id
    if name in DATABASES:
        assert settings.mongodb_database == DATABASES[name]


def test_service_specific_values() -> None:
    objects = base_objects()
    exporter = pod_environment(BASE, find(objects, "Deployment", "exporter"))
    assert exporter["NOTES_STORE_ADDRESS"] == f"notes-store:{GRPC_PORT}"
    assert exporter["EXPORT_BUCKET"]
    drafter = pod_environment(BASE, find(objects, "Deployment", "drafter"))
    assert drafter["OPENAI_BASE_URL"].startswith(("http://", "https://"))
    assert drafter["OPENAI_API_KEY"] == "secret:notewell-llm/api-key"
    assert drafter["LLM_MODEL"]
    for name in DATABASES:
        env = pod_environment(BASE, find(objects, "Deployment", name))
        assert env["MONGODB_URI"] == f"secret:notewell-mongodb/{name}"


@pytest.mark.parametrize("name", SERVICES)
def test_secrets_and_key_file_are_wired(name: str) -> None:
    deployment = find(base_objects(), "Deployment", name)
    spec = pod_spec(deployment)
    volumes = {v["name"]: v for v in spec["volumes"]}
    for item in server(deployment).get("env", []):
        if "valueFrom" in item:
            assert item["valueFrom"]["secretKeyRef"]["name"] in SECRETS
    for volume in volumes.values():
        if "secret" in volume:
            assert volume["secret"]["secretName"] in SECRETS

    env = {e["name"]: e.get("value") for e in server(deployment).get("env", [])}
    key_file = env.get("AUTH_PUBLIC_KEY_FILE")
    if key_file is None:
        return
    mounts = {m["mountPath"]: m for m in server(deployment)["volumeMounts"]}
    folder, filename = key_file.rsplit("/", 1)
    mount = mounts[folder]
    assert mount["readOnly"] is True
    secret = volumes[mount["name"]]["secret"]
    assert secret["secretName"] == "notewell-auth"
    assert filename in [i["path"] for i in secret["items"]]


@pytest.mark.parametrize("name", AUTOSCALED)
def test_autoscaled_services_have_hpa_and_pdb(name: str) -> None:
    objects = base_objects()
    deployment = find(objects, "Deployment", name)
    hpa = find(objects, "HorizontalPodAutoscaler", name)
    pdb = find(objects, "PodDisruptionBudget", name)

    assert "replicas" not in deployment["spec"], "the autoscaler owns the replica count"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": name,
    }
    assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()

    # More consumers than partitions would sit idle.
    topics = read_docs(K8S / "components" / "strimzi-topics" / "topics.yaml")
    partitions = min(
        t["spec"]["partitions"]
        for t in topics
        if not t["spec"]["topicName"].endswith(".dlq")
    )
    assert hpa["spec"]["maxReplicas"] <= partitions


# --------------------------------------------- autoscaling on consumer lag (KEDA)


def scaled_objects(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """ScaledObjects by the name of the Deployment they scale."""
    out: dict[str, dict[str, Any]] = {}
    for obj in objects:
        if obj["kind"] == "ScaledObject":
            ref = obj["spec"]["scaleTargetRef"]
            assert ref.get("kind", "Deployment") == "Deployment"
            assert ref["name"] not in out, f"two ScaledObjects scale {ref['name']}"
            out[ref["name"]] = obj
    return out


def kafka_triggers(scaled: dict[str, Any]) -> list[dict[str, str]]:
    return [t["metadata"] for t in scaled["spec"]["triggers"] if t["type"] == "kafka"]


def partitions() -> dict[str, int]:
    return {t["spec"]["topicName"]: t["spec"]["partitions"] for t in read_docs(TOPICS)}


def test_keda_lag_is_an_opt_in_component_enabled_in_production() -> None:
    assert kustomization(KEDA_LAG)["kind"] == "Component"
    assert not scaled_objects(base_objects())
    assert KEDA_LAG in component_dirs(PRODUCTION)


@pytest.mark.parametrize("name", SCALED_ON)
def test_production_scales_each_consumer_on_its_groups_lag(name: str) -> None:
    deployment = find(base_objects(), "Deployment", name)
    scaled = scaled_objects(rendered(PRODUCTION))[name]
    env = pod_environment(PRODUCTION, deployment)
    settings_type = settings_class(SERVICES[name])
    settings = settings_type(
        **{k: v for k, v in env.items() if k not in TRACING_VARIABLES}
    )

    # Same namespace as the Deployment, which the base kustomization sets.
    assert scaled["metadata"]["namespace"] == kustomization(BASE)["namespace"]
    assert scaled["spec"]["scaleTargetRef"]["name"] == name
    assert scaled["metadata"]["labels"]["app.kubernetes.io/name"] == name

    triggers = kafka_triggers(scaled)
    expected = {
        (settings.topic(t), settings.group_id + suffix) for t, suffix in SCALED_ON[name]
    }
    assert {(t["topic"], t["consumerGroup"]) for t in triggers} == expected
    assert len(triggers) == len(expected)
    for trigger in triggers:
        # KEDA reads the brokers from the pod's own environment: the ones it consumes.
        variable = trigger["bootstrapServersFromEnv"]
        assert variable in aliases(settings_type)
        assert env[variable] == settings.kafka_bootstrap_servers
        assert "bootstrapServers" not in trigger
        assert trigger["offsetResetPolicy"] == "earliest"
        assert int(trigger["lagThreshold"]) >= 1
    # The consumers start a new group at the earliest offset too.
    consumer = ROOT / "libs" / "platform" / "notewell" / "platform" / "consumer.py"
    assert 'auto_offset_reset="earliest"' in consumer.read_text(encoding="utf-8")


def test_lag_thresholds_follow_how_long_a_record_takes() -> None:
    threshold = {
        name: max(int(t["lagThreshold"]) for t in kafka_triggers(scaled))
        for name, scaled in scaled_objects(rendered(PRODUCTION)).items()
    }
    # A draft holds a replica for about a minute: at most two sessions per replica.
    assert threshold["drafter"] <= 2
    assert threshold["transcriber"] <= 2
    # A PDF renders in under a second; storing a draft or a score is a few writes.
    assert threshold["drafter"] < threshold["exporter"] < threshold["notes-store"]
    assert threshold["exporter"] < threshold["prompts"]


def test_no_autoscaler_shares_a_deployment_with_a_scaled_object() -> None:
    objects = rendered(PRODUCTION)
    scaled = scaled_objects(objects)
    assert set(scaled) == set(SCALED_ON)

    hpa_targets = {
        o["spec"]["scaleTargetRef"]["name"]
        for o in objects
        if o["kind"] == "HorizontalPodAutoscaler"
    }
    assert not hpa_targets & set(scaled)
    # Deployments KEDA does not scale keep the base's CPU autoscalers.
    in_base = {
        o["spec"]["scaleTargetRef"]["name"]
        for o in base_objects()
        if o["kind"] == "HorizontalPodAutoscaler"
    }
    assert hpa_targets == in_base - set(scaled)
    # A replicas field would be put back on every apply, against the autoscaler.
    for name in scaled:
        assert "replicas" not in find(objects, "Deployment", name)["spec"], name


@pytest.mark.parametrize("name", SCALED_ON)
def test_scaled_object_keeps_the_bounds_it_replaces(name: str) -> None:
    objects = base_objects()
    scaled = scaled_objects(rendered(PRODUCTION))[name]["spec"]
    hpas = [
        o
        for o in objects
        if o["kind"] == "HorizontalPodAutoscaler"
        and o["spec"]["scaleTargetRef"]["name"] == name
    ]
    advanced = scaled["advanced"]["horizontalPodAutoscalerConfig"]
    assert advanced["name"] == name
    if hpas:
        (hpa,) = hpas
        assert scaled["minReplicaCount"] == hpa["spec"]["minReplicas"]
        assert scaled["maxReplicaCount"] == hpa["spec"]["maxReplicas"]
        assert advanced["behavior"] == hpa["spec"]["behavior"]
        # Adopts the CPU autoscaler of the same name where it already runs.
        metadata = find(rendered(PRODUCTION), "ScaledObject", name)["metadata"]
        transfer = metadata["annotations"]["scaledobject.keda.sh/transfer-hpa-ownership"]
        assert transfer == "true"
        assert advanced["name"] == hpa["metadata"]["name"]
    else:
        replicas = find(objects, "Deployment", name)["spec"]["replicas"]
        assert scaled["minReplicaCount"] == replicas
        assert scaled["minReplicaCount"] <= scaled["maxReplicaCount"]
    assert scaled["minReplicaCount"] >= 1, "the services also serve gRPC"
    pdbs = [o for o in objects if o["kind"] == "PodDisruptionBudget"]
    for pdb in pdbs:
        if pdb["metadata"]["name"] == name:
            assert pdb["spec"]["minAvailable"] < scaled["minReplicaCount"]


def test_consumers_never_outnumber_their_topics_partitions() -> None:
    # A consumer beyond the partition count gets no partition and sits idle.
    count = partitions()
    for name, scaled in scaled_objects(rendered(PRODUCTION)).items():
        for trigger in kafka_triggers(scaled):
            topic = trigger["topic"]
            assert scaled["spec"]["maxReplicaCount"] <= count[topic], (name, topic)
    for hpa in (o for o in base_objects() if o["kind"] == "HorizontalPodAutoscaler"):
        name = hpa["spec"]["scaleTargetRef"]["name"]
        for topic, _ in SCALED_ON.get(name, []):
            assert hpa["spec"]["maxReplicas"] <= count[topic], (name, topic)


def test_trigger_authentication_is_a_secret_backed_placeholder() -> None:
    objects = rendered(PRODUCTION)
    auths = {
        o["metadata"]["name"]: o for o in objects if o["kind"] == "TriggerAuthentication"
    }
    (auth,) = auths.values()
    assert auth["metadata"]["namespace"] == kustomization(BASE)["namespace"]
    refs = auth["spec"]["secretTargetRef"]
    assert {r["name"] for r in refs} == {"notewell-kafka-scaler"}
    assert {r["parameter"] for r in refs} <= KAFKA_AUTH_PARAMETERS
    assert {"sasl", "username", "password", "tls"} <= {r["parameter"] for r in refs}

    # Any trigger that uses credentials names one declared here, and KEDA needs them
    # wherever the services' own connection is not plaintext.
    protocol = effective_config(PRODUCTION).get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    for scaled in scaled_objects(objects).values():
        for trigger in scaled["spec"]["triggers"]:
            if "authenticationRef" in trigger:
                assert trigger["authenticationRef"]["name"] in auths
            elif trigger["type"] == "kafka":
                assert protocol == "PLAINTEXT", scaled["metadata"]["name"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_kustomize_renders_what_this_file_models() -> None:
    out = subprocess.run(
        ["kubectl", "kustomize", str(PRODUCTION)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    real = [doc for doc in yaml.safe_load_all(out) if doc]
    modelled = rendered(PRODUCTION)

    def ids(objects: list[dict[str, Any]]) -> set[tuple[str, str]]:
        return {(o["kind"], o["metadata"]["name"]) for o in objects}

    assert ids(real) == ids(modelled)
    for kind in ("ScaledObject", "TriggerAuthentication"):
        for obj in (o for o in modelled if o["kind"] == kind):
            assert find(real, kind, obj["metadata"]["name"]) == obj
    for name in SERVICES:
        replicas = find(modelled, "Deployment", name)["spec"].get("replicas")
        assert find(real, "Deployment", name)["spec"].get("replicas") == replicas


def test_network_policies_deny_by_default_and_open_notes_store() -> None:
    policies = {
        o["metadata"]["name"]: o for o in base_objects() if o["kind"] == "NetworkPolicy"
    }
    deny = policies["default-deny-ingress"]["spec"]
    assert deny["podSelector"] == {}
    assert deny["policyTypes"] == ["Ingress"]
    assert "ingress" not in deny

    (rule,) = policies["notes-store"]["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": GRPC_PORT}]
    callers: set[str] = set()
    namespaces = []
    for peer in rule["from"]:
        if "podSelector" in peer:
            (expr,) = peer["podSelector"]["matchExpressions"]
            assert (expr["key"], expr["operator"]) == ("app.kubernetes.io/name", "In")
            callers.update(expr["values"])
        else:
            namespaces.append(peer["namespaceSelector"]["matchLabels"])
    assert callers == {"exporter", "prompts", "drafter"}
    assert namespaces == [{"kubernetes.io/metadata.name": "api-gateway"}]

    for policy in policies.values():
        selected = policy["spec"]["podSelector"].get("matchLabels", {})
        if selected:
            assert selected["app.kubernetes.io/name"] in SERVICES


def test_strimzi_topics_cover_the_pipeline_and_dead_letters() -> None:
    from notewell.platform import events

    topics = read_docs(K8S / "components" / "strimzi-topics" / "topics.yaml")
    by_name = {t["spec"]["topicName"]: t for t in topics}
    expected = set(events.TOPIC_TYPES) | {
        events.dead_letter_topic(t) for t in events.TOPIC_TYPES
    }
    assert set(by_name) == expected
    for topic in events.TOPIC_TYPES:
        live = by_name[topic]["spec"]["config"]
        dead = by_name[events.dead_letter_topic(topic)]["spec"]["config"]
        assert 0 < int(live["retention.ms"]) <= int(dead["retention.ms"])
    for t in topics:
        assert t["kind"] == "KafkaTopic"
        assert t["metadata"]["labels"]["strimzi.io/cluster"]
        assert t["spec"]["replicas"] >= 3
        assert int(t["spec"]["config"]["min.insync.replicas"]) >= 2


def test_production_overlay_sets_images_and_roles() -> None:
    kust = kustomization(PRODUCTION)
    # A namespace here would move the KafkaTopics out of the Kafka cluster's namespace.
    assert "namespace" not in kust
    images = {i["name"]: i for i in kust["images"]}
    assert set(images) == {f"notewell/{name}" for name in SERVICES}
    assert all(i["newTag"] and i["newName"] for i in images.values())

    roles = {}
    for _, docs in patch_entries(PRODUCTION):
        for doc in docs:
            if isinstance(doc, dict) and doc["kind"] == "ServiceAccount":
                roles[doc["metadata"]["name"]] = doc["metadata"]["annotations"]
    assert set(roles) == {"transcriber", "drafter", "notes-store", "exporter", "prompts"}
    for account in roles.values():
        assert account["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")

    # Every named patch lands on an object the base declares.
    in_base = {(o["kind"], o["metadata"]["name"]) for o in base_objects()}
    for entry, docs in patch_entries(PRODUCTION):
        for doc in docs:
            if isinstance(doc, dict):
                assert (doc["kind"], doc["metadata"]["name"]) in in_base, entry


def test_tracing_variables_are_read() -> None:
    from opentelemetry.sdk.resources import Resource

    telemetry = ROOT / "libs" / "platform" / "notewell" / "platform" / "telemetry.py"
    assert '"OTEL_TRACES_EXPORTER"' in telemetry.read_text(encoding="utf-8")

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.namespace=notewell")
        resource = Resource.create({"service.name": "drafter"})
    assert resource.attributes["service.namespace"] == "notewell"

    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    from notewell.platform.telemetry import span_exporter

    patch = read_docs(K8S / "components" / "otel" / "tracing-env.patch.yaml")[0]
    env = {op["value"]["name"]: op["value"]["value"] for op in patch}
    assert set(env) == TRACING_VARIABLES
    assert isinstance(span_exporter(env["OTEL_TRACES_EXPORTER"]), OTLPSpanExporter)
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"].startswith(("http://", "https://"))


def test_topics_take_the_largest_record_a_service_produces() -> None:
    largest = int(effective_config(BASE)["KAFKA_MAX_MESSAGE_BYTES"])
    assert largest >= 8 * 1024 * 1024
    for topic in read_docs(TOPICS):
        config = topic["spec"]["config"]
        assert config["max.message.bytes"] == largest, topic["spec"]["topicName"]


# ------------------------------------------------------------------- container images


def dockerfile(name: str) -> str:
    return (ROOT / "services" / name / "Dockerfile").read_text(encoding="utf-8")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


@pytest.mark.parametrize("name", SERVICES)
def test_dockerfile_builds_only_its_service_and_runs_as_10001(name: str) -> None:
    steps = instructions(dockerfile(name))
    package = SERVICES[name]

    assert ("ARG", "PYTHON_IMAGE=python:3.11-slim") in steps
    stages = [args for word, args in steps if word == "FROM"]
    assert stages == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE}"]

    copied = [
        args.split()[0]
        for word, args in steps
        if word == "COPY" and not args.startswith("--from")
    ]
    # The shared clinical library goes only into the images of services that use it.
    libs = ["libs/contracts", "libs/platform"]
    pyproject = ROOT / "services" / name / "pyproject.toml"
    if pyproject.exists() and "notewell-clinical" in declared(pyproject):
        libs.append("libs/clinical")
    assert copied == [*libs, f"services/{name}"]
    installs = [args for word, args in steps if word == "RUN" and "pip install" in args]
    wanted = " ".join(f"./{lib}" for lib in [*libs, f"services/{name}"])
    assert installs == [f"pip install {wanted}"]

    runtime = steps[[w for w, _ in steps].index("FROM", 2) :]
    assert ("USER", f"{USER_ID}:{USER_ID}") in runtime
    cmd = [json.loads(args) for word, args in runtime if word == "CMD"]
    assert cmd == [["python", "-m", f"notewell.{package}"]]
    code = ROOT / "services" / name / "notewell" / package
    if code.is_dir():
        assert (code / "__main__.py").exists(), f"{cmd} needs {code.name}/__main__.py"


def test_exporter_image_has_pango_and_fonts() -> None:
    apt = [
        args
        for word, args in instructions(dockerfile("exporter"))
        if word == "RUN" and "apt-get install" in args
    ]
    assert len(apt) == 1
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "fonts-dejavu-core"):
        assert package in apt[0].split()


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".git", ".venv", ".data", "**/tests", "**/__pycache__"):
        assert entry in ignored
    for needed in ("libs", "services", "libs/contracts", "libs/platform"):
        assert needed not in ignored


# ------------------------------------------- dependencies declared for the images


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(pyproject: Path) -> set[str]:
    return {normalise(r.name) for r in requirements(pyproject)}


def imported_distributions(folder: Path) -> dict[str, set[str]]:
    """Third-party top-level module -> distributions providing it, for folder's code."""
    provided = importlib.metadata.packages_distributions()
    modules: set[str] = set()
    for path in folder.rglob("*.py"):
        if "tests" in path.relative_to(folder).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    third_party = modules - set(sys.stdlib_module_names) - {"notewell", "__future__"}
    return {m: {normalise(d) for d in provided.get(m, [])} for m in third_party}


LIBS = {
    "notewell-contracts": ROOT / "libs" / "contracts",
    "notewell-platform": ROOT / "libs" / "platform",
    "notewell-clinical": ROOT / "libs" / "clinical",
}


def requirements(pyproject: Path) -> list[Requirement]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return [Requirement(r) for r in project.get("dependencies", [])]


def installed_by(wanted: list[Requirement]) -> set[str]:
    """Every distribution pip would install for these requirements, following the
    libraries' pyproject files and the installed packages' metadata."""
    seen: set[str] = set()
    queue = [(req, frozenset(req.extras)) for req in wanted]
    while queue:
        req, extras = queue.pop()
        name = normalise(req.name)
        key = name + "[" + ",".join(sorted(extras)) + "]"
        if key in seen:
            continue
        seen |= {key, name}
        if name in LIBS:
            queue += [
                (r, frozenset(r.extras))
                for r in requirements(LIBS[name] / "pyproject.toml")
            ]
            continue
        for text in importlib.metadata.requires(req.name) or []:
            sub = Requirement(text)
            active = [{"extra": e} for e in extras] or [{"extra": ""}]
            if sub.marker is None or any(sub.marker.evaluate(env) for env in active):
                queue.append((sub, frozenset(sub.extras)))
    return {s for s in seen if "[" not in s}


def test_library_pyprojects_declare_what_they_import() -> None:
    platform_deps = declared(LIBS["notewell-platform"] / "pyproject.toml")
    for lib, folder in LIBS.items():
        project = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
        assert project["project"]["name"] == lib
        finder = project["tool"]["setuptools"]["packages"]["find"]
        assert finder == {"include": ["notewell*"], "namespaces": True}
        assert not (folder / "notewell" / "__init__.py").exists()

        # The libraries name each distribution they import, not only its dependants.
        own = requirements(folder / "pyproject.toml")
        direct = {normalise(r.name) for r in own}
        direct |= installed_by([r for r in own if normalise(r.name) in LIBS])
        for module, dists in imported_distributions(folder).items():
            assert dists & direct, f"{lib} imports {module} without declaring it"
    for dist in ("faststream", "grpcio-health-checking", "pyjwt", "pydantic-settings"):
        assert dist in platform_deps


@pytest.mark.parametrize("name", SERVICES)
def test_service_pyproject_declares_what_it_imports(name: str) -> None:
    folder = ROOT / "services" / name
    if not (folder / "pyproject.toml").exists():
        pytest.skip(f"services/{name} has no pyproject.toml yet")
    assert {"notewell-contracts", "notewell-platform"} <= declared(
        folder / "pyproject.toml"
    )
    # The image gets exactly what pip resolves from this file.
    image = installed_by(requirements(folder / "pyproject.toml"))
    for module, dists in imported_distributions(folder / "notewell").items():
        assert dists & image, f"services/{name} imports {module}, which its image lacks"
