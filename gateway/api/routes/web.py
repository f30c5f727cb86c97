"""The web apps (gateway/web/): landing page, leaders' dashboard, citizen, grid worker,
volunteer, enterprise and administration pages, served as static files by the gateway.

Plain Starlette routes (not API routes: outside the OpenAPI document and the API's
authorization matrix; ``include_router`` would drop a StaticFiles mount): only the app
folders below are served (never ``node_modules``), paths are resolved and checked to stay
inside their folder, and every HTML page carries a strict Content-Security-Policy (no
inline script, nothing from another origin: cities run on closed networks).

Pages are revalidated on every visit (``no-cache``) and name their scripts, styles and icons
by fingerprinted URLs (content hash in the name, see ``gateway.web_assets``) served
``immutable`` for a year, Brotli- or gzip-compressed: a returning phone downloads only the
page and what changed.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from gateway.web_assets import IMMUTABLE, AssetIndex, pick_encoding
from yiwang.errors import NotFound

router = APIRouter(include_in_schema=False)

WEB_ROOT = Path(__file__).resolve().parents[2] / "web"
APPS = ("dashboard", "citizen", "worker", "volunteer", "enterprise", "admin", "workbench")
ASSET_DIRS = ("common", "vendor")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
    "font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
HTML_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "geolocation=(self), camera=(self), microphone=()",
    "Cache-Control": "no-cache",
}
ASSET_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("application/manifest+json", ".webmanifest")
_assets: AssetIndex | None = None


def assets() -> AssetIndex:
    """The fingerprinted assets (built on first use, rebuilt when a file changes)."""
    global _assets
    if _assets is None:
        _assets = AssetIndex(WEB_ROOT, (*APPS, *ASSET_DIRS))
    return _assets


def _missing(path: str) -> NotFound:
    return NotFound("not_found", f"No page at {path}.", f"页面 {path} 不存在。")


async def _fingerprinted(request: Request, url: str) -> Response | None:
    asset = assets().fingerprinted(url)
    if asset is None:
        return None
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": IMMUTABLE,
        "Vary": "Accept-Encoding",
    }
    body = asset.body
    encoding = (
        pick_encoding(request.headers.get("accept-encoding", "")) if asset.compressible else None
    )
    if encoding:
        body = await run_in_threadpool(asset.encoded, encoding)
        headers["Content-Encoding"] = encoding
    return Response(body, media_type=asset.media_type, headers=headers)


def _page(source: str) -> Response | None:
    page = assets().page(source)
    if page is None:
        return None
    return Response(page, media_type="text/html; charset=utf-8", headers=HTML_HEADERS)


async def _serve(request: Request, folder: str, rel: str) -> Response:
    hit = await _fingerprinted(request, f"/{folder}/{rel}")
    if hit is not None:
        return hit
    target = (WEB_ROOT / folder / (rel or "index.html")).resolve()
    if target.is_dir():
        target = target / "index.html"
    if target.suffix == ".html" and target.is_relative_to((WEB_ROOT / folder).resolve()):
        page = _page("/" + target.relative_to(WEB_ROOT.resolve()).as_posix())
        if page is not None:
            return page
    return _file(folder, rel)


def _file(folder: str, rel: str) -> Response:
    base = (WEB_ROOT / folder).resolve()
    target = (base / (rel or "index.html")).resolve()
    if not target.is_relative_to(base) or any(p.startswith(".") for p in Path(rel).parts):
        raise _missing(f"/{folder}/{rel}")
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        raise _missing(f"/{folder}/{rel}")
    media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or media_type.endswith(("javascript", "json")):
        media_type += "; charset=utf-8"
    headers = HTML_HEADERS if target.suffix == ".html" else ASSET_HEADERS
    return FileResponse(target, media_type=media_type, headers=headers)


async def landing(request: Request) -> Response:
    rewritten = _page("/index.html")
    if rewritten is not None:
        return rewritten
    page = (WEB_ROOT / "index.html").resolve()
    if not page.is_file():
        raise _missing("/")
    return FileResponse(page, media_type="text/html; charset=utf-8", headers=HTML_HEADERS)


async def favicon(request: Request) -> Response:
    return _file("common", "icon.svg")


def _register(folder: str) -> None:
    async def redirect(request: Request) -> Response:
        return RedirectResponse(f"/{folder}/", status_code=308)

    async def serve(request: Request) -> Response:
        return await _serve(request, folder, request.path_params.get("path", ""))

    router.add_route(f"/{folder}", redirect, methods=["GET"], include_in_schema=False)
    router.add_route(f"/{folder}/", serve, methods=["GET"], include_in_schema=False)
    router.add_route(f"/{folder}/{{path:path}}", serve, methods=["GET"], include_in_schema=False)


router.add_route("/", landing, methods=["GET"], include_in_schema=False)
router.add_route("/favicon.ico", favicon, methods=["GET"], include_in_schema=False)
for _folder in (*APPS, *ASSET_DIRS):
    _register(_folder)
