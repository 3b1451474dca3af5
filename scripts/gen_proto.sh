#!/usr/bin/env bash
# Regenerates the Python code for everything under proto/ into libs/contracts/.
# With --check, regenerates into a scratch folder and fails when the committed code differs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-$root/.venv/bin/python}
export PATH="$(dirname "$py"):$PATH"

shared_init='__path__ = __import__("pkgutil").extend_path(__path__, __name__)'

generate() {
  local out=$1
  mkdir -p "$out"
  (cd "$root/proto" && find notewell -name '*.proto' | sort | xargs "$py" -m grpc_tools.protoc \
    -I . --python_out="$out" --grpc_python_out="$out" --mypy_out="$out" --mypy_grpc_out="$out")
  # Every generated folder is a regular package, except the shared "notewell" namespace.
  find "$out/notewell" -mindepth 1 -type d -exec touch {}/__init__.py \;
  # A first-level package (notewell.exporter, ...) may share its name with a service's
  # package; extending its path lets both folders serve modules, whichever comes first.
  for dir in "$out"/notewell/*/; do
    printf '%s\n' "$shared_init" > "$dir/__init__.py"
  done
}

if [[ "${1:-}" == "--check" ]]; then
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  generate "$scratch"
  if ! diff -r -x __pycache__ "$scratch/notewell" "$root/libs/contracts/notewell" >/dev/null; then
    echo "generated protobuf code is stale: run 'make gen' and commit the result" >&2
    diff -r -q -x __pycache__ "$scratch/notewell" "$root/libs/contracts/notewell" >&2 || true
    exit 1
  fi
  echo "generated protobuf code is up to date"
else
  rm -rf "$root/libs/contracts/notewell"
  generate "$root/libs/contracts"
  echo "generated protobuf code in libs/contracts/notewell"
fi
