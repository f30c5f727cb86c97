from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.command.domain.audit import AuditLog, entry_hash, verify_chain
from services.command.domain.warnings import (
    RepeatAddressRule,
    WarningInputs,
    evaluate,
    parse_rules,
)
from yiwang.clock import SHANGHAI
from yiwang.errors import ValidationFailed

NOW = datetime(2026, 3, 10, 18, tzinfo=SHANGHAI)
TODAY = date(2026, 3, 10)
RULES = parse_rules(
    [
        {"kind": "spike", "name": "spike", "sd_factor": 3, "min_count": 5, "baseline_days": 14},
        {"kind": "repeat_address", "name": "addr", "min_reports": 3, "window_hours": 48},
        {"kind": "rising_overdue", "name": "rise", "days": 3},
    ]
)


def days_back(values: list[int]) -> dict[date, int]:
    """values[0] is today, values[1] yesterday, …"""
    return {TODAY - timedelta(days=i): v for i, v in enumerate(values)}


def test_spike() -> None:
    counts = {
        ("g1", "noise"): days_back([9] + [1, 2] * 7),  # spike
        ("g2", "noise"): days_back([9] + [8, 10] * 7),  # normal for g2
        ("g3", "road"): days_back([4] + [0] * 14),  # below min_count
    }
    alerts = evaluate(RULES, WarningInputs(TODAY, daily_counts=counts), NOW)
    assert [(a.kind, a.key) for a in alerts] == [("spike", ("g1", "noise"))]
    assert alerts[0].details["count"] == 9


def test_repeat_address() -> None:
    reports = [
        ("幸福路１号", "c1", NOW - timedelta(hours=1)),
        ("幸福路1号 ", "c2", NOW - timedelta(hours=20)),
        ("幸福路 1号", "c3", NOW - timedelta(hours=47)),
        ("幸福路1号", "c4", NOW - timedelta(hours=49)),  # outside the window
        ("和平街2号", "c5", NOW),
        ("和平街2号", "c6", NOW),
    ]
    alerts = evaluate(RULES, WarningInputs(TODAY, reports=reports), NOW)
    assert len(alerts) == 1 and alerts[0].details["case_ids"] == ["c1", "c2", "c3"]
    assert alerts[0].key == ("幸福路1号",)


def test_rising_overdue() -> None:
    inputs = WarningInputs(
        TODAY,
        overdue_by_department={
            "water": days_back([7, 5, 3, 1]),
            "police": days_back([7, 5, 5, 1]),
            "urban": days_back(
                [2, 1, 0]
            ),  # 0 → … the 4th point is missing = 0 → not strictly rising
        },
    )
    alerts = evaluate(RULES, inputs, NOW)
    assert [a.key for a in alerts] == [("water",)]
    assert alerts[0].details["counts"] == [1, 3, 5, 7]


def test_rule_table_validation() -> None:
    with pytest.raises(ValidationFailed):
        parse_rules([{"kind": "weather"}])
    with pytest.raises(ValidationFailed):
        parse_rules([{"kind": "spike", "name": "x", "colour": "red"}])
    with pytest.raises(ValidationFailed):
        parse_rules([{"kind": "repeat_address", "name": "x", "min_reports": 1}])
    assert parse_rules([{"kind": "repeat_address", "name": "a"}]) == [RepeatAddressRule("a")]


def build_log(n: int) -> AuditLog:
    log = AuditLog()
    for i in range(n):
        log.append(
            case_id=f"c{i % 3}",
            actor=f"u{i}",
            role="dispatcher",
            action="dispatch",
            at=NOW + timedelta(minutes=i),
            before={"status": "accepted"},
            after={"status": "dispatched", "handler": "水务局", "due": NOW + timedelta(days=1)},
        )
    return log


def test_audit_chain_and_per_case_query() -> None:
    log = build_log(6)
    entries = list(log)
    assert verify_chain(entries) is None
    assert [e.seq for e in log.for_case("c1")] == [2, 5]
    assert AuditLog(entries).head == log.head  # reloadable


@settings(max_examples=50, deadline=None)
@given(
    n=st.integers(1, 8),
    data=st.data(),
    field=st.sampled_from(["actor", "role", "action", "case_id", "after", "before", "at"]),
)
def test_any_tampering_is_detected(n: int, data: st.DataObject, field: str) -> None:
    entries = list(build_log(n))
    i = data.draw(st.integers(0, n - 1))
    value: object = {
        "after": {"status": "closed"},
        "before": {},
        "at": entries[i].at + timedelta(seconds=1),
    }.get(field, "forged")
    entries[i] = dataclasses.replace(entries[i], **{field: value})
    assert verify_chain(entries) == i
    with pytest.raises(ValidationFailed):
        AuditLog(entries)


def test_deletion_and_reorder_detected() -> None:
    entries = list(build_log(5))
    assert verify_chain(entries[:2] + entries[3:]) == 2
    assert verify_chain([entries[1], entries[0], *entries[2:]]) == 0
    # rehashing a forged entry still breaks the next link
    log = build_log(3)
    forged = list(log)
    e = forged[1]
    bad = dataclasses.replace(e, actor="mallory")
    forged[1] = dataclasses.replace(bad, hash=entry_hash(bad.prev_hash, bad.body()))
    assert verify_chain(forged) == 2
