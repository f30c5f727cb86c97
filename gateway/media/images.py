"""Image processing with Pillow: the public copy without EXIF (no GPS, no camera serial) and
thumbnails. The original, with its metadata, stays private for staff.

Decoding is bounded before it starts: ``Image.open`` reads only the header, and an image
with more than ``max_pixels`` pixels (or more than one frame) is refused there (413
``image_too_many_pixels``), so a 186 KiB PNG announcing 7000×7000 RGBA pixels (196 MB
decoded) costs nothing. JPEGs are decoded at a reduced scale when larger than the public
copy (``draft``: the DCT scaling, less memory), everything else is resized with ``reduce``.
One decode makes both the public copy and the thumbnail. How many decodes run at once is
bounded by the caller (:class:`gateway.media.store.LocalMediaStore`).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from yiwang.errors import ValidationFailed

MAX_PIXELS = 20_000_000  # 5472×3648; phones' default 12 MP photos fit
PUBLIC_MAX_SIDE = 4096
THUMB_MAX_SIDE = 320
_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


@dataclass(frozen=True, slots=True)
class Processed:
    public: bytes  # re-encoded in the original format, without metadata, upright
    thumbnail: bytes  # JPEG


def _unreadable(why: str) -> ValidationFailed:
    return ValidationFailed(
        "image_unreadable", f"the image cannot be read: {why}", "图片无法读取", status=422
    )


def too_many_pixels(width: int, height: int, max_pixels: int) -> ValidationFailed:
    return ValidationFailed(
        "image_too_many_pixels",
        f"the image has {width}×{height} pixels; at most {max_pixels:,} are accepted",
        f"图片像素为{width}×{height}，超过上限{max_pixels:,}像素",
        status=413,
        width=width,
        height=height,
        max_pixels=max_pixels,
    )


def inspect_header(data: bytes, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """Width and height from the header alone (nothing decoded); refuses pixel bombs and
    animations. Cheap: call it before storing anything."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                frames = getattr(img, "n_frames", 1)
    except (
        UnidentifiedImageError,
        OSError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        SyntaxError,
        ValueError,
    ) as e:
        if isinstance(e, Image.DecompressionBombError | Image.DecompressionBombWarning):
            raise too_many_pixels(0, 0, max_pixels) from None
        raise _unreadable(type(e).__name__) from None
    if width * height > max_pixels:
        raise too_many_pixels(width, height, max_pixels)
    if frames != 1:
        raise ValidationFailed(
            "image_animated", "animated images are not accepted", "不接受动图", status=415
        )
    return width, height


def _open(data: bytes, max_pixels: int, max_side: int) -> Image.Image:
    inspect_header(data, max_pixels)
    try:
        img = Image.open(io.BytesIO(data))
        if img.format == "JPEG":
            img.draft("RGB" if img.mode == "RGB" else None, (max_side, max_side))
        img.load()
    except (
        UnidentifiedImageError,
        OSError,
        Image.DecompressionBombError,
        SyntaxError,
        ValueError,
    ) as e:
        raise _unreadable(type(e).__name__) from None
    ImageOps.exif_transpose(img, in_place=True)  # upright, without a copy
    img.info.clear()  # EXIF, XMP, ICC, text chunks: nothing of the original is written back
    return img


def _encode(img: Image.Image, fmt: str) -> bytes:
    if fmt == "JPEG" and img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    out = io.BytesIO()
    options: dict[str, object] = {"quality": 90} if fmt in ("JPEG", "WEBP") else {}
    img.save(out, format=fmt, **options)
    return out.getvalue()


def process(
    data: bytes, mime: str, *, max_pixels: int = MAX_PIXELS, thumb_side: int = THUMB_MAX_SIDE
) -> Processed:
    """The public copy (longer side at most ``PUBLIC_MAX_SIDE``) and a JPEG thumbnail."""
    fmt = _FORMATS.get(mime)
    if fmt is None:
        raise ValidationFailed(
            "unsupported_media_type", f"{mime} is not an image", f"{mime}不是图片", status=415
        )
    img = _open(data, max_pixels, PUBLIC_MAX_SIDE)
    if max(img.size) > PUBLIC_MAX_SIDE:
        img.thumbnail((PUBLIC_MAX_SIDE, PUBLIC_MAX_SIDE))
    public = _encode(img, fmt)
    img.thumbnail((thumb_side, thumb_side))
    thumb = _encode(img, "JPEG")
    img.close()
    return Processed(public, thumb)


def public_copy(data: bytes, mime: str, max_pixels: int = MAX_PIXELS) -> bytes:
    """The image re-encoded without EXIF/XMP/text metadata, turned upright first."""
    return process(data, mime, max_pixels=max_pixels).public


def thumbnail(data: bytes, max_side: int = THUMB_MAX_SIDE, max_pixels: int = MAX_PIXELS) -> bytes:
    """A JPEG thumbnail whose longer side is at most ``max_side`` pixels (no metadata)."""
    img = _open(data, max_pixels, max_side)
    img.thumbnail((max_side, max_side))
    return _encode(img, "JPEG")
