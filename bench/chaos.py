"""The chaos suite (``make chaos``; a shorter run is part of ``make test``).

Under a steady stream of citizen reports, with a checker that knows every acknowledged
report (HTTP 202), it injects faults one after another:
- kill -9 of each service process (petitions, command, grids, gateway), restarted by the
  supervisor as a container restart policy would;
- RabbitMQ, PostgreSQL and Redis unavailable for a while: every system process reaches
  them through a TCP proxy that the suite cuts (all connections dropped, new ones refused)
  and restores — from the processes' side exactly a server restart — so the shared servers
  of this machine are never touched;
- poison messages (malformed, wrong version, huge) injected into each event queue;
- duplicate and out-of-order deliveries (already-published outbox events re-sent shuffled,
  and broker-confirmed reports published twice).
Then it checks: every acknowledged report is a case exactly once, the command view agrees
with the petitions store, no message sits unacked, poison messages are in dead-letter
queues with reasons, and the system is ready again within a bounded time. It prints the
table of faults and ends with ``chaos: sent N, acknowledged N, lost 0, duplicated 0, recovered N``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import httpx
import pika
import sqlalchemy as sa

from bench.ingest import sample_points
from infra.processes import ALL
from infra.supervisor import Supervisor
from tests.support.resources import TestResources, free_port
from tests.support.tcpproxy import TcpProxy
from yiwang.contracts import new_envelope
from yiwang.contracts.gateway import ReportSubmittedV1
from yiwang.topology import all_subscriptions, dlq_name

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class FaultResult:
    name: str
    started: float
    duration_s: float
    ready_after_s: float | None = None
    note: str = ""


@dataclass
class Load:
    base_url: str
    points: list[tuple[float, float]]
    rate_per_s: float
    sent: int = 0
    acknowledged: list[str] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, workers: int = 4) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self._worker, args=(i, workers), daemon=True)
            for i in range(workers)
        ]
        for t in threads:
            t.start()
        return threads

    def _worker(self, i: int, workers: int) -> None:
        interval = workers / self.rate_per_s
        rng = random.Random(i)
        with httpx.Client(base_url=self.base_url, timeout=10) as client:
            while not self._stop.is_set():
                t0 = time.monotonic()
                lat, lon = rng.choice(self.points)
                with self._lock:
                    self.sent += 1
                try:
                    r = client.post(
                        "/api/v1/reports",
                        json={
                            "category": "appearance.litter",
                            "attributes": {"size": "small"},
                            "description": "混沌测试：垃圾堆积",
                            "lat": lat,
                            "lon": lon,
                        },
                    )
                    key = str(r.status_code)
                    if r.status_code == 202:
                        with self._lock:
                            self.acknowledged.append(r.json()["report_id"])
                        key = ""
                except httpx.HTTPError as exc:
                    key = type(exc).__name__
                if key:
                    with self._lock:
                        self.refused[key] = self.refused.get(key, 0) + 1
                self._stop.wait(max(0.0, interval - (time.monotonic() - t0)))

    def stop(self) -> None:
        self._stop.set()


class Chaos:
    def __init__(self, rate_per_s: float = 12.0, outage_s: float = 6.0, seed: int = 1) -> None:
        self.rate = rate_per_s
        self.outage_s = outage_s
        self.rng = random.Random(seed)
        self.res = TestResources.create("chaos")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        amqp = urlparse(self.res.amqp_uri)
        pg = urlparse(self.res.database_url.replace("postgresql+psycopg2", "postgresql"))
        rd = urlparse(self.res.redis_url)
        self.proxies = {
            "rabbitmq": TcpProxy(amqp.hostname or "127.0.0.1", amqp.port or 5672),
            "postgresql": TcpProxy(pg.hostname or "127.0.0.1", pg.port or 5432),
            "redis": TcpProxy(rd.hostname or "127.0.0.1", rd.port or 6379),
        }
        ports = {k: p.start() for k, p in self.proxies.items()}
        self.env = self.res.env(
            PYTHONPATH=ROOT,
            YIWANG_GATEWAY_PORT=str(self.port),
            YIWANG_LOG_LEVEL="WARNING",
            YIWANG_VAR_DIR=os.path.join(ROOT, "var"),
            YIWANG_EVENT_RETRY_DELAYS_MS="[300, 1000, 2000]",
            YIWANG_RATE_LIMIT_PER_IP="100000000",
            YIWANG_AMQP_URI=self.res.amqp_uri.replace(f":{amqp.port}/", f":{ports['rabbitmq']}/"),
            YIWANG_DATABASE_URL=self.res.database_url.replace(
                f":{pg.port}/", f":{ports['postgresql']}/"
            ),
            YIWANG_REDIS_URL=self.res.redis_url.replace(f":{rd.port}/", f":{ports['redis']}/"),
        )
        self.sup: Supervisor | None = None
        self.engine = sa.create_engine(self.res.database_url)
        self.faults: list[FaultResult] = []
        self.injected_acks: list[str] = []
        self.poison_sent = 0

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        from yiwang.migrate import upgrade

        upgrade(self.res.database_url)
        subprocess.run(
            [sys.executable, "-m", "demo.load_city", "--size", "small"],
            env={**os.environ, **self.env},
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        self.sup = Supervisor(
            ALL, env=self.env, log_dir=os.path.join(ROOT, "var", "log-chaos"), cwd=ROOT
        )
        self.sup.start()
        if self.wait_ready(120) is None:
            raise TimeoutError("system not ready")

    def stop(self) -> None:
        if self.sup is not None:
            self.sup.stop()
        for p in self.proxies.values():
            p.cut()
        self.engine.dispose()
        self.res.destroy()

    def wait_ready(self, seconds: float) -> float | None:
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            try:
                if httpx.get(f"{self.base}/health", timeout=3).status_code == 200:
                    return time.monotonic() - t0
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        return None

    # -- faults -----------------------------------------------------------------------
    def kill(self, name: str) -> FaultResult:
        assert self.sup is not None
        t0 = time.monotonic()
        self.sup.kill(name)
        time.sleep(0.5)
        return FaultResult(f"kill -9 {name}", t0, 0.0, self.wait_ready(60))

    def outage(self, name: str) -> FaultResult:
        t0 = time.monotonic()
        self.proxies[name].cut()
        time.sleep(self.outage_s)
        self.proxies[name].restore()
        return FaultResult(f"{name} unavailable", t0, self.outage_s, self.wait_ready(90))

    def poison(self) -> FaultResult:
        t0 = time.monotonic()
        conn = pika.BlockingConnection(pika.URLParameters(self.res.amqp_uri))
        ch = conn.channel()
        ch.confirm_delivery()
        bodies = [
            b"{not json",
            json.dumps({"id": str(uuid.uuid4()), "type": "case.created", "version": 99}).encode(),
            b"{" + b" " * 400_000 + b"}",
        ]
        for sub in all_subscriptions():
            for body in bodies:
                ch.basic_publish(
                    "",
                    sub.queue,
                    body,
                    pika.BasicProperties(content_type="application/json", delivery_mode=2),
                )
                self.poison_sent += 1
        conn.close()
        return FaultResult(
            "poison messages",
            t0,
            0.0,
            self.wait_ready(30),
            f"{self.poison_sent} into {len(all_subscriptions())} queues",
        )

    def duplicates(self) -> FaultResult:
        """Re-send published outbox events shuffled, and publish fresh reports twice."""
        t0 = time.monotonic()
        with self.engine.connect() as c:
            rows = c.execute(
                sa.text(
                    "SELECT exchange, routing_key, body, headers FROM petitions.outbox "
                    "WHERE published_at IS NOT NULL ORDER BY random() LIMIT 50"
                )
            ).all()
        conn = pika.BlockingConnection(pika.URLParameters(self.res.amqp_uri))
        ch = conn.channel()
        ch.confirm_delivery()
        self.rng.shuffle(rows)  # out of order too
        for r in rows:
            ch.basic_publish(
                r.exchange,
                r.routing_key,
                r.body.encode(),
                pika.BasicProperties(
                    content_type="application/json", delivery_mode=2, headers=r.headers
                ),
            )
        pts = sample_points(10, seed=99)
        for lat, lon in pts:
            report_id = uuid.uuid4()
            env = new_envelope(
                ReportSubmittedV1(
                    report_id=report_id,
                    source="citizen",
                    category="appearance.litter",
                    description="重复投递测试",
                    lat=lat,
                    lon=lon,
                    grid_code=self._grid(lat, lon),
                    submitted_at=datetime.now(UTC),
                ),
                producer="gateway",
            )
            for _ in range(2):
                ch.basic_publish(
                    "gateway.events",
                    "report.submitted",
                    env.model_dump_json().encode(),
                    pika.BasicProperties(content_type="application/json", delivery_mode=2),
                )
            self.injected_acks.append(str(report_id))
        conn.close()
        return FaultResult(
            "duplicate + out-of-order deliveries",
            t0,
            0.0,
            self.wait_ready(30),
            f"{len(rows)} outbox events re-sent, 10 reports sent twice",
        )

    def _grid(self, lat: float, lon: float) -> str:
        r = httpx.post(
            f"{self.base}/api/v1/reports",
            json={
                "category": "appearance.litter",
                "attributes": {"size": "small"},
                "description": "定位探针",
                "lat": lat,
                "lon": lon,
            },
        )
        return str(r.json()["grid_code"]) if r.status_code == 202 else "329901001001001"

    # -- checks -----------------------------------------------------------------------
    def store_counts(self, report_ids: list[str]) -> tuple[int, int, int]:
        """(reports recorded, duplicated, recorded reports whose case is in the command view).

        A report is recorded when it opened a case or was linked to an open case as a
        duplicate ("me too", same category within 50 m and 72 h): both are in
        ``petitions.case_reports`` (primary key: report id). Duplicated counts cases opened
        more than once for one report and reports recorded more than once.
        """
        with self.engine.connect() as c:
            recorded = c.execute(
                sa.text(
                    "SELECT r.report_id::text, r.case_id, r.outcome FROM petitions.case_reports r "
                    "WHERE r.report_id::text = ANY(:ids)"
                ),
                {"ids": report_ids},
            ).all()
            per_report = c.execute(
                sa.text(
                    "SELECT count(*) FROM (SELECT report_id FROM petitions.cases "
                    "WHERE report_id::text = ANY(:ids) GROUP BY report_id HAVING count(*) > 1) d"
                ),
                {"ids": report_ids},
            ).scalar_one()
            case_ids = sorted({str(r.case_id) for r in recorded})
            in_view_cases = set(
                c.execute(
                    sa.text(
                        "SELECT case_id::text FROM command.case_view WHERE case_id::text = ANY(:ids)"
                    ),
                    {"ids": case_ids},
                ).scalars()
            )
        present = len({r.report_id for r in recorded})
        duplicated = int(per_report) + (len(recorded) - present)
        in_view = sum(1 for r in recorded if str(r.case_id) in in_view_cases)
        return present, duplicated, in_view

    def queues(self) -> dict[str, tuple[int, int, int]]:
        """{queue: (ready, unacked, consumers)} for consumer queues (not DLQ/retry queues)."""
        if not shutil.which("rabbitmqctl"):
            return {}
        out = subprocess.run(
            [
                "rabbitmqctl",
                "-q",
                "list_queues",
                "-p",
                self.res.vhost,
                "name",
                "messages_ready",
                "messages_unacknowledged",
                "consumers",
                "--no-table-headers",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        result = {}
        for line in out.splitlines():
            parts = line.split()
            if (
                len(parts) == 4
                and parts[0].startswith("evt-")
                and ".dlq" not in parts[0]
                and ".retry." not in parts[0]
            ):
                result[parts[0]] = (int(parts[1]), int(parts[2]), int(parts[3]))
        return result

    def busy_queues(self) -> dict[str, tuple[int, int, int]]:
        """Queues that have a consumer and still hold messages (ready or unacked)."""
        return {q: v for q, v in self.queues().items() if v[2] > 0 and (v[0] or v[1])}

    def dead_letter_reasons(self) -> dict[str, int]:
        reasons: dict[str, int] = {}
        conn = pika.BlockingConnection(pika.URLParameters(self.res.amqp_uri))
        ch = conn.channel()
        for sub in all_subscriptions():
            while True:
                method, props, _ = ch.basic_get(dlq_name(sub.queue), auto_ack=True)
                if method is None:
                    break
                r = (props.headers or {}).get("x-yiwang-reason", "?")
                reasons[r] = reasons.get(r, 0) + 1
        conn.close()
        return reasons

    # -- the run ----------------------------------------------------------------------
    def run(self, rounds: int = 1, settle_s: float = 120.0) -> dict[str, Any]:
        self.start()
        load = Load(self.base, sample_points(3000), self.rate)
        threads = load.run()
        try:
            time.sleep(3)
            plan: list[Any] = []
            for _ in range(rounds):
                kills = ["petitions", "command", "grids", "gateway"]
                self.rng.shuffle(kills)
                plan += [lambda n=n: self.kill(n) for n in kills]
                plan += [
                    lambda: self.outage("rabbitmq"),
                    lambda: self.outage("postgresql"),
                    lambda: self.outage("redis"),
                ]
            plan += [self.poison, self.duplicates]
            for fault in plan:
                time.sleep(self.rng.uniform(1.0, 3.0))
                self.faults.append(fault())
        finally:
            load.stop()
            for t in threads:
                t.join(15)
        acked = load.acknowledged + self.injected_acks
        end_of_faults = time.monotonic()
        visible_then = self.store_counts(acked)[2]
        deadline = end_of_faults + settle_s
        present = duplicated = in_view = 0
        while time.monotonic() < deadline:
            present, duplicated, in_view = self.store_counts(acked)
            if present == len(acked) and in_view == len(acked) and not self.busy_queues():
                break
            time.sleep(0.5)
        converged_s = time.monotonic() - end_of_faults
        queues = self.queues()
        stuck = {q: v[:2] for q, v in queues.items() if v[2] > 0 and (v[0] or v[1])}
        unconsumed = {q: v[0] for q, v in queues.items() if v[2] == 0 and v[0]}
        reasons = self.dead_letter_reasons()
        result = {
            "sent": load.sent + len(self.injected_acks),
            "acknowledged": len(acked),
            "lost": len(acked) - present,
            "duplicated": duplicated,
            "missing_from_command_view": len(acked) - in_view,
            "recovered": in_view - visible_then,
            "refused_by_status": load.refused,
            "converged_s": round(converged_s, 1),
            "stuck_queues": stuck,
            "queues_without_consumer": unconsumed,
            "dead_letter_reasons": reasons,
            "poison_sent": self.poison_sent,
            "faults": [f.__dict__ for f in self.faults],
        }
        return result


def print_report(r: dict[str, Any]) -> None:
    print(f"{'fault':38s} {'outage s':>8s} {'ready again after s':>20s}  note")
    for f in r["faults"]:
        ready = "never" if f["ready_after_s"] is None else f"{f['ready_after_s']:.1f}"
        print(f"{f['name']:38s} {f['duration_s']:8.1f} {ready:>20s}  {f['note']}")
    print(f"refused (not acknowledged, client told to retry): {r['refused_by_status']}")
    print(
        f"converged {r['converged_s']} s after the last fault; stuck queues: "
        f"{r['stuck_queues'] or 'none'}"
    )
    if r["queues_without_consumer"]:
        print(f"queues with no consumer yet (messages wait there): {r['queues_without_consumer']}")
    print(f"dead letters by reason: {r['dead_letter_reasons']} ({r['poison_sent']} poison sent)")
    print(
        f"chaos: sent {r['sent']}, acknowledged {r['acknowledged']}, lost {r['lost']}, "
        f"duplicated {r['duplicated']}, recovered {r['recovered']}"
    )


def main() -> int:
    # SIGTERM (make, CI, a user) must still run the finally blocks that stop processes
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    chaos = Chaos(
        rate_per_s=float(os.environ.get("CHAOS_RATE", "15")),
        outage_s=float(os.environ.get("CHAOS_OUTAGE_S", "8")),
        seed=int(os.environ.get("CHAOS_SEED", "1")),
    )
    try:
        result = chaos.run(rounds=int(os.environ.get("CHAOS_ROUNDS", "2")))
    finally:
        chaos.stop()
    print_report(result)
    from bench.common import write_result

    write_result("chaos", result)
    ok = (
        result["lost"] == 0
        and result["duplicated"] == 0
        and result["missing_from_command_view"] == 0
        and not result["stuck_queues"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
