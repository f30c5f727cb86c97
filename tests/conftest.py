"""Shared fixtures: isolated real servers per session; the whole system for e2e."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.resources import TestResources
from tests.support.system import System, start_system


@pytest.fixture(scope="session")
def resources() -> Iterator[TestResources]:
    res = TestResources.create("test")
    try:
        from yiwang.migrate import upgrade

        upgrade(res.database_url)
        yield res
    finally:
        res.destroy()


@pytest.fixture(scope="session")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = os.environ.get("YIWANG_TEST_ARTIFACTS")
    if base:
        os.makedirs(base, exist_ok=True)
        return base
    return str(tmp_path_factory.mktemp("var"))


@pytest.fixture(scope="session")
def system(resources: TestResources, var_dir: str) -> Iterator[System]:
    """The whole system, started once per test session as the runner starts it."""
    yield from start_system(resources, var_dir)
