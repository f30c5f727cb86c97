"""The nameko class wired to the real store with injected dependencies: the alert timer
runs on an injected FakeClock; RPC methods validate against their contracts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy.engine import Engine

from demo.city import DemoCity
from services.grids.adapters.crypto import PiiCipher
from services.grids.service import GridsService
from services.grids.service_layer.boundaries import GridMap
from services.grids.tests.integration.conftest import outbox
from yiwang.clock import SHANGHAI, FakeClock
from yiwang.contracts.grids import grid_codes_of, pack_points
from yiwang.nameko.rpc import RemoteDomainError
from yiwang.uow import UnitOfWork

DAY = datetime(2026, 4, 6, 6, 0, tzinfo=SHANGHAI)


def _service(factory: Callable[[], UnitOfWork], pii: PiiCipher, clock: FakeClock) -> GridsService:
    gmap = SimpleNamespace(map=GridMap.load(factory(), factory()), refresh=lambda: True)
    return worker_factory(GridsService, uow=factory, clock=clock, pii=pii, grid_map=gmap)


def test_alert_timer_uses_the_injected_clock(
    city: DemoCity, factory: Callable[[], UnitOfWork], pii: PiiCipher, engine: Engine
) -> None:
    clock = FakeClock(DAY)
    svc = _service(factory, pii, clock)
    meter = sorted(city.water_meters)[0]
    readings = [
        {
            "meter_id": meter,
            "at": (DAY + timedelta(hours=h)).isoformat(),
            "value": 5.0 if h == 0 else 5.5,
        }
        for h in range(9)
    ]
    assert svc.ingest_meter_readings(readings=readings)["stored"] == 9
    before = len(outbox(engine, "sensor.alert_raised"))
    clock.set(DAY + timedelta(hours=6))
    svc.run_alert_rules()
    assert len(outbox(engine, "sensor.alert_raised")) == before
    clock.set(DAY + timedelta(hours=8))  # 14:00: 07:00 → 13:00+ silent, 14:00 reading
    svc.run_alert_rules()
    svc.run_alert_rules()
    assert len(outbox(engine, "sensor.alert_raised")) == before + 1


def test_rpc_methods_validate_and_answer(
    city: DemoCity, factory: Callable[[], UnitOfWork], pii: PiiCipher
) -> None:
    svc = _service(factory, pii, FakeClock(DAY))
    grid = city.grid_codes[0]
    p = city.geometries[grid].representative_point()
    found = svc.locate(lat=p.y, lon=p.x)
    assert found["grid_code"] == grid and found["workers"][0]["role"] == "leader"
    many = svc.locate_many(lats=[p.y, 0.0], lons=[p.x, 0.0])
    assert many["grid_codes"] == [grid, None]
    v2 = svc.locate_many_v2(points=pack_points([p.y, 0.0, p.y], [p.x, 0.0, p.x]), detail=True)
    assert v2["grids"] == [grid] and v2["index"] == [0, -1, 0]
    assert (v2["inside"], v2["outside"]) == (2, 1)
    assert grid_codes_of(v2) == [grid, None, grid]
    assert v2["workers"][grid][0]["role"] == "leader" and grid[:4] in v2["units"]
    with pytest.raises(RemoteDomainError) as ragged:
        svc.locate_many_v2(points="AAAA")  # 3 bytes: not whole float64 pairs
    assert "invalid_request" in str(ragged.value)
    with pytest.raises(RemoteDomainError) as far:
        svc.locate_many_v2(points=pack_points([p.y, 91.0], [p.x, 0.0]))
    assert "coordinates_out_of_range" in str(far.value)
    with pytest.raises(RemoteDomainError) as err:
        svc.locate(lat=95.0, lon=0.0)
    assert "invalid_request" in str(err.value)
    with pytest.raises(RemoteDomainError) as unknown:
        svc.ingest_meter_readings(
            readings=[{"meter_id": "WM-NONE", "at": DAY.isoformat(), "value": 1.0}]
        )
    assert "meter_unknown" in str(unknown.value) and '"status": 404' in str(unknown.value)
    r = city.residents[0]
    masked = svc.get_resident(resident_id=r.resident_id, unmask=False)
    assert masked["id_number"] != r.id_number
    with pytest.raises(RemoteDomainError) as forbidden:
        svc.get_resident(resident_id=r.resident_id, unmask=True, can_unmask=False)
    assert "unmask_not_permitted" in str(forbidden.value)
