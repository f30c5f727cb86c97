"""Per-child-unit counts (the dashboard's map and league tables) agree with a count over
``case_view`` at every level, city → district → street → community → grid; alerts are
scoped to the viewer's area."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from demo import simulate
from services.command.adapters.tables import alerts, case_view
from services.command.domain.casefile import CLOSED_STATUSES
from services.command.service_layer import kpis
from services.command.tests.integration.conftest import T0
from yiwang.errors import ValidationFailed

A, B = date(2026, 1, 1), date(2026, 12, 31)
GRIDS = [f"3299010{s:02d}{c:03d}{g:03d}" for s in (1, 2) for c in (1, 2) for g in range(1, 8)]


@pytest.fixture(scope="module")
def simulated(factory: Any) -> Any:
    simulate.reset(factory)
    rep = simulate.run(factory, GRIDS, days=3, seed=5, cases_per_grid_day=0.5)
    assert rep.cases > 20 and rep.kpis_equal, rep.mismatches
    return rep


def _view_rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as c:
        return [
            dict(r) for r in c.execute(sa.select(case_view).where(case_view.c.complete)).mappings()
        ]


def test_counts_at_every_level_equal_a_count_over_case_view(
    simulated: Any, factory: Any, engine: Engine
) -> None:
    rows = _view_rows(engine)
    assert any(r["escalation_count"] for r in rows) and any(r["overdue"] for r in rows)
    parents = ["", "3299", "329901", "329901001", "329901001001"]
    levels_seen = set()
    for parent in parents:
        n = kpis.CHILD_LENGTH[len(parent)]
        got = kpis.unit_stats(factory(), parent, "unit", A, B)
        levels_seen.add(got["child_level"])
        by_code = {i["code"]: i for i in got["items"]}
        # where a case is: its grid (an escalated case keeps it)
        in_grid = [r for r in rows if (r["grid_code"] or "").startswith(parent)]
        is_open = [r for r in in_grid if r["status"] not in CLOSED_STATUSES]
        want_open = Counter(r["grid_code"][:n] for r in is_open)
        want_overdue = Counter(r["grid_code"][:n] for r in is_open if r["overdue"])
        want_esc = Counter(r["grid_code"][:n] for r in is_open if r["escalation_count"])
        # the period's figures come from the counters, keyed by the grid's ancestry
        want_created = Counter(r["grid_code"][:n] for r in in_grid)
        want_escalations: Counter[str] = Counter()
        for r in in_grid:
            want_escalations[r["grid_code"][:n]] += r["escalation_count"]
        codes = set(want_open) | set(want_created)
        assert codes and set(by_code) == codes, (parent, set(by_code) ^ codes)
        for code in codes:
            item = by_code[code]
            assert len(code) == n
            assert item["open"] == want_open[code], (parent, code)
            assert item["overdue"] == want_overdue[code], (parent, code)
            assert item["escalated"] == want_esc[code], (parent, code)
            assert item["created"] == want_created[code], (parent, code)
            assert item["escalations"] == want_escalations[code], (parent, code)
            for rate in ("on_time_resolution_rate", "satisfaction_rate", "rework_rate"):
                assert item[rate] is None or 0 <= item[rate] <= 1
        # the children's period counts add up to the parent's own counters
        if parent:
            total = kpis.kpis(factory(), parent, "*", A, B)["counts"]
            assert sum(i["created"] for i in got["items"]) == total.get("created", 0)
            assert sum(i["resolved"] for i in got["items"]) == total.get("resolved", 0)
    assert levels_seen == {"city", "district", "street", "community", "grid"}


def test_counts_per_department(simulated: Any, factory: Any, engine: Engine) -> None:
    rows = _view_rows(engine)
    got = kpis.unit_stats(factory(), "329901", "department", A, B)
    by_code = {i["code"]: i for i in got["items"]}
    is_open = [
        r
        for r in rows
        if r["status"] not in CLOSED_STATUSES and r["grid_code"].startswith("329901")
    ]
    want = Counter(r["department"] or "" for r in is_open)
    for dept, n in want.items():
        if dept:
            assert by_code[dept]["open"] == n
    # each department's period figures are its own counters at the district
    for dept, item in by_code.items():
        if dept:
            own = kpis.kpis(factory(), "329901", dept, A, B)["counts"]
            assert item["resolved"] == own.get("resolved", 0), dept
            assert item["overdue_events"] == own.get("overdue", 0), dept
    named = [i for i in got["items"] if i.get("name")]
    assert named, "departments carry their names"


def test_invalid_parent_is_refused(factory: Any) -> None:
    with pytest.raises(ValidationFailed):
        kpis.unit_stats(factory(), "329901001001001", "unit", A, B)


def test_alerts_are_scoped_to_the_viewer(simulated: Any, factory: Any, engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(alerts.delete())
        case_in_street_2 = (
            c.execute(
                sa.select(case_view.c.case_id).where(
                    case_view.c.jurisdiction_code.startswith("329901002")
                )
            )
            .scalars()
            .first()
        )
        base = {"rule": "r", "day": T0.date(), "at": T0, "message_en": "m", "message_zh": "m"}
        c.execute(
            alerts.insert(),
            [
                {
                    **base,
                    "kind": "spike",
                    "key": "329901001001001|appearance.litter",
                    "details": {"count": 5},
                },
                {
                    **base,
                    "kind": "spike",
                    "key": "329901002001001|appearance.litter",
                    "details": {"count": 5},
                },
                {
                    **base,
                    "kind": "repeat_address",
                    "key": "幸福路1号",
                    "details": {"case_ids": [str(case_in_street_2)], "count": 3},
                },
                {
                    **base,
                    "kind": "rising_overdue",
                    "key": "urban_management",
                    "details": {"counts": [1, 2, 3]},
                },
            ],
        )

    def kinds(prefix: str) -> list[tuple[str, str]]:
        out = kpis.list_alerts(factory(), None, None, 100, prefix)
        assert out["total"] == len(out["items"])
        return sorted((a["kind"], a["key"]) for a in out["items"])

    assert len(kinds("")) == 4 and len(kinds("3299")) == 4
    assert kinds("329901001") == [("spike", "329901001001001|appearance.litter")]
    assert kinds("329901002") == [
        ("repeat_address", "幸福路1号"),
        ("spike", "329901002001001|appearance.litter"),
    ]
    spike = kpis.list_alerts(factory(), None, "spike", 1, "329901001")["items"][0]
    assert spike["jurisdiction_code"] == "329901001001001"
    assert spike["category"] == "appearance.litter"


def test_list_filters_escalated_and_whistled(simulated: Any, factory: Any, engine: Engine) -> None:
    from services.command.service_layer import view
    from yiwang.contracts.command import ListCasesRequest

    rows = _view_rows(engine)
    for flag, col in (("escalated", "escalation_count"), ("whistled", "whistle_count")):
        for wanted in (True, False):
            got = view.list_cases(
                factory(), ListCasesRequest(page_size=200, count="exact", **{flag: wanted})
            )
            want = sum(1 for r in rows if bool(r[col]) == wanted)
            assert got["total"] == want, (flag, wanted)
            assert all(bool(i[col]) == wanted for i in got["items"])


def test_list_filters_any_of_sources(simulated: Any, factory: Any, engine: Engine) -> None:
    from services.command.service_layer import view
    from yiwang.contracts.command import ListCasesRequest

    rows = _view_rows(engine)
    present = sorted({r["source"] for r in rows})
    pick = present[:2]
    got = view.list_cases(factory(), ListCasesRequest(page_size=5, count="exact", sources=pick))
    assert got["total"] == sum(1 for r in rows if r["source"] in pick) > 0
