"""``python -m notewell.drafter``: runs the drafter until SIGTERM or SIGINT."""

from __future__ import annotations

from notewell.drafter.app import DrafterApp
from notewell.drafter.settings import Settings
from notewell.platform.service import run_service

if __name__ == "__main__":
    run_service(Settings, DrafterApp)
