# Two commands for a fresh machine: `make demo` and `make test`.
# Installing compiles the Numba kernels once (shieldlab.warmup) so that the first command answers at once,
# and builds the 3-D scene viewer (web/: CesiumJS from npm, offline) that `shieldlab view` serves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
VIEWER := web/dist/.built
# root installs Debian packages itself; anyone else through sudo
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint fuzz install bench clean viewer browser

# shieldlab's modules are byte-compiled once (compileall): where PYTHONDONTWRITEBYTECODE is set,
# every command and test process would compile them from source again
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -m compileall -q src
	$(PY) -m shieldlab.warmup
	touch $(STAMP)

# the viewer: npm packages from the lock file, then web/build.mjs copies Cesium's prebuilt
# library and the page into web/dist (not committed)
$(VIEWER): web/package.json web/package-lock.json web/build.mjs $(wildcard web/src/*)
	cd web && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build
	touch $(VIEWER)

viewer: $(VIEWER)

# Debian's chromium for the browser tests (Playwright drives it; it never downloads a browser)
browser:
	@[ -x /usr/bin/chromium ] || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

install: $(STAMP) $(VIEWER)

demo: $(STAMP) $(VIEWER)
	$(VENV)/bin/shieldlab demo

# test processes: the machine's cores, at most four (each holds its own compiled kernels)
JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)

# worksteal: an idle process takes tests queued for a busy one (the suite ends in a few long
# tests, which the default split can leave on one process while the other waits); the slowest
# tests are listed at the end, for keeping the suite under its ten minutes
test: $(STAMP) $(VIEWER) browser lint
	$(PY) -m pytest -q -n $(JOBS) --dist worksteal --durations=25

# style and types: ruff and mypy (configured in pyproject.toml)
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench tools
	$(VENV)/bin/mypy

# the scenario fuzzer at length: thousands of mutated presets (tests/test_fuzz_scenarios.py)
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -q -n $(JOBS) tests/test_fuzz_scenarios.py

clean:
	rm -rf $(VENV) out .pytest_cache web/node_modules web/dist
