"""Fingerprinted, precompressed web assets for the static web apps (gateway/web/).

Every file under the served folders gets a second URL with a hash of its content in the name
(``/common/dom.js`` -> ``/common/dom.3f2a9c01be.js``), served with
``Cache-Control: public, max-age=31536000, immutable``: a phone downloads each version once.
References between files are rewritten to those URLs: ``src``/``href`` in the HTML pages (which
stay at their plain URLs, revalidated on every visit) and, in JavaScript, module specifiers and
string literals naming another served file (``import x from "../common/dom.js"``,
``import("./qr.js")``, ``"/vendor/echarts.min.js"``). A file's hash covers the rewritten text,
so it changes whenever anything it imports changes. Modules that import each other in a
cycle cannot be named by their content: then nothing is fingerprinted (pages and files are
served at their plain URLs, revalidated every time) and the cycle is logged.

Bodies are compressed once, on first request (Brotli, gzip), and kept in memory; the index is
rebuilt when a file under the folders changes (old URLs keep working until the restart).
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin

import brotli

from yiwang.logging import get_logger

log = get_logger(__name__)

HASH_LEN = 10
# string literals that look like a served file path: "./x.js", "../common/y.js", "/vendor/z.js"
JS_REF = re.compile(r"""(["'])((?:\.{1,2}/|/)[\w./-]+\.\w+)\1""")
HTML_REF = re.compile(r"""\b(src|href)=(["'])([^"'#?]+)\2""")
MODULE_SCRIPT = re.compile(r"""<script\b[^>]*\btype=["']module["'][^>]*\bsrc=["']([^"']+)["']""")
STATIC_IMPORT_BEFORE = re.compile(r"""(?:\bfrom|\bimport)\s*$""")
TEXT_SUFFIXES = {".js", ".mjs", ".css", ".svg", ".json", ".webmanifest", ".html", ".txt"}
IMMUTABLE = "public, max-age=31536000, immutable"


def media_type_of(name: str) -> str:
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or media_type.endswith(("javascript", "json", "+xml")):
        media_type += "; charset=utf-8"
    return media_type


@dataclass
class Asset:
    source: str  # "/common/dom.js"
    url: str  # "/common/dom.3f2a9c01be.js"
    body: bytes
    media_type: str
    imports: tuple[str, ...] = ()  # sources this module imports statically (loaded with it)
    _encoded: dict[str, bytes] = field(default_factory=dict)

    def encoded(self, encoding: str) -> bytes:
        """The body in ``br`` or ``gzip`` (computed once; call off the event loop)."""
        if encoding not in self._encoded:
            if encoding == "br":
                quality = 11 if len(self.body) < 256 * 1024 else 9  # q11 of 1 MB takes ~3 s
                self._encoded[encoding] = brotli.compress(self.body, quality=quality)
            elif encoding == "gzip":
                self._encoded[encoding] = gzip.compress(self.body, 9, mtime=0)
            else:
                raise ValueError(encoding)
        return self._encoded[encoding]

    @property
    def compressible(self) -> bool:
        return PurePosixPath(self.source).suffix in TEXT_SUFFIXES and len(self.body) > 256


def pick_encoding(accept_encoding: str) -> str | None:
    """``br`` or ``gzip`` if the client takes it (q > 0), else None (identity)."""
    offered: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        offered[name.strip().lower()] = q
    for encoding in ("br", "gzip"):
        if offered.get(encoding, offered.get("*", 0.0)) > 0:
            return encoding
    return None


class AssetIndex:
    """The fingerprinted assets of ``folders`` under ``root`` and the pages' rewritten HTML."""

    def __init__(self, root: Path, folders: Sequence[str]) -> None:
        self.root = root.resolve()
        self.folders = tuple(folders)
        self._lock = threading.Lock()
        self._signature: tuple[tuple[str, int, int], ...] | None = None
        self.by_source: dict[str, Asset] = {}
        self.by_url: dict[str, Asset] = {}
        self.pages: dict[str, bytes] = {}
        self.error = ""
        self.refresh()

    # ---- building
    def _files(self) -> list[Path]:
        out = []
        for folder in self.folders:
            base = self.root / folder
            if not base.is_dir():
                continue
            for path in base.rglob("*"):
                rel = path.relative_to(self.root)
                if path.is_file() and not any(p.startswith(".") for p in rel.parts):
                    out.append(path)
        index = self.root / "index.html"
        if index.is_file():
            out.append(index)
        return sorted(out)

    def refresh(self) -> None:
        """Rebuild when any file was added, removed or changed since the last build."""
        files = self._files()
        signature = tuple(
            (str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files if p.exists()
        )
        if signature == self._signature:
            return
        with self._lock:
            if signature == self._signature:
                return
            try:
                self._build(files)
                self.error = ""
            except RuntimeError as e:  # an import cycle: serve everything unfingerprinted
                self.error = str(e)
                self.by_source, self.pages = {}, {}
                log.error("web_assets_not_fingerprinted", error=self.error)
            self._signature = signature

    def _build(self, files: list[Path]) -> None:
        raw = {"/" + p.relative_to(self.root).as_posix(): p.read_bytes() for p in files}
        done: dict[str, Asset] = {}
        visiting: set[str] = set()

        def resolve(ref: str, base: str) -> str | None:
            target = urljoin(base, ref)
            return target if target in raw and not target.endswith(".html") else None

        def asset(source: str) -> Asset:
            if source in done:
                return done[source]
            if source in visiting:
                raise RuntimeError(f"import cycle through {source}: cannot fingerprint it")
            visiting.add(source)
            body = raw[source]
            imports: list[str] = []
            if source.endswith((".js", ".mjs")):
                text = body.decode("utf-8")

                def sub(m: re.Match[str]) -> str:
                    target = resolve(m.group(2), source)
                    if target is None or target == source:
                        return m.group(0)
                    if STATIC_IMPORT_BEFORE.search(text[max(0, m.start() - 12) : m.start()]):
                        imports.append(target)
                    return f"{m.group(1)}{asset(target).url}{m.group(1)}"

                body = JS_REF.sub(sub, text).encode("utf-8")
            digest = hashlib.sha256(body).hexdigest()[:HASH_LEN]
            path = PurePosixPath(source)
            url = str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))
            visiting.discard(source)
            done[source] = Asset(source, url, body, media_type_of(path.name), tuple(imports))
            return done[source]

        def closure(source: str, out: dict[str, None]) -> dict[str, None]:
            for dep in done[source].imports:
                if dep not in out:
                    out[dep] = None
                    closure(dep, out)
            return out

        for source in raw:
            if not source.endswith(".html"):
                asset(source)
        pages = {}
        for source in raw:
            if source.endswith(".html"):
                base = source[: -len("index.html")] if source.endswith("/index.html") else source
                text = raw[source].decode("utf-8")

                def sub_html(m: re.Match[str], base: str = base) -> str:
                    target = resolve(m.group(3), base)
                    if target is None:
                        return m.group(0)
                    return f"{m.group(1)}={m.group(2)}{done[target].url}{m.group(2)}"

                # every module the page's scripts import, asked for at once (not import by
                # import: one round trip instead of three on a slow network)
                preload: dict[str, None] = {}
                for src in MODULE_SCRIPT.findall(text):
                    entry = resolve(src, base)
                    if entry is not None:
                        closure(entry, preload)
                links = "".join(
                    f'<link rel="modulepreload" href="{done[dep].url}">\n' for dep in preload
                )
                text = HTML_REF.sub(sub_html, text).replace("</head>", links + "</head>", 1)
                pages[source] = text.encode("utf-8")
        self.by_source = done
        self.by_url = {**self.by_url, **{a.url: a for a in done.values()}}
        self.pages = pages

    # ---- lookups
    def page(self, source: str) -> bytes | None:
        """The HTML page at ``source`` ("/citizen/index.html") with fingerprinted references."""
        self.refresh()
        return self.pages.get(source)

    def fingerprinted(self, url: str) -> Asset | None:
        return self.by_url.get(url)

    def url_for(self, source: str) -> str:
        """The fingerprinted URL of ``source`` (KeyError when not fingerprinted)."""
        return self.by_source[source].url
