"""Small shared pieces of the enterprise domain: text checks, actors, the working-day calendar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypeVar

from yiwang.clock import SHANGHAI, require_aware
from yiwang.errors import Conflict, Forbidden, ValidationFailed
from yiwang.jurisdiction import Level, level_of, within
from yiwang.text import require_text

WorkingDayPredicate = Callable[[date], bool]
E = TypeVar("E", bound=StrEnum)

# A calendar that looks further than this for a working day is treated as broken.
_MAX_CALENDAR_SCAN_DAYS = 3660


def mon_to_fri(day: date) -> bool:
    """The default business calendar: Monday to Friday are working days."""
    return day.weekday() < 5


MAX_AMOUNT = Decimal("1e13")  # yuan; beyond any real amount, and within decimal precision


def require_positive_amount(value: Decimal | int | str, field: str) -> Decimal:
    """A strictly positive money amount in yuan (at most 2 decimals, at most MAX_AMOUNT)."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed(
            "invalid_amount", f"{field} is not a number", f"{field}不是有效数字", field=field
        ) from exc
    # bounded before quantizing: quantize raises InvalidOperation beyond the precision
    if (
        not amount.is_finite()
        or amount <= 0
        or amount > MAX_AMOUNT
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise ValidationFailed(
            "invalid_amount",
            f"{field} must be a positive amount of at most {MAX_AMOUNT:,.0f} yuan "
            "with at most 2 decimals",
            f"{field}必须为不超过{MAX_AMOUNT:,.0f}元的正数且最多两位小数",
            field=field,
        )
    return amount


def require_code_at(code: str, level: Level, field: str) -> str:
    """A unified jurisdiction code of exactly ``level`` (see ``yiwang.jurisdiction``)."""
    if level_of(code) is not level:
        raise ValidationFailed(
            f"not_a_{level.value}_code",
            f"{field} '{code}' is not a {level.value} code",
            f"{field}“{code}”不是{level.value}级编码",
            field=field,
            code_value=code,
        )
    return code


def normalise_tags(tags: object) -> frozenset[str]:
    """Tags compare case-insensitively and without surrounding blanks; blanks are dropped."""
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, (list, tuple, set, frozenset)):
        raise ValidationFailed("invalid_tags", "tags must be a list", "标签必须是列表")
    return frozenset(str(t).strip().lower() for t in tags if str(t).strip())


def enum_value(cls: type[E], value: str, field_name: str) -> E:
    """``cls(value)`` or a ``ValidationFailed`` listing the allowed values."""
    try:
        return cls(value)
    except ValueError as exc:
        allowed = [m.value for m in cls]
        raise ValidationFailed(
            f"invalid_{field_name}",
            f"{field_name} must be one of {', '.join(allowed)}",
            f"{field_name}必须是以下之一：{'、'.join(allowed)}",
            field=field_name,
            allowed=allowed,
        ) from exc


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
class Official:
    """A government user (government edition): staff, department member or leader.

    ``jurisdiction_code`` is where they may act (a district, street ... code);
    ``department`` is their department code (e.g. ``"natural_resources"``), if any.
    """

    official_id: str
    jurisdiction_code: str
    department: str | None = None
    is_leader: bool = False

    def __post_init__(self) -> None:
        require_text(self.official_id, "official_id", max_len=64)
        level_of(self.jurisdiction_code)

    def require_within(self, code: str) -> None:
        if not within(code, self.jurisdiction_code):
            raise Forbidden(
                "outside_jurisdiction",
                f"{code} is outside the jurisdiction {self.jurisdiction_code}",
                f"{code}不在您的管辖范围{self.jurisdiction_code}内",
                code_value=code,
                jurisdiction=self.jurisdiction_code,
            )


# --- working-day calendar -------------------------------------------------------------
# A "working day" of a time limit is 24 hours of time falling on working dates (Asia/Shanghai).
# A demand filed on Monday 10:00 with 1 working day is due Tuesday 10:00; one filed on
# Saturday is due at the end of Monday.


def _next_midnight(local: datetime) -> datetime:
    return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=SHANGHAI)


def advance_working_time(
    start: datetime, seconds: float, is_working_day: WorkingDayPredicate = mon_to_fri
) -> datetime:
    """The instant at which ``seconds`` of working time have passed since ``start``."""
    require_aware(start, "start")
    if seconds < 0:
        raise ValidationFailed("negative_duration", "duration is negative", "时长不能为负")
    cursor = start.astimezone(SHANGHAI)
    remaining = float(seconds)
    for _ in range(_MAX_CALENDAR_SCAN_DAYS):
        day_end = _next_midnight(cursor)
        if is_working_day(cursor.date()):
            available = (day_end - cursor).total_seconds()
            if remaining <= available:
                return cursor + timedelta(seconds=remaining)
            remaining -= available
        cursor = day_end
    raise ValidationFailed(
        "no_working_days",
        "the business calendar has no working days ahead",
        "工作日历中没有后续工作日",
    )


def add_working_days(
    start: datetime, days: float, is_working_day: WorkingDayPredicate = mon_to_fri
) -> datetime:
    """``start`` plus ``days`` working days (each 24 h of working-date time)."""
    return advance_working_time(start, days * 86400.0, is_working_day)


def working_seconds_between(
    start: datetime, end: datetime, is_working_day: WorkingDayPredicate = mon_to_fri
) -> float:
    """Working time from ``start`` to ``end`` in seconds; negative when ``end`` is earlier."""
    require_aware(start, "start")
    require_aware(end, "end")
    if end < start:
        return -working_seconds_between(end, start, is_working_day)
    cursor = start.astimezone(SHANGHAI)
    stop = end.astimezone(SHANGHAI)
    total = 0.0
    while cursor < stop:
        day_end = min(_next_midnight(cursor), stop)
        if is_working_day(cursor.date()):
            total += (day_end - cursor).total_seconds()
        cursor = day_end
    return total


@dataclass(frozen=True, slots=True)
class Reason:
    """One explained matching rule: which rule, whether it held, and why (en + zh)."""

    rule: str
    ok: bool
    message_en: str
    message_zh: str
