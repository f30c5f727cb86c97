"""What each web app downloads at start, cold cache, in headless Chromium (page_weight.mjs):
no /openapi.json, no 404 or 5xx, text compressed, the citizen page under 300 KB on the wire,
ECharts only where a chart is shown. Prints a table of bytes and requests per page; keeps
screenshots at 390×844 and 1440×900 in test-artifacts/browser/weight-*.png."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.support.system import System

pytestmark = pytest.mark.e2e
HERE = os.path.dirname(os.path.abspath(__file__))
CITIZEN_BUDGET = 300 * 1024


def table(pages: list[dict]) -> str:
    rows = [f"{'page':<24}{'size':<9}{'KB (wire)':>10}{'requests':>10}{'ms':>7}  largest"]
    for p in pages:
        rows.append(
            f"{p['name']:<24}{p['size']:<9}{p['bytes'] / 1024:>10.1f}{p['requests']:>10}"
            f"{p['elapsed_ms']:>7}  {', '.join(p['largest'][:2])}"
        )
    return "\n".join(rows)


def test_pages_download_little_at_start(system: System, chromium: str, artifacts: str) -> None:
    env = {**os.environ, "BASE_URL": system.base_url, "CHROMIUM": chromium, "ARTIFACTS": artifacts}
    r = subprocess.run(
        ["node", os.path.join(HERE, "page_weight.mjs")],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert r.returncode == 0, r.stderr[-4000:]
    pages = json.loads(r.stdout.strip().splitlines()[-1])["pages"]
    report = table(pages)
    print("\n" + report)
    with open(os.path.join(artifacts, "page-weight.txt"), "w", encoding="utf-8") as f:
        f.write(report + "\n")

    assert len(pages) == 24
    for p in pages:
        where = f"{p['name']} at {p['size']}"
        assert p["shown"], f"{where}: first screen never appeared"
        assert p["openapi"] == 0, f"{where} downloads /openapi.json"
        assert not p["bad"], f"{where}: {p['bad']}"
        assert not p["refused"], f"{where}: {p['refused']}"
        assert not p["uncompressed_text"], f"{where}: {p['uncompressed_text']}"
        assert not p["errors"], f"{where}: {p['errors']}"
        assert not p["shows"], f"{where} shows {p['shows']!r}"
        assert os.path.getsize(p["screenshot"]) > 5000, p["screenshot"]
        if not p["name"].startswith("dashboard"):
            # ECharts is for maps and charts: loaded only when one is drawn
            assert not any("echarts" in x for x in p["largest"]), f"{where}: {p['largest']}"
    # the leaders' dashboard follows the live stream, which is never compressed
    for p in (p for p in pages if p["name"] == "dashboard (signed in)"):
        assert p["streams"] == ["identity /api/v1/live/cases"], p["streams"]
    citizen = [p for p in pages if p["name"] == "citizen"]
    for p in citizen:
        assert p["bytes"] < CITIZEN_BUDGET, f"citizen page at {p['size']}: {p['bytes']} bytes"
        assert p["requests"] <= 30, p
