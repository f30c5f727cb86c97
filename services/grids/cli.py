"""Grids command line.

``python -m services.grids.cli load-demo --if-empty --size small --seed N`` loads the demo
city: boundaries first through the same import users use (validation included), then
people, workers, places, meters and devices in bulk through the service layer.
``python -m services.grids.cli import FILE`` imports a GeoJSON FeatureCollection (refused
as a whole, every problem listed, on any error); ``export`` writes one.
"""

from __future__ import annotations

import json
import sys
import time

import typer

from services.grids.adapters.crypto import PiiCipher
from services.grids.domain import democity
from services.grids.service_layer.boundaries import (
    count_units,
    export_boundaries,
    import_boundaries,
)
from services.grids.service_layer.demo import load_people
from yiwang.clock import SystemClock
from yiwang.config import Settings
from yiwang.db import make_engine
from yiwang.errors import DomainError
from yiwang.production import checked_keyring
from yiwang.uow import uow_factory

app = typer.Typer(add_completion=False)


@app.command("load-demo")
def load_demo(
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
        city = democity.generate(size, seed, with_people=people)
        fc = city.feature_collection()
        t1 = time.perf_counter()
        now = SystemClock().now()
        result = import_boundaries(factory(), fc, now)
        t2 = time.perf_counter()
        counts: dict[str, int] = {}
        if people:
            counts = load_people(factory(), PiiCipher.from_keyring(checked_keyring(settings)), city, now)
        t3 = time.perf_counter()
        typer.echo(
            f"demo city {city.city_name} ({size}, seed {seed}): {json.dumps(result['counts'])} "
            f"{json.dumps(counts)}; generated in {t1 - t0:.1f} s, boundaries {t2 - t1:.1f} s, "
            f"people {t3 - t2:.1f} s"
        )
    finally:
        engine.dispose()


@app.command("import")
def import_file(path: str) -> None:
    """Import a GeoJSON FeatureCollection file (refused as a whole on any error)."""
    settings = Settings()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with open(path, encoding="utf-8") as fh:
            fc = json.load(fh)
        result = import_boundaries(
            uow_factory(engine, producer="grids", schema="grids")(), fc, SystemClock().now()
        )
        typer.echo(json.dumps(result))
    except DomainError as err:
        typer.echo(json.dumps(err.to_dict(), ensure_ascii=False, indent=1), err=True)
        sys.exit(1)
    finally:
        engine.dispose()


@app.command("export")
def export_file(path: str, prefix: str = "", simplify_m: float = 0.0) -> None:
    """Export active boundaries inside ``prefix`` as a FeatureCollection."""
    settings = Settings()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        fc = export_boundaries(
            uow_factory(engine, producer="grids", schema="grids")(), prefix, simplify_m=simplify_m
        )
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(fc, fh, ensure_ascii=False)
        typer.echo(f"{len(fc['features'])} features → {path}")
    finally:
        engine.dispose()


if __name__ == "__main__":
    app()
