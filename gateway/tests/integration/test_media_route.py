"""Media uploads over HTTP (the whole gateway app, real Redis): sniffing against the
extension, EXIF stripped, thumbnails, content-hash storage; who may upload (sign-in or an
upload token), quotas, pixel bombs refused from the header, decoding in capped worker
processes, orphans purged after a day (issue [Security] 6)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from gateway.security import Principal
from gateway.tests.conftest import gateway_client, token_for

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]


def _png(size: tuple[int, int] = (4, 4), mode: str = "RGB", color: Any = 0) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, format="PNG")
    return out.getvalue()


def pixel_bomb() -> bytes:
    """The attack: 7000×7000 RGBA (196 MB decoded) in ~190 KiB of PNG."""
    return _png((7000, 7000), "RGBA", (0, 0, 0, 0))


def _jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (800, 600), (200, 30, 30))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (32.0, 3.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def citizen(client: TestClient) -> dict[str, str]:
    p = Principal(str(uuid.uuid4()), "citizen", "市民", "")
    return {"Authorization": f"Bearer {token_for(client.settings, p)}"}  # type: ignore[attr-defined]


def up(client: TestClient, data: bytes, name: str = "p.png", **headers: str) -> Any:
    return client.post("/api/v1/media", files={"file": (name, data, "")}, headers=headers)


@pytest.fixture(scope="module")
def var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="module")
def client(resources, var: Path) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with gateway_client(resources, var_dir=str(var)) as c:
        yield c


def test_upload_strips_exif_makes_thumbnail_and_dedupes(client: TestClient) -> None:
    me = citizen(client)
    data = _jpeg_with_gps()
    assert Image.open(io.BytesIO(data)).getexif().get(0x8825) is not None
    r = up(client, data, "photo.jpg", **me)
    assert r.status_code == 201, r.text
    body = r.json()
    again = up(client, data, "same.jpeg", **me)
    assert again.json()["media_id"] == body["media_id"]
    public = client.get(body["url"])
    assert public.status_code == 200 and public.headers["content-type"] == "image/jpeg"
    assert not Image.open(io.BytesIO(public.content)).getexif().get(0x8825)
    thumb = Image.open(io.BytesIO(client.get(body["thumbnail_url"]).content))
    assert max(thumb.size) <= 320


def test_refuses_files_that_are_not_what_they_claim(client: TestClient) -> None:
    me = citizen(client)
    r = up(client, _png(), "x.jpg", **me)
    assert r.status_code == 415 and r.json()["code"] == "extension_mismatch"
    assert up(client, b"hello world, not a photo", "x.jpg", **me).status_code == 415
    assert up(client, b"MZ\x90\x00" * 10, "x.exe", **me).status_code == 415
    assert client.get("/api/v1/media/../../etc/passwd").status_code == 404
    assert client.get("/api/v1/media/" + "0" * 64 + ".jpg").status_code == 404


def test_anonymous_upload_needs_an_upload_token(client: TestClient) -> None:
    """Uploads needed no sign-in at all."""
    r = up(client, _png(color=1))
    assert r.status_code == 401 and r.json()["code"] == "upload_token_required", r.text
    r = up(client, _png(color=1), **{"X-Upload-Token": "up_forged"})
    assert r.status_code == 401 and r.json()["code"] == "invalid_upload_token", r.text
    issued = client.post("/api/v1/media/upload-tokens")
    assert issued.status_code == 201, issued.text
    token = issued.json()["upload_token"]
    assert issued.json()["max_files"] == 9 and issued.json()["expires_in"] > 0
    for n in range(9):
        r = up(client, _png(color=(n, 2, 3)), **{"X-Upload-Token": token})
        assert r.status_code == 201, r.text
    r = up(client, _png(color=(9, 2, 3)), **{"X-Upload-Token": token})
    assert r.status_code == 429 and r.json()["code"] == "upload_token_used_up", r.text
    # never in the query string
    r = client.post(f"/api/v1/media?upload_token={token}", files={"file": ("p.png", _png(), "")})
    assert r.status_code == 400 and r.json()["code"] == "credentials_in_query"


def test_upload_tokens_are_rate_limited_per_address(resources, var: Path) -> None:  # type: ignore[no-untyped-def]
    with gateway_client(resources, var_dir=str(var), media_upload_tokens_per_ip_hour=3) as c:
        codes = [c.post("/api/v1/media/upload-tokens").status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]


def test_daily_quota_per_account(resources, var: Path) -> None:  # type: ignore[no-untyped-def]
    with gateway_client(
        resources,
        var_dir=str(var),
        media_quota_files_per_day=2,
        media_quota_bytes_per_day=10_000_000,
    ) as c:
        a, b = citizen(c), citizen(c)
        assert [up(c, _png(color=(n, 9, 9)), **a).status_code for n in range(2)] == [201, 201]
        r = up(c, _png(color=(3, 9, 9)), **a)
        assert r.status_code == 429 and r.json()["code"] == "media_quota_exceeded", r.text
        assert up(c, _png(color=(4, 9, 9)), **b).status_code == 201  # another account
    with gateway_client(resources, var_dir=str(var), media_quota_bytes_per_day=1000) as c:
        big = _png((64, 64), "RGB", (1, 2, 3))
        noisy = Image.frombytes("RGB", (64, 64), os.urandom(64 * 64 * 3))
        out = io.BytesIO()
        noisy.save(out, format="PNG")
        assert len(out.getvalue()) > 1000 and len(big) < 1000
        a = citizen(c)
        assert up(c, big, **a).status_code == 201
        r = up(c, out.getvalue(), **a)
        assert r.status_code == 429 and r.json()["code"] == "media_quota_exceeded", r.text


def test_pixel_bomb_is_refused_from_the_header(client: TestClient, var: Path) -> None:
    me = citizen(client)
    bomb = pixel_bomb()
    assert len(bomb) < 300 * 1024
    stored = sorted((var / "media").rglob("*.*"))
    started = time.monotonic()
    r = up(client, bomb, "bomb.png", **me)
    elapsed = time.monotonic() - started
    assert r.status_code == 413 and r.json()["code"] == "image_too_many_pixels", r.text
    assert "20,000,000" in r.json()["detail"] + r.text
    assert elapsed < 2.0, elapsed
    assert sorted((var / "media").rglob("*.*")) == stored  # nothing of it stored


RSS_PROBE = """
import io, json, sys, time, uuid
from fastapi.testclient import TestClient
from PIL import Image
from gateway.main import create_app
from gateway.security import Principal
from gateway.tests.conftest import token_for
from gateway.tests.integration.test_media_route import pixel_bomb, _png
from yiwang.config import Settings

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024

