"""Content-addressed media storage for report photos and videos (local file system).

Files are named by their SHA-256 (``ab/cd/<sha>.<ext>``), so the same photo uploaded twice is
stored once. Three trees under the root: ``original/`` (private: may carry EXIF location),
``public/`` (images re-encoded without metadata; videos as uploaded) and ``thumb/`` (JPEG
thumbnails). Two marker trees track what uploads became: ``pending/`` (uploaded, referenced
by nothing yet; the marker's mtime is the upload time) and ``attached/`` (referenced by an
accepted write: a report, feedback, a work order). :meth:`LocalMediaStore.purge_orphans`
deletes uploads still pending after a day. An S3-compatible store would implement the same
methods (object tags and a lifecycle rule for the orphans).

Images are checked from their header before anything is decoded or written (pixel limit);
the gateway decodes the accepted ones in worker processes with a memory cap
(:mod:`gateway.media.decoder`), at most ``decode_concurrency`` at once.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from gateway.media.checks import MediaInfo, MediaKind
from gateway.media.decoder import DecoderPool
from gateway.media.images import MAX_PIXELS, Processed, process
from yiwang.config import Settings
from yiwang.logging import get_logger

log = get_logger(__name__)

Decoder = Callable[[bytes, str], Processed]
_KEY = re.compile(r"^[0-9a-f]{64}\.(jpg|png|webp|mp4)$")


@dataclass(frozen=True)
class Stored:
    media_id: str  # "<sha256>.<ext>": the reference reports and timelines carry
    mime: str
    kind: str
    size: int
    has_thumbnail: bool


class MediaStore(Protocol):
    def put(self, data: bytes, info: MediaInfo) -> Stored: ...

    def public_path(self, media_id: str) -> Path | None: ...

    def thumbnail_path(self, media_id: str) -> Path | None: ...

    def mark_attached(self, media_ids: Iterable[str]) -> int: ...

    def purge_orphans(self, max_age_s: float, now: float | None = None) -> int: ...

    def close(self) -> None: ...


def valid_media_id(media_id: str) -> bool:
    return bool(_KEY.match(media_id))


class LocalMediaStore:
    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        max_pixels: int = MAX_PIXELS,
        decode_concurrency: int = 2,
        decoder: Decoder | None = None,
    ) -> None:
        """``decoder``: makes the public copy and thumbnail (default: in this process, at
        most ``decode_concurrency`` at once; the gateway passes a
        :class:`gateway.media.decoder.DecoderPool`)."""
        self.root = Path(root)
        self.max_pixels = max_pixels
        self._decoding = threading.BoundedSemaphore(max(1, decode_concurrency))
        self._decoder = decoder or self._decode_here

    def _decode_here(self, data: bytes, mime: str) -> Processed:
        with self._decoding:  # refuses pixel bombs from the header, before decoding
            return process(data, mime, max_pixels=self.max_pixels)

    def _path(self, tree: str, media_id: str, ext: str | None = None) -> Path:
        sha, _, own_ext = media_id.partition(".")
        return self.root / tree / sha[:2] / sha[2:4] / f"{sha}.{ext or own_ext}"

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".up-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)  # atomic: readers never see half a file

    def put(self, data: bytes, info: MediaInfo) -> Stored:
        media_id = f"{info.sha256}.{info.ext}"
        processed = None
        if info.kind is MediaKind.IMAGE:
            processed = self._decoder(data, info.mime)
        self._write(self._path("original", media_id), data)
        if processed is not None:
            self._write(self._path("public", media_id), processed.public)
            self._write(self._path("thumb", media_id, "jpg"), processed.thumbnail)
        else:
            self._write(self._path("public", media_id), data)
        if not self._path("attached", media_id).exists():
            marker = self._path("pending", media_id)
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()  # (re)starts the day an unattached upload is kept
        return Stored(media_id, info.mime, info.kind.value, info.size, processed is not None)

    def close(self) -> None:
        closer = getattr(self._decoder, "close", None)
        if closer is not None:
            closer()

    def mark_attached(self, media_ids: Iterable[str]) -> int:
        """Uploads an accepted write references are kept for good; returns how many."""
        n = 0
        for media_id in set(media_ids):
            if not valid_media_id(media_id) or not self._path("original", media_id).exists():
                continue
            marker = self._path("attached", media_id)
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
            self._path("pending", media_id).unlink(missing_ok=True)
            n += 1
        return n

    def purge_orphans(self, max_age_s: float, now: float | None = None) -> int:
        """Delete uploads that nothing attached within ``max_age_s``; returns how many."""
        cutoff = (time.time() if now is None else now) - max_age_s
        purged = 0
        pending = self.root / "pending"
        if not pending.exists():
            return 0
        for marker in pending.glob("*/*/*"):
            media_id = marker.name
            try:
                if not valid_media_id(media_id) or marker.stat().st_mtime >= cutoff:
                    continue
            except FileNotFoundError:
                continue
            if not self._path("attached", media_id).exists():
                for path in (
                    self._path("original", media_id),
                    self._path("public", media_id),
                    self._path("thumb", media_id, "jpg"),
                ):
                    path.unlink(missing_ok=True)
                purged += 1
            marker.unlink(missing_ok=True)
        if purged:
            log.info("media_orphans_purged", count=purged)
        return purged

    def public_path(self, media_id: str) -> Path | None:
        if not valid_media_id(media_id):
            return None
        p = self._path("public", media_id)
        return p if p.exists() else None

    def thumbnail_path(self, media_id: str) -> Path | None:
        if not valid_media_id(media_id):
            return None
        p = self._path("thumb", media_id, "jpg")
        return p if p.exists() else None


def media_store_of(state: Any, settings: Settings) -> MediaStore:
    """The process's store (built once, on first use, from the settings)."""
    store = getattr(state, "media_store", None)
    if store is None:
        decoder = None
        if settings.media_decode_memory_mib > 0:  # 0: decode in the gateway process itself
            decoder = DecoderPool(
                settings.media_decode_concurrency,
                settings.media_decode_memory_mib,
                settings.media_max_pixels,
            )
        store = LocalMediaStore(
            os.path.join(settings.var_dir, "media"),
            max_pixels=settings.media_max_pixels,
            decode_concurrency=settings.media_decode_concurrency,
            decoder=decoder,
        )
        state.media_store = store
    return store  # type: ignore[no-any-return]
