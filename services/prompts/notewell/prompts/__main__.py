"""``python -m notewell.prompts``: runs the prompts service until SIGTERM or SIGINT."""

from __future__ import annotations

from notewell.platform.service import run_service
from notewell.prompts.app import PromptsApp
from notewell.prompts.settings import Settings

if __name__ == "__main__":
    run_service(Settings, PromptsApp)
