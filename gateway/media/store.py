"""Content-addressed media storage for report photos and videos (local file system).

Files are named by their SHA-256 (``ab/cd/<sha>.<ext>``), so the same photo uploaded twice is
stored once. Three trees under the root: ``original/`` (private: may carry EXIF location),
``public/`` (images re-encoded without metadata; videos as uploaded) and ``thumb/`` (JPEG
thumbnails). An S3-compatible store would implement the same three methods.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from gateway.media.checks import MediaInfo, MediaKind
from gateway.media.images import public_copy, thumbnail

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


def valid_media_id(media_id: str) -> bool:
    return bool(_KEY.match(media_id))


class LocalMediaStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

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
        self._write(self._path("original", media_id), data)
        thumb = False
        if info.kind is MediaKind.IMAGE:
            self._write(self._path("public", media_id), public_copy(data, info.mime))
            self._write(self._path("thumb", media_id, "jpg"), thumbnail(data))
            thumb = True
        else:
            self._write(self._path("public", media_id), data)
        return Stored(media_id, info.mime, info.kind.value, info.size, thumb)

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
