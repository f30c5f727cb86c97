from __future__ import annotations

from datetime import datetime

import pytest

from services.command.domain.dispatch import (
    DISPATCHED,
    PENDING,
    RETURNED,
    CaseFacts,
    DispatchRecord,
    RuleSet,
    Target,
    dispatch,
    send_back,
)
from yiwang.clock import SHANGHAI
from yiwang.errors import Conflict, Forbidden, ValidationFailed

DEPTS = {"urban_mgmt", "police", "water", "market"}
SQUARE = "POLYGON((120 36, 121 36, 121 37, 120 37, 120 36))"


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def facts(**kw: object) -> CaseFacts:
    base: dict[str, object] = {
        "category": "city.road.pothole",
        "jurisdiction_code": "370281001001001",
        "source": "citizen",
        "at": sh(2026, 3, 10, 10),  # Tuesday 10:00
        "lat": 36.5,
        "lon": 120.5,
        "attributes": {"severity": "high"},
    }
    base.update(kw)
    return CaseFacts(**base)  # type: ignore[arg-type]


def rule(order: int, target: str, **when: object) -> dict[str, object]:
    return {
        "order": order,
        "name": f"r{order}",
        "target": {"kind": "department", "id": target},
        "when": when,
    }


def route(rules: list[dict[str, object]], f: CaseFacts) -> str | None:
    d = RuleSet.from_data(rules, DEPTS).route(f)
    return None if d is None else d.target.id


def test_first_match_wins_by_order_not_list_position() -> None:
    rules = [
        rule(20, "police"),
        rule(10, "urban_mgmt", category_prefix="city.road"),
        rule(5, "water", category_prefix="water"),
    ]
    assert route(rules, facts()) == "urban_mgmt"
    assert route(rules, facts(category="noise")) == "police"
    assert route([rule(1, "water", category_prefix="water")], facts()) is None


@pytest.mark.parametrize(
    ("when", "hit", "miss"),
    [
        ({"category_prefix": "city.road"}, {}, {"category": "city.park"}),
        ({"jurisdiction_prefix": "370281001"}, {}, {"jurisdiction_code": "370281002001001"}),
        ({"area_wkt": SQUARE}, {}, {"lon": 122.0}),
        ({"area_wkt": SQUARE}, {}, {"lat": None, "lon": None}),
        ({"sources": ["hotline", "citizen"]}, {}, {"source": "patrol"}),
        ({"time_from": "08:30", "time_to": "17:30"}, {}, {"at": sh(2026, 3, 10, 18)}),
        ({"time_from": "22:00", "time_to": "06:00"}, {"at": sh(2026, 3, 10, 23)}, {}),
        ({"weekdays": [1, 2, 3, 4, 5]}, {}, {"at": sh(2026, 3, 14, 10)}),
        ({"attributes": {"severity": "high"}}, {}, {"attributes": {"severity": "low"}}),
        ({"attributes": {"severity": "high"}}, {}, {"attributes": {}}),
    ],
)
def test_each_condition(
    when: dict[str, object], hit: dict[str, object], miss: dict[str, object]
) -> None:
    rules = [rule(1, "police", **when)]
    assert route(rules, facts(**hit)) == "police"
    if miss:
        assert route(rules, facts(**miss)) is None


def test_time_window_uses_shanghai_time() -> None:
    from datetime import UTC

    rules = [rule(1, "police", time_from="08:30", time_to="17:30", weekdays=[2])]
    # 01:00 UTC Tuesday = 09:00 Tuesday in Shanghai
    assert route(rules, facts(at=datetime(2026, 3, 10, 1, tzinfo=UTC))) == "police"
    # 20:00 UTC Monday = 04:00 Tuesday in Shanghai: weekday matches, time does not
    assert route(rules, facts(at=datetime(2026, 3, 9, 20, tzinfo=UTC))) is None


def test_grid_worker_target_and_roundtrip() -> None:
    data = [
        {
            "order": 1,
            "name": "mine",
            "target": {"kind": "grid_worker", "id": "w-17"},
            "when": {
                "sources": ["patrol"],
                "weekdays": [6, 7],
                "time_from": "09:00",
                "time_to": "10:00",
                "area_wkt": SQUARE,
                "attributes": {"a": 1},
            },
        },
    ]
    rs = RuleSet.from_data(data, DEPTS)
    assert rs.to_data() == [
        {**data[0], "when": {**data[0]["when"], "time_from": "09:00:00", "time_to": "10:00:00"}}
    ]  # type: ignore[dict-item]
    assert RuleSet.from_data(rs.to_data(), DEPTS).rules == rs.rules


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ([rule(1, "nasa")], "unknown_department"),
        ([rule(1, "police"), rule(1, "water")], "duplicate_rule_order"),
        ([rule(1, "police", area_wkt="POLYGON((bad")], "invalid_area"),
        ([rule(1, "police", area_wkt="POINT(1 2)")], "invalid_area"),
        ([rule(1, "police", time_from="09:00")], "invalid_time_window"),
        ([rule(1, "police", weekdays=[0])], "invalid_weekdays"),
        ([rule(1, "police", sources=[])], "invalid_sources"),
        ([{"order": 1}], "invalid_rule"),
        ([{"order": 1, "target": {"kind": "robot", "id": "x"}}], "invalid_target"),
    ],
)
def test_rule_validation(data: list[dict[str, object]], code: str) -> None:
    with pytest.raises(ValidationFailed) as e:
        RuleSet.from_data(data, DEPTS)
    assert e.value.code == code


def test_dispatch_redispatch_send_back() -> None:
    police, water = Target("department", "police"), Target("department", "water")
    r = DispatchRecord("c1")
    assert r.state == PENDING
    r = dispatch(r, police, actor="disp1", now=sh(2026, 3, 10, 10), known_departments=DEPTS)
    assert (r.state, r.assignee) == (DISPATCHED, police)
    with pytest.raises(Conflict):
        dispatch(r, police, actor="disp1", now=sh(2026, 3, 10, 10), known_departments=DEPTS)
    with pytest.raises(Forbidden):
        send_back(r, by=water, reason="not ours", now=sh(2026, 3, 10, 11))
    with pytest.raises(ValidationFailed):
        send_back(r, by=police, reason="  ", now=sh(2026, 3, 10, 11))
    r = send_back(r, by=police, reason="不属于本部门职责", now=sh(2026, 3, 10, 11))
    assert (r.state, r.assignee, r.return_reason) == (RETURNED, None, "不属于本部门职责")
    with pytest.raises(Conflict):
        send_back(r, by=police, reason="again", now=sh(2026, 3, 10, 11))
    r = dispatch(r, water, actor="disp1", now=sh(2026, 3, 10, 12), known_departments=DEPTS)
    assert [s.action for s in r.history] == ["dispatch", "send_back", "redispatch"]
    assert r.return_reason is None
    with pytest.raises(ValidationFailed) as e:
        dispatch(
            r,
            Target("department", "nasa"),
            actor="d",
            now=sh(2026, 3, 10, 12),
            known_departments=DEPTS,
        )
    assert e.value.code == "unknown_department"
