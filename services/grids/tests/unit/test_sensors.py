from datetime import datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.grids.domain.people import Location, ResidentTag
from services.grids.domain.sensors import (
    EMERGENCY_CALL,
    HouseholdBinding,
    MeterReading,
    Rule,
    WaterMonitor,
    emergency_call,
)
from yiwang.clock import SHANGHAI, FakeClock
from yiwang.errors import NotFound, ValidationFailed

HOUSE = "329901001001001001-101"
ALONE = HouseholdBinding(
    HOUSE, HOUSE[:15], Location(32.0, 118.8), "13900000009", frozenset({ResidentTag.ELDERLY_ALONE})
)
FAMILY = HouseholdBinding(
    "329901001001001001-102", HOUSE[:15], Location(32.0, 118.8), None, frozenset()
)
MORNING = datetime(2026, 1, 6, 7, 0, tzinfo=SHANGHAI)


def hourly(meter: str, start: datetime, hours: int, values: list[float]) -> list[MeterReading]:
    return [MeterReading(meter, start + timedelta(hours=h), values[h]) for h in range(hours)]


def monitor() -> WaterMonitor:
    return WaterMonitor({"m1": ALONE, "m2": FAMILY})


def test_rule_is_data() -> None:
    rule = Rule.from_dict({"kind": "water_zero_use", "window_hours": 8, "day_start": "06:30"})
    assert rule.window == timedelta(hours=8)
    assert rule.day_start == time(6, 30)
    assert Rule.from_dict(rule.to_dict()) == rule
    with pytest.raises(ValidationFailed):
        Rule.from_dict({"kind": "smoke"})
    with pytest.raises(ValidationFailed):
        Rule.from_dict({"window_hours": 0})
    with pytest.raises(ValidationFailed):
        Rule.from_dict({"applies_to": ["nobody"]})


def test_daytime_between() -> None:
    rule = Rule()
    night_start = datetime(2026, 1, 5, 20, 0, tzinfo=SHANGHAI)
    assert rule.daytime_between(night_start, night_start + timedelta(hours=13)) == timedelta(
        hours=3  # 20-21 and 07-09
    )


def test_zero_use_alerts_once_per_episode_with_fake_clock() -> None:
    clock = FakeClock(MORNING)
    mon = monitor()
    # used at 07:00, then flat until 13:00
    mon.ingest(
        hourly("m1", MORNING - timedelta(hours=1), 8, [1.0, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2])
    )
    clock.set(MORNING + timedelta(hours=5, minutes=59))
    assert mon.evaluate(clock.now()) == []  # 5 h of evidence only
    clock.set(MORNING + timedelta(hours=6, minutes=5))
    [alert] = mon.evaluate(clock.now())
    assert (alert.kind, alert.household_code, alert.grid_code) == (
        "water_zero_use",
        HOUSE,
        HOUSE[:15],
    )
    assert alert.family_contact == "13900000009"
    assert alert.since == MORNING
    assert not alert.urgent
    # still flat: no repeat
    mon.ingest(hourly("m1", MORNING + timedelta(hours=7), 3, [1.2, 1.2, 1.2]))
    clock.advance(hours=3)
    assert mon.evaluate(clock.now()) == []
    # use resumes at 17:00, then flat again: a new episode alerts the next day
    mon.ingest([MeterReading("m1", MORNING + timedelta(hours=10), 1.5)])
    clock.advance(minutes=1)
    assert mon.evaluate(clock.now()) == []
    next_day = MORNING + timedelta(days=1)
    mon.ingest(hourly("m1", next_day - timedelta(hours=10), 16, [1.5] * 16))
    clock.set(next_day + timedelta(hours=5, minutes=30))
    [again] = mon.evaluate(clock.now())
    assert again.since == MORNING + timedelta(hours=10)
    assert again.alert_id != alert.alert_id


