"""The transcriber: turns a consented session's partner transcript into a sealed
``Transcript`` with its session facts, and announces it on transcript.ready."""
