"""Command service benchmarks, each beside its bare-SQL baseline from the same run.

``python -m bench.command_bench`` (own database ``yiwang_bench_command``, rebuilt each run):

1. escalation sweep over 1,000,000 open cases with 1 % due (events, outbox, audit chain and
   KPI counters included) vs a bare indexed ``UPDATE`` of those rows;
2. dispatch-view page query p99 (``list_cases``: first page with its total, and a deep
   keyset page by cursor) for a street and a district, through the service layer and through
   RPC to a running command service, vs the bare indexed page ``SELECT``;
3. KPI query p99 (``kpis``) for a district and the city vs a bare ``GROUP BY`` over the cases;
4. event lag ``case.created`` → read model: ``CaseCreatedV1`` envelopes published with pika to
   ``petitions.events`` at a fixed rate into the running command service; lag = the inbox's
   ``processed_at`` (start of the handler's transaction) − publish time, p50/p99/max.

Prints one line per figure.

Options that save minutes while developing: ``--reuse`` keeps the loaded database as a
template (``<database>_loaded``, tagged with ``--cases``/``--due`` and the schema's alembic
revision) and each later run copies it (``CREATE DATABASE … TEMPLATE``, a file copy of a few
seconds instead of a load of minutes); ``--only sweep`` / ``--only pages`` runs one part;
``--no-service`` skips the RPC and lag figures; ``--sweep-runs N`` (with ``--reuse``)
repeats the sweep figure on N fresh copies and prints the medians (a shared machine's
noise is larger than the differences worth measuring).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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
        c.execute(
            sa.text(f"""
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
        """),
            {"n": n, "now": NOW},
        )
        # KPI counters: 30 days x every code of the ladder x all/department x 12 metrics
        c.execute(
            sa.text(f"""
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
        """),
            {"d0": NOW.date() - timedelta(days=29)},
        )
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


def wait_autovacuum(engine: sa.Engine, timeout_s: float) -> str:
    """Wait until autovacuum and autoanalyze have both run on case_view since now."""
    t0 = time.perf_counter()
    q = sa.text(
        "SELECT coalesce(last_autovacuum > :since, false), coalesce(last_autoanalyze > :since, "
        "false) FROM pg_stat_user_tables WHERE relid = 'command.case_view'::regclass"
    )
    with engine.connect() as c:
        since = c.execute(sa.text("SELECT now()")).scalar_one()
        enabled = c.execute(sa.text("SHOW autovacuum")).scalar_one() == "on"
    if not enabled:
        timeout_s = 0  # this server has autovacuum off: do its work by hand
    while time.perf_counter() - t0 < timeout_s:
        with engine.connect() as c:
            vac, ana = c.execute(q, {"since": since}).one()
        if vac and ana:
            return f"autovacuum and autoanalyze ran within {time.perf_counter() - t0:.0f} s"
        time.sleep(1)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text("VACUUM ANALYZE command.case_view"))
    if not enabled:
        return "autovacuum is off on this server: VACUUM ANALYZE by hand instead"
    return f"autovacuum had not run after {timeout_s:.0f} s: VACUUM ANALYZE by hand"


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


LIST_CASES = (("street", "329901001"), ("district", "329901"))


def deep_cursor(factory: Callable[[], Any], req: ListCasesRequest, pages: int = 49) -> Any:
    """The request for page ``pages + 1`` by keyset cursor."""
    cursor = None
    for _ in range(pages):
        got = view.list_cases(factory(), req.model_copy(update={"cursor": cursor}))
        cursor = got["next_cursor"]
    return req.model_copy(update={"cursor": cursor})


def service_bench(url: str, args: argparse.Namespace) -> None:
    """Run the command nameko service (own vhost, sweep timer off) and measure through it."""
    from infra.processes import ProcSpec
    from infra.supervisor import Supervisor
    from tests.integration.conftest import wait_for_queue
    from tests.support.resources import create_vhost, delete_vhost
    from yiwang.config import Settings

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    vhost = f"yiwang_bench_command_{uuid.uuid4().hex[:8]}"
    create_vhost(vhost)
    base = urlsplit(Settings().amqp_uri)
    amqp = urlunsplit((base.scheme, base.netloc, "/" + vhost, "", ""))
    spec = ProcSpec(
        "command",
        (sys.executable, "-m", "yiwang.nameko.run", "services.command.service:CommandService"),
    )
    env = {
        "YIWANG_DATABASE_URL": url,
        "YIWANG_AMQP_URI": amqp,
        "PYTHONPATH": root,
        "YIWANG_COMMAND_SWEEP_INTERVAL_S": "100000000",
        "YIWANG_REDIS_URL": "",
    }
    sup = Supervisor(
        [spec], env=env, log_dir=os.path.join(root, "var", "log-bench-command"), cwd=root
    )
    sup.start()
    try:
        wait_for_queue(amqp, "evt-petitions-case.created--command.handle_case_event", 90)
        asyncio.run(rpc_pages(amqp, args.runs))
        rate = args.lag_rate
        if rate <= 0:  # half the ingestion rate, measured with a burst
            rate = ingestion_rate(url, amqp, args.lag_burst) / 2
        event_lag(url, amqp, rate, args.lag_seconds)
    finally:
        sup.stop()
        delete_vhost(vhost)


async def rpc_pages(amqp: str, runs: int) -> None:
    from yiwang.rpc_client import NamekoRpcClient

    client = NamekoRpcClient(amqp, timeout_s=30)
    await client.connect()
    try:
        for label, prefix in LIST_CASES:
            kw: dict[str, Any] = {
                "jurisdiction_prefix": prefix,
                "status": "dispatched",
                "page_size": 20,
            }
            for _ in range(5):
                await client.call("command", "list_cases", **kw)
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                await client.call("command", "list_cases", **kw)
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            q = times[min(len(times) - 1, int(len(times) * 0.99))]
            print(
                f"list_cases page p99 through RPC ({label} {prefix}): {q:.2f} ms "
                f"(p50 {times[len(times) // 2]:.2f} ms)"
            )
    finally:
        await client.close()


def _created_envelope(i: int) -> Any:
    from yiwang.contracts import new_envelope
    from yiwang.contracts.petitions import CaseCreatedV1

    grid = f"3299{1 + i % 10:02d}{1 + i % 7:03d}{1 + i % 5:03d}{1 + i % 11:03d}"
    ev = CaseCreatedV1(
        case_id=uuid.uuid4(),
        seq=1,
        source="citizen",
        category="appearance.litter",
        title=f"垃圾堆积 压测{i}",
        grid_code=grid,
        jurisdiction_code=grid,
        level="grid",
        status="submitted",
        created_at=datetime.now(SHANGHAI),
        sla_class="standard_3d",
        department="urban_management",
        attributes={},
    )
    return new_envelope(ev, producer="petitions")


def _publish(amqp: str, n: int, rate: float | None) -> tuple[dict[str, float], float]:
    """Publish ``n`` case.created (at ``rate``/s, or as fast as possible); publish times."""
    import pika

    envs = [_created_envelope(i) for i in range(n)]
    conn = pika.BlockingConnection(pika.URLParameters(amqp))
    ch = conn.channel()
    ch.exchange_declare("petitions.events", exchange_type="topic", durable=True)
    props = pika.BasicProperties(content_type="application/json", delivery_mode=2)
    sent: dict[str, float] = {}
    t0 = time.perf_counter()
    for i, env in enumerate(envs):
        if rate:
            while (d := t0 + i / rate - time.perf_counter()) > 0:
                time.sleep(d)
        sent[str(env.id)] = time.time()
        ch.basic_publish("petitions.events", "case.created", env.model_dump_json().encode(), props)
    achieved = n / (time.perf_counter() - t0)
    conn.close()
    return sent, achieved


def _processed(url: str, sent: dict[str, float], timeout_s: float = 300) -> list[float]:
    """Wait until every event is in the inbox; each one's processed_at (epoch seconds)."""
    engine = make_engine(url, pool_size=1)
    deadline = time.monotonic() + timeout_s
    rows: Any = []
    with engine.connect() as c:
        while time.monotonic() < deadline:
            rows = c.execute(
                sa.text(
                    "SELECT event_id::text, extract(epoch FROM processed_at) FROM command.inbox "
                    "WHERE consumer = 'command.handle_case_event' "
                    "AND event_id = ANY(CAST(:ids AS uuid[]))"
                ),
                {"ids": list(sent)},
            ).all()
            if len(rows) >= len(sent):
                break
            time.sleep(0.5)
    engine.dispose()
    return [float(p) - sent[e] for e, p in rows]


