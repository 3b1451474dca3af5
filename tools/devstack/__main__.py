"""Entry point for ``python tools/devstack ...`` and ``python -m devstack ...``."""

import sys
from pathlib import Path

if not __package__:
    # Run as a directory or a file: make ``devstack`` importable and keep this
    # folder off sys.path so its module names cannot shadow anything.
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

from devstack.cli import main

if __name__ == "__main__":
    sys.exit(main())
