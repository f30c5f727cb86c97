"""Small helpers shared by the petitions domain: text and time checks, distances, errors."""

from __future__ import annotations

import math
from datetime import datetime

from yiwang.errors import Conflict, ValidationFailed

EARTH_RADIUS_M = 6_371_008.8


def require_aware(when: datetime, field: str = "time") -> datetime:
    """Refuse naive datetimes: every instant in the domain carries its timezone."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValidationFailed(
            "naive_datetime", f"{field} must be timezone-aware", f"{field}必须带时区", field=field
        )
    return when


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


def require_coordinates(lat: float, lon: float) -> tuple[float, float]:
    """A valid WGS-84 latitude/longitude pair in degrees."""
    ok = (
        isinstance(lat, int | float)
        and isinstance(lon, int | float)
        and math.isfinite(lat)
        and math.isfinite(lon)
        and -90.0 <= lat <= 90.0
        and -180.0 <= lon <= 180.0
    )
    if not ok:
        raise ValidationFailed(
            "invalid_coordinates",
            f"({lat}, {lon}) is not a valid latitude/longitude",
            f"（{lat}, {lon}）不是有效的经纬度",
        )
    return float(lat), float(lon)


PUBLIC_DECIMALS = 3  # ~100 m: the public sees the area of an issue, never a doorstep


def public_location(lat: float, lon: float) -> tuple[float, float]:
    """The blurred location everything public shows (the public map, Open311): rounded to
    ``PUBLIC_DECIMALS`` places, so a report at someone's door does not point at the door."""
    return round(lat, PUBLIC_DECIMALS), round(lon, PUBLIC_DECIMALS)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def illegal_transition(action: str, state: str, allowed: list[str]) -> Conflict:
    """409 for an action the current state does not allow; ``allowed`` lists what it does."""
    return Conflict(
        "illegal_transition",
        f"cannot {action} while {state}",
        f"当前状态“{state}”下不能执行“{action}”",
        action=action,
        state=state,
        allowed=sorted(allowed),
    )


def version_conflict(expected: int, actual: int) -> Conflict:
    """409 for a lost optimistic-concurrency race."""
    return Conflict(
        "version_conflict",
        f"the record changed meanwhile (expected version {expected}, found {actual})",
        f"记录已被他人修改（期望版本{expected}，当前版本{actual}），请刷新后重试",
        expected_version=expected,
        actual_version=actual,
    )
