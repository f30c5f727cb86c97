"""The calendar RPCs against the real broker and database: two command processes (as the
runner starts them); a year saved through one changes the deadline of a case folded by
either, within seconds; refusals cross the wire with their codes; the change is audited."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from infra.processes import ProcSpec
from infra.supervisor import Supervisor
from services.command.service_layer.calendar import REFRESH_S
from tests.integration.conftest import publish_raw, wait_for_queue
from tests.support.resources import TestResources
from tests.support.system import ROOT
from yiwang.clock import SHANGHAI
from yiwang.contracts import new_envelope
from yiwang.contracts.petitions import CaseCreatedV1
from yiwang.errors import DomainError
from yiwang.rpc_client import NamekoRpcClient

pytestmark = pytest.mark.integration
YEAR = 2031  # no other test uses it; removed afterwards
QUEUE = "evt-petitions-case.created--command.handle_case_event"


@pytest.fixture(scope="module")
def command_services(
    resources: TestResources, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Supervisor]:
    argv = (sys.executable, "-m", "yiwang.nameko.run", "services.command.service:CommandService")
    specs = [ProcSpec(f"command-{i}", argv) for i in (1, 2)]
    env = resources.env(
        PYTHONPATH=ROOT, YIWANG_COMMAND_SWEEP_INTERVAL_S="3600", YIWANG_SERVICE_MAX_WORKERS="4"
    )
    log_dir = str(tmp_path_factory.mktemp("command-calendar-logs"))
    sup = Supervisor(specs, env=env, log_dir=log_dir, cwd=ROOT)
    sup.start()
    try:
        wait_for_queue(resources.amqp_uri, QUEUE, 90)
        yield sup
    finally:
        sup.stop()
        eng = sa.create_engine(resources.database_url)
        with eng.begin() as c:
            c.execute(sa.text("DELETE FROM command.calendar_years WHERE year = :y"), {"y": YEAR})
        eng.dispose()


def call(resources: TestResources, method: str, **kw: Any) -> Any:
    async def run() -> Any:
        client = NamekoRpcClient(resources.amqp_uri, timeout_s=20)
        await client.connect()
        try:
            return await client.call("command", method, **kw)
        finally:
            await client.close()

    return asyncio.run(run())


def deadline_of_new_case(resources: TestResources, created_at: datetime) -> datetime:
    """Publish a case.created (as petitions would) and read the folded deadline back."""
    case_id = uuid.uuid4()
    grid = "329901001001001"
    ev = CaseCreatedV1(
        case_id=case_id,
        seq=1,
        source="citizen",
        category="appearance.litter",
        title="小区门口垃圾堆积",
        grid_code=grid,
        jurisdiction_code=grid,
        level="grid",
        status="submitted",
        created_at=created_at,
        sla_class="quick_1d",
        department="urban_management",
    )
    body = new_envelope(ev, producer="petitions").model_dump_json().encode()
    publish_raw(resources.amqp_uri, "petitions.events", "case.created", body)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        try:
            out = call(resources, "get_case", case_id=str(case_id))
            return datetime.fromisoformat(out["case"]["deadline"])
        except DomainError as exc:
            if exc.code != "case_not_found":
                raise
            time.sleep(0.2)
    raise AssertionError(f"case {case_id} was not folded within 30 s")


def test_put_year_changes_deadlines_on_every_command_process(
    resources: TestResources, command_services: Supervisor
) -> None:
    monday = datetime(YEAR, 3, 3, 9, 0, tzinfo=SHANGHAI)
    assert call(resources, "get_calendar_year", year=YEAR)["status"] == "fallback_weekdays"
    assert deadline_of_new_case(resources, monday) == datetime(YEAR, 3, 4, 9, 0, tzinfo=SHANGHAI)

    saved = call(
        resources,
        "put_calendar_year",
        year=YEAR,
        status="provisional",
        source="integration test",
        expected_revision=0,
        holidays=[{"day": f"{YEAR}-03-04", "name": "测试假日"}],
        makeup_workdays=[{"day": f"{YEAR}-03-08", "name": "调休"}],
        actor={"id": "u-admin", "role": "admin"},
    )
    assert saved["revision"] > 0 and saved["updated_by"] == "u-admin"
    got = call(resources, "get_calendar_year", year=YEAR)
    assert got["holidays"] == [{"day": f"{YEAR}-03-04", "name": "测试假日"}]
    listed = call(resources, "list_calendar_years")
    row = next(i for i in listed["items"] if i["year"] == YEAR)
    assert row["holidays"] == 1 and row["makeup_workdays"] == 1
    assert listed["revision"] >= saved["revision"]
    assert {i["year"] for i in listed["items"]} >= {2025, 2026, 2027}  # the seed

    time.sleep(REFRESH_S + 0.5)  # the other process checks the revision before its next worker
    # several cases, so both processes (competing consumers) fold some
    for _ in range(4):
        assert deadline_of_new_case(resources, monday) == datetime(
            YEAR, 3, 5, 9, 0, tzinfo=SHANGHAI
        )
    eng = sa.create_engine(resources.database_url)
    with eng.connect() as c:
        entry = (
            c.execute(
                sa.text(
                    "SELECT actor, role, action, after FROM command.audit_log WHERE case_id = :k "
                    "ORDER BY seq DESC LIMIT 1"
                ),
                {"k": f"calendar:{YEAR}"},
            )
            .mappings()
            .one()
        )
    eng.dispose()
    assert (entry["actor"], entry["role"], entry["action"]) == ("u-admin", "admin", "calendar.put")
    assert entry["after"]["holidays"] == [{"day": f"{YEAR}-03-04", "name": "测试假日"}]
    assert call(resources, "verify_audit")["intact"] is True


def test_refusals_cross_the_wire_with_codes(
    resources: TestResources, command_services: Supervisor
) -> None:
    with pytest.raises(DomainError) as e:
        call(
            resources,
            "put_calendar_year",
            year=YEAR,
            status="published",
            holidays=[],
            makeup_workdays=[{"day": f"{YEAR}-03-05", "name": ""}],
        )
    assert e.value.code == "calendar_makeup_not_weekend" and e.value.status == 422
    with pytest.raises(DomainError) as e:
        call(
            resources,
            "put_calendar_year",
            year=YEAR,
            status="published",
            holidays=[{"day": f"{YEAR + 1}-01-01", "name": "元旦"}],
            makeup_workdays=[],
        )
    assert e.value.code == "calendar_day_outside_year"
    current = call(resources, "get_calendar_year", year=YEAR)["revision"]
    with pytest.raises(DomainError) as c:
        call(
            resources,
            "put_calendar_year",
            year=YEAR,
            status="published",
            holidays=[],
            makeup_workdays=[],
            expected_revision=current + 1000,
        )
    assert c.value.code == "calendar_year_changed" and c.value.status == 409
