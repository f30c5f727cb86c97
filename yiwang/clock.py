"""Injectable clocks. Domain code takes a ``Clock``; tests and simulations pass a ``FakeClock``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from yiwang.errors import ValidationFailed

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told to; always timezone-aware (UTC by default)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware datetime")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now = self._now + (delta or timedelta(**kwargs))
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware datetime")
        self._now = when


def require_aware(when: datetime, field: str = "time") -> datetime:
    """Refuse naive datetimes: every instant in the domain carries its timezone."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValidationFailed(
            "naive_datetime", f"{field} must be timezone-aware", f"{field}必须带时区", field=field
        )
    return when
