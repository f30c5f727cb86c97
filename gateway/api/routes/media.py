"""Photo and video uploads for reports and case feedback: type sniffing that must agree
with the extension, size limits, pixel limits read from the header before decoding, EXIF
stripped from the public copy, thumbnails, stored by content hash (``var/media`` by default).

Uploading needs a signed-in caller or an upload token (``POST /api/v1/media/upload-tokens``,
anonymous, rate limited per address; sent as ``X-Upload-Token``), and counts against a daily
quota per account (per address for anonymous uploads). Uploads that no accepted write
references within a day are purged (checked at most every ``media_purge_interval_s``)."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Depends, File, Header, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from gateway.deps import ResourcesDep
from gateway.media.checks import MediaInspector, MediaPolicy
from gateway.media.store import MediaStore, media_store_of
from gateway.media.uploads import UploadGate
from gateway.middleware import client_ip
from gateway.security import Principal, optional_principal
from yiwang.errors import NotFound
from yiwang.logging import get_logger

log = get_logger(__name__)

router = APIRouter(prefix="/api/v1/media", tags=["media"])
CHUNK = 256 * 1024
MIME_BY_EXT = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "mp4": "video/mp4"}


def media_store(request: Request, res: ResourcesDep) -> MediaStore:
    return media_store_of(request.app.state, res.settings)


StoreDep = Annotated[MediaStore, Depends(media_store)]


def _missing(media_id: str) -> NotFound:
    return NotFound(
        "media_not_found", f"no media {media_id}", f"文件{media_id}不存在", media_id=media_id
    )


def _gate(request: Request, res: ResourcesDep) -> UploadGate:
    return UploadGate(res.redis, res.settings, MediaPolicy().max_files)


GateDep = Annotated[UploadGate, Depends(_gate)]


class UploadTokenOut(BaseModel):
    upload_token: str = Field(description="send it as X-Upload-Token with each upload")
    expires_in: int = Field(description="seconds the token stays valid")
    max_files: int = Field(description="how many files the token admits")


class MediaOut(BaseModel):
    media_id: str = Field(description="the reference reports and timelines carry")
    mime: str
    kind: str
    size: int = Field(description="bytes")
    url: str
    thumbnail_url: str | None = None


@router.post(
    "/upload-tokens",
    status_code=201,
    summary="An upload token for an anonymous report's photos (short-lived, limited)",
)
async def issue_upload_token(
    request: Request,
    gate: GateDep,
    who: Annotated[Principal | None, Depends(optional_principal)] = None,
) -> UploadTokenOut:
    return UploadTokenOut(**await gate.issue_token(client_ip(request.scope)))


def _purge_if_due(request: Request, store: MediaStore, res: ResourcesDep) -> None:
    state = request.app.state
    now = time.monotonic()
    if now - getattr(state, "media_purged_at", float("-inf")) < res.settings.media_purge_interval_s:
        return
    state.media_purged_at = now
    task = asyncio.create_task(
        asyncio.to_thread(store.purge_orphans, res.settings.media_orphan_max_age_s)
    )
    state.media_purge_task = task  # keep a reference until it is done


@router.post("", status_code=201, summary="Upload a photo (JPEG/PNG/WebP) or video (MP4)")
async def upload(
    request: Request,
    res: ResourcesDep,
    store: StoreDep,
    gate: GateDep,
    file: Annotated[UploadFile, File()],
    x_upload_token: Annotated[str | None, Header(max_length=100)] = None,
    who: Annotated[Principal | None, Depends(optional_principal)] = None,
) -> MediaOut:
    identity = await gate.admit(who, x_upload_token, client_ip(request.scope))
    inspector = MediaInspector(file.filename or "", MediaPolicy())
    parts: list[bytes] = []
    while chunk := await file.read(CHUNK):
        inspector.feed(chunk)  # refuses as soon as the type or a limit is wrong
        parts.append(chunk)
    info = inspector.finish()
    await gate.charge(identity, info.size)
    try:
        stored = await asyncio.to_thread(store.put, b"".join(parts), info)
    except BaseException:
        await gate.refund(identity, info.size)
        raise
    _purge_if_due(request, store, res)
    base = f"/api/v1/media/{stored.media_id}"
    return MediaOut(
        media_id=stored.media_id,
        mime=stored.mime,
        kind=stored.kind,
        size=stored.size,
        url=base,
        thumbnail_url=f"{base}/thumbnail" if stored.has_thumbnail else None,
    )


@router.get("/{media_id}", summary="The public copy (no EXIF location)")
async def public_file(
    media_id: str,
    store: StoreDep,
    who: Annotated[Principal | None, Depends(optional_principal)] = None,
) -> FileResponse:
    path = store.public_path(media_id)
    if path is None:
        raise _missing(media_id)
    ext = media_id.rsplit(".", 1)[-1]
    return FileResponse(
        path,
        media_type=MIME_BY_EXT.get(ext, "application/octet-stream"),
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


@router.get("/{media_id}/thumbnail", summary="A JPEG thumbnail (images only)")
async def thumbnail_file(
    media_id: str,
    store: StoreDep,
    who: Annotated[Principal | None, Depends(optional_principal)] = None,
) -> FileResponse:
    path = store.thumbnail_path(media_id)
    if path is None:
        raise _missing(media_id)
    return FileResponse(
        path,
        media_type="image/jpeg",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )
