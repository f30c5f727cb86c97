"""Fixtures for the grids service layer against the real, migrated database (schema grids).

The tiny demo city (8 grids, everyone materialised) is loaded once per session through the
same import and bulk-load paths the CLI uses.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import tests.conftest as shared
from demo import city as democity
from demo.city import DemoCity
from demo.load_city import load_people
from services.grids.adapters.crypto import PiiCipher
from services.grids.service_layer.boundaries import import_boundaries
from tests.support.resources import TestResources
from yiwang.clock import SHANGHAI
from yiwang.db import make_engine
from yiwang.uow import UnitOfWork, uow_factory

resources = shared.resources  # the isolated, migrated database of tests/conftest.py
SECRET = "integration-test-secret-key"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture(scope="session")
def engine(resources: TestResources) -> Iterator[Engine]:
    eng = make_engine(resources.database_url, pool_size=2)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def factory(engine: Engine) -> Callable[[], UnitOfWork]:
    return uow_factory(engine, producer="grids", schema="grids")


@pytest.fixture(scope="session")
def pii() -> PiiCipher:
    return PiiCipher(SECRET)


@pytest.fixture(scope="session")
def city(factory: Callable[[], UnitOfWork], pii: PiiCipher) -> DemoCity:
    c = democity.generate("tiny", 5, with_people=True)
    import_boundaries(factory(), c.feature_collection(), T0)
    load_people(factory(), pii, c, T0)
    return c


def outbox(engine: Engine, routing_key: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT body FROM grids.outbox WHERE routing_key = :k ORDER BY seq"),
            {"k": routing_key},
        ).all()
    return [json.loads(r.body) for r in rows]


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM grids.{table}")).scalar_one())