def ingestion_rate(url: str, amqp: str, n: int) -> float:
    sent, _ = _publish(amqp, n, None)
    lags = _processed(url, sent)
    span = max(lags) + max(sent.values()) - min(sent.values())
    rate = len(lags) / span
    print(f"ingestion: a burst of {n} case.created folded in {span:.1f} s: {rate:.0f}/s")
    return rate


def event_lag(url: str, amqp: str, rate: float, seconds: float) -> None:
    n = int(rate * seconds)
    sent, achieved = _publish(amqp, n, rate)
    lags = sorted(x * 1000 for x in _processed(url, sent))
    if not lags:
        print("event lag: nothing processed")
        return
    q = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
    print(
        f"event lag case.created -> read model ({n} events at {achieved:.0f}/s for "
        f"{seconds:.0f} s, {len(lags)} processed): p50 {lags[len(lags) // 2]:.1f} ms, "
        f"p99 {q:.1f} ms, max {lags[-1]:.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    from yiwang.config import Settings

    p = argparse.ArgumentParser(description="command benchmarks")
    p.add_argument("--cases", type=int, default=1_000_000)
    p.add_argument("--due", type=float, default=0.01)
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    p.add_argument("--no-service", action="store_true", help="skip the RPC and lag figures")
    p.add_argument(
        "--lag-rate",
        type=float,
        default=0.0,
        help="case.created per second (default: half the measured ingestion rate)",
    )
    p.add_argument("--lag-burst", type=int, default=2000, help="burst to measure ingestion")
    p.add_argument("--lag-seconds", type=float, default=20.0)
    p.add_argument("--database", default="yiwang_bench_command", help="rebuilt each run")
    p.add_argument(
        "--reuse",
        action="store_true",
        help="copy a kept loaded template (<database>_loaded) instead of loading; "
        "made on first use, dropped only by hand",
    )
    p.add_argument(
        "--sweep-runs",
        type=int,
        default=1,
        help="repeat the sweep figure on fresh copies (needs --reuse); medians",
    )
    p.add_argument(
        "--only",
        choices=("all", "sweep", "pages"),
        default="all",
        help="sweep: the sweep figure only; pages: the page/KPI/RPC figures",
    )
    p.add_argument(
        "--autovacuum-wait",
        type=float,
        default=150.0,
        help="seconds to wait for autovacuum after the sweep",
    )
    args = p.parse_args(argv)
    if args.sweep_runs > 1 and not args.reuse:
        p.error("--sweep-runs > 1 needs --reuse (each run copies the loaded template)")
    url = Settings().database_url.rsplit("/", 1)[0] + "/" + args.database
    drop_database(url)
    t = time.perf_counter()
    if args.reuse:
        how = from_template(url, args.cases, args.due)
    else:
        ensure_database(url)
        upgrade(url)
        how = "loaded"
    engine = make_engine(url, pool_size=4)
    factory = uow_factory(engine, producer="command", schema="command")
    if how == "loaded":
        load(engine, args.cases, args.due)
    print(
        f"load: {args.cases} open cases, {args.due:.0%} due ({how}): "
        f"{time.perf_counter() - t:.1f} s"
    )
    due = int(args.cases * args.due)
    if args.only != "pages":
        runs = [sweep_bench(engine, factory, args, due, last=args.sweep_runs == 1)]
        for i in range(1, args.sweep_runs):  # each on a fresh copy of the template
            engine.dispose()
            drop_database(url)
            from_template(url, args.cases, args.due)
            engine = make_engine(url, pool_size=4)
            factory = uow_factory(engine, producer="command", schema="command")
            runs.append(sweep_bench(engine, factory, args, due, last=i == args.sweep_runs - 1))
        if len(runs) > 1:
            ratios = sorted(s / b for s, b in runs)
            print(
                f"sweep over {len(runs)} runs: median {statistics.median(s for s, _ in runs):.0f}"
                f" ms | bare median {statistics.median(b for _, b in runs):.1f} ms | ratio "
                f"median {statistics.median(ratios):.1f}x (min {ratios[0]:.1f}x, "
                f"max {ratios[-1]:.1f}x)"
            )
    if args.only != "sweep":
        pages_bench(engine, factory, args)
        # 4./2b. through the broker: RPC page p99 and case.created -> read model lag
        if not args.no_service:
            service_bench(url, args)
    engine.dispose()
    if not args.keep:
        drop_database(url)
    return 0


def _admin(url: str) -> sa.Engine:
    base = url.rsplit("/", 1)[0] + "/postgres"
    return sa.create_engine(base, isolation_level="AUTOCOMMIT")


def _heads(url: str) -> str:
    """The alembic head revisions of every service's migrations (the template's schema)."""
    from alembic.script import ScriptDirectory

    from yiwang.migrate import SERVICES, alembic_config, script_location

    return ",".join(
        h
        for svc in SERVICES
        if os.path.isdir(script_location(svc))
        for h in ScriptDirectory.from_config(alembic_config(svc, url)).get_heads()
    )


def from_template(url: str, cases: int, due: float) -> str:
    """Create ``url``'s database as a copy of the kept template, made (loaded) first if it
    is missing or was loaded with other settings or an older schema."""
    name = url.rsplit("/", 1)[1]
    tpl = f"{name}_loaded"
    tag = f"yiwang bench: cases={cases} due={due} rev={_heads(url)}"
    admin = _admin(url)
    try:
        with admin.connect() as c:
            have = c.execute(
                sa.text(
                    "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                    "WHERE datname = :n"
                ),
                {"n": tpl},
            ).first()
        how = "copied from the kept template"
        if have is None or have[0] != tag:
            tpl_url = url.rsplit("/", 1)[0] + "/" + tpl
            drop_database(tpl_url)
            ensure_database(tpl_url)
            upgrade(tpl_url)
            eng = make_engine(tpl_url, pool_size=1)
            load(eng, cases, due)
            eng.dispose()
            with admin.connect() as c:
                c.execute(sa.text(f"COMMENT ON DATABASE \"{tpl}\" IS '{tag}'"))
            how = "loaded into a new kept template, then copied"
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{tpl}"'))
        return how
    finally:
        admin.dispose()


def sweep_bench(
    engine: sa.Engine,
    factory: Callable[[], Any],
    args: argparse.Namespace,
    due: int,
    *,
    last: bool = True,
) -> tuple[float, float]:
    """The sweep and its bare baseline on freshly loaded rows: (sweep ms, bare ms)."""
    # 1. sweep vs bare UPDATE (rolled back, so the sweep sees the same rows)
    with engine.connect() as c:
        tx = c.begin()
        t = time.perf_counter()
        n = c.execute(
            sa.text(
                "UPDATE command.case_view SET sla_state = 'overdue', next_due_at = NULL "
                "WHERE next_due_at <= :now"
            ),
            {"now": NOW},
        ).rowcount
        bare = (time.perf_counter() - t) * 1000
        tx.rollback()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text("VACUUM command.case_view"))  # the sweep starts as clean as the bare
    t = time.perf_counter()
    res = sla.sweep(factory(), NOW)
    swept = (time.perf_counter() - t) * 1000
    assert res["rows"] == n == due, (res, n, due)
    print(
        f"sweep: {res['escalated']} escalations of {due} due among {args.cases} open cases "
        f"(events, outbox, audit, KPIs): {swept:.0f} ms "
        f"| bare indexed UPDATE {n} rows: {bare:.1f} ms | ratio {swept / bare:.1f}x "
        f"| load average {os.getloadavg()[0]:.2f}"
    )
    if not last:
        return swept, bare
    t = time.perf_counter()
    res2 = sla.sweep(factory(), NOW)
    print(
        f"sweep with nothing due: {(time.perf_counter() - t) * 1000:.2f} ms (rows {res2['rows']})"
    )

    # What a deployment does after a sweep: autovacuum and autoanalyze of case_view, which
    # the migration triggers after 0.5 % of the rows changed (the sweep rewrote 1 %): the
    # visibility map is set again (index-only page keys) and the moved jurisdiction codes
    # are estimated right. Waited for (up to --autovacuum-wait s), not run by hand.
    settled = wait_autovacuum(engine, args.autovacuum_wait)
    print(f"after the sweep: {settled}")
    return swept, bare


