"""Developer tooling: running the whole pipeline on one machine, loading sample and
public sessions, and evaluation helpers. Not shipped in any service image."""
