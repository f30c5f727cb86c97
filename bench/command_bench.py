"""Command service benchmarks, each beside its bare-SQL baseline from the same run.

``python -m bench.command_bench`` (own database ``yiwang_bench_command``, rebuilt each run):

1. escalation sweep over 1,000,000 open cases with 1 % due (events, outbox, audit chain and
   KPI counters included) vs a bare indexed ``UPDATE`` of those rows;
2. dispatch-view page query p99 (service layer ``list_cases``) for a street and a district
   vs the bare indexed page ``SELECT``;
3. KPI query p99 (``kpis``) for a district and the city vs a bare ``GROUP BY`` over the cases.

Prints one line per figure.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from services.command.service_layer import kpis, sla, view
from yiwang.clock import SHANGHAI
from yiwang.contracts.command import ListCasesRequest
from yiwang.db import drop_database, ensure_database, make_engine
from yiwang.migrate import upgrade
from yiwang.uow import uow_factory

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=SHANGHAI)
GRID = (
    "'3299' || lpad((1 + n % 10)::text, 2, '0') || lpad((1 + (n / 10) % 10)::text, 3, '0')"
    " || lpad((1 + (n / 100) % 10)::text, 3, '0') || lpad((1 + (n / 1000) % 15)::text, 3, '0')"
)


def load(engine: sa.Engine, n: int, due_share: float) -> None:
    every = int(round(1 / due_share))
    trgm = ("ix_case_view_title_trgm", "ix_case_view_description_trgm")
    with engine.begin() as c:
        c.execute(sa.text("SET synchronous_commit = off"))
        c.execute(sa.text("SET maintenance_work_mem = '512MB'"))
        for ix in trgm:  # bulk load first, index after
            c.execute(sa.text(f"DROP INDEX command.{ix}"))
        c.execute(sa.text(f"""
            INSERT INTO command.case_view (
                case_id, complete, source, category, title, grid_code, jurisdiction_code, level,
                sla_class, status, handler, department, accept_due, deadline, warn_at, sla_state,
                next_due_at, last_seq, state, kpi, created_at, updated_at, status_at)
            SELECT md5('case' || n)::uuid, true, 'citizen', 'appearance.litter',
                   '垃圾堆积 第' || n || '号', g, g, 'grid', 'standard_3d', 'dispatched',
                   'urban_management', 'urban_management', t, d, w,
                   CASE WHEN n % {every} = 0 THEN 'warning' ELSE 'on_time' END,
                   CASE WHEN n % {every} = 0 THEN d ELSE w END,
                   3000,
                   '{{"seen": {{"1000": "case.created", "2000": "case.accepted",
                      "3000": "case.dispatched"}}, "stamps": {{}}, "escalations": [],
                      "reworks": [], "supervisions": {{}}, "whistles": {{}}}}'::jsonb,
                   jsonb_build_object('n', 3, 'pos', 3000, 'grid_code', g, 'handler',
                                      'urban_management', 'accepted', true, 'sla_class',
                                      'standard_3d', 'level', 'grid', 'escalated', false,
                                      'due', d, 'created_at', t),
                   t, t, t
            FROM (SELECT n, {GRID} AS g,
                         :now - make_interval(mins => (n % 43200)) AS t,
                         CASE WHEN n % {every} = 0 THEN :now - make_interval(mins => 1 + n % 600)
                              ELSE :now + make_interval(mins => 60 + n % 7200) END AS d,
                         CASE WHEN n % {every} = 0 THEN :now - make_interval(mins => 700)
                              ELSE :now + make_interval(mins => 30 + n % 7000) END AS w
                  FROM generate_series(1, :n) AS n) s
        """), {"n": n, "now": NOW})  # fmt: skip
        # KPI counters: 30 days x every code of the ladder x all/department x 12 metrics
        c.execute(sa.text(f"""
            INSERT INTO command.kpi_counters (code, department, day, metric, value)
            SELECT code, dept, day, metric, (abs(hashtext(code || day || metric)) % 50) + 1
            FROM (SELECT DISTINCT left(g, len) AS code
                  FROM (SELECT {GRID} AS g FROM generate_series(0, 14999) n) x,
                       unnest(ARRAY[4, 6, 9]) len) codes,
                 unnest(ARRAY['*', 'urban_management']) dept,
                 (SELECT CAST(:d0 AS date) + i AS day FROM generate_series(0, 29) i) days,
                 unnest(ARRAY['created', 'accepted', 'accepted_on_time', 'resolved',
                              'resolved_on_time', 'handling_seconds', 'overdue', 'rated',
                              'satisfied', 'rework', 'source:citizen', 'category:x']) metric
        """), {"d0": NOW.date() - timedelta(days=29)})  # fmt: skip
        c.execute(
            sa.text(
                "CREATE INDEX ix_case_view_title_trgm ON command.case_view "
                "USING gin (title gin_trgm_ops)"
            )
        )
        c.execute(
            sa.text(
                "CREATE INDEX ix_case_view_description_trgm ON command.case_view "
                "USING gin (description gin_trgm_ops)"
            )
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text("VACUUM ANALYZE command.case_view"))
        c.execute(sa.text("VACUUM ANALYZE command.kpi_counters"))


def p99(fn: Callable[[], Any], runs: int) -> float:
    for _ in range(5):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return times[min(len(times) - 1, int(len(times) * 0.99))]


def main(argv: list[str] | None = None) -> int:
    from yiwang.config import Settings

    p = argparse.ArgumentParser(description="command benchmarks")
    p.add_argument("--cases", type=int, default=1_000_000)
    p.add_argument("--due", type=float, default=0.01)
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = p.parse_args(argv)
    url = Settings().database_url.rsplit("/", 1)[0] + "/yiwang_bench_command"
    drop_database(url)
    ensure_database(url)
    upgrade(url)
    engine = make_engine(url, pool_size=4)
    factory = uow_factory(engine, producer="command", schema="command")
    t = time.perf_counter()
    load(engine, args.cases, args.due)
    print(f"load: {args.cases} open cases, {args.due:.0%} due: {time.perf_counter() - t:.1f} s")
    due = int(args.cases * args.due)

    # 1. sweep vs bare UPDATE (rolled back, so the sweep sees the same rows)
    with engine.connect() as c:
        tx = c.begin()
        t = time.perf_counter()
        n = c.execute(sa.text(
            "UPDATE command.case_view SET sla_state = 'overdue', next_due_at = NULL "
            "WHERE next_due_at <= :now"), {"now": NOW}).rowcount  # fmt: skip
        bare = (time.perf_counter() - t) * 1000
        tx.rollback()
    t = time.perf_counter()
    res = sla.sweep(factory(), NOW)
    swept = (time.perf_counter() - t) * 1000
    assert res["rows"] == n == due, (res, n, due)
    print(f"sweep: {res['escalated']} escalations of {due} due among {args.cases} open cases "
          f"(events, outbox, audit, KPIs): {swept:.0f} ms "
          f"| bare indexed UPDATE {n} rows: {bare:.1f} ms | ratio {swept / bare:.1f}x")  # fmt: skip
    t = time.perf_counter()
    res2 = sla.sweep(factory(), NOW)
    print(
        f"sweep with nothing due: {(time.perf_counter() - t) * 1000:.2f} ms (rows {res2['rows']})"
    )

    # 2. list_cases page p99 vs bare page SELECT
    for label, prefix in (("street", "329901001"), ("district", "329901")):
        req = ListCasesRequest(jurisdiction_prefix=prefix, status="dispatched", page_size=20)
        lat = p99(lambda r=req: view.list_cases(factory(), r), args.runs)  # type: ignore[misc]
        with engine.connect() as c:

            def bare_q(pfx: str = prefix) -> None:
                c.execute(sa.text(
                    "SELECT * FROM command.case_view WHERE jurisdiction_code LIKE :p "
                    "AND status = 'dispatched' AND complete ORDER BY created_at DESC, case_id "
                    "LIMIT 20"), {"p": pfx + "%"}).all()  # fmt: skip

            base = p99(bare_q, args.runs)
        print(f"list_cases page p99 ({label} {prefix}, with total): {lat:.2f} ms "
              f"| bare indexed page SELECT p99: {base:.2f} ms")  # fmt: skip

    # 3. KPI p99 vs bare GROUP BY over the cases
    d1 = NOW.date()
    d0 = d1 - timedelta(days=29)
    for label, code in (("district", "329901"), ("city", "3299")):
        lat = p99(lambda c2=code: kpis.kpis(factory(), c2, "*", d0, d1), args.runs)  # type: ignore[misc]
        with engine.connect() as c:

            def bare_g(pfx: str = code) -> None:
                c.execute(sa.text(
                    "SELECT source, category, status, count(*), "
                    "count(*) FILTER (WHERE overdue) FROM command.case_view "
                    "WHERE jurisdiction_code LIKE :p AND created_at >= :a "
                    "GROUP BY source, category, status"),
                    {"p": pfx + "%", "a": datetime.combine(d0, datetime.min.time(), SHANGHAI)},
                ).all()  # fmt: skip

            base = p99(bare_g, max(5, args.runs // 20))
        print(f"kpis p99 ({label} {code}, 30 days): {lat:.2f} ms "
              f"| bare GROUP BY over the cases p99: {base:.1f} ms")  # fmt: skip
    engine.dispose()
    if not args.keep:
        drop_database(url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
