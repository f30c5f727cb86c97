"""Small value objects shared by the volunteer domain: staff actors, places, time windows."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from yiwang.clock import require_aware
from yiwang.errors import Conflict, Forbidden, ValidationFailed
from yiwang.geo import haversine_m
from yiwang.jurisdiction import Level, level_of, within
from yiwang.text import require_text


def require_community_code(code: str) -> str:
    """A 12-digit community code (validated with ``yiwang.jurisdiction``)."""
    if level_of(code) is not Level.COMMUNITY:
        raise ValidationFailed(
            "not_a_community_code",
            f"'{code}' is not a community code (12 digits)",
            f"“{code}”不是社区编码（12位）",
            code_value=code,
        )
    return code


def illegal_transition(action: str, state: str, allowed: list[str]) -> Conflict:
    return Conflict(
        "illegal_transition",
        f"cannot {action} while {state}",
        f"当前状态“{state}”下不能执行“{action}”",
        action=action,
        state=state,
        allowed=sorted(allowed),
    )


@dataclass(frozen=True, slots=True)
class Staff:
    """A community or street worker acting on records inside their jurisdiction code."""

    staff_id: str
    jurisdiction_code: str

    def __post_init__(self) -> None:
        level_of(self.jurisdiction_code)
        require_text(self.staff_id, "staff_id", max_len=64)

    @property
    def level(self) -> Level:
        return level_of(self.jurisdiction_code)

    def require_covers(self, code: str) -> None:
        if not within(code, self.jurisdiction_code):
            raise Forbidden(
                "outside_jurisdiction",
                f"staff {self.staff_id} ({self.jurisdiction_code}) may not act on {code}",
                f"工作人员{self.staff_id}（{self.jurisdiction_code}）无权处理{code}",
                staff_jurisdiction=self.jurisdiction_code,
                target=code,
            )


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """WGS-84 latitude/longitude in degrees."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        ok = (
            math.isfinite(self.lat)
            and math.isfinite(self.lon)
            and -90.0 <= self.lat <= 90.0
            and -180.0 <= self.lon <= 180.0
        )
        if not ok:
            raise ValidationFailed(
                "invalid_coordinates",
                f"({self.lat}, {self.lon}) is not a valid latitude/longitude",
                f"（{self.lat}, {self.lon}）不是有效的经纬度",
            )

    def distance_m(self, other: GeoPoint) -> float:
        return haversine_m(self.lat, self.lon, other.lat, other.lon)


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A half-open interval [start, end) of aware datetimes."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        require_aware(self.start, "start")
        require_aware(self.end, "end")
        if self.end <= self.start:
            raise ValidationFailed(
                "invalid_time_window",
                "the end of a time window must be after its start",
                "时间段的结束时间必须晚于开始时间",
            )

    def overlaps(self, other: TimeWindow) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, when: datetime) -> bool:
        return self.start <= when < self.end
