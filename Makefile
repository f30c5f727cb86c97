# Yiwang — every entry point is a make target. Quick start: `make up`, then `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

.PHONY: venv web up down status test lint bench chaos simulate clean rotate-keys backup restore

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

up: venv web        ## the whole system with a demo city, at http://127.0.0.1:8000
	$(PY) -m infra.runner up

WEB := gateway/web
WEB_STAMP := $(WEB)/node_modules/.installed-$(shell cat $(WEB)/package-lock.json 2>/dev/null | cksum | cut -d' ' -f1)

web: $(WEB_STAMP) $(WEB)/vendor/echarts.min.js  ## web apps' assets from the npm registry (no CDN at run time)

$(WEB_STAMP): $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund
	rm -f $(WEB)/node_modules/.installed-* && touch $@

$(WEB)/vendor/echarts.min.js: $(WEB_STAMP) $(WEB)/scripts/vendor.mjs
	cd $(WEB) && npm run --silent vendor

down:               ## stop what `make up` started, nothing else
	@test -x $(PY) && $(PY) -m infra.runner down || echo "nothing running"

rotate-keys: venv  ## new current key: make rotate-keys PURPOSE=token|pii|qr (old keys kept)
	$(PY) -m infra.keys rotate $(or $(PURPOSE),token)

status: venv
	$(PY) -m infra.runner status

test: venv web      ## lint, types, unit, integration and end-to-end tests with coverage
	bash infra/test.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: venv         ## benchmarks with their raw baselines; results in bench/results/
	$(PY) -m bench.run

chaos: venv         ## the chaos suite: faults under load, nothing lost, nothing doubled
	$(PY) -m bench.chaos

simulate: venv      ## a month of the demo city with an injected clock, checked by an oracle
	$(PY) -m demo.simulate

backup: venv        ## every schema (pg_dump, one file each) and the media into var/backups/<time>/
	$(PY) -m infra.backup backup

restore: venv       ## make restore FROM=var/backups/yiwang-<time> [ARGS=--force] (into YIWANG_DATABASE_URL)
	@test -n "$(FROM)" || (echo "usage: make restore FROM=var/backups/yiwang-<time>" && exit 2)
	$(PY) -m infra.backup restore $(FROM) $(ARGS)

clean:
	rm -rf var .coverage coverage.xml