def test_nighttime_is_ignored() -> None:
    mon = monitor()
    evening = datetime(2026, 1, 5, 21, 0, tzinfo=SHANGHAI)
    # last use 21:00, flat all night until 08:00: only one daytime hour of silence
    mon.ingest(hourly("m1", evening - timedelta(hours=1), 12, [1.0] + [1.1] * 11))
    for h in range(0, 11):
        assert mon.evaluate(evening + timedelta(hours=h, minutes=30)) == []


def test_no_alert_at_night_even_after_a_long_daytime_silence() -> None:
    mon = monitor()
    mon.ingest(hourly("m1", MORNING, 16, [2.0] * 16))  # 07:00 .. 22:00, flat all day
    assert mon.evaluate(MORNING + timedelta(hours=15, minutes=5)) == []  # 22:05: night
    assert len(mon.evaluate(MORNING + timedelta(days=1, hours=0, minutes=5))) == 1  # 07:05


def test_out_of_order_use_cancels_pending_silence() -> None:
    mon = monitor()
    flat = hourly("m1", MORNING, 8, [1.0] * 8)
    mon.ingest(flat[4:])
    mon.ingest([MeterReading("m1", MORNING + timedelta(hours=3), 0.9)])  # late: a use at 10:00
    mon.ingest(flat[:3])
    assert mon.last_use("m1") == MORNING + timedelta(hours=4)
    assert mon.evaluate(MORNING + timedelta(hours=7, minutes=30)) == []  # 3 h since last use


def test_rule_only_applies_to_tagged_households() -> None:
    mon = monitor()
    mon.ingest(hourly("m2", MORNING, 10, [5.0] * 10))
    assert mon.evaluate(MORNING + timedelta(hours=9, minutes=30)) == []
    everyone = WaterMonitor({"m2": FAMILY}, rules=(Rule(applies_to=frozenset()),))
    everyone.ingest(hourly("m2", MORNING, 10, [5.0] * 10))
    assert len(everyone.evaluate(MORNING + timedelta(hours=9, minutes=30))) == 1


def test_unknown_meter_refuses_whole_batch() -> None:
    mon = monitor()
    with pytest.raises(NotFound) as exc:
        mon.ingest([MeterReading("m1", MORNING, 1.0), MeterReading("ghost", MORNING, 1.0)])
    assert exc.value.code == "meter_unknown"
    assert mon.last_use("m1") is None
    with pytest.raises(ValidationFailed):
        mon.ingest([MeterReading("m1", MORNING.replace(tzinfo=None), 1.0)])


@given(st.permutations(list(range(24))), st.integers(1, 24))
@settings(max_examples=40, deadline=None)
def test_alerts_do_not_depend_on_batch_order(order: list[int], batch: int) -> None:
    """Feeding the same readings in any order and batching gives one alert, once."""
    values = [1.0, 1.1] + [1.1] * 22  # last use 08:00, flat until 06:00 next day
    readings = hourly("m1", MORNING, 24, values)
    mon = monitor()
    shuffled = [readings[i] for i in order]
    for i in range(0, 24, batch):
        mon.ingest(shuffled[i : i + batch])
    first = mon.evaluate(MORNING + timedelta(hours=14, minutes=30))  # 21:30: night
    second = mon.evaluate(MORNING + timedelta(days=1, minutes=30))  # 07:30
    third = mon.evaluate(MORNING + timedelta(days=1, hours=1))
    assert first == [] and len(second) == 1 and third == []
    assert second[0].since == MORNING + timedelta(hours=1)


def test_emergency_call() -> None:
    at = MORNING + timedelta(hours=2)
    alert = emergency_call("SOS-1", {"SOS-1": ALONE}, at)
    assert alert.kind == EMERGENCY_CALL and alert.urgent
    assert alert.location == ALONE.location and alert.household_code == HOUSE
    fix = Location(32.001, 118.801)
    assert emergency_call("SOS-1", {"SOS-1": ALONE}, at, location=fix).location == fix
    with pytest.raises(NotFound) as exc:
        emergency_call("SOS-9", {"SOS-1": ALONE}, at)
    assert exc.value.code == "device_unknown"
