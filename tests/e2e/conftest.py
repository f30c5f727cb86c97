"""End-to-end tests run against the one whole system of the session (tests/conftest.py)."""

from tests.support.system import DEMO_PASSWORD, ROOT, System, wait_ready

__all__ = ["DEMO_PASSWORD", "ROOT", "System", "wait_ready"]
