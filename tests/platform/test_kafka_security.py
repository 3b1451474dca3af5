"""How KAFKA_SECURITY_PROTOCOL and its companions become client options.

The local broker (Tansu) listens in PLAINTEXT only, so TLS and SASL are checked here
through the options every client is built with; the round trip in test_kafka_limits.py
covers PLAINTEXT against the real broker.
"""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from notewell.platform.kafka import connection_options, kafka_security, make_broker
from notewell.platform.settings import PlatformSettings

SERVERS = "kafka-0.example:9093"
PASSWORD = "s3cret-pass"


def settings(**env: str) -> PlatformSettings:
    return PlatformSettings(KAFKA_BOOTSTRAP_SERVERS=SERVERS, **env)  # type: ignore[arg-type]


def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file = folder / f"{name}.crt"
    key_file = folder / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def ca_names(context: ssl.SSLContext) -> list[str]:
    return [
        value
        for cert in context.get_ca_certs()
        for rdn in cert["subject"]
        for key, value in rdn
        if key == "commonName"
    ]


def test_plaintext_is_the_default_and_adds_nothing() -> None:
    plain = settings()
    assert kafka_security(plain) is None
    assert connection_options(plain) == {
        "bootstrap_servers": SERVERS,
        "security_protocol": "PLAINTEXT",
    }


def test_ssl_verifies_the_brokers_against_the_given_ca(tmp_path: Path) -> None:
    ca, _ = self_signed(tmp_path, "notewell-test-ca")
    options = connection_options(
        settings(KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SSL_CA_FILE=str(ca))
    )

    assert options["security_protocol"] == "SSL"
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert ca_names(context) == ["notewell-test-ca"]
    assert not any(k.startswith("sasl") for k in options)


def test_mutual_tls_loads_the_client_certificate(tmp_path: Path) -> None:
    ca, _ = self_signed(tmp_path, "notewell-test-ca")
    cert, key = self_signed(tmp_path, "transcriber")
    options = connection_options(
        settings(
            KAFKA_SECURITY_PROTOCOL="SSL",
            KAFKA_SSL_CA_FILE=str(ca),
            KAFKA_SSL_CERT_FILE=str(cert),
            KAFKA_SSL_KEY_FILE=str(key),
        )
    )
    assert options["security_protocol"] == "SSL"
    assert isinstance(options["ssl_context"], ssl.SSLContext)

    # The key must belong to the certificate: a mismatched pair fails at start-up.
    _, other_key = self_signed(tmp_path, "someone-else")
    with pytest.raises(ssl.SSLError):
        connection_options(
            settings(
                KAFKA_SECURITY_PROTOCOL="SSL",
                KAFKA_SSL_CERT_FILE=str(cert),
                KAFKA_SSL_KEY_FILE=str(other_key),
            )
        )


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_over_plaintext(mechanism: str) -> None:
    options = connection_options(
        settings(
            KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
            KAFKA_SASL_MECHANISM=mechanism,
            KAFKA_SASL_USERNAME="transcriber",
            KAFKA_SASL_PASSWORD=PASSWORD,
        )
    )
    assert options == {
        "bootstrap_servers": SERVERS,
        "security_protocol": "SASL_PLAINTEXT",
        "ssl_context": None,
        "sasl_mechanism": mechanism,
        "sasl_plain_username": "transcriber",
        "sasl_plain_password": PASSWORD,
    }


def test_sasl_over_tls_uses_the_system_trust_store_without_a_ca_file() -> None:
    options = connection_options(
        settings(
            KAFKA_SECURITY_PROTOCOL="SASL_SSL",
            KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
            KAFKA_SASL_USERNAME="drafter",
            KAFKA_SASL_PASSWORD=PASSWORD,
        )
    )
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "drafter"
    assert options["sasl_plain_password"] == PASSWORD
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_the_broker_connects_its_consumers_and_producer_the_same_way() -> None:
    secured = settings(
        KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        KAFKA_SASL_MECHANISM="SCRAM-SHA-256",
        KAFKA_SASL_USERNAME="exporter",
        KAFKA_SASL_PASSWORD=PASSWORD,
        KAFKA_MAX_MESSAGE_BYTES=str(4 * 1024 * 1024),
    )
    broker = make_broker(secured)

    consumer: dict[str, Any] = broker.config.builder.keywords  # type: ignore[attr-defined]
    assert consumer["bootstrap_servers"] == [SERVERS]
    assert consumer["security_protocol"] == "SASL_SSL"
    assert consumer["sasl_mechanism"] == "SCRAM-SHA-256"
    assert consumer["sasl_plain_username"] == "exporter"
    assert consumer["sasl_plain_password"] == PASSWORD
    assert isinstance(consumer["ssl_context"], ssl.SSLContext)
    producer = broker._connection_kwargs  # the options FastStream's producer gets
    assert producer["max_request_size"] == 4 * 1024 * 1024
    assert producer["security_protocol"] == "SASL_SSL"


def test_the_password_stays_out_of_the_settings_repr() -> None:
    secured = settings(
        KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        KAFKA_SASL_MECHANISM="PLAIN",
        KAFKA_SASL_USERNAME="prompts",
        KAFKA_SASL_PASSWORD=PASSWORD,
    )
    assert PASSWORD not in repr(secured)
    assert PASSWORD not in str(secured.model_dump())


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "u"},
            "needs KAFKA_SASL_MECHANISM",
        ),
        (
            {
                "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "KAFKA_SASL_MECHANISM": "PLAIN",
            },
            "needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD",
        ),
        (
            {
                "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
                "KAFKA_SASL_USERNAME": "u",
            },
            "needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD",
        ),
        ({"KAFKA_SASL_MECHANISM": "PLAIN"}, "does not use SASL"),
        ({"KAFKA_SSL_CA_FILE": "/ca.pem"}, "does not use TLS"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CERT_FILE": "/c.pem"},
            "KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together",
        ),
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "GSSAPI"},
            "KAFKA_SASL_MECHANISM",
        ),
        ({"KAFKA_MAX_MESSAGE_BYTES": "1000"}, "KAFKA_MAX_MESSAGE_BYTES"),
    ],
)
def test_incomplete_combinations_are_refused_at_load(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as err:
        settings(**env)
    assert PASSWORD not in str(err.value)
