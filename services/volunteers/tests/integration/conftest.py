"""Fixtures for the volunteers integration tests: a migrated, isolated real database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.conftest import resources  # noqa: F401  (the session fixture)
from yiwang.db import make_engine
from yiwang.uow import UnitOfWork, uow_factory


@pytest.fixture(scope="session")
def engine(resources: Any) -> Iterator[Engine]:  # noqa: F811
    eng = make_engine(resources.database_url, pool_size=25)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def make_uow(engine: Engine) -> Callable[[], UnitOfWork]:
    return uow_factory(engine, producer="volunteers", schema="volunteers")
