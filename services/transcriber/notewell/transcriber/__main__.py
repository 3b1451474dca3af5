"""``python -m notewell.transcriber``: runs the transcriber until SIGTERM or SIGINT."""

from __future__ import annotations

from notewell.platform.service import run_service
from notewell.transcriber.app import TranscriberApp
from notewell.transcriber.settings import Settings

if __name__ == "__main__":
    run_service(Settings, TranscriberApp)