settings = Settings(var_dir=sys.argv[1], otp_log_codes=False)
bomb = pixel_bomb()
with TestClient(create_app(settings)) as c:
    p = Principal(str(uuid.uuid4()), "citizen", "x", "")
    h = {"Authorization": "Bearer " + token_for(settings, p)}
    warm = c.post("/api/v1/media", files={"file": ("w.png", _png((640, 480)), "")}, headers=h)
    assert warm.status_code == 201, warm.text
    before = hwm()
    t = time.monotonic()
    r = c.post("/api/v1/media", files={"file": ("bomb.png", bomb, "")}, headers=h)
    bomb_out = {"status": r.status_code, "code": r.json().get("code"), "seconds":
                time.monotonic() - t, "hwm_before_mib": before, "hwm_after_mib": hwm()}
    big = _png((5000, 4000), "RGBA", (1, 2, 3, 4))  # 20 MP: accepted, decoded in a worker
    before = hwm()
    t = time.monotonic()
    r = c.post("/api/v1/media", files={"file": ("big.png", big, "")}, headers=h)
    big_out = {"status": r.status_code, "seconds": time.monotonic() - t,
               "hwm_before_mib": before, "hwm_after_mib": hwm()}
    print(json.dumps({"bomb": bomb_out, "big": big_out}))
"""


def test_pixel_bomb_costs_little_memory(resources, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Measured in a fresh process: its peak RSS (VmHWM) before and after the bomb. The
    attack raised the gateway from 248 to 635 MiB and never returned."""
    env = {**os.environ, **resources.env(), "YIWANG_REDIS_PREFIX": f"{resources.redis_prefix}rss:"}
    out = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, str(tmp_path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    both = json.loads(out.stdout.strip().splitlines()[-1])
    print("pixel bomb and a large accepted image:", both)
    got = both["bomb"]
    assert got["status"] == 413 and got["code"] == "image_too_many_pixels"
    assert got["hwm_after_mib"] - got["hwm_before_mib"] < 32, got
    assert got["seconds"] < 2.0, got
    big = both["big"]  # 80 MB decoded, in a worker process: the gateway does not grow
    assert big["status"] == 201 and big["hwm_after_mib"] - big["hwm_before_mib"] < 32, big


def test_decoding_is_capped_in_memory(resources, var: Path) -> None:  # type: ignore[no-untyped-def]
    with gateway_client(
        resources, var_dir=str(var), media_decode_memory_mib=64, media_decode_concurrency=1
    ) as c:
        me = citizen(c)
        r = up(c, _png((5000, 4000), "RGBA", (1, 2, 3, 5)), "big.png", **me)
        assert r.status_code == 413 and r.json()["code"] == "image_too_much_memory", r.text
        assert up(c, _png((640, 480), "RGB", (5, 6, 7)), **me).status_code == 201  # still works


def test_orphans_are_purged_after_a_day_attached_uploads_kept(
    client: TestClient, var: Path
) -> None:
    me = citizen(client)
    orphan = up(client, _png(color=(7, 7, 7)), **me).json()["media_id"]
    kept = up(client, _png(color=(8, 8, 8)), **me).json()["media_id"]
    fresh = up(client, _png(color=(9, 9, 9)), **me).json()["media_id"]
    report = {
        "category": "appearance.litter",
        "description": "井盖缺失",
        "lat": 32.05,
        "lon": 118.79,
        "media": [kept],
    }
    r = client.post("/api/v1/reports", json=report, headers=me)
    assert r.status_code == 202, r.text
    refused = {**report, "lat": "3_2.05", "media": [fresh]}  # a refused write attaches nothing
    assert client.post("/api/v1/reports", json=refused, headers=me).status_code == 422
    store = client.app.state.media_store  # type: ignore[attr-defined]
    day_old = time.time() - 25 * 3600
    for media_id in (orphan, kept):
        marker = store._path("pending", media_id)
        if marker.exists():
            os.utime(marker, (day_old, day_old))
    assert not store._path("pending", kept).exists()  # attached: no longer pending
    purged = store.purge_orphans(client.settings.media_orphan_max_age_s)  # type: ignore[attr-defined]
    assert purged == 1
    assert client.get(f"/api/v1/media/{orphan}").status_code == 404
    assert not store._path("original", orphan).exists()
    assert client.get(f"/api/v1/media/{kept}").status_code == 200
    assert client.get(f"/api/v1/media/{fresh}").status_code == 200  # younger than a day
