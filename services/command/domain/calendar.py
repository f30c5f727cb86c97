"""Working-day calendar for Asia/Shanghai: public holidays, make-up weekends, office hours.

Working time is counted only inside office periods (default 08:30–12:00 and 13:30–17:30,
7.5 hours a day) on working days. A working day is Monday–Friday that is not a public
holiday, plus any make-up working weekend (调休). "N working days" therefore means
N × (length of one office day) of working time: a case opened Monday 10:00 with one
working day is due Tuesday 10:00; one opened Monday 20:00 is due Tuesday 17:30.

Urgent SLA classes (e.g. 2 hours) do not use this calendar: they run on calendar time,
24/7 (see ``sla``). Years absent from the data fall back to Monday–Friday;
``year_status`` says which basis a year uses.

Arithmetic is O(log n): every working day has the same office periods, so the working
time elapsed from the first day of ``_DayIndex`` (1 Jan ``MIN_YEAR``) to the start of the
i-th working day is exactly ``i × day_length``; an instant's position on that working-time
line is ``i × day_length`` plus what it has worked that day, found by bisecting the sorted
working-day ordinals, and the instant at a position is the inverse (integer microseconds,
so results are exact). The index is built once per set of days (for ``LiveCalendar``,
once per revision: its days are swapped as new frozensets, which is what the cache checks)
and covers ``MIN_YEAR``–``MAX_YEAR`` plus the ten-year scan limit; anything outside takes
the day-by-day reference stepping (``*_stepping``), which the property tests hold the fast
path equal to.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from services.command.domain.holidays_cn import HOLIDAY_DATA
from yiwang.clock import SHANGHAI, require_aware
from yiwang.errors import ValidationFailed

YearStatus = Literal["published", "provisional", "fallback_weekdays"]

DEFAULT_OFFICE_HOURS: tuple[tuple[time, time], ...] = (
    (time(8, 30), time(12, 0)),
    (time(13, 30), time(17, 30)),
)

_MAX_SCAN_DAYS = 3660  # ten years: no real SLA is longer; guards against runaway loops
_ZERO = timedelta(0)


_STATUSES: tuple[str, ...] = ("published", "provisional")
MIN_YEAR, MAX_YEAR = 2000, 2100
_MAX_NAME = 40


def _invalid(code: str, en: str, zh: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(code, en, zh, **details)


@dataclass(frozen=True)
class CalendarDay:
    """One named day of a year's calendar: a holiday, or a make-up working day (调休)."""

    day: date
    name: str = ""


