"""The notes store: keeps each clinician's notes, lets them edit drafts, and signs a note
into the client's record, announcing it on note.saved."""
