"""Media uploads over HTTP: sniffing against the extension, EXIF stripped, thumbnails,
content-hash storage (the same photo twice is stored once)."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from gateway import problems
from gateway.api.routes import media as routes
from gateway.media.store import LocalMediaStore
from gateway.security import install
from yiwang.config import Settings


@pytest.fixture()
def client(tmp_path: Path) -> Any:
    app = FastAPI()
    app.include_router(routes.router)
    problems.install(app)
    install(app, [routes])
    app.state.resources = SimpleNamespace(settings=Settings(var_dir=str(tmp_path)), rpc=None,
                                          engine=None, redis=None)  # fmt: skip
    app.state.media_store = LocalMediaStore(tmp_path / "media")
    with TestClient(app) as c:
        yield c


def _jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (800, 600), (200, 30, 30))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (32.0, 3.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_upload_strips_exif_makes_thumbnail_and_dedupes(client: TestClient) -> None:
    data = _jpeg_with_gps()
    assert Image.open(io.BytesIO(data)).getexif().get(0x8825) is not None
    r = client.post("/api/v1/media", files={"file": ("photo.jpg", data, "image/jpeg")})
    assert r.status_code == 201, r.text
    body = r.json()
    again = client.post("/api/v1/media", files={"file": ("same.jpeg", data, "image/jpeg")})
    assert again.json()["media_id"] == body["media_id"]
    public = client.get(body["url"])
    assert public.status_code == 200 and public.headers["content-type"] == "image/jpeg"
    assert not Image.open(io.BytesIO(public.content)).getexif().get(0x8825)
    thumb = Image.open(io.BytesIO(client.get(body["thumbnail_url"]).content))
    assert max(thumb.size) <= 320


def test_refuses_files_that_are_not_what_they_claim(client: TestClient) -> None:
    png = io.BytesIO()
    Image.new("RGB", (4, 4)).save(png, format="PNG")
    r = client.post("/api/v1/media", files={"file": ("x.jpg", png.getvalue(), "image/jpeg")})
    assert r.status_code == 415 and r.json()["code"] == "extension_mismatch"
    r = client.post("/api/v1/media", files={"file": ("x.jpg", b"hello world, not a photo", "")})
    assert r.status_code == 415
    r = client.post("/api/v1/media", files={"file": ("x.exe", b"MZ\x90\x00" * 10, "")})
    assert r.status_code == 415
    assert client.get("/api/v1/media/../../etc/passwd").status_code == 404
    assert client.get("/api/v1/media/" + "0" * 64 + ".jpg").status_code == 404
