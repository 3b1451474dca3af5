# The verbs people use. `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PY := .venv/bin/python
ANNOMI ?=
PYTEST_ARGS ?=

.PHONY: setup demo test test-fast lint gen gen-check stack-up stack-down clean

setup:
	@bash scripts/bootstrap.sh

demo: setup
	@$(PY) -m notewell_tools.demo $(if $(ANNOMI),--annomi $(ANNOMI))

test: setup gen-check
	@$(PY) -m pytest $(PYTEST_ARGS)

# Everything but the tests that need the real model or every service as a process.
test-fast: setup
	@$(PY) -m pytest -m "not llm and not e2e" $(PYTEST_ARGS)

lint: setup
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .

gen: setup
	@bash scripts/gen_proto.sh

gen-check: setup
	@bash scripts/gen_proto.sh --check

# p50/p95 latency of notes-store's GetNote, ListNotes (500 notes) and UpdateNote over gRPC.
bench-notes: setup
	@$(PY) services/notes-store/bench/bench_grpc.py

# Speech to text on synthesized AnnoMI sessions: word error rate, speaker attribution,
# real-time factor.
bench-stt: setup
	@$(PY) -m notewell_tools.bench_stt

# A stack for working by hand: `eval "$$(make -s stack-env)"` after `make stack-up`.
stack-up: setup
	@$(PY) tools/devstack up

stack-down:
	@$(PY) tools/devstack down

clean: stack-down
	rm -rf .data
