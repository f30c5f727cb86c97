"""Fixtures for the enterprise service layer against the real database (schema enterprise)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.enterprise.domain.uscc import uscc_generator
from services.enterprise.service_layer import accounts, demands
from tests.support.resources import TestResources
from yiwang.clock import SHANGHAI, FakeClock
from yiwang.contracts.enterprise import (
    Actor,
    RegisterEnterpriseRequest,
    RegisterInstitutionRequest,
    ReviewEnterpriseRequest,
    ReviewInstitutionRequest,
    SetResponsibilityRequest,
)
from yiwang.db import make_engine
from yiwang.uow import UnitOfWork, uow_factory

DISTRICT = "329901"
GRID = "329901001001001"
MONDAY_10 = datetime(2026, 1, 5, 10, 0, tzinfo=SHANGHAI)
TABLES = (
    "demands",
    "financing_needs",
    "financing_products",
    "job_postings",
    "capabilities",
    "tech_needs",
    "policies",
    "key_projects",
    "responsibilities",
    "enterprises",
    "institutions",
    "outbox",
    "inbox",
)

STAFF = Actor(id="staff-1", role="district_staff", jurisdiction_code=DISTRICT)
LEADER = Actor(id="leader-1", role="leader", jurisdiction_code=DISTRICT)
HANDLER = Actor(
    id="handler-1",
    role="department_handler",
    jurisdiction_code=DISTRICT,
    department="industry_info",
)


def owner(user_id: str = "owner-1") -> Actor:
    return Actor(id=user_id, role="enterprise_user")


@pytest.fixture(scope="session")
def enterprise_resources() -> Iterator[TestResources]:
    """Like ``tests/conftest.py``'s ``resources`` (isolated database + vhost, removed after),
    migrated for the enterprise schema only, so other services' migrations in progress
    cannot break these tests."""
    from yiwang.migrate import upgrade

    res = TestResources.create("enterprise")
    try:
        upgrade(res.database_url, ["enterprise"])
        yield res
    finally:
        res.destroy()


@pytest.fixture(scope="session")
def engine(enterprise_resources: TestResources) -> Iterator[Engine]:
    eng = make_engine(enterprise_resources.database_url, pool_size=4)
    yield eng
    eng.dispose()


class World:
    """A clean enterprise schema, a FakeClock and shortcuts for the usual set-up."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.uow: Callable[[], UnitOfWork] = uow_factory(
            engine, producer="enterprise", schema="enterprise"
        )
        self.clock = FakeClock(MONDAY_10)
        self.codes = uscc_generator(seed=2026, division_code=DISTRICT)
        self.n = 0

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def outbox(self) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(sa.text("SELECT body FROM enterprise.outbox ORDER BY seq")).all()
        return [json.loads(r.body) for r in rows]

    def outbox_types(self) -> list[str]:
        return [e["type"] for e in self.outbox()]

    def count(self, table: str) -> int:
        with self.engine.connect() as c:
            return int(c.execute(sa.text(f"SELECT count(*) FROM enterprise.{table}")).scalar_one())

    def enterprise(self, *, verified: bool = True, user: str = "owner-1", **kw: Any) -> str:
        self.n += 1
        args: dict[str, Any] = dict(
            actor=owner(user),
            uscc=next(self.codes),
            name=f"企业{self.n}",
            industry="manufacturing",
            address="工业园路1号",
            grid_code=GRID,
            size="small",
        )
        args.update(kw)
        ent = accounts.register_enterprise(self.uow(), RegisterEnterpriseRequest(**args), self.now)
        if verified:
            accounts.review_enterprise(
                self.uow(),
                ReviewEnterpriseRequest(
                    actor=STAFF, enterprise_id=ent["enterprise_id"], decision="verify"
                ),
                self.now,
            )
        return str(ent["enterprise_id"])

    def institution(self, kind: str, user: str) -> str:
        self.n += 1
        inst = accounts.register_institution(
            self.uow(),
            RegisterInstitutionRequest(
                actor=Actor(id=user, role="institution_user"),
                kind=kind,
                name=f"机构{self.n}",
                uscc=next(self.codes),
                district_code=DISTRICT,
            ),
            self.now,
        )
        accounts.review_institution(
            self.uow(),
            ReviewInstitutionRequest(
                actor=STAFF, institution_id=inst["institution_id"], decision="verify"
            ),
            self.now,
        )
        return str(inst["institution_id"])

    def responsibility(self) -> None:
        demands.set_responsibility(
            self.uow(),
            SetResponsibilityRequest(
                actor=STAFF,
                district_code=DISTRICT,
                category="*",
                leader_id=LEADER.id,
                department="industry_info",
            ),
            self.now,
        )


@pytest.fixture()
def world(engine: Engine) -> World:
    with engine.begin() as c:
        c.execute(sa.text("TRUNCATE " + ", ".join(f"enterprise.{t}" for t in TABLES) + " CASCADE"))
    return World(engine)
