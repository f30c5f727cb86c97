#!/usr/bin/env bash
# `make test`: lint, type checks, then every test (unit, integration, e2e) with coverage.
set -euo pipefail
cd "$(dirname "$0")/.."
V=.venv/bin
echo "== ruff"; $V/ruff check .
echo "== ruff format"; $V/ruff format --check .
echo "== mypy"; $V/mypy
echo "== import contracts (docs/ARCHITECTURE.md)"; $V/lint-imports
echo "== pytest"
set +e
$V/pytest -q -p no:randomly --cov --cov-report=term:skip-covered --cov-report=xml \
  -o junit_family=xunit2 "$@"
code=$?
set -e
if [ "$code" -ne 0 ]; then exit "$code"; fi
echo "== domain coverage (must stay >= 90 %)"
$V/coverage report --include='services/*/domain/*,yiwang/jurisdiction.py,yiwang/errors.py,yiwang/clock.py,yiwang/text.py,yiwang/geo.py,yiwang/contracts/*' --fail-under=90 | tail -3
