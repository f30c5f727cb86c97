"""Water-meter zero-use alerts with an injected clock (once per episode), unknown meters
refused with nothing stored, one-key emergency calls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from demo.city import DemoCity
from services.grids.service_layer import sensors
from services.grids.tests.integration.conftest import count, outbox
from yiwang.clock import SHANGHAI, FakeClock
from yiwang.contracts.grids import SensorAlertRaisedV1
from yiwang.errors import NotFound
from yiwang.uow import UnitOfWork

DAY = datetime(2026, 3, 2, 6, 0, tzinfo=SHANGHAI)


def _hourly(meter: str, start: datetime, hours: int, value: float) -> list[dict]:
    return [
        {"meter_id": meter, "at": start + timedelta(hours=h), "value": value} for h in range(hours)
    ]


def test_unknown_meter_refuses_the_batch(
    city: DemoCity, factory: Callable[[], UnitOfWork], engine: Engine
) -> None:
    meter = sorted(city.water_meters)[0]
    before = count(engine, "meter_readings")
    batch = [
        {"meter_id": meter, "at": DAY - timedelta(days=30), "value": 1.0},
        {"meter_id": "WM-NOPE", "at": DAY, "value": 1.0},
    ]
    with pytest.raises(NotFound) as err:
        sensors.ingest_readings(factory(), batch)
    assert err.value.code == "meter_unknown" and err.value.status == 404
    assert count(engine, "meter_readings") == before


def test_water_alert_once_per_episode(
    city: DemoCity, factory: Callable[[], UnitOfWork], engine: Engine
) -> None:
    meter = sorted(city.water_meters)[-1]
    binding = city.water_meters[meter]
    clock = FakeClock(DAY)
    # 06:00 9.9 → 07:00 10.0 (use), then nothing until 15:00 (use again)
    readings = [{"meter_id": meter, "at": DAY, "value": 9.9}]
    readings += _hourly(meter, DAY + timedelta(hours=1), 8, 10.0)  # 07:00 … 14:00
    readings.reverse()  # out of order
    assert sensors.ingest_readings(factory(), readings)["stored"] == 9
    assert sensors.ingest_readings(factory(), readings[:2])["duplicates"] == 2
    before = len(outbox(engine, "sensor.alert_raised"))

    def raised_now(at: datetime) -> int:
        clock.set(at)
        return sensors.evaluate(factory(), clock.now())["raised"]

    assert raised_now(DAY + timedelta(hours=6)) == 0  # 12:00: 5 h of silence
    # 13:05: the 13:00 reading proves 6 daytime hours without use since 07:00
    assert raised_now(DAY + timedelta(hours=7, minutes=5)) == 1
    events = outbox(engine, "sensor.alert_raised")
    assert len(events) == before + 1
    ev = SensorAlertRaisedV1.model_validate(events[-1]["payload"])
    assert (ev.kind, ev.urgency, ev.household_code, ev.grid_code, ev.device_id) == (
        "water_zero_use",
        "normal",
        binding.household_code,
        binding.grid_code,
        meter,
    )
    assert ev.category == "alerts.elderly_no_water"
    assert ev.family_contact_masked and "****" in ev.family_contact_masked
    assert ev.since == DAY + timedelta(hours=1)
    assert ev.worker_ids, "the grid's workers are named"
    # the same episode never raises again (other processes, later runs)
    assert raised_now(DAY + timedelta(hours=8)) == 0
    assert raised_now(DAY + timedelta(hours=8, minutes=30)) == 0
    # use resumes at 15:00, then silence until the next morning: a new episode
    sensors.ingest_readings(
        factory(), [{"meter_id": meter, "at": DAY + timedelta(hours=9), "value": 10.4}]
    )
    assert raised_now(DAY + timedelta(hours=9, minutes=10)) == 0
    nxt = _hourly(meter, DAY + timedelta(hours=10), 20, 10.4)  # 16:00 … next day 11:00
    sensors.ingest_readings(factory(), nxt)
    assert raised_now(DAY + timedelta(hours=14, minutes=59)) == 0  # 20:59: 5 h 59 daytime
    assert raised_now(DAY + timedelta(hours=23)) == 0  # 05:00 next day: night, no alert
    assert raised_now(DAY + timedelta(days=1, hours=1, minutes=30)) == 1  # 07:30: 6 h 30
    assert len(outbox(engine, "sensor.alert_raised")) == before + 2


def test_emergency_call_is_urgent_once_per_episode(
    city: DemoCity, factory: Callable[[], UnitOfWork], engine: Engine
) -> None:
    device, binding = sorted(city.emergency_devices.items())[0]
    at = DAY + timedelta(days=5)
    first = sensors.call(factory(), device, None, None, at)
    assert first["new"] and first["urgent"] and first["household_code"] == binding.household_code
    second = sensors.call(factory(), device, 32.0, 118.8, at + timedelta(minutes=3))
    assert not second["new"] and second["alert_id"] == first["alert_id"]
    ev = SensorAlertRaisedV1.model_validate(outbox(engine, "sensor.alert_raised")[-1]["payload"])
    assert (ev.kind, ev.urgency, ev.device_id) == ("emergency_call", "urgent", device)
    assert (ev.lat, ev.lon) == (binding.location.lat, binding.location.lon)
    third = sensors.call(factory(), device, 32.0, 118.8, at + timedelta(minutes=30))
    assert third["new"]
    with pytest.raises(NotFound):
        sensors.call(factory(), "SOS-NOPE", None, None, at)
