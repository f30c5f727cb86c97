"""Fixtures for the command service layer against the real, migrated database (schema command)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

import tests.conftest as shared
from services.command.service_layer import view
from tests.support.resources import TestResources
from yiwang.clock import SHANGHAI
from yiwang.contracts import new_envelope
from yiwang.contracts.petitions import CaseCreatedV1, CaseTransitionedV1
from yiwang.db import make_engine
from yiwang.uow import UnitOfWork, uow_factory

resources = shared.resources  # the isolated, migrated database of tests/conftest.py
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)  # a Tuesday


@pytest.fixture(scope="session")
def engine(resources: TestResources) -> Iterator[Engine]:
    eng = make_engine(resources.database_url, pool_size=4)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def factory(engine: Engine) -> Callable[[], UnitOfWork]:
    return uow_factory(engine, producer="command", schema="command")


class Petitions:
    """Plays the petitions service: builds and feeds envelopes for one case."""

    def __init__(self, factory: Callable[[], UnitOfWork], grid: str, **kw: Any) -> None:
        self.factory = factory
        self.case_id = uuid.uuid4()
        self.grid = grid
        self.seq = 1
        self.status = "submitted"
        self.kw = kw
        self.created = CaseCreatedV1(
            case_id=self.case_id,
            seq=1,
            source=kw.get("source", "citizen"),
            category=kw.get("category", "appearance.litter"),
            title=kw.get("title", "垃圾堆积"),
            grid_code=grid,
            jurisdiction_code=grid,
            level="grid",
            status="submitted",
            created_at=kw.get("at", T0),
            sla_class=kw.get("sla_class", "quick_1d"),
            department=kw.get("department", "urban_management"),
            attributes=kw.get("attributes", {}),
        )

    def created_env(self) -> tuple[Any, CaseCreatedV1]:
        return new_envelope(self.created, producer="petitions"), self.created

    def step(self, action: str, status: str, at: datetime, **kw: Any) -> tuple[Any, Any]:
        self.seq += 1
        ev = CaseTransitionedV1(
            case_id=self.case_id,
            seq=self.seq,
            action=action,
            status=status,
            previous_status=self.status,
            actor_id="u1",
            actor_role="community_staff",
            at=at,
            jurisdiction_code=self.grid,
            category=self.created.category,
            source=self.created.source,
            **kw,
        )
        self.status = status
        return new_envelope(ev, producer="petitions"), ev

    def feed(self, env_ev: tuple[Any, Any], now: datetime | None = None) -> bool:
        env, ev = env_ev
        fn = (
            view.apply_case_created
            if isinstance(ev, CaseCreatedV1)
            else view.apply_case_transitioned
        )
        return fn(self.factory(), env, ev, now or T0 + timedelta(days=30))


@pytest.fixture
def petitions(factory: Callable[[], UnitOfWork]) -> Callable[..., Petitions]:
    def make(grid: str, **kw: Any) -> Petitions:
        return Petitions(factory, grid, **kw)

    return make
