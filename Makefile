# The two commands of the README:  `make demo`  and  `make test`.
# Both set everything up first and are idempotent: a second run skips what is done.

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup system web demo test lint clean-state

system:
	@bash scripts/system-deps.sh

# Reinstall when pyproject.toml changes; pip's cache serves the large wheels (torch) again.
$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	@touch $(STAMP)

# The web explorer (api/web): npm ci when the lock file changes, a build when a source
# changes; otherwise nothing runs. The API serves api/web/dist at "/".
WEB      := api/web
WEB_DEPS := $(WEB)/node_modules/.package-lock.json
WEB_OUT  := $(WEB)/dist/index.html

$(WEB_DEPS): $(WEB)/package-lock.json $(WEB)/package.json
	cd $(WEB) && npm ci --no-audit --no-fund
	@touch $(WEB_DEPS)

# Every page (*.html: the explorer, the rule editor) is an entry of vite.config.js.
$(WEB_OUT): $(WEB_DEPS) $(wildcard $(WEB)/*.html) $(WEB)/vite.config.js $(wildcard $(WEB)/src/*)
	cd $(WEB) && npm run build

web: system $(WEB_OUT)

setup: system $(STAMP) web
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
