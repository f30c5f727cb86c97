"""Leaders' dashboard API through the gateway with 1,000,000 cases on the city10m grid codes.

``python -m bench.dashboard_bench`` starts the whole system on isolated resources
(``bench.ingest.System``, small demo city for the services), bulk-loads 1,000,000 cases into
``command.case_view`` spread over the ~17,000 grid codes of the ``city10m`` demo (generated
in SQL from an unnest of the code array), and the ``kpi_counters`` that match them for 30
days (five code levels for all departments, per department down to the street), then
VACUUM ANALYZE. It signs in as ``demo_city`` and ``demo_district`` and runs the dashboard's
request mix on load (first page of the jurisdiction's cases, the overdue list, the KPI cards
and the 30-day KPI series). Viewers look at different jurisdictions (``VIEWS``: the city,
four districts, eight streets; 2 in 10 viewers the city, 4 a district, 4 a street), so the
gateway's read cache is not one key. Three runs:

* 1 viewer, back to back: the unloaded cost of each request;
* the dashboard's real pattern: N viewers each load the mix (the four requests at once, as
  the page does) then wait 2–5 s (uniform) for the next refresh, while case changes arrive
  on the live channel (``DASHBOARD_CHANGES_PER_S`` a second, at random grids: they drive the
  cache's change-stream refreshes exactly as real changes would; the data set itself stays
  frozen). Reported: p50/p99 per endpoint and overall, and of the whole page load;
* saturated closed loop: N viewers back to back with no think time. Latency there is
  viewers / throughput (Little's law); it shows capacity, not what a viewer waits.

Every run also counts how each answer was served (``X-Cache``: hit, stale, miss,
coalesced). Baseline in the same run: the same SQL statements the command service issues
for each request (captured from the service layer), replayed bare on one connection of the
same database; the ratio printed is ours / bare at p99.

Goal from the issue: p99 < 30 ms at 200 concurrent viewers.

Env: DASHBOARD_CASES (1000000), DASHBOARD_VIEWERS (200), DASHBOARD_SECONDS (20, each loaded
run), DASHBOARD_BARE_RUNS (200 per query), DASHBOARD_THINK_S ("2,5"),
DASHBOARD_CHANGES_PER_S (2).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
import threading
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import redis.asyncio as aredis
import sqlalchemy as sa

from bench.common import summary_ms, write_result
from bench.ingest import System
from yiwang.clock import SHANGHAI

CASES = int(os.environ.get("DASHBOARD_CASES", "1000000"))
VIEWERS = int(os.environ.get("DASHBOARD_VIEWERS", "200"))
SECONDS = float(os.environ.get("DASHBOARD_SECONDS", "20"))
WARMUP_S = 3.0
BARE_RUNS = int(os.environ.get("DASHBOARD_BARE_RUNS", "200"))
THINK_S = tuple(float(x) for x in os.environ.get("DASHBOARD_THINK_S", "2,5").split(","))
CHANGES_PER_S = float(os.environ.get("DASHBOARD_CHANGES_PER_S", "2"))
ACCOUNTS = ("demo_city", "demo_district")
# (account, jurisdiction viewed, weight in tenths of the viewers): the city, four districts
# (one through the district's own account), eight streets (two of them the district's)
VIEWS = (
    [("demo_city", "3299", 2)]
    + [("demo_district", "329901", 1)]
    + [("demo_city", d, 1) for d in ("329904", "329909", "329903")]
    + [("demo_district", s, 0.5) for s in ("329901001", "329901002")]
    + [
        ("demo_city", s, 0.5)
        for s in ("329904001", "329904002", "329909001", "329909003", "329903001", "329912017")
    ]
)
PASSWORD = "yiwang-demo"
PAGE_SIZE = 50  # the dashboard's case lists (caseList) ask for 50
ENDPOINTS = ("case list", "overdue list", "KPI cards", "KPI series")

SOURCES = "ARRAY['citizen','hotline','patrol','open311','sensor','citizen']"
CATEGORIES = (
    "ARRAY['appearance.litter','roads.pothole','roads.streetlight',"
    "'environment.noise','roads.illegal_parking']"
)
DEPTS = (
    "ARRAY['urban_management','transport','urban_management','ecology_environment',"
    "'public_security']"
)
TITLES = "ARRAY['暴露垃圾','路面破损','路灯不亮','噪声扰民','违章停车']"

# n: the case's index; g: its grid code; t: created_at (spread over the last 29 days);
# status by n % 10: 4 closed, 1 evaluated (rated), 1 handled, 4 open; 1 in 20 overdue
# (open, escalated once to the street), 1 in 97 supervised.
CASES_SQL = f"""
INSERT INTO command.case_view (
    case_id, complete, source, category, title, description, address, grid_code,
    jurisdiction_code, level, sla_class, status, handler, department, accept_due, deadline,
    warn_at, sla_state, next_due_at, escalation_level, escalation_count, overdue, supervised,
    supervision_count, satisfied, rating, accepted_at, dispatched_at, handled_at, closed_at,
    status_at, last_seq, state, kpi, created_at, updated_at)
