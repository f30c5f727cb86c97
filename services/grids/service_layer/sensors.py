"""Sensor alerts: meter readings in batches, zero-use rule evaluation, one-key calls.

Rules are rows of ``alert_rules`` (``sensors.Rule.to_dict()``); with none stored, the
domain defaults apply (zero water use for 6 daytime hours by an elderly person living
alone; emergency calls urgent). Each alert has an episode key (unique in ``alerts``), so an
episode raises one ``sensor.alert_raised`` even when several grids processes evaluate at
once; the meter's last use and open episode are carried in ``water_meters`` between runs.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.grids.adapters import tables as t
from services.grids.domain.people import Location, ResidentTag
from services.grids.domain.sensors import (
    DEFAULT_RULES,
    EMERGENCY_CALL,
    HouseholdBinding,
    MeterReading,
    Rule,
    SensorAlertRaised,
    WaterMonitor,
    emergency_call,
)
from services.grids.service_layer.people import missing
from yiwang.contracts.grids import SensorAlertKind, SensorAlertRaisedV1
from yiwang.errors import NotFound, ValidationFailed
from yiwang.uow import UnitOfWork

READING_HORIZON = timedelta(days=2)
EMERGENCY_EPISODE = timedelta(minutes=10)
# The petitions catalogue's categories for sensor cases.
CATEGORIES = {"water_zero_use": "alerts.elderly_no_water", EMERGENCY_CALL: "alerts.emergency_call"}


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValidationFailed("timestamp_naive", "times must carry a time zone", "时间须带时区")
    return at


def ingest_readings(uow: UnitOfWork, readings: list[dict[str, Any]]) -> dict[str, int]:
    """Store a batch (any order). Unknown meters refuse the whole batch (404)."""
    for r in readings:
        _aware(r["at"])
    ids = sorted({r["meter_id"] for r in readings})
    with uow:
        known = set(
            uow.session.execute(
                sa.select(t.water_meters.c.meter_id).where(
                    t.water_meters.c.meter_id.in_(ids), t.water_meters.c.active.is_(True)
                )
            ).scalars()
        )
        unknown = [m for m in ids if m not in known]
        if unknown:
            raise NotFound(
                "meter_unknown",
                f"unknown meter(s): {', '.join(unknown[:10])}",
                f"未登记的水表：{'，'.join(unknown[:10])}",
                meters=unknown[:50],
            )
        stored = 0
        rows = [{"meter_id": r["meter_id"], "at": r["at"], "value": r["value"]} for r in readings]
        for i in range(0, len(rows), 5000):
            stmt = pg_insert(t.meter_readings).values(rows[i : i + 5000])
            res = uow.session.execute(
                stmt.on_conflict_do_nothing().returning(t.meter_readings.c.meter_id)
            )
            stored += len(res.all())
        uow.commit()
    return {"stored": stored, "duplicates": len(readings) - stored}


def load_rules(uow: UnitOfWork) -> tuple[Rule, ...]:
    rows = (
        uow.session.execute(
            sa.select(t.alert_rules.c.config)
            .where(t.alert_rules.c.active.is_(True))
            .order_by(t.alert_rules.c.rule_id)
        )
        .scalars()
        .all()
    )
    return tuple(Rule.from_dict(c) for c in rows) or DEFAULT_RULES


@dataclass(frozen=True)
class _Household:
    binding: HouseholdBinding
    address: str | None
    contact_masked: str | None


def _households(uow: UnitOfWork, codes: list[str]) -> dict[str, _Household]:
    """Binding (grid, location, tags) and masked family contact of households."""
    if not codes:
        return {}
    s = uow.session
    rows = s.execute(
        sa.select(
            t.households.c.code,
            t.households.c.grid_code,
            t.households.c.contact_phone_masked,
            t.buildings.c.lat,
            t.buildings.c.lon,
            t.buildings.c.address,
        )
        .join(t.buildings, t.buildings.c.code == t.households.c.building_code)
        .where(t.households.c.code.in_(codes))
    ).all()
    tags: dict[str, set[ResidentTag]] = defaultdict(set)
    family: dict[str, str] = {}
    for resident in s.execute(
        sa.select(
            t.residents.c.household_code, t.residents.c.family_contact_masked, t.resident_tags.c.tag
        )
        .outerjoin(t.resident_tags, t.resident_tags.c.resident_id == t.residents.c.resident_id)
        .where(t.residents.c.household_code.in_(codes))
    ):
        if resident.tag:
            tags[resident.household_code].add(ResidentTag(resident.tag))
        if resident.family_contact_masked:
            family.setdefault(resident.household_code, resident.family_contact_masked)
    out = {}
    for r in rows:
        loc = Location(r.lat, r.lon) if r.lat is not None and r.lon is not None else None
        out[r.code] = _Household(
            HouseholdBinding(
                r.code,
                r.grid_code,
                loc or Location(0.0, 0.0),
                family.get(r.code) or r.contact_phone_masked,
                frozenset(tags.get(r.code, set())),
            ),
            r.address,
            family.get(r.code) or r.contact_phone_masked,
        )
    return out


def _meter_of(alert: SensorAlertRaised) -> str | None:
    """The meter id inside a zero-use alert's episode key (``kind:meter:since``)."""
    if alert.since is None:
        return None
    head, tail = f"{alert.kind}:", f":{alert.since.isoformat()}"
    key = alert.alert_id
    return key[len(head) : -len(tail)] if key.startswith(head) and key.endswith(tail) else None


