"""Grids command line: ``python -m services.grids.cli load-demo --size small``.

The demo city goes through the same boundary import users use (validation included).
"""

from __future__ import annotations

import json
import time

import typer

from services.grids.domain import democity
from services.grids.service_layer.boundaries import count_units, import_boundaries
from yiwang.clock import SystemClock
from yiwang.config import Settings
from yiwang.db import make_engine
from yiwang.uow import uow_factory

app = typer.Typer(add_completion=False)


@app.command("load-demo")
def load_demo(size: str = "small", seed: int = 20261123, if_empty: bool = False) -> None:
    """Generate the deterministic demo city and import it."""
    settings = Settings()
    engine = make_engine(settings.database_url, pool_size=1)
    factory = uow_factory(engine, producer="grids", schema="grids")
    if if_empty and count_units(factory()) > 0:
        typer.echo("demo city already loaded")
        return
    t0 = time.perf_counter()
    city = democity.generate(size, seed, with_people=False)
    fc = city.feature_collection()
    t1 = time.perf_counter()
    counts = import_boundaries(factory(), fc, SystemClock().now())
    t2 = time.perf_counter()
    typer.echo(f"demo city {city.city_name} ({size}, seed {seed}): {json.dumps(counts)}; "
               f"generated in {t1 - t0:.1f} s, imported in {t2 - t1:.1f} s")
    engine.dispose()


@app.command("import")
def import_file(path: str) -> None:
    """Import a GeoJSON FeatureCollection file (refused as a whole on any error)."""
    settings = Settings()
    engine = make_engine(settings.database_url, pool_size=1)
    with open(path, encoding="utf-8") as fh:
        fc = json.load(fh)
    counts = import_boundaries(uow_factory(engine, producer="grids", schema="grids")(), fc,
                               SystemClock().now())
    typer.echo(json.dumps(counts))


if __name__ == "__main__":
    app()
