"""``python -m notewell.exporter``: runs the exporter until SIGTERM or SIGINT."""

from __future__ import annotations

from notewell.exporter.app import ExporterApp
from notewell.exporter.settings import Settings
from notewell.platform.service import run_service

if __name__ == "__main__":
    run_service(Settings, ExporterApp)
