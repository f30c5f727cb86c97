"""Photo and video uploads for reports and case feedback: type sniffing that must agree
with the extension, size limits, EXIF stripped from the public copy, thumbnails, stored by
content hash (``var/media`` by default)."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import FileResponse

from gateway.deps import ResourcesDep
from gateway.media.checks import MediaInspector, MediaPolicy
from gateway.media.store import LocalMediaStore, MediaStore
from gateway.security import Principal, optional_principal
from yiwang.errors import NotFound

router = APIRouter(prefix="/api/v1/media", tags=["media"])
CHUNK = 256 * 1024
MIME_BY_EXT = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "mp4": "video/mp4"}


def media_store(request: Request, res: ResourcesDep) -> MediaStore:
    store = getattr(request.app.state, "media_store", None)
    if store is None:
        store = LocalMediaStore(os.path.join(res.settings.var_dir, "media"))
        request.app.state.media_store = store
    return store  # type: ignore[no-any-return]


StoreDep = Annotated[MediaStore, Depends(media_store)]


def _missing(media_id: str) -> NotFound:
    return NotFound("media_not_found", f"no media {media_id}", f"文件{media_id}不存在",
                    media_id=media_id)  # fmt: skip


@router.post("", status_code=201, summary="Upload a photo (JPEG/PNG/WebP) or video (MP4)")
async def upload(
    store: StoreDep,
    file: Annotated[UploadFile, File()],
    who: Annotated[Principal | None, Depends(optional_principal)] = None,
) -> dict[str, Any]:
    inspector = MediaInspector(file.filename or "", MediaPolicy())
    parts: list[bytes] = []
    while chunk := await file.read(CHUNK):
        inspector.feed(chunk)  # refuses as soon as the type or a limit is wrong
        parts.append(chunk)
    info = inspector.finish()
    stored = await asyncio.to_thread(store.put, b"".join(parts), info)
    base = f"/api/v1/media/{stored.media_id}"
    return {
        "media_id": stored.media_id, "mime": stored.mime, "kind": stored.kind,
        "size": stored.size, "url": base,
        "thumbnail_url": f"{base}/thumbnail" if stored.has_thumbnail else None,
    }  # fmt: skip


@router.get("/{media_id}", summary="The public copy (no EXIF location)")
async def public_file(
    media_id: str, store: StoreDep,
    who: Annotated[Principal | None, Depends(optional_principal)] = None,
) -> FileResponse:  # fmt: skip
    path = store.public_path(media_id)
    if path is None:
        raise _missing(media_id)
    ext = media_id.rsplit(".", 1)[-1]
    return FileResponse(path, media_type=MIME_BY_EXT.get(ext, "application/octet-stream"),
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})  # fmt: skip


@router.get("/{media_id}/thumbnail", summary="A JPEG thumbnail (images only)")
async def thumbnail_file(
    media_id: str, store: StoreDep,
    who: Annotated[Principal | None, Depends(optional_principal)] = None,
) -> FileResponse:  # fmt: skip
    path = store.thumbnail_path(media_id)
    if path is None:
        raise _missing(media_id)
    return FileResponse(path, media_type="image/jpeg",
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})  # fmt: skip
