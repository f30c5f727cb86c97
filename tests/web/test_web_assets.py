"""Static web assets: fingerprinted URLs served immutable and compressed, pages no-cache,
JSON answers compressed, live streams never compressed (gateway/web_assets.py, web.py)."""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import brotli
import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import StreamingResponse

from gateway.main import create_app
from gateway.web_assets import IMMUTABLE, AssetIndex

PAGES = ["/", "/citizen/", "/worker/", "/volunteer/", "/enterprise/", "/dashboard/", "/admin/"]
FINGERPRINTED = re.compile(r"""["'](/[\w./-]+\.[0-9a-f]{10}\.\w+)["']""")
PLAIN_REF = re.compile(r"""(?:from|import)\s*\(?\s*["'](\.{1,2}/[^"']+)["']""")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app()

    async def events(request: Request) -> StreamingResponse:
        async def gen() -> Iterator[bytes]:  # type: ignore[misc]
            for i in range(3):
                yield f"event: tick\ndata: {'x' * 800} {i}\n\n".encode()

        return StreamingResponse(gen(), media_type="text/event-stream")

    app.add_route("/__test/events", events)  # a stream shaped like /api/v1/live/cases
    yield TestClient(app)  # no lifespan: static files and /openapi.json need no services


def raw(client: TestClient, url: str, encoding: str = "br, gzip") -> tuple[bytes, dict[str, str]]:
    """The bytes on the wire (not decoded) and the headers."""
    with client.stream("GET", url, headers={"Accept-Encoding": encoding}) as r:
        assert r.status_code == 200, url
        return b"".join(r.iter_raw()), dict(r.headers)


def decode(body: bytes, headers: dict[str, str]) -> bytes:
    enc = headers.get("content-encoding")
    return (
        brotli.decompress(body) if enc == "br" else gzip.decompress(body) if enc == "gzip" else body
    )


def crawl(client: TestClient, page: str) -> dict[str, tuple[bytes, dict[str, str]]]:
    html = client.get(page).text
    seen: dict[str, tuple[bytes, dict[str, str]]] = {}
    todo = FINGERPRINTED.findall(html)
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen[url] = raw(client, url)
        if url.endswith(".js"):
            todo += FINGERPRINTED.findall(decode(*seen[url]).decode())
    return seen


@pytest.mark.parametrize("page", PAGES)
def test_pages_name_fingerprinted_assets_served_immutable(client: TestClient, page: str) -> None:
    r = client.get(page)
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-cache"
    assert "Content-Security-Policy" in r.headers
    assert not re.search(r"""(?:src|href)=["'](?!/[\w./-]+\.[0-9a-f]{10}\.\w+["'])[./]""", r.text)
    assets = crawl(client, page)
    assert any(u.endswith(".js") for u in assets) and any(u.endswith(".css") for u in assets)
    for url, (body, headers) in assets.items():
        assert headers["cache-control"] == IMMUTABLE, url
        plain = decode(body, headers)
        # the name's hash is the served content's hash
        assert url.rsplit(".", 2)[1] == hashlib.sha256(plain).hexdigest()[:10], url
        if url.endswith(".js"):
            assert not PLAIN_REF.findall(plain.decode()), f"{url} imports an unfingerprinted path"
            # tiny files (under 256 bytes) go as they are: compressing them gains nothing
            assert headers.get("content-encoding") == ("br" if len(plain) > 256 else None), url


def test_compression_follows_accept_encoding(client: TestClient) -> None:
    url = FINGERPRINTED.findall(client.get("/dashboard/").text)[-1]
    br, h1 = raw(client, url, "br")
    gz, h2 = raw(client, url, "gzip")
    plain, h3 = raw(client, url, "identity")
    assert (h1.get("content-encoding"), h2.get("content-encoding")) == ("br", "gzip")
    assert "content-encoding" not in h3
    assert brotli.decompress(br) == gzip.decompress(gz) == plain
    assert len(br) < len(plain) / 2


def test_echarts_is_fingerprinted_and_loaded_only_on_demand(client: TestClient) -> None:
    citizen = crawl(client, "/citizen/")
    map_js = next(decode(*v).decode() for u, v in citizen.items() if "/common/map." in u)
    echarts = re.search(r'"(/vendor/echarts\.min\.[0-9a-f]{10}\.js)"', map_js)
    assert echarts, "map.js loads ECharts by its fingerprinted URL"
    body, headers = raw(client, echarts.group(1))
    assert headers["content-encoding"] == "br" and len(body) < 320_000


def test_json_answers_are_compressed(client: TestClient) -> None:
    body, headers = raw(client, "/openapi.json", "gzip, deflate, br, zstd")
    assert headers.get("content-encoding") in {"br", "zstd", "gzip"}
    assert len(body) < 200_000  # 2.6 MB uncompressed


def test_event_streams_are_never_compressed(client: TestClient) -> None:
    body, headers = raw(client, "/__test/events")
    assert headers["content-type"].startswith("text/event-stream")
    assert "content-encoding" not in headers
    assert body.count(b"event: tick") == 3


def test_a_change_renames_the_file_and_every_importer(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "lib").mkdir()
    (tmp_path / "app" / "index.html").write_text('<script type="module" src="./main.js"></script>')
    (tmp_path / "app" / "main.js").write_text(
        'import { x } from "../lib/x.js";\nexport const y = x;\n'
    )
    (tmp_path / "lib" / "x.js").write_text("export const x = 1;\n")
    index = AssetIndex(tmp_path, ("app", "lib"))
    main1, x1 = index.url_for("/app/main.js"), index.url_for("/lib/x.js")
    assert f'"{x1}"' in index.fingerprinted(main1).body.decode()  # type: ignore[union-attr]
    assert main1.encode() in index.page("/app/index.html")  # type: ignore[operator]
    (tmp_path / "lib" / "x.js").write_text("export const x = 2;\n")
    page = index.page("/app/index.html")  # rebuilt: a file changed
    main2, x2 = index.url_for("/app/main.js"), index.url_for("/lib/x.js")
    assert x2 != x1 and main2 != main1 and main2.encode() in page  # type: ignore[operator]
    assert index.fingerprinted(main1) is not None  # a page loaded before still works


def test_an_import_cycle_leaves_everything_at_plain_urls(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text('<script type="module" src="./one.js"></script>')
    (tmp_path / "a" / "one.js").write_text('import "./two.js";\n')
    (tmp_path / "a" / "two.js").write_text('import "./one.js";\n')
    index = AssetIndex(tmp_path, ("a",))
    assert "cycle" in index.error
    # web.py then serves the page file and the scripts as they are (no-cache)
    assert index.page("/a/index.html") is None and not index.by_url
    (tmp_path / "a" / "two.js").write_text("export const two = 2;\n")
    assert index.page("/a/index.html") is not None and not index.error  # fixed: fingerprinted


def test_pages_preload_their_static_imports_only(client: TestClient) -> None:
    citizen = client.get("/citizen/").text
    preloaded = re.findall(r'<link rel="modulepreload" href="([^"]+)">', citizen)
    assert any("/common/api/client." in u for u in preloaded)
    assert any("/common/map." in u for u in preloaded)
    assert not any("echarts" in u for u in preloaded)  # loaded on demand, by the map picker
    volunteer = client.get("/volunteer/").text
    assert "/volunteer/app." in volunteer and "/volunteer/qr." not in volunteer  # import()
    # the preloaded modules are exactly what the scripts import, nothing else
    imported = {u for u in crawl(client, "/citizen/") if u.endswith(".js")}
    assert set(preloaded) <= imported
