"""Grids benchmark on the ``city10m`` demo city (≈17,000 Voronoi grid polygons).

    .venv/bin/python -m bench.grids_bench [--points 50000] [--rounds 5] [--no-import]

Figures, one line each, our numbers as ratios to a bare shapely STRtree over the same
polygons measured in the same run (best of ``--rounds``, interleaved):
- in-process single locate (``GridIndex.locate``) vs bare ``STRtree.query(point)``;
- in-process batched locate (``GridIndex.locate_many``) vs bare vectorised ``query``;
- ``GridMap.locate`` (grid + chain with names + workers), single, for reference;
- time to import the city10m boundaries (full validation, one transaction) into a fresh
  scratch database, and the time to build the in-memory map from it.
RPC latency of ``locate`` / ``locate_many`` (10,000 points) is measured by the system bench
against the running service (RPC ``grids.locate_many``).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import uuid
from typing import Any

import numpy as np
import shapely

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import write_result  # noqa: E402
from demo import city as democity  # noqa: E402
from services.grids.domain.locate import GridIndex  # noqa: E402
from services.grids.service_layer.boundaries import GridMap, import_boundaries  # noqa: E402
from yiwang.clock import SystemClock  # noqa: E402
from yiwang.db import drop_database, ensure_database, make_engine  # noqa: E402
from yiwang.migrate import upgrade  # noqa: E402
from yiwang.uow import uow_factory  # noqa: E402

PG = os.environ.get("YIWANG_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432")


def _best(fn: Any, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def locate_figures(city: democity.DemoCity, n_points: int, rounds: int) -> dict[str, Any]:
    grids = {c: city.geometries[c] for c in city.grid_codes}
    index = GridIndex(grids)
    codes = sorted(grids)
    bare = shapely.STRtree(np.array([grids[c] for c in codes], dtype=object))
    minx, miny, maxx, maxy = city.geometries[city.city_code].bounds
    rng = np.random.default_rng(7)
    lons = rng.uniform(minx, maxx, n_points)
    lats = rng.uniform(miny, maxy, n_points)
    pts = shapely.points(lons, lats)
    single_n = min(n_points, 20_000)
    lat_l, lon_l = lats[:single_n].tolist(), lons[:single_n].tolist()

    def bare_single() -> None:
        q = bare.query
        for i in range(single_n):
            hits = q(shapely.Point(lon_l[i], lat_l[i]), "intersects")
            _ = codes[hits[0]] if len(hits) else None

    def ours_single() -> None:
        loc = index.locate
        for i in range(single_n):
            loc(lat_l[i], lon_l[i])

    def bare_batch() -> None:
        p, g = bare.query(pts, "intersects")
        out = np.full(n_points, -1)
        out[p] = g
        _ = [codes[i] if i >= 0 else None for i in out.tolist()]

    def ours_batch() -> None:
        index.locate_many(lats, lons)

    # agreement first (points on shared edges may pick a different neighbour in bare)
    ours = index.locate_many(lats, lons)
    p, g = bare.query(pts, "intersects")
    bare_any: dict[int, set[str]] = {}
    for a, b in zip(p.tolist(), g.tolist(), strict=True):
        bare_any.setdefault(a, set()).add(codes[b])
    agree = all(
        (o is None and i not in bare_any) or (o in bare_any.get(i, ())) for i, o in enumerate(ours)
    )
    t_bs = t_os = t_bb = t_ob = float("inf")
    for _ in range(rounds):  # interleaved, best of
        t_bs = min(t_bs, _best(bare_single, 1))
        t_os = min(t_os, _best(ours_single, 1))
        t_bb = min(t_bb, _best(bare_batch, 1))
        t_ob = min(t_ob, _best(ours_batch, 1))
    return {
        "grids": len(codes),
        "points": n_points,
        "single_points": single_n,
        "agree": agree,
        "inside_share": round(1 - ours.count(None) / n_points, 3),
        "bare_single_per_s": single_n / t_bs,
        "ours_single_per_s": single_n / t_os,
        "single_ratio": t_bs / t_os,
        "bare_batch_per_s": n_points / t_bb,
        "ours_batch_per_s": n_points / t_ob,
        "batch_ratio": t_bb / t_ob,
    }


def import_figures(city: democity.DemoCity) -> dict[str, Any]:
    url = f"{PG}/yiwang_bench_grids_{uuid.uuid4().hex[:8]}"
    ensure_database(url)
    try:
        upgrade(url, ["grids"])
        engine = make_engine(url, pool_size=2)
        factory = uow_factory(engine, producer="grids", schema="grids")
        fc = city.feature_collection()
        t = time.perf_counter()
        counts = import_boundaries(factory(), fc, SystemClock().now())
        t_import = time.perf_counter() - t
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t = time.perf_counter()
        gmap = GridMap.load(factory(), factory())
        t_load = time.perf_counter() - t
        p = city.geometries[city.grid_codes[0]].representative_point()
        n = 20_000
        t = time.perf_counter()
        for _ in range(n):
            gmap.locate(p.y, p.x)
        t_full = time.perf_counter() - t
        engine.dispose()
        return {
            "features": len(fc["features"]),
            "counts": counts["counts"],
            "import_s": t_import,
            "map_load_s": t_load,
            "gridmap_locate_per_s": n / t_full,
            "maxrss_mb": max(rss0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024,
        }
    finally:
        drop_database(url)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="city10m")
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--points", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-import", action="store_true")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    city = democity.generate(args.size, args.seed, with_people=False)
    t_gen = time.perf_counter() - t
    print(
        f"grids: {args.size} generated in {t_gen:.1f} s "
        f"({len(city.grid_codes):,} grids, {len(city.geometries):,} boundaries)"
    )
    loc = locate_figures(city, args.points, args.rounds)
    print(
        f"grids: locate single in process {loc['ours_single_per_s']:,.0f}/s, ratio "
        f"{loc['single_ratio']:.2f} to bare STRtree ({loc['bare_single_per_s']:,.0f}/s) "
        f"[{loc['single_points']:,} points, {loc['grids']:,} polygons]"
    )
    print(
        f"grids: locate batched in process {loc['ours_batch_per_s']:,.0f}/s, ratio "
        f"{loc['batch_ratio']:.2f} to bare vectorised STRtree ({loc['bare_batch_per_s']:,.0f}/s)"
        f" [{loc['points']:,} points, {loc['inside_share']:.0%} inside, "
        f"answers agree: {loc['agree']}]"
    )
    result: dict[str, Any] = {
        "size": args.size,
        "seed": args.seed,
        "generate_s": t_gen,
        "locate": loc,
    }
    if not args.no_import:
        imp = import_figures(city)
        result["import"] = imp
        print(
            f"grids: import {args.size} boundaries {imp['import_s']:.1f} s "
            f"({imp['features']:,} features, validated, one transaction, fresh database)"
        )
        print(
            f"grids: map load from store {imp['map_load_s']:.1f} s; GridMap.locate with "
            f"chain+workers {imp['gridmap_locate_per_s']:,.0f}/s; bench process max RSS "
            f"{imp['maxrss_mb']:.0f} MB"
        )
    path = write_result("grids", result)
    print(f"grids: results {os.path.relpath(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
