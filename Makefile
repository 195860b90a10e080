# Two commands for a fresh machine: `make demo` and `make test`.
# Installing compiles the Numba kernels once (shieldlab.warmup) so that the first command answers at once.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint fuzz install bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -m shieldlab.warmup
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/shieldlab demo

# test processes: the machine's cores, at most four (each holds its own compiled kernels)
JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)

test: $(STAMP) lint
	$(PY) -m pytest -q -n $(JOBS)

# style and types: ruff and mypy (configured in pyproject.toml)
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench tools
	$(VENV)/bin/mypy

# the scenario fuzzer at length: thousands of mutated presets (tests/test_fuzz_scenarios.py)
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -q -n $(JOBS) tests/test_fuzz_scenarios.py

clean:
	rm -rf $(VENV) out .pytest_cache
