# Yiwang — every entry point is a make target. Quick start: `make up`, then `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

.PHONY: venv up down status test lint bench chaos simulate clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

up: venv            ## the whole system with a demo city, at http://127.0.0.1:8000
	$(PY) -m infra.runner up

down:               ## stop what `make up` started, nothing else
	@test -x $(PY) && $(PY) -m infra.runner down || echo "nothing running"

status: venv
	$(PY) -m infra.runner status

test: venv          ## lint, types, unit, integration and end-to-end tests with coverage
	bash infra/test.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: venv         ## benchmarks with their raw baselines; results in bench/results/
	$(PY) -m bench.run

chaos: venv         ## the chaos suite: faults under load, nothing lost, nothing doubled
	$(PY) -m bench.chaos

simulate: venv      ## a month of the demo city with an injected clock, checked by an oracle
	$(PY) -m services.command.simulate

clean:
	rm -rf var .coverage coverage.xml