SELECT md5('dash' || n)::uuid, true, ({SOURCES})[1 + (n / 7) % 6], ({CATEGORIES})[1 + ci],
       ({TITLES})[1 + ci] || ' 第' || n || '号', '基准测试案件 ' || n, g || ' 号楼附近',
       g, g, 'grid', 'standard_3d', st,
       CASE WHEN st <> 'accepted' THEN ({DEPTS})[1 + ci] END, ({DEPTS})[1 + ci],
       t + interval '2 hours',
       CASE WHEN od THEN :now - make_interval(hours => 1 + n % 48)
            WHEN st IN ('closed', 'evaluated', 'handled') THEN t + interval '3 days'
            ELSE :now + make_interval(hours => 1 + n % 72) END,
       CASE WHEN od THEN :now - make_interval(hours => 13 + n % 48)
            ELSE :now + make_interval(hours => 1 + n % 60) END,
       CASE WHEN od THEN 'overdue' ELSE 'on_time' END,
       CASE WHEN st IN ('closed', 'evaluated') OR od THEN NULL
            ELSE :now + make_interval(hours => 1 + n % 60) END,
       CASE WHEN od THEN 'street' END, CASE WHEN od THEN 1 ELSE 0 END, od, n % 97 = 5,
       CASE WHEN n % 97 = 5 THEN 1 ELSE 0 END,
       CASE WHEN st = 'evaluated' THEN n % 5 >= 2 END,
       CASE WHEN st = 'evaluated' THEN 1 + n % 5 END,
       t + CASE WHEN n % 50 = 1 THEN interval '3 hours' ELSE interval '30 minutes' END,
       CASE WHEN st <> 'accepted' THEN t + interval '1 hour' END,
       CASE WHEN st IN ('closed', 'evaluated', 'handled') THEN ct END,
       CASE WHEN st IN ('closed', 'evaluated') THEN ct END,
       CASE WHEN st IN ('closed', 'evaluated', 'handled') THEN ct ELSE t + interval '1 hour' END,
       5000,
       '{{"seen": {{"1000": "case.created", "2000": "case.accepted",
          "3000": "case.dispatched"}}, "stamps": {{}}, "escalations": [], "reworks": [],
          "supervisions": {{}}, "whistles": {{}}}}'::jsonb,
       jsonb_build_object('n', 3, 'grid_code', g, 'accepted', true, 'level', 'grid',
                          'created_at', t),
       t, t
FROM (SELECT n, g, t, ci,
             least(t + make_interval(hours => 2 + n % 40), :now) AS ct,
             CASE WHEN n % 10 < 4 THEN 'closed' WHEN n % 10 = 4 THEN 'evaluated'
                  WHEN n % 10 = 5 THEN 'handled' WHEN n % 10 IN (6, 7) THEN 'dispatched'
                  WHEN n % 10 = 8 THEN 'in_progress' ELSE 'accepted' END AS st,
             n % 20 = 7 AS od
      FROM (SELECT (k * :ncodes + gi - 1)::int AS n, g,
                   :now - make_interval(secs => ((k * :ncodes + gi - 1) * 7919) % 2505600) AS t,
                   ((k * :ncodes + gi - 1) / 3) % 5 AS ci
            FROM unnest(CAST(:codes AS text[])) WITH ORDINALITY AS c(g, gi),
                 generate_series(0, :per - 1) AS k) s0
      WHERE n < :n) s
