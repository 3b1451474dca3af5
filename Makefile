# The verbs people use. `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PY := .venv/bin/python
ANNOMI ?=
PYTEST_ARGS ?=
EVAL_ARGS ?=

.PHONY: setup demo test test-fast lint gen gen-check stack-up stack-down clean \
	bench bench-export bench-notes bench-pipeline bench-prompts bench-stt eval

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

# Every benchmark, one after the other.
bench: bench-export bench-notes bench-pipeline bench-prompts bench-stt

# p50/p95 time to lay out a one-page and a five-page note as PDF (exporter, in process).
bench-export: setup
	@$(PY) services/exporter/bench/bench_render.py

# p50/p95 latency of notes-store's GetNote, ListNotes (500 notes) and UpdateNote over gRPC.
bench-notes: setup
	@$(PY) services/notes-store/bench/bench_grpc.py

# session.ended → draft.created with the local model on AnnoMI sessions (every service a
# process); `ANNOMI="125 104"` picks the sessions.
bench-pipeline: setup
	@$(PY) -m notewell_tools.bench_pipeline $(if $(ANNOMI),--annomi $(ANNOMI),)

# Time to the first streamed piece and to the whole answer of the editor's prompts with
# the local model (prompts service, in process).
bench-prompts: setup
	@$(PY) services/prompts/bench/bench_prompts.py

# Speech to text on synthesized AnnoMI sessions: word error rate, speaker attribution,
# real-time factor.
bench-stt: setup
	@$(PY) -m notewell_tools.bench_stt

# Note quality with the local model: ROUGE on ACI-Bench beside published systems, and
# quotes, numbers, risk evidence, empty sections and length on AnnoMI (docs/EVALUATION.md).
# `make eval EVAL_ARGS="--limit 2"` for a quick run.
eval: setup
	@$(PY) -m notewell_tools.evaluate $(EVAL_ARGS)

# A stack for working by hand: `eval "$$(make -s stack-env)"` after `make stack-up`.
stack-up: setup
	@$(PY) tools/devstack up

stack-down:
	@$(PY) tools/devstack down

clean: stack-down
	rm -rf .data
