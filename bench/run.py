"""``make bench``: every benchmark beside its raw baseline, one line per figure.

Not a test: it never fails on speed. Results are also written as JSON to bench/results/.
Sub-benchmarks (bench/<area>_bench.py) run as separate processes when present.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from bench.baseline import broker_baseline
from bench.common import write_result
from bench.ingest import run_ingest
from tests.support.resources import TestResources

HERE = os.path.dirname(os.path.abspath(__file__))
SUB_BENCHES = [
    "grids_bench",
    "grids_rpc_bench",
    "command_bench",
    "volunteers_bench",
    "sse_bench",
    "dashboard_bench",
    "load_bench",
]


def main() -> int:
    # SIGTERM (make, CI, a user) must still run the finally blocks that stop processes
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    res = TestResources.create("benchbase")
    try:
        base = broker_baseline(res.amqp_uri)
    finally:
        res.destroy()
    print(
        f"baseline: raw publish+consume {base['rate_per_s']:,.0f} msg/s "
        f"(pika, confirms, quorum queue), p50 {base['p50_ms']} ms, p99 {base['p99_ms']} ms"
    )
    ing = run_ingest(
        n=int(os.environ.get("BENCH_REPORTS", "2000")),
        concurrency=int(os.environ.get("BENCH_CONCURRENCY", "32")),
    )
    ratio = ing["rate_per_s"] / base["rate_per_s"]
    print(
        f"ingest: {ing['rate_per_s']:,.0f} reports/s, ratio {ratio:.3f} to baseline "
        f"(raw publish+consume {base['rate_per_s']:,.0f} msg/s), "
        f"report→view p50 {ing['report_to_view']['p50_ms']} ms, "
        f"p99 {ing['report_to_view']['p99_ms']} ms; HTTP 202 p50 {ing['http']['p50_ms']} ms, "
        f"p99 {ing['http']['p99_ms']} ms ({ing['accepted']} accepted, refused by status {ing['errors']})"
    )
    path = write_result("ingest", {"baseline": base, "ingest": ing, "ratio": ratio})
    print(f"results: {os.path.relpath(path)}")
    only = os.environ.get("BENCH_ONLY")
    for name in SUB_BENCHES:
        if only and name not in only.split(","):
            continue
        if os.path.exists(os.path.join(HERE, f"{name}.py")):
            print(f"--- {name}")
            subprocess.run([sys.executable, "-m", f"bench.{name}"], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