"""

# Counters per (grid, department, local day) from the loaded cases, then rolled up.
GRID_DAY_SQL = """
CREATE TEMP TABLE dash_gd AS
SELECT jurisdiction_code AS code, department AS dept,
       (created_at AT TIME ZONE 'Asia/Shanghai')::date AS day,
       count(*) AS created,
       count(*) FILTER (WHERE accepted_at IS NOT NULL) AS accepted,
       count(*) FILTER (WHERE accepted_at <= accept_due) AS accepted_on_time,
       count(*) FILTER (WHERE closed_at IS NOT NULL) AS resolved,
       count(*) FILTER (WHERE closed_at <= deadline) AS resolved_on_time,
       coalesce(sum(extract(epoch FROM closed_at - created_at)::bigint), 0) AS handling_seconds,
       count(*) FILTER (WHERE overdue) AS overdue,
       count(*) FILTER (WHERE rating IS NOT NULL) AS rated,
       count(*) FILTER (WHERE satisfied) AS satisfied,
       count(*) FILTER (WHERE satisfied IS FALSE) AS rework,
       count(*) FILTER (WHERE escalation_count > 0) AS escalated
FROM command.case_view GROUP BY 1, 2, 3
"""
# all departments: city, district, street, community, grid; per department: down to the street
ROLLUP_SQL = """
INSERT INTO command.kpi_counters (code, department, day, metric, value)
SELECT c, d, day, m, v
FROM (SELECT left(code, l) AS c, dd AS d, day, sum(created) AS created,
             sum(accepted) AS accepted, sum(accepted_on_time) AS accepted_on_time,
             sum(resolved) AS resolved, sum(resolved_on_time) AS resolved_on_time,
             sum(handling_seconds) AS handling_seconds, sum(overdue) AS overdue,
             sum(rated) AS rated, sum(satisfied) AS satisfied, sum(rework) AS rework,
             sum(escalated) AS escalated
      FROM dash_gd, unnest(ARRAY[4, 6, 9, 12, 15]) AS l, unnest(ARRAY['*', dept]) AS dd
      WHERE dd = '*' OR l <= 9
      GROUP BY 1, 2, 3) r,
     LATERAL (VALUES ('created', created), ('accepted', accepted),
                     ('accepted_on_time', accepted_on_time), ('resolved', resolved),
                     ('resolved_on_time', resolved_on_time),
                     ('handling_seconds', handling_seconds), ('overdue', overdue),
                     ('rated', rated), ('satisfied', satisfied), ('rework', rework),
                     ('escalated:street', escalated)) AS mv(m, v)
WHERE v > 0
"""
# by source and by category (the decision tab's pies), city to street
BREAKDOWN_SQL = """
INSERT INTO command.kpi_counters (code, department, day, metric, value)
SELECT left(s.code, l), dd, s.day, s.m, sum(s.v)
FROM (SELECT left(jurisdiction_code, 9) AS code, department AS dept,
             (created_at AT TIME ZONE 'Asia/Shanghai')::date AS day, x.m, count(*) AS v
      FROM command.case_view,
           LATERAL (VALUES ('source:' || source), ('category:' || category)) AS x(m)
      GROUP BY 1, 2, 3, 4) s,
     unnest(ARRAY[4, 6, 9]) AS l, unnest(ARRAY['*', s.dept]) AS dd
