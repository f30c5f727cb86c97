"""Open-loop load through the gateway at rising rates, until the p99 report→command-view
latency passes 1 s: the highest sustained rate, as a ratio to the raw broker baseline of
the same run, CPU and RSS per process, and a profile of the hottest process (py-spy).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
import psutil
import sqlalchemy as sa

from bench.baseline import broker_baseline
from bench.common import pct, summary_ms, write_result
from bench.ingest import System, sample_points
from bench.rawhttp import encode_post, open_loop_raw

RATES = [int(x) for x in os.environ.get("LOAD_RATES", "25,50,100,200,400,800").split(",")]
STEP_S = float(os.environ.get("LOAD_STEP_S", "10"))


async def open_loop(
    base: str, rate: float, seconds: float, points: list[tuple[float, float]], offset: int = 0
) -> dict[str, Any]:
    """Send at a fixed arrival rate regardless of responses (open loop)."""
    results: dict[str, int] = {}
    http_lat: list[float] = []
    refused_lat: list[float] = []
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=base, timeout=10, limits=limits) as client:
        tasks: list[asyncio.Task[None]] = []

        async def one(i: int) -> None:
            lat, lon = points[(offset + i) % len(points)]  # fresh spots: no "me too" links
            t0 = time.perf_counter()
            try:
                r = await client.post(
                    "/api/v1/reports",
                    json={
                        "category": "appearance.litter",
                        "attributes": {"size": "small"},
                        "description": "负载测试",
                        "lat": lat,
                        "lon": lon,
                    },
                )
                key = str(r.status_code)
                if r.status_code == 202:
                    http_lat.append(time.perf_counter() - t0)
                elif r.status_code in (429, 503):
                    refused_lat.append(time.perf_counter() - t0)
            except httpx.HTTPError as exc:
                key = type(exc).__name__
            results[key] = results.get(key, 0) + 1

        start = time.perf_counter()
        n = int(rate * seconds)
        for i in range(n):
            target = start + i / rate
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    return {
        "sent": n,
        "by_status": results,
        "http": summary_ms(http_lat),
        "refused": summary_ms(refused_lat),
    }


CLIENT = os.environ.get("LOAD_CLIENT", "raw")  # raw (bench/rawhttp.py) or httpx


def send(
    base: str,
    rate: float,
    seconds: float,
    points: list[tuple[float, float]],
    offset: int = 0,
    connections: int = 128,
) -> dict[str, Any]:
    """One open-loop step with the configured client (the lean raw one by default)."""
    if CLIENT == "httpx":
        cpu0 = time.process_time()
        out = asyncio.run(open_loop(base, rate, seconds, points, offset))
        out["generator_cpu_s"] = round(time.process_time() - cpu0, 2)
        return out
    host, port = base.removeprefix("http://").split(":")

    def request(i: int) -> bytes:
        lat, lon = points[(offset + i) % len(points)]  # fresh spots: no "me too" links
        return encode_post(
            host,
            "/api/v1/reports",
            {
                "category": "appearance.litter",
                "attributes": {"size": "small"},
                "description": "负载测试",
                "lat": lat,
                "lon": lon,
            },
        )

    return asyncio.run(
        open_loop_raw(host, int(port), rate, seconds, request, connections=connections)
    )


def arrived(engine: sa.Engine, mark: Any) -> int:
    """Reports since ``mark`` that are in the command view as cases, plus those linked to an
    open case as "me too" (a report becomes a case or a supporter of one, never nothing)."""
    with engine.connect() as c:
        cases = c.execute(
            sa.text("SELECT count(*) FROM command.case_view WHERE created_at >= :m"), {"m": mark}
        )
        linked = c.execute(
            sa.text(
                "SELECT count(*) FROM petitions.case_reports WHERE at >= :m "
                "AND outcome = 'linked_duplicate'"
            ),
            {"m": mark},
        )
        return int(cases.scalar_one()) + int(linked.scalar_one())


def process_stats(sup: Any) -> dict[str, dict[str, float]]:
    out = {}
    for name, m in sup.procs.items():
        if m.proc is None:
            continue
        try:
            p = psutil.Process(m.proc.pid)
            t = p.cpu_times()
            out[name] = {
                "cpu_s": round(t.user + t.system, 2),
                "rss_mb": round(p.memory_info().rss / 2**20, 1),
            }
        except psutil.NoSuchProcess:
            pass
    # the broker (one long-lived process) and the whole machine (PostgreSQL's backends come
    # and go, so they are counted in the machine's figure: busy CPU of every process)
    broker_cpu = broker_rss = 0.0
    for p in psutil.process_iter(["username"]):
        if p.info["username"] == "rabbitmq":
            try:
                t = p.cpu_times()
                broker_cpu += t.user + t.system
                broker_rss += p.memory_info().rss / 2**20
            except psutil.NoSuchProcess:
                pass
    out["rabbitmq"] = {"cpu_s": round(broker_cpu, 2), "rss_mb": round(broker_rss, 1)}
    m = psutil.cpu_times()
    out["machine"] = {
        "cpu_s": round(
            m.user + m.system + m.nice + getattr(m, "softirq", 0) + getattr(m, "irq", 0), 2
        ),
        "rss_mb": 0.0,
    }
    return out


def profile(pid: int, seconds: int, path: str) -> str:
    if not shutil.which("py-spy") and not os.path.exists(
        os.path.join(os.path.dirname(sys.executable), "py-spy")
    ):
        return "py-spy not installed"
    exe = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    res = subprocess.run(
        [
            exe,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--format",
            "raw",
            "--output",
            path,
            "--nonblocking",
            "--gil",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    )
    if res.returncode != 0:
        return f"py-spy failed: {res.stderr.strip()[:200]}"
    # raw format: "frame;frame;frame count" — aggregate self time by leaf function
    leaf: dict[str, int] = {}
    total = 0
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            stack, _, count = line.rstrip().rpartition(" ")
            if not count.isdigit():
                continue
            frames = stack.split(";")
            n = int(count)
            total += n
            key = frames[-1] if frames else "?"
            leaf[key] = leaf.get(key, 0) + n
    top = sorted(leaf.items(), key=lambda kv: -kv[1])[:8]
    return "; ".join(f"{100 * n / max(total, 1):.0f}% {k[:90]}" for k, n in top)


OVERLOAD_RATE = int(os.environ.get("LOAD_OVERLOAD_RATE", "1500"))
OVERLOAD_S = float(os.environ.get("LOAD_OVERLOAD_S", "8"))


def overload(
    system: System, engine: sa.Engine, points: list[tuple[float, float]], offset: int
) -> dict[str, Any]:
    """Far beyond capacity: the gateway must refuse quickly (503/429 with Retry-After), keep
    its memory bounded, and every report it did accept must still become a case."""
    with engine.begin() as c:
        mark = c.execute(sa.text("SELECT now()")).scalar_one()
    gw = psutil.Process(system.sup.pid("gateway")) if system.sup else None
    rss: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set() and gw is not None:
            try:
                rss.append(gw.memory_info().rss / 2**20)
            except psutil.NoSuchProcess:
                return
            stop.wait(0.2)

    rss_before = gw.memory_info().rss / 2**20 if gw else 0.0
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    # more connections than the gateway admits at once (YIWANG_INTAKE_MAX_IN_FLIGHT): as
    # from many phones, not one client's pool
    sent = send(system.base, OVERLOAD_RATE, OVERLOAD_S, points, offset, connections=512)
    stop.set()
    th.join()
    accepted = sent["by_status"].get("202", 0)
    deadline = time.monotonic() + 120
    seen = 0
    while time.monotonic() < deadline:
        seen = arrived(engine, mark)
        if seen >= accepted:
            break
        time.sleep(0.5)
    out = {
        "offered_per_s": OVERLOAD_RATE,
        "seconds": OVERLOAD_S,
        "by_status": sent["by_status"],
        "accepted_http": sent["http"],
        "refused_http": sent["refused"],
        "accepted": accepted,
        "became_cases": seen,
        "gateway_rss_mb": {
            "before": round(rss_before, 1),
            "max": round(max(rss, default=rss_before), 1),
        },
    }
    print(
        f"load: overload {OVERLOAD_RATE}/s for {OVERLOAD_S:.0f} s → statuses "
        f"{sent['by_status']}; refusals p50 {sent['refused'].get('p50_ms')} ms, "
        f"p99 {sent['refused'].get('p99_ms')} ms; accepted p99 {sent['http'].get('p99_ms')} ms; "
        f"accepted {accepted}, became cases or me-too links {seen}; gateway RSS {out['gateway_rss_mb']} MB"
    )
    return out


def main() -> int:
    system = System("load")
    try:
        system.start()
        base = broker_baseline(system.res.amqp_uri, n=3000)
        engine = sa.create_engine(system.res.database_url)
        points = sample_points(int(sum(RATES) * STEP_S + OVERLOAD_RATE * OVERLOAD_S) + 2000)
        used = 0
        steps = []
        best: dict[str, Any] | None = None
        for rate in RATES:
            with engine.begin() as c:
                mark = c.execute(sa.text("SELECT now()")).scalar_one()
            before = process_stats(system.sup)
            t0 = time.perf_counter()
            sent = send(system.base, rate, STEP_S, points, used)
            used += int(rate * STEP_S)
            deadline = time.monotonic() + 30
            accepted = sent["by_status"].get("202", 0)
            while time.monotonic() < deadline:
                if arrived(engine, mark) >= accepted:
                    break
                time.sleep(0.1)
            elapsed = time.perf_counter() - t0
            with engine.connect() as c:
                lat = [
                    float(r[0])
                    for r in c.execute(
                        sa.text(
                            "SELECT extract(epoch FROM (updated_at - created_at)) FROM command.case_view "
                            "WHERE created_at >= :m"
                        ),
                        {"m": mark},
                    ).all()
                ]
                # throughput over the time the cases really took to arrive (a backlog that
                # drains after the step is not throughput of the step)
                span = float(
                    c.execute(
                        sa.text(
                            "SELECT coalesce(extract(epoch FROM max(updated_at) - :m), 0) "
                            "FROM command.case_view WHERE created_at >= :m"
                        ),
                        {"m": mark},
                    ).scalar_one()
                )
            after = process_stats(system.sup)
            used_s = {k: after[k]["cpu_s"] - before.get(k, after[k])["cpu_s"] for k in after}
            cpu = {k: round(v / elapsed, 2) for k, v in used_s.items()}
            # CPU each report costs each process: their sum bounds the rate 2 cores can carry
            per_report = {k: round(1000 * v / max(accepted, 1), 2) for k, v in used_s.items()}
            total_ms = per_report.pop("machine")  # everything: ours, PostgreSQL, broker, client
            gen_ms = round(1000 * sent.get("generator_cpu_s", 0.0) / max(sent["sent"], 1), 2)
            step = {
                "offered_per_s": rate,
                "accepted": accepted,
                "by_status": sent["by_status"],
                "achieved_per_s": round(len(lat) / max(STEP_S, span), 1),
                "p50_ms": round(pct(lat, 50) * 1000, 1),
                "p99_ms": round(pct(lat, 99) * 1000, 1),
                "http": sent["http"],
                "cpu_cores": cpu,
                "cpu_ms_per_report": per_report,
                "cpu_ms_per_report_total": round(total_ms, 1),
                "generator_cpu_ms_per_report": gen_ms,
                # what 2 cores could carry if the system had them to itself (no client)
                "ceiling_per_s": round(
                    (os.cpu_count() or 1) * 1000 / max(total_ms - gen_ms, 0.001)
                ),
                "rss_mb": {k: v["rss_mb"] for k, v in after.items()},
            }
            steps.append(step)
            print(
                f"load: offered {rate}/s → {step['achieved_per_s']}/s into the view, "
                f"p50 {step['p50_ms']} ms, p99 {step['p99_ms']} ms, statuses {sent['by_status']}, "
                f"CPU cores {cpu}"
            )
            print(
                f"load:   CPU ms per report {per_report}; whole machine {total_ms:.1f} ms → at most "
                f"{step['ceiling_per_s']}/s on {os.cpu_count()} cores without the load generator ("
                f"{gen_ms} ms per request)"
            )
            if step["p99_ms"] > 1000 or step["achieved_per_s"] < 0.9 * rate:
                break
            best = step
        over = overload(system, engine, points, used)
        used += int(OVERLOAD_RATE * OVERLOAD_S)
        ours = {k: v for k, v in steps[-1]["cpu_cores"].items() if k not in ("machine", "rabbitmq")}
        hottest = max(ours.items(), key=lambda kv: kv[1])[0]
        pid = system.sup.pid(hottest) if system.sup else None
        prof = "n/a"
        if pid:  # profile the hottest process while a moderate load runs
            th = threading.Thread(target=lambda: send(system.base, RATES[0] * 4, 8, points, used))
            th.start()
            prof = profile(pid, 6, os.path.join("var", f"profile-{hottest}.txt"))
            th.join()
        sustained = best["achieved_per_s"] if best else 0.0
        rss = {k: v for k, v in steps[-1]["rss_mb"].items() if k != "machine"}
        print(
            f"load: sustained {sustained} reports/s (p99 ≤ 1 s), ratio "
            f"{sustained / base['rate_per_s']:.3f} to baseline (raw publish+consume "
            f"{base['rate_per_s']:,.0f} msg/s); RSS MB {rss}"
        )
        print(f"load: hottest process {hottest}; profile (self time by function): {prof}")
        write_result(
            "load",
            {
                "baseline": base,
                "steps": steps,
                "sustained_per_s": sustained,
                "hottest": hottest,
                "profile": prof,
                "overload": over,
            },
        )
        engine.dispose()
    finally:
        system.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
