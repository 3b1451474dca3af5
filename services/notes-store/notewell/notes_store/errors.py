"""Why a request about a note is refused. Messages name ids and numbers only; they reach
the caller and the logs."""

from __future__ import annotations


class NoteRefused(Exception):
    """Base of every refusal; ``str(error)`` is safe to show the caller."""


class BadRequest(NoteRefused):
    """The request itself is malformed."""


class NoteNotFound(NoteRefused):
    """No such note for this clinician. Another clinician's note is reported the same
    way, so a caller never learns that it exists."""

    def __init__(self) -> None:
        super().__init__("note not found")


class NoteSigned(NoteRefused):
    """The note is part of the record and never changes again."""

    def __init__(self) -> None:
        super().__init__("note is signed and can no longer be changed")


class StaleVersion(NoteRefused):
    """The change was based on an older version than the stored one."""

    def __init__(self, current: int) -> None:
        super().__init__(
            f"note is at version {current}; reload it and apply the change again"
        )
        self.current = current


class NoteNotSigned(NoteRefused):
    """Addenda belong to signed notes; a draft is edited instead."""

    def __init__(self) -> None:
        super().__init__("only a signed note takes addenda; edit the draft instead")


class NoteUnreadable(NoteRefused):
    """The note's data key was deleted (crypto-shredded): its content is gone."""

    def __init__(self) -> None:
        super().__init__("note content is no longer readable")


class TemplateNotFound(NoteRefused):
    """No such template for this clinician."""

    def __init__(self) -> None:
        super().__init__("template not found")


class ClientProfileNotFound(NoteRefused):
    """The clinician has recorded nothing about this client."""

    def __init__(self) -> None:
        super().__init__("client profile not found")
