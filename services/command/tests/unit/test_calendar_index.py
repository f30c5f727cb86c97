"""The O(log n) working-time arithmetic (``_DayIndex``) against the day-by-day reference
stepping (``*_stepping``), over holidays, make-up days, year boundaries and any office
periods, in Asia/Shanghai."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.command.domain.calendar import (
    DEFAULT_CALENDAR,
    CalendarDay,
    CalendarYear,
    WorkingCalendar,
)
from services.command.service_layer.calendar import LiveCalendar
from yiwang.clock import SHANGHAI
from yiwang.errors import ValidationFailed


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def _outcome(fn: Callable[[], tuple[datetime, ...]]) -> list[str] | str:
    """The results as ISO text (same zone and wall clock, not only the instant), or the
    refusal's code."""
    try:
        return [x.isoformat() for x in fn()]
    except ValidationFailed as e:
        return e.code


# Starts over the published/provisional years and the fallback years after them, with
# extra weight on the days around New Year and the Spring Festival / National Day breaks.
_NEAR = [date(y, 12, 31) for y in range(2024, 2029)] + [
    date(2025, 1, 26),
    date(2025, 9, 28),
    date(2026, 2, 13),
    date(2026, 9, 20),
    date(2026, 10, 1),
    date(2027, 2, 5),
    date(2027, 9, 30),
]
starts = st.one_of(
    st.datetimes(
        min_value=datetime(2024, 12, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
        max_value=datetime(2028, 3, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
        timezones=st.sampled_from([SHANGHAI, UTC]),
    ),
    st.builds(
        lambda d, shift, minutes, us: (
            datetime.combine(d, time(0), SHANGHAI)
            + timedelta(days=shift, minutes=minutes, microseconds=us)
        ),
        st.sampled_from(_NEAR),
        st.integers(-3, 3),
        st.integers(0, 24 * 60 - 1),
        st.sampled_from([0, 1, 999_999]),
    ),
)
durations = st.one_of(
    st.integers(0, 450 * 40).map(lambda m: timedelta(minutes=m)),  # up to 40 days
    st.integers(0, 3600 * 7 * 400).map(lambda s: timedelta(seconds=s)),  # past a year
    st.integers(1, 10**7).map(lambda us: timedelta(microseconds=us)),
    st.sampled_from([timedelta(hours=7.5) * k for k in (1, 3, 5, 7)]),  # whole office days
)


@settings(max_examples=600, deadline=None)
@given(start=starts, d=durations)
def test_add_working_time_equals_stepping(start: datetime, d: timedelta) -> None:
    cal = DEFAULT_CALENDAR
    got = cal.add_working_time(start, d)
    want = cal.add_working_time_stepping(start, d)
    assert got == want
    assert got.isoformat() == want.isoformat()  # same zone and wall clock, not just instant
    assert got.tzinfo is want.tzinfo


@settings(max_examples=300, deadline=None)
@given(start=starts, ds=st.lists(durations, min_size=1, max_size=4))
def test_add_working_times_equals_stepping(start: datetime, ds: list[timedelta]) -> None:
    got = DEFAULT_CALENDAR.add_working_times(start, ds)
    want = DEFAULT_CALENDAR.add_working_times_stepping(start, ds)
    assert [g.isoformat() for g in got] == [w.isoformat() for w in want]


@settings(max_examples=400, deadline=None)
@given(a=starts, b=starts)
def test_working_time_between_equals_stepping(a: datetime, b: datetime) -> None:
    assert DEFAULT_CALENDAR.working_time_between(
        a, b
    ) == DEFAULT_CALENDAR.working_time_between_stepping(a, b)


def _clock(minute: int) -> time:
    return time(minute // 60, minute % 60)


@st.composite
def calendars(draw: st.DrawFn) -> WorkingCalendar:
    """Random years 2025–2027 (holidays on any day, make-up days on weekends) and one to
    three office periods (minute boundaries, 00:00–24:00 exclusive)."""
    years = []
    for y in (2025, 2026, 2027):
        days = draw(st.sets(st.integers(0, 364), max_size=40))
        picked = [date(y, 1, 1) + timedelta(days=i) for i in sorted(days)]
        weekend = [d for d in picked if d.weekday() >= 5]
        makeup = set(draw(st.lists(st.sampled_from(weekend), unique=True))) if weekend else set()
        hol = [CalendarDay(d, "假") for d in picked if d not in makeup]
        years.append(CalendarYear.of(y, "published", hol, [CalendarDay(d) for d in makeup]))
    bounds = sorted(draw(st.sets(st.integers(0, 24 * 60 - 1), min_size=2, max_size=6)))
    if len(bounds) % 2:
        bounds = bounds[:-1]
    hours = [(_clock(bounds[i]), _clock(bounds[i + 1])) for i in range(0, len(bounds), 2)]
    return WorkingCalendar.from_years(years, hours)


@settings(max_examples=300, deadline=None)
@given(cal=calendars(), start=starts, ds=st.lists(durations, min_size=1, max_size=3))
def test_any_calendar_equals_stepping(
    cal: WorkingCalendar, start: datetime, ds: list[timedelta]
) -> None:
    got = _outcome(lambda: cal.add_working_times(start, ds))
    assert got == _outcome(lambda: cal.add_working_times_stepping(start, ds))
    if isinstance(got, str):  # a one-minute office day makes some durations too long
        assert got == "duration_too_long"
        return
    end = max(datetime.fromisoformat(g) for g in got)
    assert cal.working_time_between(start, end) == cal.working_time_between_stepping(start, end)


def test_outside_the_index_falls_back_to_stepping() -> None:
    cal = DEFAULT_CALENDAR
    old = sh(1999, 12, 30, 16)  # before MIN_YEAR: stepped, across the index's first day
    assert cal.add_working_time(old, timedelta(hours=10)) == sh(2000, 1, 3, 9, 30)
    late = sh(2110, 5, 4, 9)
    assert cal.add_working_time(late, timedelta(hours=7.5)) == cal.add_working_time_stepping(
        late, timedelta(hours=7.5)
    )
    assert cal.working_time_between(old, sh(2000, 1, 4)) == timedelta(hours=1.5 + 7.5 + 7.5)


def test_ten_year_limit_still_refused() -> None:
    with pytest.raises(ValidationFailed) as e:
        DEFAULT_CALENDAR.add_working_time(sh(2026, 1, 5), timedelta(hours=7.5) * 2700)
    assert e.value.code == "duration_too_long"
    with pytest.raises(ValidationFailed) as e2:
        DEFAULT_CALENDAR.add_working_time_stepping(sh(2026, 1, 5), timedelta(hours=7.5) * 2700)
    assert e2.value.code == "duration_too_long"
    # just inside the limit: both agree
    d = timedelta(hours=7.5) * 2400
    assert DEFAULT_CALENDAR.add_working_time(sh(2026, 1, 5), d) == (
        DEFAULT_CALENDAR.add_working_time_stepping(sh(2026, 1, 5), d)
    )


def test_live_calendar_index_follows_a_new_revision() -> None:
    """``LiveCalendar`` swaps its days in place: the index must be rebuilt, not reused."""
    base = WorkingCalendar.from_data()
    live = LiveCalendar(base.holidays, base.makeup_workdays, dict(base.year_statuses))
    tue = sh(2030, 3, 12, 17)  # fallback year, Tuesday 17:00
    assert live.add_working_time(tue, timedelta(hours=1)) == sh(2030, 3, 13, 9)
    year = CalendarYear.of(2030, "published", [CalendarDay(date(2030, 3, 13), "演练")], [])
    live._take(WorkingCalendar.from_years([year]))
    assert live.add_working_time(tue, timedelta(hours=1)) == sh(2030, 3, 14, 9)
    assert live.working_time_between(tue, sh(2030, 3, 14, 9)) == timedelta(hours=1)
    live._take(base)
    assert live.add_working_time(tue, timedelta(hours=1)) == sh(2030, 3, 13, 9)
