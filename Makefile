# The two commands of the README:  `make demo`  and  `make test`.
# Both set everything up first and are idempotent: a second run skips what is done.

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# torch pulls several GB of wheels from PyPI; a connection that drops mid-download is resumed
# (PIP_RESUME_RETRIES) and a failed install is tried again from the cache (INSTALL_TRIES).
export PIP_RESUME_RETRIES := 20
export PIP_RETRIES := 10
INSTALL_TRIES := 3

.PHONY: setup system web demo test lint clean-state

system:
	@bash scripts/system-deps.sh

# Reinstall when pyproject.toml changes; pip's cache serves the large wheels (torch) again.
$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	@for try in $$(seq $(INSTALL_TRIES)); do \
	  $(PY) -m pip install -q -e ".[test]" && exit 0; \
	  echo "pip install failed (try $$try of $(INSTALL_TRIES))" >&2; sleep 15; \
	done; exit 1
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