def pages_bench(engine: sa.Engine, factory: Callable[[], Any], args: argparse.Namespace) -> None:
    # 2. list_cases page p99 vs bare page SELECT
    for label, prefix in LIST_CASES:
        req = ListCasesRequest(jurisdiction_prefix=prefix, status="dispatched", page_size=20)
        first = view.list_cases(factory(), req)
        lat = p99(lambda r=req: view.list_cases(factory(), r), args.runs)  # type: ignore[misc]
        deep = deep_cursor(factory, req)
        lat_deep = p99(lambda r=deep: view.list_cases(factory(), r), args.runs)  # type: ignore[misc]
        with engine.connect() as c:

            def bare_q(pfx: str = prefix) -> None:
                c.execute(
                    sa.text(
                        "SELECT * FROM command.case_view WHERE jurisdiction_code LIKE :p "
                        "AND status = 'dispatched' AND complete ORDER BY created_at DESC, case_id "
                        "LIMIT 20"
                    ),
                    {"p": pfx + "%"},
                ).all()

            base = p99(bare_q, args.runs)
        print(
            f"list_cases page p99 ({label} {prefix}, total {first['total']} "
            f"{'exact' if first['total_exact'] else 'estimated'}): {lat:.2f} ms "
            f"| keyset page 50 by cursor: {lat_deep:.2f} ms "
            f"| bare indexed page SELECT p99: {base:.2f} ms | ratio {lat / base:.1f}x"
        )

    # 3. KPI p99 vs bare GROUP BY over the cases
    d1 = NOW.date()
    d0 = d1 - timedelta(days=29)
    for label, code in (("district", "329901"), ("city", "3299")):
        lat = p99(lambda c2=code: kpis.kpis(factory(), c2, "*", d0, d1), args.runs)  # type: ignore[misc]
        with engine.connect() as c:

            def bare_g(pfx: str = code) -> None:
                c.execute(
                    sa.text(
                        "SELECT source, category, status, count(*), "
                        "count(*) FILTER (WHERE overdue) FROM command.case_view "
                        "WHERE jurisdiction_code LIKE :p AND created_at >= :a "
                        "GROUP BY source, category, status"
                    ),
                    {"p": pfx + "%", "a": datetime.combine(d0, datetime.min.time(), SHANGHAI)},
                ).all()

            base = p99(bare_g, max(5, args.runs // 20))
        print(
            f"kpis p99 ({label} {code}, 30 days): {lat:.2f} ms "
            f"| bare GROUP BY over the cases p99: {base:.1f} ms"
        )


if __name__ == "__main__":
    raise SystemExit(main())
