"""Load the demo city: its boundaries, then its people and places in bulk.

``python -m demo.load_city --if-empty --size small --seed N`` (run by ``make up``) imports
the boundaries through the same import users use (validation included), then people,
workers, places, meters and devices in bulk.

Every record goes through the same validation and encryption as the one-by-one commands
(``people.resident_values`` checks ID numbers and phones); rows are written with batched
multi-row INSERTs in one transaction, so a failed load leaves nothing behind.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import typer

from demo.city import DemoCity, generate
from services.grids.adapters import tables as t
from services.grids.adapters.crypto import PiiCipher
from services.grids.domain.people import validate_phone
from services.grids.service_layer.boundaries import count_units, import_boundaries
from services.grids.service_layer.common import bump_map_version
from services.grids.service_layer.people import protect, resident_values
from yiwang.clock import SystemClock
from yiwang.config import Settings
from yiwang.db import make_engine
from yiwang.production import checked_keyring
from yiwang.uow import UnitOfWork, uow_factory

CHUNK = 5000


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), CHUNK):
        yield rows[i : i + CHUNK]


def _insert(uow: UnitOfWork, table: sa.Table, rows: Iterable[dict[str, Any]]) -> int:
    rows = list(rows)
    for chunk in _chunks(rows):
        uow.session.execute(table.insert(), chunk)
    return len(rows)


def load_people(uow: UnitOfWork, pii: PiiCipher, city: DemoCity, now: datetime) -> dict[str, int]:
    counts: dict[str, int] = {}
    with uow:
        counts["workers"] = _insert(
            uow,
            t.workers,
            (
                {
                    "worker_id": w.worker_id,
                    "name": w.name,
                    "phone": validate_phone(w.phone),
                    "status": w.status.value,
                    "updated_at": now,
                }
                for w in city.workers
            ),
        )
        counts["assignments"] = _insert(
            uow,
            t.assignments,
            (
                {"worker_id": w.worker_id, "grid_code": g, "role": r.value, "assigned_at": now}
                for w in city.workers
                for g, r in w.grids.items()
            ),
        )
        counts["buildings"] = _insert(
            uow,
            t.buildings,
            (
                {
                    "code": b.code,
                    "grid_code": b.grid_code,
                    "name": b.name,
                    "address": b.address,
                    "lat": b.location.lat if b.location else None,
                    "lon": b.location.lon if b.location else None,
                    "households_represented": b.households_represented,
                }
                for b in city.buildings
            ),
        )
        hh = []
        for h in city.households:
            enc, hsh, masked = protect(pii, h.contact_phone, "household.contact_phone")
            hh.append(
                {
                    "code": h.code,
                    "building_code": h.building_code,
                    "grid_code": h.grid_code,
                    "contact_phone_enc": enc,
                    "contact_phone_hash": hsh,
                    "contact_phone_masked": masked,
                    "party_member_household": h.party_member_household,
                }
            )
        counts["households"] = _insert(uow, t.households, hh)
        counts["residents"] = _insert(
            uow,
            t.residents,
            (
                resident_values(
                    pii,
                    resident_id=r.resident_id,
                    name=r.name,
                    id_number=r.id_number,
                    household_code=r.household_code,
                    phone=r.phone,
                    registered_community=r.registered_community,
                    party_member=r.party_member,
                    family_contact=r.family_contact,
                )
                for r in city.residents
            ),
        )
        counts["resident_tags"] = _insert(
            uow,
            t.resident_tags,
            (
                {"resident_id": r.resident_id, "tag": tag.value}
                for r in city.residents
                for tag in sorted(r.tags)
            ),
        )
        counts["key_places"] = _insert(
            uow,
            t.key_places,
            (
                {
                    "place_id": p.place_id,
                    "kind": p.kind.value,
                    "name": p.name,
                    "grid_code": p.grid_code,
                    "lat": p.location.lat,
                    "lon": p.location.lon,
                }
                for p in city.key_places
            ),
        )
        counts["party_orgs"] = _insert(
            uow,
            t.party_orgs,
            (
                {
                    "org_id": o.org_id,
                    "kind": o.kind.value,
                    "unit_code": o.unit_code,
                    "name": o.name,
                    "secretary": o.secretary,
                }
                for o in city.party_orgs
            ),
        )
        counts["water_meters"] = _insert(
            uow,
            t.water_meters,
            (
                {"meter_id": m, "household_code": b.household_code}
                for m, b in sorted(city.water_meters.items())
            ),
        )
        counts["emergency_devices"] = _insert(
            uow,
            t.emergency_devices,
            (
                {"device_id": d, "household_code": b.household_code}
                for d, b in sorted(city.emergency_devices.items())
            ),
        )
        bump_map_version(uow, now, roster=True)
        uow.commit()
    return counts


def main(
    size: str = "small", seed: int = 20261123, if_empty: bool = False, people: bool = True
) -> None:
    """Generate the deterministic demo city and import it (boundaries, then people)."""
    settings = Settings()
    engine = make_engine(settings.database_url, pool_size=1)
    factory = uow_factory(engine, producer="grids", schema="grids")
    try:
        if if_empty and count_units(factory()) > 0:
            typer.echo("demo city already loaded")
            return
        t0 = time.perf_counter()
        city = generate(size, seed, with_people=people)
        fc = city.feature_collection()
        t1 = time.perf_counter()
        now = SystemClock().now()
        result = import_boundaries(factory(), fc, now)
        t2 = time.perf_counter()
        counts: dict[str, int] = {}
        if people:
            counts = load_people(
                factory(), PiiCipher.from_keyring(checked_keyring(settings)), city, now
            )
        t3 = time.perf_counter()
        typer.echo(
            f"demo city {city.city_name} ({size}, seed {seed}): {json.dumps(result['counts'])} "
            f"{json.dumps(counts)}; generated in {t1 - t0:.1f} s, boundaries {t2 - t1:.1f} s, "
            f"people {t3 - t2:.1f} s"
        )
    finally:
        engine.dispose()


if __name__ == "__main__":
    typer.run(main)