@dataclass(frozen=True)
class CalendarYear:
    """One year of the working-day calendar, kept as data and edited by administrators.

    ``holidays`` are days off (a holiday may fall on a weekday or a weekend);
    ``makeup_workdays`` are weekends worked instead (调休), which must be Saturdays or Sundays.
    Build with ``CalendarYear.of`` (validates); days are kept sorted.
    """

    year: int
    status: YearStatus
    holidays: tuple[CalendarDay, ...]
    makeup_workdays: tuple[CalendarDay, ...]
    source: str = ""

    @classmethod
    def of(
        cls,
        year: int,
        status: str,
        holidays: Sequence[CalendarDay],
        makeup_workdays: Sequence[CalendarDay],
        source: str = "",
    ) -> CalendarYear:
        """Validate and normalise one year (refusals carry stable codes)."""
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise _invalid(
                "calendar_year_out_of_range",
                f"year {year} is outside {MIN_YEAR}–{MAX_YEAR}",
                f"年份{year}超出{MIN_YEAR}–{MAX_YEAR}范围",
                year=year,
            )
        if status not in _STATUSES:
            raise _invalid(
                "invalid_year_status",
                f"{year}: unknown status {status}",
                f"{year}年：未知状态{status}",
                status=status,
            )
        for kind, days in (("holiday", holidays), ("makeup_workday", makeup_workdays)):
            seen: set[date] = set()
            for d in days:
                if d.day.year != year:
                    raise _invalid(
                        "calendar_day_outside_year",
                        f"{d.day.isoformat()} is not in {year}",
                        f"{d.day.isoformat()}不在{year}年内",
                        day=d.day.isoformat(),
                        kind=kind,
                    )
                if d.day in seen:
                    raise _invalid(
                        "calendar_duplicate_day",
                        f"{d.day.isoformat()} is listed twice",
                        f"{d.day.isoformat()}重复出现",
                        day=d.day.isoformat(),
                        kind=kind,
                    )
                seen.add(d.day)
                if len(d.name) > _MAX_NAME:
                    raise _invalid(
                        "calendar_name_too_long",
                        f"the name of {d.day.isoformat()} exceeds {_MAX_NAME} characters",
                        f"{d.day.isoformat()}的名称超过{_MAX_NAME}个字",
                        day=d.day.isoformat(),
                    )
        overlap = sorted({d.day for d in holidays} & {d.day for d in makeup_workdays})
        if overlap:
            raise _invalid(
                "holiday_makeup_overlap",
                f"{year}: a day cannot be both holiday and make-up working day "
                f"({overlap[0].isoformat()})",
                f"{year}年：同一天不能既是节假日又是调休工作日（{overlap[0].isoformat()}）",
                day=overlap[0].isoformat(),
            )
        for d in holidays:
            if not d.name.strip():
                raise _invalid(
                    "calendar_holiday_name_required",
                    f"holiday {d.day.isoformat()} needs a name",
                    f"节假日{d.day.isoformat()}需要名称",
                    day=d.day.isoformat(),
                )
        for d in makeup_workdays:
            if d.day.weekday() < 5:
                raise _invalid(
                    "calendar_makeup_not_weekend",
                    f"make-up working day {d.day.isoformat()} is not a Saturday or Sunday",
                    f"调休工作日{d.day.isoformat()}不是周六或周日",
                    day=d.day.isoformat(),
                )
        by_day = lambda d: d.day  # noqa: E731
        return cls(
            year,
            status,  # type: ignore[arg-type]
            tuple(sorted((CalendarDay(d.day, d.name.strip()) for d in holidays), key=by_day)),
            tuple(
                sorted((CalendarDay(d.day, d.name.strip()) for d in makeup_workdays), key=by_day)
            ),
            source.strip(),
        )

    def to_data(self) -> dict[str, Any]:
        """JSON-native form (as stored and sent over RPC)."""
        return {
            "year": self.year,
            "status": self.status,
            "source": self.source,
            "holidays": [{"day": d.day.isoformat(), "name": d.name} for d in self.holidays],
            "makeup_workdays": [
                {"day": d.day.isoformat(), "name": d.name} for d in self.makeup_workdays
            ],
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> CalendarYear:
        """The inverse of ``to_data`` (validated again)."""
        return cls.of(
            int(data["year"]),
            str(data.get("status", "published")),
            [
                CalendarDay(date.fromisoformat(str(d["day"])), str(d.get("name", "")))
                for d in data.get("holidays", [])
            ],
            [
                CalendarDay(date.fromisoformat(str(d["day"])), str(d.get("name", "")))
                for d in data.get("makeup_workdays", [])
            ],
            str(data.get("source", "")),
        )


def year_from_ranges(year: int, entry: Mapping[str, Any]) -> CalendarYear:
    """One entry of ``HOLIDAY_DATA`` (named inclusive ranges, bare make-up dates) as a
    validated ``CalendarYear`` with one named day per holiday."""
    holidays: list[CalendarDay] = []
    for item in entry.get("holidays", []):
        start, end = date.fromisoformat(item["from"]), date.fromisoformat(item["to"])
        if end < start or start.year != year or end.year != year:
            raise _invalid(
                "invalid_holiday_range",
                f"holiday range {item} is invalid for {year}",
                f"{year}年的节假日区间{item}无效",
            )
        name = str(item.get("name") or "节假日")
        day = start
        while day <= end:
            holidays.append(CalendarDay(day, name))
            day += timedelta(days=1)
    makeup = [
        CalendarDay(date.fromisoformat(d), "调休")
        if isinstance(d, str)
        else CalendarDay(date.fromisoformat(d["day"]), str(d.get("name", "调休")))
        for d in entry.get("makeup_workdays", [])
    ]
    return CalendarYear.of(
        year, str(entry.get("status", "published")), holidays, makeup, str(entry.get("source", ""))
    )


@dataclass(frozen=True)
class WorkingCalendar:
    """A business calendar. Build with ``WorkingCalendar.from_data``; immutable after that."""

    holidays: frozenset[date]
    makeup_workdays: frozenset[date]
    year_statuses: Mapping[int, YearStatus]
    office_hours: tuple[tuple[time, time], ...] = DEFAULT_OFFICE_HOURS
    tz: ZoneInfo = SHANGHAI
    _day_length: timedelta = field(init=False)
    _index: _DayIndex | None = field(init=False, default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        prev_end: time | None = None
        total = timedelta()
        if not self.office_hours:
            raise ValidationFailed("no_office_hours", "office hours are empty", "办公时间为空")
        for start, end in self.office_hours:
            if end <= start or (prev_end is not None and start < prev_end):
                raise ValidationFailed(
                    "invalid_office_hours",
                    "office periods must be increasing and non-overlapping",
                    "办公时段必须递增且互不重叠",
                )
            prev_end = end
            total += _span(start, end)
        object.__setattr__(self, "_day_length", total)

    @classmethod
    def from_data(
        cls,
        data: Mapping[int, Mapping[str, Any]] = HOLIDAY_DATA,
        office_hours: Sequence[tuple[time, time]] = DEFAULT_OFFICE_HOURS,
        tz: ZoneInfo = SHANGHAI,
    ) -> WorkingCalendar:
        """From ``HOLIDAY_DATA``-shaped data (named ranges per year)."""
        years = [year_from_ranges(int(year), entry) for year, entry in data.items()]
        return cls.from_years(years, office_hours, tz)

    @classmethod
    def from_years(
        cls,
        years: Iterable[CalendarYear],
        office_hours: Sequence[tuple[time, time]] = DEFAULT_OFFICE_HOURS,
        tz: ZoneInfo = SHANGHAI,
    ) -> WorkingCalendar:
        """From validated years (e.g. the ones kept in the command service's table)."""
        holidays: set[date] = set()
        makeup: set[date] = set()
        statuses: dict[int, YearStatus] = {}
        for y in years:
            holidays.update(d.day for d in y.holidays)
            makeup.update(d.day for d in y.makeup_workdays)
            statuses[y.year] = y.status
        return cls(frozenset(holidays), frozenset(makeup), statuses, tuple(office_hours), tz)

    # -- days ---------------------------------------------------------------------------
    @property
    def day_length(self) -> timedelta:
        """Working time in one full office day (7h30 by default)."""
        return self._day_length

    def year_status(self, year: int) -> YearStatus:
        """``published``/``provisional`` from the data, else ``fallback_weekdays`` (Mon–Fri)."""
        return self.year_statuses.get(year, "fallback_weekdays")

    def is_working_day(self, day: date | datetime) -> bool:
        """Is this local date (a datetime is first converted to the calendar's zone) workable?"""
        if isinstance(day, datetime):
            day = require_aware(day).astimezone(self.tz).date()
        if day in self.makeup_workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def is_working_time(self, when: datetime) -> bool:
        local = require_aware(when).astimezone(self.tz)
        if not self.is_working_day(local.date()):
            return False
        t = local.time().replace(tzinfo=None)
        return any(start <= t < end for start, end in self.office_hours)

    # -- arithmetic ---------------------------------------------------------------------
    def _day_index(self) -> _DayIndex:
        """The working-day index of the current days (rebuilt when they were swapped)."""
        ix = self._index
        if ix is None or ix.holidays is not self.holidays or ix.makeup is not self.makeup_workdays:
            ix = _DayIndex(self.holidays, self.makeup_workdays, self.office_hours)
            object.__setattr__(self, "_index", ix)
        return ix

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant when ``duration`` of working time has elapsed after ``start``.

        The result is in the calendar's zone. A zero duration from outside office hours
        returns ``start`` unchanged. Negative durations are refused.
        """
        return self.add_working_times(start, (duration,))[0]

    def add_working_times(
        self, start: datetime, durations: Sequence[timedelta]
    ) -> tuple[datetime, ...]:
        """``add_working_time(start, d)`` for each ``d`` (e.g. a deadline and its warning
        instant), each by two bisections of the working-day index."""
        require_aware(start, "start")
        zero = _ZERO
        for d in durations:
            if d < zero:
                raise ValidationFailed(
                    "negative_duration", "duration must not be negative", "时长不能为负"
                )
        local = start.astimezone(self.tz)
        ix = self._index
        if ix is None or ix.holidays is not self.holidays or ix.makeup is not self.makeup_workdays:
            ix = self._day_index()
        pos = ix.position(local)
        if pos is None:
            return self.add_working_times_stepping(start, durations)
        out: list[datetime] = []
        limit = local.toordinal() + _MAX_SCAN_DAYS
        for d in durations:
            if d == zero:
                out.append(local)
                continue
            at = ix.instant(pos + _us(d), self.tz, limit)
            if at is None:
                return self.add_working_times_stepping(start, durations)
            out.append(at)
        return tuple(out)

    def add_working_days(self, start: datetime, days: float) -> datetime:
        """``days`` working days after ``start`` (each = one office day of working time)."""
        return self.add_working_time(start, self.day_length * days)

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time inside [a, b); negative when ``b`` precedes ``a``."""
        require_aware(a, "a")
        require_aware(b, "b")
        ix = self._day_index()
        pa = ix.position(a.astimezone(self.tz))
        pb = ix.position(b.astimezone(self.tz))
        if pa is None or pb is None:
            return self.working_time_between_stepping(a, b)
        return timedelta(microseconds=pb - pa)

    def add_working_time_stepping(self, start: datetime, duration: timedelta) -> datetime:
        """The reference of ``add_working_time``: day by day over the office periods."""
        return self.add_working_times_stepping(start, [duration])[0]

    def add_working_times_stepping(
        self, start: datetime, durations: Sequence[timedelta]
    ) -> tuple[datetime, ...]:
        """The reference of ``add_working_times``: one day-by-day pass for all durations."""
        require_aware(start, "start")
        if any(d < timedelta(0) for d in durations):
            raise ValidationFailed(
                "negative_duration", "duration must not be negative", "时长不能为负"
            )
        local = start.astimezone(self.tz)
        out: list[datetime] = [local] * len(durations)
        order = sorted((d, i) for i, d in enumerate(durations) if d > timedelta(0))
        k, n = 0, len(order)
        if not n:
            return tuple(out)
        elapsed = timedelta(0)
        day = local.date()
        cursor = local.replace(tzinfo=None)
        for _ in range(_MAX_SCAN_DAYS):
            if self.is_working_day(day):
                for p_start, p_end in self.office_hours:
                    seg_start = max(cursor, datetime.combine(day, p_start))
                    seg_end = datetime.combine(day, p_end)
                    if seg_end <= seg_start:
                        continue
                    avail = seg_end - seg_start
                    while k < n and order[k][0] - elapsed <= avail:
                        d, i = order[k]
                        out[i] = (seg_start + (d - elapsed)).replace(tzinfo=self.tz)
                        k += 1
                    if k == n:
                        return tuple(out)
                    elapsed += avail
            day += timedelta(days=1)
            cursor = datetime.combine(day, time(0))
        raise ValidationFailed(
            "duration_too_long", "duration exceeds ten years of working time", "时长超过十年"
        )

    def working_time_between_stepping(self, a: datetime, b: datetime) -> timedelta:
        """The reference of ``working_time_between``: day by day over the office periods."""
        require_aware(a, "a")
        require_aware(b, "b")
        if b < a:
            return -self.working_time_between_stepping(b, a)
        la = a.astimezone(self.tz).replace(tzinfo=None)
        lb = b.astimezone(self.tz).replace(tzinfo=None)
        total = timedelta()
        day = la.date()
        while day <= lb.date():
            if self.is_working_day(day):
                for p_start, p_end in self.office_hours:
                    seg_start = max(la, datetime.combine(day, p_start))
                    seg_end = min(lb, datetime.combine(day, p_end))
                    if seg_end > seg_start:
                        total += seg_end - seg_start
            day += timedelta(days=1)
        return total


def _span(start: time, end: time) -> timedelta:
    base = date(2000, 1, 1)
    return datetime.combine(base, end) - datetime.combine(base, start)


def _us(d: timedelta) -> int:
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


def _clock_us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


class _DayIndex:
    """Working days of ``MIN_YEAR``–``MAX_YEAR`` (+ the scan limit) as sorted ordinals.

    Positions are integer microseconds of working time since the first day of the index;
    the i-th working day starts at ``i × length``. Built from one set of days (kept by
    identity so the owner can tell when its days were swapped).
    """

    __slots__ = ("holidays", "makeup", "days", "first", "last", "length", "periods")

    def __init__(
        self,
        holidays: frozenset[date],
        makeup: frozenset[date],
        office_hours: Sequence[tuple[time, time]],
    ) -> None:
        self.holidays = holidays
        self.makeup = makeup
        self.first = date(MIN_YEAR, 1, 1).toordinal()
        self.last = date(MAX_YEAR + 1, 1, 1).toordinal() + _MAX_SCAN_DAYS  # exclusive
        off = {d.toordinal() for d in holidays} - {d.toordinal() for d in makeup}
        extra = {d.toordinal() for d in makeup}
        # date.fromordinal(o).weekday() == (o + 6) % 7
        self.days = [
            o
            for o in range(self.first, self.last)
            if o in extra or ((o + 6) % 7 < 5 and o not in off)
        ]
        # per period: (start, end, working time before it that day), µs since midnight
        periods: list[tuple[int, int, int]] = []
        before = 0
        for p_start, p_end in office_hours:
            a, b = _clock_us(p_start), _clock_us(p_end)
            periods.append((a, b, before))
            before += b - a
        self.periods = tuple(periods)
        self.length = before

    def position(self, local: datetime) -> int | None:
        """Working time from the index's start to ``local`` (a wall-clock time in the
        calendar's zone), or None outside the index."""
        o = local.toordinal()
        if not self.first <= o < self.last:
            return None
        i = bisect_left(self.days, o)
        pos = i * self.length
        if i < len(self.days) and self.days[i] == o:
            t = (
                (local.hour * 60 + local.minute) * 60 + local.second
            ) * 1_000_000 + local.microsecond
            for a, b, before in self.periods:
                if t < b:
                    if t > a:
                        pos += before + t - a
                    else:
                        pos += before
                    break
            else:
                pos += self.length
        return pos

    def instant(self, pos: int, tz: ZoneInfo, limit: int) -> datetime | None:
        """The earliest instant at working-time position ``pos`` > 0 (a period's close rather
        than the next opening), as ``tz`` wall clock; None past the index or the day
        ``limit`` (exclusive ordinal)."""
        j, r = divmod(pos - 1, self.length)
        if j >= len(self.days):
            return None
        o = self.days[j]
        if o >= limit:
            return None
        r += 1  # in (0, length]
        for a, b, before in self.periods:
            if r <= before + b - a:
                t = a + r - before
                break
        return datetime.fromordinal(o).replace(tzinfo=tz) + timedelta(microseconds=t)


DEFAULT_CALENDAR = WorkingCalendar.from_data()


def is_working_day(day: date | datetime) -> bool:
    """``DEFAULT_CALENDAR.is_working_day``."""
    return DEFAULT_CALENDAR.is_working_day(day)


def add_working_time(start: datetime, duration: timedelta) -> datetime:
    """``DEFAULT_CALENDAR.add_working_time``."""
    return DEFAULT_CALENDAR.add_working_time(start, duration)


def working_time_between(a: datetime, b: datetime) -> timedelta:
    """``DEFAULT_CALENDAR.working_time_between``."""
    return DEFAULT_CALENDAR.working_time_between(a, b)


def year_status(year: int) -> YearStatus:
    """``DEFAULT_CALENDAR.year_status``."""
    return DEFAULT_CALENDAR.year_status(year)
