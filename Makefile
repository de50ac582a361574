# The README's commands. Each installs .venv from the lock file (uv.lock) with uv, which is itself
# pinned and installed from PyPI into .uv/ the first time: nothing to install by hand but Python and make.
# Regenerate the lock after changing dependencies in pyproject.toml: `make lock`.
PYTHON     ?= python3
VENV       ?= .venv
BIN        := $(VENV)/bin
UV_VERSION := 0.13.9
UV         := .uv/bin/uv
# uv uses this Python (never a downloaded one) and this virtual environment, copying files out of its
# cache and compiling them to bytecode as pip does (where PYTHONDONTWRITEBYTECODE is set, nothing else
# would, and every process would compile its imports again: gunicorn then takes seconds longer to start).
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_LINK_MODE := copy
export UV_COMPILE_BYTECODE := 1
# --locked: install exactly what uv.lock says, and fail (naming `uv lock`) when pyproject.toml's
# dependencies no longer match it, rather than resolving anew.
SYNC := $(UV) sync --locked --quiet

.PHONY: run test demo bench lock

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet uv==$(UV_VERSION)

## make run: install the runtime dependencies and run Tierwise (web + RQ worker with scheduler) on embedded SQLite and Redis
run: $(UV)
	$(SYNC) --inexact
	$(BIN)/tierwise run

## make test: install with the test and bench tools and run every test (and the architecture and lint checks)
test: $(UV)
	$(SYNC) --extra test --extra bench
	bash .ci/build-ui
	bash .ci/forge-check
	$(BIN)/lint-imports
	$(BIN)/ruff check app jobs standin tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS) || { rc=$$?; [ $$rc != 5 ] || echo "pytest collected no tests (exit 5)" >&2; exit $$rc; }

## make demo: Tierwise on embedded defaults with the Jira stand-in, replaying sample tickets across the presets
demo: $(UV)
	$(SYNC) --inexact --extra test
	$(BIN)/tierwise demo

## make bench: run the performance scripts in bench/ (figures and ratios, no assertions)
bench: $(UV)
	$(SYNC) --extra test --extra bench
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

## make lock: re-resolve uv.lock from pyproject.toml (after adding or changing a dependency)
lock: $(UV)
	$(UV) lock
