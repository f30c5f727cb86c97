"""The set-based sweep writes exactly what the per-row fold writes (view, log, memo, KPIs,
outbox, audit), on the same simulated month."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from demo import simulate
from services.command.service_layer import audit, sla

pytestmark = pytest.mark.integration

GRIDS = [f"3299010{s:02d}{c:03d}{g:03d}" for s in (1, 2) for c in (1, 2) for g in range(1, 13)]


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _snapshot(engine: Engine) -> dict[str, Any]:
    with engine.connect() as c:
        views = {
            str(r["case_id"]): {k: v for k, v in r.items() if k != "updated_at"}
            for r in c.execute(sa.text("SELECT * FROM command.case_view")).mappings()
        }
    cases = set(views)

    def norm(x: Any) -> str:  # random ids (supervisions, whistles) are not compared
        text = json.dumps(x, sort_keys=True, default=str)
        return _UUID.sub(lambda m: m.group(0) if m.group(0) in cases else "<id>", text)

    with engine.connect() as c:
        events = sorted(
            (str(r.case_id), r.seq, r.type, r.action, r.at, norm(r.data))
            for r in c.execute(sa.text("SELECT * FROM command.case_events"))
        )
        kpis = sorted(
            tuple(r)
            for r in c.execute(
                sa.text(
                    "SELECT code, department, day, metric, sum(value) FROM command.kpi_counters "
                    "GROUP BY 1, 2, 3, 4"
                )
            )
        )
        outbox = sorted(
            (r.routing_key, norm(json.loads(r.body)["payload"]))
            for r in c.execute(sa.text("SELECT routing_key, body FROM command.outbox"))
        )
        trail = sorted(
            (r.case_id, r.action, r.at, norm(r.before), norm(r.after))
            for r in c.execute(sa.text("SELECT * FROM command.audit_log"))
        )
    return {
        "views": {k: norm(v) for k, v in views.items()},
        "events": events,
        "kpis": kpis,
        "outbox": outbox,
        "audit": trail,
    }


def test_set_based_sweep_equals_the_per_row_fold(
    factory: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_rows = 0
    real = sla._sweep_fast

    def counting(rows: Any, *a: Any) -> Any:
        nonlocal fast_rows
        cols, declined = real(rows, *a)
        fast_rows += len(cols)
        return cols, declined

    monkeypatch.setattr(sla, "_sweep_fast", counting)
    simulate.reset(factory)
    rep = simulate.run(factory, GRIDS, days=3, seed=5, cases_per_grid_day=0.4)
    assert rep.escalations > 0 and fast_rows > 0
    assert rep.escalations_equal and rep.overdue_equal and rep.kpis_equal, rep.mismatches
    assert audit.verify(factory())["intact"]
    fast = _snapshot(engine)

    monkeypatch.setattr(sla, "_kpi_fast_ok", lambda *a: False)  # every row: full fold
    simulate.reset(factory)
    simulate.run(factory, GRIDS, days=3, seed=5, cases_per_grid_day=0.4)
    slow = _snapshot(engine)
    for key in ("events", "kpis", "outbox", "audit"):
        assert fast[key] == slow[key], key
    assert fast["views"].keys() == slow["views"].keys()
    for cid, v in fast["views"].items():
        assert v == slow["views"][cid], cid