GROUP BY 1, 2, 3, 4
"""


def grid_codes() -> list[str]:
    from demo import city as democity

    return list(democity.generate("city10m", 20261123, with_people=False).grid_codes)


def load(url: str, codes: list[str], n: int, now: datetime) -> dict[str, Any]:
    """Bulk-load ``n`` cases over ``codes`` and their KPI counters; secondary indexes of
    case_view are dropped first and rebuilt after (two at a time), then VACUUM ANALYZE."""
    engine = sa.create_engine(url, pool_size=3)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    with engine.connect() as c:
        indexes = c.execute(
            sa.text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'command' "
                "AND i.tablename = 'case_view' AND i.indexname NOT IN ("
                " SELECT conname FROM pg_constraint WHERE conrelid = 'command.case_view'::regclass)"
            )
        ).all()
    with engine.begin() as c:
        c.execute(sa.text("SET LOCAL synchronous_commit = off"))
        for name, _ in indexes:
            c.execute(sa.text(f'DROP INDEX command."{name}"'))
        per = -(-n // len(codes))
        c.execute(
            sa.text(CASES_SQL),
            {"codes": codes, "ncodes": len(codes), "per": per, "n": n, "now": now},
        )
    timings["cases_s"] = time.perf_counter() - t0

    t = time.perf_counter()
    errors: list[BaseException] = []

    def build(defs: list[str]) -> None:
        try:
            with engine.begin() as c2:
                c2.execute(sa.text("SET maintenance_work_mem = '256MB'"))
                for d in defs:
                    c2.execute(sa.text(d))
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    defs = [d for _, d in indexes]
    gin = [d for d in defs if "gin" in d.lower()]
    rest = [d for d in defs if d not in gin]
    threads = [threading.Thread(target=build, args=(part,)) for part in (gin, rest) if part]
    for th in threads:
        th.start()
    # KPI counters meanwhile, on a third connection (reads the table the indexes are built on)
    with engine.begin() as c:
        c.execute(sa.text("SET LOCAL synchronous_commit = off"))
        c.execute(sa.text("SET LOCAL work_mem = '256MB'"))
        c.execute(sa.text(GRID_DAY_SQL))
        c.execute(sa.text(ROLLUP_SQL))
        c.execute(sa.text(BREAKDOWN_SQL))
        kpi_rows = int(c.execute(sa.text("SELECT count(*) FROM command.kpi_counters")).scalar_one())
    timings["kpi_counters_s"] = time.perf_counter() - t
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    timings["indexes_s"] = time.perf_counter() - t
    t = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text("VACUUM ANALYZE command.case_view"))
        c.execute(sa.text("VACUUM ANALYZE command.kpi_counters"))
        size = c.execute(
            sa.text("SELECT pg_size_pretty(pg_total_relation_size('command.case_view'))")
        ).scalar_one()
    engine.dispose()
    timings["vacuum_s"] = time.perf_counter() - t
    return {
        "cases": n,
        "grids": len(codes),
        "kpi_rows": kpi_rows,
        "case_view_size": size,
        "seconds": round(time.perf_counter() - t0, 1),
        **{k: round(v, 1) for k, v in timings.items()},
    }


# -- the dashboard's request mix ------------------------------------------------------------
def day_range(today: date) -> tuple[date, date]:
    return today - timedelta(days=29), today  # the dashboard's range(30)


def mix(code: str, today: date) -> list[tuple[str, str, dict[str, Any]]]:
    a, b = day_range(today)
    days = {"jurisdiction": code, "day_from": a.isoformat(), "day_to": b.isoformat()}
    return [
        ("case list", "/api/v1/command/cases", {"jurisdiction": code, "page_size": PAGE_SIZE}),
        (
            "overdue list",
            "/api/v1/command/cases",
            {"jurisdiction": code, "overdue": "true", "page_size": PAGE_SIZE},
        ),
        ("KPI cards", "/api/v1/command/kpis", days),
        ("KPI series", "/api/v1/command/kpis/series", days),
    ]


async def sign_in(base: str) -> list[tuple[str, str, str]]:
    """(username, token, jurisdiction code) per account."""
    out = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        for user in ACCOUNTS:
            r = await c.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD})
            r.raise_for_status()
            token = r.json()["access_token"]
            me = await c.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
            me.raise_for_status()
            out.append((user, token, me.json()["jurisdiction_code"]))
    return out


async def viewers(
    base: str,
    tokens: dict[str, str],
    n: int,
    seconds: float,
    today: date,
    think: tuple[float, float] | None = None,
    live: tuple[str, str, list[str]] | None = None,
) -> dict[str, Any]:
    """``n`` viewers over the mix: back to back (``think`` None, closed loop) or each loading
    the whole mix at once and then waiting ``think`` seconds (uniform). ``live`` =
    (redis url, channel, grid codes): case changes are published there meanwhile.
    Latencies of requests started after the warm-up and before the end."""
    lat: dict[str, list[float]] = defaultdict(list)
    pages: list[float] = []
    errors: dict[str, int] = defaultdict(int)
    served: dict[str, int] = defaultdict(int)
    by_served: dict[str, list[float]] = defaultdict(list)  # where the tail comes from
    slots = [(user, code) for user, code, w in VIEWS for _ in range(int(w * 2))]
    rng = random.Random(20261123 + n)
    # one small client per viewer, as each browser has its own connections: one shared
    # httpx pool of hundreds of connections costs the load generator more than the gateway
    limits = httpx.Limits(max_connections=len(ENDPOINTS), max_keepalive_connections=len(ENDPOINTS))
    loop = asyncio.get_running_loop()
    start = loop.time() + max(WARMUP_S, think[1] if think else 0.0)
    end = start + seconds
    changes = 0
    cpu0 = time.process_time()

    async def one(
        client: httpx.AsyncClient,
        name: str,
        path: str,
        params: dict[str, Any],
        headers: dict[str, str],
    ) -> None:
        t0 = loop.time()
        try:
            try:
                r = await client.get(path, params=params, headers=headers)
            except httpx.TransportError:  # a reset: a browser retries an idempotent GET once
                errors[f"{name}: reset retried"] += 1
                r = await client.get(path, params=params, headers=headers)
            ok = r.status_code == 200
            key = str(r.status_code)
        except httpx.HTTPError as exc:
            ok, key = False, type(exc).__name__
        if t0 >= start:
            if ok:
                lat[name].append(loop.time() - t0)
                how = r.headers.get("x-cache", "uncached")
                served[how] += 1
                by_served[how].append(loop.time() - t0)
            else:
                errors[f"{name}: {key}"] += 1

    async def viewer(i: int) -> None:
        user, code = slots[i % len(slots)]
        headers = {"Authorization": f"Bearer {tokens[user]}"}
        reqs = mix(code, today)
        async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
            if think is None:  # closed loop: the next request as soon as one answers
                j = i
                while loop.time() < end:
                    await one(client, *reqs[j % len(reqs)], headers)
                    j += 1
                return
            await asyncio.sleep(rng.uniform(0, think[1]))  # viewers arrive spread out
            while loop.time() < end:
                t0 = loop.time()
                await asyncio.gather(*(one(client, *rq, headers) for rq in reqs))
                if t0 >= start:
                    pages.append(loop.time() - t0)
                await asyncio.sleep(rng.uniform(*think))

    async def publish_changes() -> None:
        nonlocal changes
        assert live is not None
        url, channel, codes = live
        r = aredis.Redis.from_url(url)
        try:
            while loop.time() < end:
                await r.publish(
                    channel,
                    json.dumps(
                        {
                            "kind": "case",
                            "case_id": f"bench-change-{changes}",
                            "jurisdiction_code": rng.choice(codes),
                            "status": "dispatched",
                            "overdue": False,
                            "supervised": False,
                        }
                    ),
                )
                changes += 1
                await asyncio.sleep(rng.expovariate(CHANGES_PER_S))
        finally:
            await r.aclose()

    extra = [publish_changes()] if live is not None and CHANGES_PER_S > 0 else []
    await asyncio.gather(*(viewer(i) for i in range(n)), *extra)
    cpu = time.process_time() - cpu0
    total = sum(len(v) for v in lat.values())
    return {
        "viewers": n,
        "seconds": seconds,
        "think_s": think,
        "requests": total,
        "generator_cpu_s": round(cpu, 1),
        "wall_s": round(loop.time() - start + WARMUP_S, 1),
        "rate_per_s": round(total / seconds, 1),
        "errors": dict(errors),
        "served": dict(served),
        "changes_published": changes,
        "by_served": {k: summary_ms(v) for k, v in by_served.items()},
        "endpoints": {k: summary_ms(lat[k]) for k in ENDPOINTS},
        "overall": summary_ms([x for v in lat.values() for x in v]),
        "page": summary_ms(pages) if pages else None,
    }


# -- bare SQL: the statements the service layer issues, replayed on one connection ----------
def bare_sql(url: str, views: list[str], today: date) -> dict[str, Any]:
    """The jurisdictions the viewers look at, each query ``runs`` times (after 5 warm-ups)."""
    runs = max(20, BARE_RUNS // 4)
    from services.command.service_layer import kpis, view
    from yiwang.contracts.command import ListCasesRequest
    from yiwang.db import make_engine
    from yiwang.uow import uow_factory

    engine = make_engine(url, pool_size=1)
    factory = uow_factory(engine, producer="command", schema="command")
    a, b = day_range(today)
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        captured.append((statement, params))

    def statements(fn: Any) -> list[tuple[str, Any]]:
        captured.clear()
        sa.event.listen(engine, "before_cursor_execute", capture)
        try:
            fn()
        finally:
            sa.event.remove(engine, "before_cursor_execute", capture)
        return list(captured)

    lat: dict[str, list[float]] = defaultdict(list)
    per_view: dict[str, dict[str, Any]] = {}
    raw = engine.raw_connection()
    try:
        raw.autocommit = True  # type: ignore[attr-defined]
        cur = raw.cursor()
        for code in views:
            calls = {
                "case list": lambda c=code: view.list_cases(
                    factory(), ListCasesRequest(jurisdiction_prefix=c, page_size=PAGE_SIZE)
                ),
                "overdue list": lambda c=code: view.list_cases(
                    factory(),
                    ListCasesRequest(jurisdiction_prefix=c, overdue=True, page_size=PAGE_SIZE),
                ),
                "KPI cards": lambda c=code: kpis.kpis(factory(), c, "*", a, b),
                "KPI series": lambda c=code: kpis.kpi_series(factory(), c, "*", a, b),
            }
            for name, fn in calls.items():
                stmts = statements(fn)
                mine = []
                for i in range(5 + runs):
                    t0 = time.perf_counter()
                    for sql, params in stmts:
                        cur.execute(sql, params)
                        if cur.description is not None:
                            cur.fetchall()
                    if i >= 5:
                        mine.append(time.perf_counter() - t0)
                lat[name].extend(mine)
                per_view.setdefault(code, {})[name] = {"statements": len(stmts), **summary_ms(mine)}
        cur.close()
    finally:
        raw.close()
        engine.dispose()
    return {
        "runs": runs,
        "endpoints": {k: summary_ms(lat[k]) for k in ENDPOINTS},
        "overall": summary_ms([x for v in lat.values() for x in v]),
        "per_view": per_view,
    }


def _ratio(ours: float, bare: float) -> str:
    return f"{ours / bare:.1f}" if bare else "n/a"


def _line(label: str, run: dict[str, Any], bare: dict[str, Any] | None) -> None:
    for name in ENDPOINTS:
        s = run["endpoints"][name]
        extra = ""
        if bare is not None:
            b = bare["endpoints"][name]
            extra = (
                f" (bare SQL p50 {b['p50_ms']} ms p99 {b['p99_ms']} ms, "
                f"ratio {_ratio(s['p99_ms'], b['p99_ms'])})"
            )
        print(f"dashboard: {label}, {name} p50 {s['p50_ms']} ms p99 {s['p99_ms']} ms{extra}")
    o = run["overall"]
    extra = ""
    if bare is not None:
        extra = (
            f" (bare SQL p50 {bare['overall']['p50_ms']} ms "
            f"p99 {bare['overall']['p99_ms']} ms, ratio "
            f"{_ratio(o['p99_ms'], bare['overall']['p99_ms'])})"
        )
    page = run.get("page")
    if page:
        extra += (
            f"; whole page (4 requests at once) p50 {page['p50_ms']} ms p99 {page['p99_ms']} ms"
        )
    print(
        f"dashboard: {label}, overall p50 {o['p50_ms']} ms p99 {o['p99_ms']} ms{extra}, "
        f"{run['rate_per_s']:,.0f} requests/s ({run['requests']} in {run['seconds']:.0f} s, "
        f"errors {run['errors'] or 'none'}); served {run['served']}; load generator "
        f"{run['generator_cpu_s']} CPU s"
        + (
            f"; {run['changes_published']} case changes on the live channel meanwhile"
            if run.get("changes_published")
            else ""
        )
    )
    tail = "; ".join(
        f"{k} p50 {v['p50_ms']} ms p99 {v['p99_ms']} ms"
        for k, v in sorted(run.get("by_served", {}).items())
    )
    print(f"dashboard: {label}, latency by how the gateway served it: {tail}")


def main() -> int:
    # SIGTERM (make, CI, a user) must still run the finally block that stops the system
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t_all = time.perf_counter()
    system: System | None = None
    try:
        system = System("dashboard")
        from yiwang.migrate import upgrade

        upgrade(system.res.database_url)
        codes = grid_codes()
        now = datetime.now(SHANGHAI)
        today = now.date()
        loaded = load(system.res.database_url, codes, CASES, now)
        print(
            f"dashboard: loaded {loaded['cases']:,} cases over {loaded['grids']:,} city10m "
            f"grids ({loaded['case_view_size']}) and {loaded['kpi_rows']:,} KPI counter rows "
            f"(30 days) in {loaded['seconds']} s (cases {loaded['cases_s']} s, KPI counters "
            f"{loaded['kpi_counters_s']} s beside the index rebuild, both done at "
            f"{loaded['indexes_s']} s, vacuum analyze {loaded['vacuum_s']} s)"
        )
        # a frozen data set: no SLA sweep / early-warning runs during the measurement
        system.start({"YIWANG_COMMAND_SWEEP_INTERVAL_S": "100000000"})
        accounts = asyncio.run(sign_in(system.base))
        tokens = {u: t for u, t, _ in accounts}
        jur = {u: c for u, _, c in accounts}
        live = (system.res.redis_url, f"{system.res.redis_prefix}live", codes)
        one = asyncio.run(viewers(system.base, tokens, 1, min(5.0, SECONDS), today))
        real = asyncio.run(
            viewers(
                system.base,
                tokens,
                VIEWERS,
                SECONDS,
                today,
                think=(THINK_S[0], THINK_S[1]),
                live=live,
            )
        )
        run = asyncio.run(viewers(system.base, tokens, VIEWERS, SECONDS, today))
        views = sorted({code for _, code, _ in VIEWS}, key=lambda c: (len(c), c))
        bare = bare_sql(system.res.database_url, views, today)
        print(
            f"dashboard: accounts {jur}; viewers look at {len(views)} jurisdictions "
            f"({', '.join(views)}); mix per viewer: {', '.join(ENDPOINTS)} (page size "
            f"{PAGE_SIZE}, KPIs over 30 days); bare SQL = the service layer's statements "
            f"replayed on one connection, {bare['runs']} runs per query and jurisdiction"
        )
        _line("1 viewer, back to back", one, None)
        _line(
            f"{VIEWERS} viewers, dashboard pattern (load the mix, think "
            f"{THINK_S[0]:g}–{THINK_S[1]:g} s)",
            real,
            bare,
        )
        _line(f"{VIEWERS} viewers, saturated closed loop (no think time)", run, bare)
        little = VIEWERS / run["rate_per_s"] * 1000 if run["rate_per_s"] else float("nan")
        print(
            f"dashboard: saturated closed loop: mean latency ≈ viewers / throughput = "
            f"{little:.0f} ms (Little's law); p99 < 30 ms there would need "
            f"> {VIEWERS / 0.030:,.0f} requests/s"
        )
        path = write_result(
            "dashboard",
            {
                "load": loaded,
                "accounts": jur,
                "views": VIEWS,
                "page_size": PAGE_SIZE,
                "one_viewer": one,
                "dashboard_pattern": real,
                "saturated": run,
                "bare_sql": bare,
                "goal_p99_ms": 30,
                "p99_within_goal": bool(real["overall"]["p99_ms"] < 30),
                "total_seconds": round(time.perf_counter() - t_all, 1),
            },
        )
        print(f"results: {os.path.relpath(path)}")
    finally:
        if system is not None:
            system.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
