# The two commands of the README:  `make demo`  and  `make test`.
# Both set everything up first and are idempotent: a second run skips what is done.

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup system demo test lint clean-state

system:
	@bash scripts/system-deps.sh

# Reinstall when pyproject.toml changes; pip's cache serves the large wheels (torch) again.
$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	@touch $(STAMP)

setup: system $(STAMP)
	@$(VENV)/bin/chainlens neo4j install

demo: setup
	$(VENV)/bin/chainlens demo

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: setup lint
	$(PY) -m pytest -q

clean-state:
	-$(VENV)/bin/chainlens neo4j stop
	rm -rf .chainlens