def _emit_alert(
    uow: UnitOfWork,
    alert: SensorAlertRaised,
    house: _Household,
    workers: list[str],
    meter_id: str | None = None,
) -> tuple[uuid.UUID, bool]:
    """Record the alert under its episode key; emit only the first time."""
    alert_id = uuid.uuid5(uuid.NAMESPACE_URL, f"yiwang:grids:alert:{alert.alert_id}")
    res = uow.session.execute(
        pg_insert(t.alerts)
        .values(
            id=alert_id,
            episode_key=alert.alert_id[:160],
            kind=alert.kind,
            urgent=alert.urgent,
            household_code=alert.household_code,
            grid_code=alert.grid_code,
            device_id=alert.device_id,
            raised_at=alert.raised_at,
            since=alert.since,
        )
        .on_conflict_do_nothing()
        .returning(t.alerts.c.id)
    ).first()
    if res is None:
        return alert_id, False
    if alert.kind == EMERGENCY_CALL:
        text = f"一键呼叫：住户{alert.household_code}按下紧急呼叫（设备{alert.device_id}），请立即上门核实。"
    else:
        hours = (alert.raised_at - alert.since).total_seconds() / 3600 if alert.since else 0
        text = (
            f"独居老人家中水表长时间无用水（自{alert.since:%m-%d %H:%M}起，约{hours:.0f}小时），"
            f"请网格员上门或联系家属核实。住户{alert.household_code}。"
        )
    uow.emit(
        SensorAlertRaisedV1(
            alert_id=alert_id,
            kind=cast(SensorAlertKind, alert.kind),  # a rule kind, checked by the domain
            category=CATEGORIES[alert.kind],
            description=text,
            urgency="urgent" if alert.urgent else "normal",
            household_code=alert.household_code,
            grid_code=alert.grid_code,
            lat=alert.location.lat,
            lon=alert.location.lon,
            address=(house.address or None) and house.address[:200],
            family_contact_masked=house.contact_masked,
            worker_ids=workers,
            device_id=alert.device_id or meter_id,
            since=alert.since,
            raised_at=alert.raised_at,
        ),
        jurisdiction_code=alert.grid_code,
        occurred_at=alert.raised_at,
    )
    return alert_id, True


def _workers_of(uow: UnitOfWork, grid_code: str) -> list[str]:
    return [
        r.worker_id
        for r in uow.session.execute(
            sa.select(t.assignments.c.worker_id)
            .where(t.assignments.c.grid_code == grid_code)
            .order_by(t.assignments.c.role != "leader", t.assignments.c.worker_id)
        )
    ]


