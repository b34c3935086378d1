# mignet developer entry points. `make help` lists them.
#
# Everything runs from .venv, created on first use; `pip install` runs again only
# when pyproject.toml changes or a package directory appears or goes (the
# editable install maps package names to paths when it is made).

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV     := .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.mignet-installed
PKG_LIST := $(VENV)/.mignet-packages
PACKAGES := $(sort $(wildcard contracts/mignet_* runtime/mignet_* services/*/mignet_* cli/mignet_*))

PYTEST_ARGS ?=
# Test workers (pytest-xdist), each with its own throwaway servers; 0 runs the suite in this one process.
TEST_WORKERS ?= 2
RUN_ARGS    ?=
CLUSTER     ?=
BENCH_ARGS  ?=

.PHONY: help install run test lint bench schemas asyncapi clean lock FORCE

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z]+:.*## / {printf "  make %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  variables: PYTEST_ARGS='-k name' (test), TEST_WORKERS=0 (test, one process), RUN_ARGS='--services registry' (run), CLUSTER=3 (run)"

install: $(STAMP) ## create .venv and install mignet with the local and test extras

$(PY):
	@py=""; \
	for cand in python3.11 python3; do \
	  if command -v $$cand >/dev/null && $$cand -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then py=$$cand; break; fi; \
	done; \
	if [ -z "$$py" ]; then echo "make: need Python >= 3.11 (python3.11 or python3); on Debian: apt-get install python3 python3-venv" >&2; exit 1; fi; \
	echo "creating $(VENV) with $$(command -v $$py) ($$($$py --version))"; \
	$$py -m venv $(VENV) || { echo "make: '$$py -m venv' failed; on Debian: apt-get install python3-venv" >&2; exit 1; }

# Rewritten only when the set of package directories changes, so its date moves only then.
$(PKG_LIST): FORCE | $(PY)
	@echo '$(PACKAGES)' > $@.new; \
	if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

# Exactly the locked versions, checked against their hashes; then the contracts package and
# mignet itself, editable (the locks leave mignet-contracts out: it comes from ./contracts).
$(STAMP): pyproject.toml contracts/pyproject.toml requirements-dev.lock $(PKG_LIST) | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(PY) -m pip install --quiet --no-deps -e ./contracts
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

# mignet-contracts is resolved from a wheel of ./contracts (so its dependencies are locked) and
# marked "unsafe", which leaves it out of the locks: pip, setuptools are pinned as before.
lock: | $(PY) ## re-resolve both lock files from pyproject.toml (after changing a dependency)
	$(PY) -m pip install --quiet pip-tools==7.6.2
	@wheels=$$(mktemp -d); trap 'rm -rf "$$wheels"' EXIT; \
	$(PY) -m pip wheel --quiet --no-deps -w "$$wheels" ./contracts && \
	$(PY) -m piptools compile --quiet --generate-hashes --strip-extras --find-links "$$wheels" \
	  --unsafe-package mignet-contracts -o requirements.lock pyproject.toml && \
	$(PY) -m piptools compile --quiet --extra local --extra test --generate-hashes --strip-extras \
	  --find-links "$$wheels" --unsafe-package mignet-contracts -o requirements-dev.lock pyproject.toml && \
	sed -i -e "\|^--find-links $$wheels\$$|d" -e "s|--find-links=$$wheels|--find-links=<a wheel of ./contracts>|" \
	  requirements.lock requirements-dev.lock

run: install ## start nats-server, SecantusDB and the services (data and logs in var/) until Ctrl-C
	$(PY) -m mignet_runtime.localstack run $(if $(CLUSTER),--cluster $(CLUSTER)) $(RUN_ARGS)

# pytest's exit code is kept in var/pytest.exitcode: make itself can only say 2.
test: install ## run the test suite (starts its own throwaway servers)
	@mkdir -p var; status=0; \
	$(PY) -m pytest -q -rs -p no:cacheprovider -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS) || status=$$?; \
	echo $$status > var/pytest.exitcode; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests (exit 5); that is a failure" >&2; fi; \
	exit $$status

lint: install ## ruff (lint and format check) and the type checker, as CI runs them
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: install ## run the benchmarks in bench/, if there are any
	@if [ -f bench/__main__.py ]; then $(PY) -m bench $(BENCH_ARGS); \
	elif [ -f bench/run.py ]; then $(PY) -m bench.run $(BENCH_ARGS); \
	else echo "no benchmarks yet (add bench/run.py)"; fi

schemas: install ## regenerate the JSON schemas of the published contracts
	$(PY) -m mignet_contracts.schemas --write

# The official AsyncAPI parser, exactly as contracts/asyncapi-check/package-lock.json pins it
# (npm ci: no install scripts, no audit or funding calls); tests/unit/test_asyncapi.py runs it.
asyncapi: ## install the AsyncAPI parser the tests validate the documents with (needs node and npm)
	NPM_CONFIG_UPDATE_NOTIFIER=false npm ci --prefix contracts/asyncapi-check --ignore-scripts --no-audit --no-fund --loglevel=error

FORCE:

clean: ## remove var/ (local data and logs) and the install stamps; keeps .venv
	rm -rf var
	rm -f $(STAMP) $(PKG_LIST)
