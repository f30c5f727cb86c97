"""Fixtures for the petitions service layer against the real database (schema petitions)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.petitions.service_layer import cases, intake
from tests.support.resources import TestResources
from yiwang.clock import FakeClock
from yiwang.contracts import Envelope, new_envelope
from yiwang.contracts.base import Contact
from yiwang.contracts.gateway import ReportSubmittedV1
from yiwang.contracts.petitions import CaseActionRequest, CaseActor
from yiwang.db import make_engine
from yiwang.uow import UnitOfWork, uow_factory

GRID = "320102001001001"
COMMUNITY = "320102001001"
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
TABLES = (
    "cases",
    "case_reports",
    "case_followers",
    "notifications",
    "outbox",
    "inbox",
    "agency_applications",
)

STAFF = CaseActor(id="staff-1", role="community_staff", name="社区工作人员")
STREET = CaseActor(id="street-1", role="street_staff")
HANDLER = CaseActor(id="handler-1", role="department_handler", department="urban_management")
WORKER = CaseActor(id="worker-1", role="grid_worker")


@pytest.fixture(scope="session")
def resources() -> Iterator[TestResources]:
    """An isolated database (and vhost) migrated for the petitions schema only, so other
    services' migrations in progress cannot break these tests."""
    from yiwang.migrate import upgrade

    res = TestResources.create("petitions")
    try:
        upgrade(res.database_url, ["petitions"])
        yield res
    finally:
        res.destroy()


@pytest.fixture(scope="session")
def engine(resources: TestResources) -> Iterator[Engine]:
    eng = make_engine(resources.database_url, pool_size=12)
    yield eng
    eng.dispose()


class World:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.uow: Callable[[], UnitOfWork] = uow_factory(
            engine, producer="petitions", schema="petitions"
        )
        self.clock = FakeClock(T0)

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def report(
        self,
        *,
        category: str = "appearance.litter",
        lat: float = 32.05,
        lon: float = 118.79,
        account: str | None = "citizen-1",
        attributes: dict[str, Any] | None = None,
        phone: str | None = "13812345678",
        source: str = "citizen",
    ) -> tuple[Envelope, ReportSubmittedV1]:
        payload = ReportSubmittedV1(
            report_id=uuid.uuid4(),
            source=source,
            category=category,  # type: ignore[arg-type]
            description="小区门口垃圾堆积三天无人清理",
            lat=lat,
            lon=lon,
            grid_code=GRID,
            attributes={"size": "small"} if attributes is None else attributes,
            contact=Contact(name="王女士", phone=phone) if phone else None,
            account_id=account,
            submitted_at=self.now,
        )
        return new_envelope(payload, producer="gateway", jurisdiction_code=GRID), payload

    def submit(self, **kw: Any) -> str:
        env, payload = self.report(**kw)
        case_id = intake.open_case_from_report(self.uow(), env, payload, self.now)
        assert case_id is not None
        return str(case_id)

    def act(
        self,
        case_id: str,
        action: str,
        actor: CaseActor = STAFF,
        version: int | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        self.clock.advance(minutes=10)
        if version is None:
            version = self.version(case_id)
        req = CaseActionRequest(
            case_id=uuid.UUID(case_id),
            action=action,
            actor=actor,
            expected_version=version,
            fields=fields,
        )
        return cases.case_action(self.uow(), req, self.now)

    def version(self, case_id: str) -> int:
        with self.engine.connect() as c:
            return int(
                c.execute(
                    sa.text("SELECT version FROM petitions.cases WHERE id = :i"), {"i": case_id}
                ).scalar_one()
            )

    def outbox(self) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(sa.text("SELECT body FROM petitions.outbox ORDER BY seq")).all()
        return [json.loads(r.body) for r in rows]

    def events_of(self, case_id: str) -> list[dict[str, Any]]:
        return [e for e in self.outbox() if e["payload"].get("case_id") == case_id]

    def count(self, table: str, where: str = "TRUE") -> int:
        with self.engine.connect() as c:
            return int(
                c.execute(
                    sa.text(f"SELECT count(*) FROM petitions.{table} WHERE {where}")
                ).scalar_one()
            )


@pytest.fixture()
def world(engine: Engine) -> World:
    with engine.begin() as c:
        c.execute(sa.text("TRUNCATE " + ", ".join(f"petitions.{t}" for t in TABLES)))
    return World(engine)


CITIZEN = CaseActor(id="citizen-1", role="citizen")