def evaluate(uow: UnitOfWork, now: datetime) -> dict[str, int]:
    """Run the zero-use rules over recent readings; raise due alerts once per episode."""
    _aware(now)
    with uow:
        s = uow.session
        horizon = now - READING_HORIZON
        readings = s.execute(
            sa.select(
                t.meter_readings.c.meter_id, t.meter_readings.c.at, t.meter_readings.c.value
            ).where(t.meter_readings.c.at >= horizon, t.meter_readings.c.at <= now)
        ).all()
        meter_ids = sorted({r.meter_id for r in readings})
        if not meter_ids:
            return {"meters": 0, "raised": 0}
        meters = s.execute(
            sa.select(t.water_meters)
            .where(t.water_meters.c.meter_id.in_(meter_ids), t.water_meters.c.active.is_(True))
            .with_for_update()
        ).all()
        houses = _households(uow, sorted({m.household_code for m in meters}))
        bindings = {
            m.meter_id: houses[m.household_code].binding
            for m in meters
            if m.household_code in houses
        }
        monitor = WaterMonitor(bindings, rules=load_rules(uow), retention=READING_HORIZON)
        for m in meters:
            if m.meter_id in bindings:
                monitor.restore(m.meter_id, m.last_use_at, m.alert_open_since)
        monitor.ingest(
            MeterReading(r.meter_id, r.at, r.value) for r in readings if r.meter_id in bindings
        )
        raised = 0
        for alert in monitor.evaluate(now):
            house = houses[alert.household_code]
            _, new = _emit_alert(
                uow, alert, house, _workers_of(uow, alert.grid_code), _meter_of(alert)
            )
            raised += int(new)
        for m in meters:
            if m.meter_id not in bindings:
                continue
            last, open_ = monitor.last_use(m.meter_id), monitor.open_episode(m.meter_id)
            if (last, open_) != (m.last_use_at, m.alert_open_since):
                s.execute(
                    sa.update(t.water_meters)
                    .where(t.water_meters.c.meter_id == m.meter_id)
                    .values(last_use_at=last, alert_open_since=open_)
                )
        uow.commit()
    return {"meters": len(bindings), "raised": raised}


def call(
    uow: UnitOfWork, device_id: str, lat: float | None, lon: float | None, at: datetime
) -> dict[str, Any]:
    """One-key emergency call: urgent alert at the caller's (or household's) location.

    Presses of the same device within 10 minutes belong to one episode (one alert).
    """
    _aware(at)
    with uow:
        s = uow.session
        dev = s.execute(
            sa.select(t.emergency_devices)
            .where(
                t.emergency_devices.c.device_id == device_id, t.emergency_devices.c.active.is_(True)
            )
            .with_for_update()
        ).first()
        if dev is None:
            raise NotFound(
                "device_unknown",
                f"unknown emergency device '{device_id}'",
                f"未登记的一键呼叫设备“{device_id}”",
            )
        recent = s.execute(
            sa.select(t.alerts)
            .where(
                t.alerts.c.device_id == device_id,
                t.alerts.c.kind == EMERGENCY_CALL,
                t.alerts.c.raised_at > at - EMERGENCY_EPISODE,
                t.alerts.c.raised_at <= at,
            )
            .order_by(t.alerts.c.raised_at.desc())
        ).first()
        if recent is not None:
            return {
                "alert_id": recent.id,
                "kind": recent.kind,
                "urgent": recent.urgent,
                "household_code": recent.household_code,
                "grid_code": recent.grid_code,
                "raised_at": recent.raised_at,
                "new": False,
            }
        house = _households(uow, [dev.household_code]).get(dev.household_code)
        if house is None:
            raise missing("household", dev.household_code)
        loc = Location(lat, lon) if lat is not None and lon is not None else None
        if loc is None and house.binding.location == Location(0.0, 0.0):
            raise ValidationFailed(
                "location_unknown", "no location for this call", "无法确定呼叫位置"
            )
        alert = emergency_call(
            device_id, {device_id: house.binding}, at, location=loc, rules=load_rules(uow)
        )
        alert_id, new = _emit_alert(uow, alert, house, _workers_of(uow, alert.grid_code))
        uow.commit()
    return {
        "alert_id": alert_id,
        "kind": alert.kind,
        "urgent": alert.urgent,
        "household_code": alert.household_code,
        "grid_code": alert.grid_code,
        "raised_at": alert.raised_at,
        "new": new,
    }


def register_device(uow: UnitOfWork, kind: str, device_id: str, household_code: str) -> None:
    table = t.water_meters if kind == "water_meter" else t.emergency_devices
    key = table.c.meter_id if kind == "water_meter" else table.c.device_id
    with uow:
        if (
            uow.session.execute(
                sa.select(t.households.c.code).where(t.households.c.code == household_code)
            ).first()
            is None
        ):
            raise missing("household", household_code)
        stmt = pg_insert(table).values({key.name: device_id, "household_code": household_code})
        uow.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[key], set_={"household_code": household_code, "active": True}
            )
        )
        uow.commit()
