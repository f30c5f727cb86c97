"""The Open311 conformance suite runs against the whole system, started as in tests/e2e."""

from __future__ import annotations

from tests.support.system import System  # noqa: F401 - the session fixture is in tests/conftest.py

__all__ = ["System"]
