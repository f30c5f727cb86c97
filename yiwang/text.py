"""Checks for free text every domain takes from people: required, stripped, bounded."""

from __future__ import annotations

from yiwang.errors import ValidationFailed


def require_text(value: str | None, field: str, *, max_len: int = 2000) -> str:
    """A non-blank, bounded piece of text, stripped."""
    text = (value or "").strip()
    if not text:
        raise ValidationFailed("required", f"{field} is required", f"{field}不能为空", field=field)
    return limit_text(text, field, max_len=max_len)


def limit_text(value: str, field: str, *, max_len: int) -> str:
    """``value`` stripped, refused when longer than ``max_len``."""
    text = value.strip()
    if len(text) > max_len:
        raise ValidationFailed(
            "too_long",
            f"{field} is longer than {max_len} characters",
            f"{field}超过{max_len}个字符",
            field=field,
            max_len=max_len,
        )
    return text
