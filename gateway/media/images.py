"""Image processing with Pillow: the public copy without EXIF (no GPS, no camera serial) and
thumbnails. The original, with its metadata, stays private for staff.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from yiwang.errors import ValidationFailed

MAX_PIXELS = 50_000_000
_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


def _unreadable(why: str) -> ValidationFailed:
    return ValidationFailed(
        "image_unreadable", f"the image cannot be read: {why}", "图片无法读取", status=422
    )


def _open(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.width * img.height > MAX_PIXELS:
                raise _unreadable("too many pixels")
            img.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError,
            Image.DecompressionBombWarning, SyntaxError) as e:  # fmt: skip
        raise _unreadable(type(e).__name__) from None
    return img


def public_copy(data: bytes, mime: str) -> bytes:
    """The image re-encoded without EXIF/XMP/text metadata, turned upright first."""
    fmt = _FORMATS.get(mime)
    if fmt is None:
        raise ValidationFailed(
            "unsupported_media_type", f"{mime} is not an image", f"{mime}不是图片", status=415
        )
    img = ImageOps.exif_transpose(_open(data))
    clean = Image.new(img.mode, img.size)
    clean.paste(img)
    if fmt == "JPEG" and clean.mode not in ("RGB", "L"):
        clean = clean.convert("RGB")
    out = io.BytesIO()
    options: dict[str, object] = {"quality": 90} if fmt in ("JPEG", "WEBP") else {}
    clean.save(out, format=fmt, **options)
    return out.getvalue()


def thumbnail(data: bytes, max_side: int = 320) -> bytes:
    """A JPEG thumbnail whose longer side is at most ``max_side`` pixels (no metadata)."""
    img = ImageOps.exif_transpose(_open(data))
    img.thumbnail((max_side, max_side))
    if img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=80)
    return out.getvalue()
