"""Upload checks for report photos and videos: type sniffing, limits, content-hash names.

The type is read from the file's first bytes (JPEG, PNG, WebP, MP4) and must agree with
the extension; sizes and counts are limited by a :class:`MediaPolicy`. Files are named by
their SHA-256, so the same photo uploaded twice is stored once. Large uploads can be fed
chunk by chunk to :class:`MediaInspector`, which refuses as soon as a limit is passed.
Image processing (EXIF stripping, thumbnails) is in :mod:`gateway.media.images`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from yiwang.errors import ValidationFailed


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"


@dataclass(frozen=True, slots=True)
class MediaType:
    mime: str
    kind: MediaKind
    extensions: tuple[str, ...]  # first one is canonical

    @property
    def ext(self) -> str:
        return self.extensions[0]


JPEG = MediaType("image/jpeg", MediaKind.IMAGE, ("jpg", "jpeg"))
PNG = MediaType("image/png", MediaKind.IMAGE, ("png",))
WEBP = MediaType("image/webp", MediaKind.IMAGE, ("webp",))
MP4 = MediaType("video/mp4", MediaKind.VIDEO, ("mp4",))
SUPPORTED = (JPEG, PNG, WEBP, MP4)
_MP4_BRANDS = frozenset(
    {
        b"isom",
        b"iso2",
        b"iso4",
        b"iso5",
        b"iso6",
        b"mp41",
        b"mp42",
        b"avc1",
        b"M4V ",
        b"dash",
        b"MSNV",
        b"mmp4",
    }
)
SNIFF_BYTES = 12


@dataclass(frozen=True, slots=True)
class MediaPolicy:
    max_image_bytes: int = 10 * 1024 * 1024
    max_video_bytes: int = 100 * 1024 * 1024
    max_files: int = 9
    max_videos: int = 1

    def limit(self, kind: MediaKind) -> int:
        return self.max_image_bytes if kind is MediaKind.IMAGE else self.max_video_bytes


@dataclass(frozen=True, slots=True)
class MediaInfo:
    mime: str
    kind: MediaKind
    ext: str
    size: int
    sha256: str

    @property
    def storage_key(self) -> str:
        """Content-addressed path: ``ab/cd/abcd….jpg``."""
        return f"{self.sha256[:2]}/{self.sha256[2:4]}/{self.sha256}.{self.ext}"


def sniff(head: bytes) -> MediaType | None:
    """The supported type the leading bytes announce, or None."""
    if head[:3] == b"\xff\xd8\xff":
        return JPEG
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp" and head[8:12] in _MP4_BRANDS:
        return MP4
    return None


def extension_of(filename: str) -> str:
    name = (filename or "").strip().rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if "." not in name or name.endswith("."):
        raise ValidationFailed(
            "missing_extension",
            f"'{filename}' has no file extension",
            f"文件“{filename}”没有扩展名",
            status=415,
            filename=filename,
        )
    return name.rsplit(".", 1)[1].lower()


def _expected_type(filename: str) -> MediaType:
    ext = extension_of(filename)
    for t in SUPPORTED:
        if ext in t.extensions:
            return t
    raise ValidationFailed(
        "unsupported_media_type",
        f"'.{ext}' files are not accepted (JPEG, PNG, WebP photos and MP4 videos are)",
        f"不支持“.{ext}”文件（仅支持JPEG、PNG、WebP图片和MP4视频）",
        status=415,
        filename=filename,
    )


def _too_large(kind: MediaKind, limit: int) -> ValidationFailed:
    return ValidationFailed(
        "file_too_large",
        f"the {kind.value} is larger than {limit // (1024 * 1024)} MB",
        f"{'图片' if kind is MediaKind.IMAGE else '视频'}超过{limit // (1024 * 1024)}MB",
        status=413,
        max_bytes=limit,
    )


class MediaInspector:
    """Streaming checks: feed chunks, then ``finish()`` for the :class:`MediaInfo`."""

    def __init__(self, filename: str, policy: MediaPolicy = MediaPolicy()) -> None:
        self.filename = filename
        self.policy = policy
        self.expected = _expected_type(filename)
        self._head = b""
        self._hash = hashlib.sha256()
        self._size = 0
        self._checked = False

    def feed(self, chunk: bytes) -> None:
        self._size += len(chunk)
        self._hash.update(chunk)
        if len(self._head) < SNIFF_BYTES:
            self._head += chunk[: SNIFF_BYTES - len(self._head)]
        if not self._checked and len(self._head) >= SNIFF_BYTES:
            self._check_type()
        if self._size > self.policy.limit(self.expected.kind):
            raise _too_large(self.expected.kind, self.policy.limit(self.expected.kind))

    def _check_type(self) -> None:
        actual = sniff(self._head)
        if actual is None:
            raise ValidationFailed(
                "unrecognised_content",
                f"'{self.filename}' is not a JPEG, PNG, WebP or MP4 file",
                f"文件“{self.filename}”不是JPEG、PNG、WebP或MP4文件",
                status=415,
                filename=self.filename,
            )
        if actual != self.expected:
            raise ValidationFailed(
                "extension_mismatch",
                f"'{self.filename}' contains {actual.mime}, not {self.expected.mime}",
                f"文件“{self.filename}”的内容是{actual.mime}，与扩展名不符",
                status=415,
                filename=self.filename,
                detected=actual.mime,
                expected=self.expected.mime,
            )
        self._checked = True

    def finish(self) -> MediaInfo:
        if self._size == 0:
            raise ValidationFailed("empty_file", "the file is empty", "文件为空", status=422)
        if not self._checked:
            self._check_type()
        return MediaInfo(
            self.expected.mime,
            self.expected.kind,
            self.expected.ext,
            self._size,
            self._hash.hexdigest(),
        )


def check_upload(filename: str, data: bytes, policy: MediaPolicy = MediaPolicy()) -> MediaInfo:
    """Check a whole in-memory upload."""
    inspector = MediaInspector(filename, policy)
    inspector.feed(data)
    return inspector.finish()


def check_count(
    existing: Sequence[MediaKind], adding: MediaKind, policy: MediaPolicy = MediaPolicy()
) -> None:
    """Refuse one more file when a report already has the maximum (files or videos)."""
    if len(existing) + 1 > policy.max_files:
        raise ValidationFailed(
            "too_many_files",
            f"at most {policy.max_files} files per report",
            f"每次上报最多{policy.max_files}个文件",
            max_files=policy.max_files,
        )
    videos = sum(1 for k in existing if k is MediaKind.VIDEO)
    if adding is MediaKind.VIDEO and videos + 1 > policy.max_videos:
        raise ValidationFailed(
            "too_many_videos",
            f"at most {policy.max_videos} video(s) per report",
            f"每次上报最多{policy.max_videos}个视频",
            max_videos=policy.max_videos,
        )
