"""Grids command line.

``python -m services.grids.cli import FILE`` imports a GeoJSON FeatureCollection (refused
as a whole, every problem listed, on any error); ``export`` writes one.
"""

from __future__ import annotations

import json
import sys

import typer

from services.grids.service_layer.boundaries import export_boundaries, import_boundaries
from yiwang.clock import SystemClock
from yiwang.config import Settings
from yiwang.db import make_engine
from yiwang.errors import DomainError
from yiwang.uow import uow_factory

app = typer.Typer(add_completion=False)


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
