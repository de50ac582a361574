# The two set-up commands of the README. Each creates its own virtual environment.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test demo bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

## make run: install and run Tierwise (web + RQ worker with scheduler) on embedded SQLite and Redis
run: $(STAMP)
	$(BIN)/tierwise run

## make test: install everything and run every test (and the architecture and lint checks)
test: $(STAMP)
	bash .ci/ensure-chromium
	bash .ci/build-ui
	bash .ci/forge-check
	$(BIN)/lint-imports
	$(BIN)/ruff check app jobs standin tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make demo: Tierwise on embedded defaults with the Jira stand-in, replaying sample tickets across the presets
demo: $(STAMP)
	$(BIN)/tierwise demo

## make bench: run the performance scripts in bench/ (figures and ratios, no assertions)
bench: $(STAMP)
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done
