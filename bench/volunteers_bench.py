"""Volunteers service benchmark against the real PostgreSQL (service layer, no broker).

    .venv/bin/python bench/volunteers_bench.py [--orders 400] [--threads 1,8] [--rounds 60]

Creates a throwaway database, migrates the volunteers schema and measures, in one run:
- baseline: bare single-row INSERT + COMMIT transactions per second (same pool, threads);
- orders/s through the full loop (place → publish → claim → issue QR → QR check-in →
  complete → rate → points), each step its own unit of work with its outbox rows;
- claim contention: rounds of N threads claiming one published order at once; latency of
  each claim attempt (winner and losers) p50/p99, and that exactly one wins per round.
Figures are printed with our throughput as a ratio to the baseline measured in this run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from services.volunteers.service_layer import orders, registration  # noqa: E402
from services.volunteers.service_layer.common import qr_keys_from_secret  # noqa: E402
from yiwang.contracts import volunteers as c  # noqa: E402
from yiwang.db import drop_database, ensure_database, make_engine  # noqa: E402
from yiwang.errors import DomainError  # noqa: E402
from yiwang.migrate import upgrade  # noqa: E402
from yiwang.uow import UnitOfWork, uow_factory  # noqa: E402

PG = os.environ.get("YIWANG_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432")
COMMUNITY = "360602001001"
STAFF = c.StaffRef(staff_id="bench-staff", jurisdiction_code=COMMUNITY)
PLACE = (28.2389, 117.0339)
T0 = datetime(2030, 1, 7, 1, 0, tzinfo=UTC)
KEYS = qr_keys_from_secret("bench-secret-bench-secret-bench-secret")
Uow = Callable[[], UnitOfWork]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs)) - 1))]


def run_threads(n_threads: int, n_items: int, fn: Callable[[int], Any]) -> float:
    """Run fn(0..n_items-1) on n_threads; returns the wall time in seconds."""
    t = time.perf_counter()
    with ThreadPoolExecutor(n_threads) as pool:
        list(pool.map(fn, range(n_items)))
    return time.perf_counter() - t


def baseline(engine: sa.Engine, n: int, threads: int) -> float:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE IF NOT EXISTS public.bench_insert "
                "(id uuid PRIMARY KEY, body jsonb NOT NULL, at timestamptz NOT NULL)"
            )
        )

    def one(_: int) -> None:
        with engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO public.bench_insert VALUES (:i, :b, now())"),
                {"i": uuid.uuid4(), "b": '{"k": "v"}'},
            )

    return n / run_threads(threads, n, one)


def volunteers(make_uow: Uow, n: int, capacity: int) -> list[str]:
    ids = []
    for _ in range(n):
        pid = f"bench-{uuid.uuid4().hex[:12]}"
        registration.register_volunteer(
            make_uow(),
            c.RegisterVolunteerRequest(
                person_id=pid,
                name="志愿者",
                kind="volunteer",
                community_code=COMMUNITY,
                phone="13800138000",
                skills=["electrician"],
                capacity=capacity,
            ),
            T0,
        )
        registration.decide(
            make_uow(),
            c.DecideRegistrationRequest(
                staff=STAFF, kind="volunteer", registration_id=pid, action="approve"
            ),
            T0,
        )
        ids.append(pid)
    return ids


def published(make_uow: Uow) -> dict[str, Any]:
    o = orders.place_order(
        make_uow(),
        c.PlaceOrderRequest(
            resident_id=f"r-{uuid.uuid4().hex[:10]}",
            community_code=COMMUNITY,
            category="repair",
            description="楼道灯坏了",
            window_start=T0 + timedelta(hours=5),
            window_end=T0 + timedelta(hours=8),
            lat=PLACE[0],
            lon=PLACE[1],
        ),
        T0,
    )
    return orders.publish_order(
        make_uow(), c.PublishOrderRequest(staff=STAFF, order_id=o["order_id"]), T0
    )


def full_loop(make_uow: Uow, vid: str) -> None:
    o = published(make_uow)
    oid = o["order_id"]
    orders.claim_order(
        make_uow(),
        c.ClaimOrderRequest(
            order_id=oid, claimant_kind="volunteer", claimant_id=vid, expected_version=2
        ),
        T0,
    )
    at = T0 + timedelta(hours=5, minutes=1)
    qr = orders.issue_qr(
        make_uow(), c.IssueOrderQrRequest(order_id=oid, resident_id=o["resident_id"]), at, KEYS
    )
    orders.check_in(
        make_uow(),
        c.CheckInOrderRequest(
            order_id=oid, claimant_id=vid, token=qr["token"], lat=PLACE[0], lon=PLACE[1]
        ),
        at,
        KEYS,
    )
    orders.complete_order(
        make_uow(),
        c.CompleteOrderRequest(order_id=oid, claimant_id=vid, note="完成"),
        at + timedelta(hours=1),
    )
    r = orders.rate_order(
        make_uow(),
        c.RateOrderRequest(order_id=oid, resident_id=o["resident_id"], stars=5),
        at + timedelta(hours=2),
    )
    assert r["points_awarded"] == 25


def loop_rate(make_uow: Uow, n: int, threads: int) -> float:
    vids = volunteers(make_uow, threads * 4, capacity=5)
    return n / run_threads(threads, n, lambda i: full_loop(make_uow, vids[i % len(vids)]))


def contention(make_uow: Uow, rounds: int, contenders: int) -> tuple[list[float], int]:
    vids = volunteers(make_uow, contenders, capacity=50)
    latencies: list[float] = []
    bad_rounds = 0
    for _ in range(rounds):
        order = published(make_uow)
        barrier = threading.Barrier(contenders)
        wins = []
        lock = threading.Lock()

        def claim(
            i: int,
            order: dict[str, Any] = order,
            barrier: Any = barrier,
            wins: list[int] = wins,
            lock: Any = lock,
        ) -> None:
            barrier.wait()
            t = time.perf_counter()
            try:
                orders.claim_order(
                    make_uow(),
                    c.ClaimOrderRequest(
                        order_id=order["order_id"],
                        claimant_kind="volunteer",
                        claimant_id=vids[i],
                        expected_version=order["version"],
                    ),
                    T0,
                )
                won = True
            except DomainError:
                won = False
            dt = time.perf_counter() - t
            with lock:
                latencies.append(dt)
                if won:
                    wins.append(i)

        threads = [threading.Thread(target=claim, args=(i,)) for i in range(contenders)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        bad_rounds += len(wins) != 1
    return latencies, bad_rounds


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=400)
    ap.add_argument("--threads", default="1,8")
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--contenders", type=int, default=20)
    ap.add_argument("--baseline-inserts", type=int, default=4000)
    args = ap.parse_args()
    url = f"{PG}/yiwang_bench_volunteers_{uuid.uuid4().hex[:6]}"
    ensure_database(url)
    try:
        upgrade(url, ["volunteers"])
        engine = make_engine(url, pool_size=max(25, args.contenders + 2))
        make_uow = uow_factory(engine, producer="volunteers", schema="volunteers")
        print(f"volunteers bench  postgres={engine.url.host}  db={engine.url.database}")
        for threads in (int(x) for x in args.threads.split(",")):
            base = baseline(engine, args.baseline_inserts, threads)
            rate = loop_rate(make_uow, args.orders, threads)
            tx = 8  # place, publish, claim, issue QR (read), check-in, complete, rate (+ points)
            print(
                f"threads={threads:<3} bare INSERT tx/s = {base:8.0f}   full loop orders/s = "
                f"{rate:7.1f}  (~{rate * tx:6.0f} unit-of-work/s)   ratio orders/s : "
                f"INSERT/s = 1 : {base / rate:5.1f}  ({rate / base:.3f})"
            )
        lat, bad = contention(make_uow, args.rounds, args.contenders)
        ms = [x * 1000 for x in lat]
        print(
            f"claim contention: {args.rounds} rounds x {args.contenders} threads on one "
            f"order  p50 = {statistics.median(ms):.1f} ms  p99 = {pct(ms, 99):.1f} ms  "
            f"max = {max(ms):.1f} ms  rounds without exactly one winner = {bad}"
        )
        with engine.connect() as conn:
            n = conn.execute(sa.text("SELECT count(*) FROM volunteers.outbox")).scalar_one()
        print(f"outbox rows written: {n}")
        engine.dispose()
    finally:
        drop_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
