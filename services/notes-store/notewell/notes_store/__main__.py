"""``python -m notewell.notes_store``: runs the notes store until SIGTERM or SIGINT."""

from __future__ import annotations

from notewell.notes_store.app import NotesStoreApp
from notewell.notes_store.settings import Settings
from notewell.platform.service import run_service

if __name__ == "__main__":
    run_service(Settings, NotesStoreApp)
