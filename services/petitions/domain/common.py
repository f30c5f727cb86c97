"""Small helpers shared by the petitions domain: coordinate checks and common refusals."""

from __future__ import annotations

import math

from yiwang.errors import Conflict, ValidationFailed


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
