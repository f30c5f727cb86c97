"""The Open311 conformance suite runs against the whole system, started as in tests/e2e."""

from __future__ import annotations

from tests.e2e.conftest import System, system  # noqa: F401 - the session fixture, reused

__all__ = ["System"]
