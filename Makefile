# Two commands on a fresh machine: `make run` and `make test`.
VENV    := .venv
BIN     := $(VENV)/bin
PYTHON  ?= python3
STAMP   := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
DEMO_CUSTOMERS ?= 2000
BIND    ?= 127.0.0.1:8000
PYTEST_ARGS ?=

.PHONY: run test install font browser system-deps lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

# Debian packages, installed when missing and we are root: a Chinese TrueType font for the
# printable 认购书, and headless Chromium for the end-to-end tests (never a downloaded browser).
define apt_need
	@if ! $(1); then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
	  else echo "Please install: sudo apt-get install $(2)"; exit 1; fi; \
	fi
endef

font:
	$(call apt_need,[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ],fonts-wqy-zenhei)

browser:
	$(call apt_need,command -v chromium >/dev/null 2>&1,chromium)

system-deps: font browser

run: install
	-@$(MAKE) --no-print-directory font || echo "(Printing agreements needs that font; everything else works.)"
	$(BIN)/guanxi migrate --noinput
	$(BIN)/guanxi collectstatic --noinput --verbosity 0
	$(BIN)/guanxi demo-data --if-empty --customers $(DEMO_CUSTOMERS)
	@echo ""
	@echo "  Guanxi is serving on http://$(BIND)  (Ctrl-C stops the web server and the worker)"
	@echo "  Demo logins, password guanxi-demo-2026:"
	@echo "    admin (administrator), manager (北京分店 manager), sales1 / sales2 / sales3 (salespeople),"
	@echo "    reception, service, marketer, finance"
	@echo ""
	GUANXI_HTTPS=0 $(BIN)/guanxi serve --bind $(BIND)

test: install system-deps
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/guanxi makemigrations --check --dry-run
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/customers.py

clean:
	rm -rf $(VENV) node_modules staticfiles
