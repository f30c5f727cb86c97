"""Upload checks: sniffing, extension agreement, limits, hashing; EXIF stripping, thumbnails."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from gateway.media.checks import (
    MediaInspector,
    MediaKind,
    MediaPolicy,
    check_count,
    check_upload,
    sniff,
)
from gateway.media.images import public_copy, thumbnail
from yiwang.errors import ValidationFailed


def image_bytes(fmt: str, *, gps: bool = False, size: tuple[int, int] = (64, 48)) -> bytes:
    img = Image.new("RGB", size, "red")
    out = io.BytesIO()
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"
        exif[0x8825] = {1: "N", 2: (28.0, 14.0, 20.0)}
        img.save(out, fmt, exif=exif)
    else:
        img.save(out, fmt)
    return out.getvalue()


JPEG, PNG, WEBP = image_bytes("JPEG"), image_bytes("PNG"), image_bytes("WEBP")
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 100
MOV = b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  " + b"\x00" * 100


@pytest.mark.parametrize(
    ("name", "data", "mime"),
    [
        ("a.jpg", JPEG, "image/jpeg"),
        ("B.JPEG", JPEG, "image/jpeg"),
        ("c.png", PNG, "image/png"),
        ("d.webp", WEBP, "image/webp"),
        ("e.mp4", MP4, "video/mp4"),
    ],
)
def test_accepted_types(name: str, data: bytes, mime: str) -> None:
    info = check_upload(name, data)
    assert info.mime == mime and info.size == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.storage_key == f"{info.sha256[:2]}/{info.sha256[2:4]}/{info.sha256}.{info.ext}"


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("a.jpg", PNG, "extension_mismatch"),
        ("a.png", JPEG, "extension_mismatch"),
        ("a.mp4", WEBP, "extension_mismatch"),
        ("a.jpg", b"GIF89a" + b"\x00" * 20, "unrecognised_content"),
        ("a.mp4", MOV, "unrecognised_content"),
        ("a.gif", b"GIF89a", "unsupported_media_type"),
        ("a.exe", JPEG, "unsupported_media_type"),
        ("noext", JPEG, "missing_extension"),
        ("a.jpg", b"", "empty_file"),
        ("a.jpg", b"\xff\xd8", "unrecognised_content"),
    ],
)
def test_refused_uploads(name: str, data: bytes, code: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_upload(name, data)
    assert exc.value.code == code


def test_size_limits_stop_streaming_early() -> None:
    policy = MediaPolicy(max_image_bytes=1000, max_video_bytes=5000)
    insp = MediaInspector("big.jpg", policy)
    insp.feed(JPEG[:5])
    insp.feed(JPEG[5:600])
    with pytest.raises(ValidationFailed) as exc:
        insp.feed(b"\x00" * 500)
    assert exc.value.code == "file_too_large" and exc.value.status == 413
    check_upload("v.mp4", MP4 + b"\x00" * 3000, policy)
    chunked = MediaInspector("c.png")
    for i in range(0, len(PNG), 3):
        chunked.feed(PNG[i : i + 3])
    assert chunked.finish() == check_upload("c.png", PNG)


def test_count_limits() -> None:
    policy = MediaPolicy(max_files=3, max_videos=1)
    check_count([MediaKind.IMAGE] * 2, MediaKind.IMAGE, policy)
    with pytest.raises(ValidationFailed) as exc:
        check_count([MediaKind.IMAGE] * 3, MediaKind.IMAGE, policy)
    assert exc.value.code == "too_many_files"
    with pytest.raises(ValidationFailed) as exc:
        check_count([MediaKind.VIDEO], MediaKind.VIDEO, policy)
    assert exc.value.code == "too_many_videos"


def test_sniff_unknown() -> None:
    assert sniff(b"%PDF-1.7 ....") is None


def test_public_copy_strips_exif_and_thumbnail_is_small() -> None:
    original = image_bytes("JPEG", gps=True, size=(800, 600))
    assert len(Image.open(io.BytesIO(original)).getexif()) > 0
    clean = public_copy(original, "image/jpeg")
    img = Image.open(io.BytesIO(clean))
    assert len(img.getexif()) == 0 and img.size == (800, 600) and img.format == "JPEG"
    assert Image.open(io.BytesIO(public_copy(PNG, "image/png"))).format == "PNG"
    thumb = Image.open(io.BytesIO(thumbnail(original, 200)))
    assert thumb.size == (200, 150) and len(thumb.getexif()) == 0
    with pytest.raises(ValidationFailed):
        public_copy(b"\xff\xd8\xff garbage", "image/jpeg")
    with pytest.raises(ValidationFailed):
        public_copy(MP4, "video/mp4")
