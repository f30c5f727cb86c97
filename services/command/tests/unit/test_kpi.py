from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.command.domain import casefile as cf
from services.command.domain.casefile import CaseEvent
from services.command.domain.kpi import ALL, KpiBook, recompute_kpis
from yiwang.clock import SHANGHAI

T0 = datetime(2026, 3, 10, 20, tzinfo=SHANGHAI)
GRIDS = ["370281001001001", "370281001001002", "370281001002001", "370282003001001"]


def created(case: str, at: datetime, grid: str = GRIDS[0], **kw: object) -> CaseEvent:
    data = {
        "source": "citizen",
        "category": "road",
        "grid_code": grid,
        "accept_due": at + timedelta(hours=1),
        "due": at + timedelta(hours=10),
        **kw,
    }
    return CaseEvent(case, 1, cf.CASE_CREATED, at, data)


def test_worked_example_and_rates() -> None:
    h = timedelta(hours=1)
    log = [
        created("a", T0),
        CaseEvent("a", 2, cf.CASE_ACCEPTED, T0 + 0.5 * h),
        CaseEvent("a", 3, cf.CASE_DISPATCHED, T0 + h, {"handler": "water"}),
        CaseEvent("a", 4, cf.CASE_CLOSED, T0 + 5 * h),  # 01:00 next day, on time
        CaseEvent("a", 5, cf.CASE_EVALUATED, T0 + 6 * h, {"satisfied": False}),
        created("b", T0, GRIDS[1], source="hotline"),
        CaseEvent("b", 2, cf.CASE_ACCEPTED, T0 + 2 * h),  # late
        CaseEvent("b", 3, cf.CASE_DISPATCHED, T0 + 2 * h, {"handler": "water"}),
        CaseEvent("b", 4, cf.CASE_OVERDUE, T0 + 10 * h),
        CaseEvent(
            "b",
            5,
            cf.CASE_ESCALATED,
            T0 + 10 * h,
            {"to_level": "community", "due": T0 + 30 * h},
        ),
        CaseEvent("b", 6, cf.CASE_CLOSED, T0 + 20 * h),  # within the new deadline
        CaseEvent("b", 7, cf.CASE_EVALUATED, T0 + 21 * h, {"satisfied": True}),
    ]
    book = KpiBook()
    book.add_all(log)
    assert book.snapshot() == recompute_kpis(log)
    day1, day2 = date(2026, 3, 10), date(2026, 3, 11)
    f = book.figures("370281001", day1, day2)
    assert f.get("created") == 2 and f.by_prefix("source:") == {"citizen": 1, "hotline": 1}
    assert f.on_time_acceptance_rate == 0.5
    assert f.on_time_resolution_rate == 1.0
    assert f.rework_rate == 0.5 and f.satisfaction_rate == 0.5
    assert f.average_handling_seconds == (5 * 3600 + 20 * 3600) / 2
    assert f.get("escalated:community") == 1 and f.get("overdue") == 1
    assert book.figures("370281001", day1, day1).get("resolved") == 0  # closed after midnight
    dept = book.figures("3702", day1, day2, department="water")
    assert dept.get("resolved") == 2 and dept.get("created") == 0
    assert book.figures("370282", day1, day2).get("created") == 0
    series = book.series("3702", day1, day2)
    assert [d for d, _ in series] == [day1, day2]
    assert [s.get("created") for _, s in series] == [2, 0]
    assert f.get("created") and book.figures(GRIDS[0], day1, day2).get("created") == 1


def test_gaps_are_held_and_duplicates_ignored() -> None:
    book = KpiBook()
    c = created("a", T0)
    closed = CaseEvent("a", 3, cf.CASE_CLOSED, T0 + timedelta(hours=2))
    acc = CaseEvent("a", 2, cf.CASE_ACCEPTED, T0 + timedelta(minutes=5))
    assert book.add(closed) == 0
    assert book.add(c) == 1
    assert book.figures("3702", date(2026, 3, 10), date(2026, 3, 10)).get("resolved") == 0
    assert book.add(acc) == 2
    assert book.add(acc) == 0 and book.add(c) == 0
    f = book.figures("3702", date(2026, 3, 10), date(2026, 3, 10))
    assert (f.get("created"), f.get("accepted_on_time"), f.get("resolved_on_time")) == (1, 1, 1)


STEP_TYPES = [
    cf.CASE_ACCEPTED,
    cf.CASE_DISPATCHED,
    cf.CASE_RETURNED,
    cf.CASE_CLOSED,
    cf.CASE_OVERDUE,
    cf.CASE_ESCALATED,
    cf.CASE_EVALUATED,
    cf.CASE_SUPERVISED,
]


@st.composite
def histories(draw: st.DrawFn) -> list[CaseEvent]:
    log: list[CaseEvent] = []
    for i in range(draw(st.integers(1, 6))):
        cid = f"c{i}"
        at = T0 + timedelta(minutes=draw(st.integers(0, 3000)))
        log.append(
            created(
                cid,
                at,
                draw(st.sampled_from(GRIDS)),
                source=draw(st.sampled_from(["citizen", "hotline", "patrol"])),
                category=draw(st.sampled_from(["road", "noise"])),
            )
        )
        for seq in range(2, draw(st.integers(2, 12))):
            at += timedelta(minutes=draw(st.integers(0, 900)))
            t = draw(st.sampled_from(STEP_TYPES))
            data: dict[str, object] = {}
            if t == cf.CASE_DISPATCHED:
                data["handler"] = draw(st.sampled_from(["water", "police"]))
                if draw(st.booleans()):
                    data["due"] = at + timedelta(minutes=draw(st.integers(0, 2000)))
            elif t == cf.CASE_RETURNED:
                data["reason"] = "x"
            elif t == cf.CASE_ESCALATED:
                data["to_level"] = draw(st.sampled_from(["community", "street", "city"]))
                data["due"] = at + timedelta(minutes=draw(st.integers(0, 2000)))
            elif t == cf.CASE_EVALUATED:
                data["satisfied"] = draw(st.booleans())
            elif t == cf.CASE_SUPERVISED:
                data["supervision_id"] = f"s{seq}"
            log.append(CaseEvent(cid, seq, t, at, data))
    return log


@settings(max_examples=150, deadline=None)
@given(log=histories(), data=st.data())
def test_incremental_equals_oracle_on_random_histories(
    log: list[CaseEvent], data: st.DataObject
) -> None:
    delivered = data.draw(
        st.permutations(log + data.draw(st.lists(st.sampled_from(log), max_size=5)))
    )
    book = KpiBook()
    book.add_all(delivered)
    want = recompute_kpis(log)
    assert book.snapshot() == want
    # every case is counted once in its city's created total
    total = sum(
        v.get("created", 0) for (code, dept, _), v in want.items() if len(code) == 4 and dept == ALL
    )
    assert total == len({e.case_id for e in log})
