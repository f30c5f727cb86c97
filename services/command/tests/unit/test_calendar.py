from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.command.domain.calendar import (
    DEFAULT_CALENDAR,
    WorkingCalendar,
    add_working_time,
    is_working_day,
    working_time_between,
    year_status,
)
from yiwang.clock import SHANGHAI
from yiwang.errors import ValidationFailed


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 1, 1),
        date(2025, 1, 28),
        date(2025, 2, 4),
        date(2025, 4, 4),
        date(2025, 5, 5),
        date(2025, 6, 2),
        date(2025, 10, 8),
        date(2026, 1, 2),
        date(2026, 2, 16),
        date(2026, 2, 23),
        date(2026, 5, 4),
        date(2026, 6, 19),
        date(2026, 9, 25),
        date(2026, 10, 7),
    ],
)
def test_holidays_are_not_working_days(day: date) -> None:
    assert not is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 1, 26),
        date(2025, 2, 8),
        date(2025, 4, 27),
        date(2025, 9, 28),
        date(2025, 10, 11),
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ],
)
def test_makeup_weekends_are_working_days(day: date) -> None:
    assert day.weekday() >= 5  # they are weekends
    assert is_working_day(day)


def test_ordinary_days() -> None:
    assert is_working_day(date(2026, 3, 10))  # Tuesday
    assert not is_working_day(date(2026, 3, 14))  # Saturday
    assert is_working_day(date(2026, 2, 24))  # first day after Spring Festival


def test_year_status_and_fallback() -> None:
    assert year_status(2025) == "published"
    assert year_status(2026) == "published"
    assert year_status(2027) == "provisional"
    assert not is_working_day(date(2027, 10, 1))
    assert year_status(2030) == "fallback_weekdays"
    assert is_working_day(date(2030, 1, 1))  # Tuesday: unknown year counts Mon–Fri
    assert not is_working_day(date(2030, 1, 5))


def test_add_working_time_across_spring_festival_2026() -> None:
    # Friday 13 Feb 2026 16:30: one hour left that day; Sat 14 Feb is a make-up working day.
    start = sh(2026, 2, 13, 16, 30)
    assert add_working_time(start, timedelta(hours=1)) == sh(2026, 2, 13, 17, 30)
    assert add_working_time(start, timedelta(hours=2)) == sh(2026, 2, 14, 9, 30)
    # 1h Friday + 7.5h Saturday + 1h: the holiday runs 15–23 Feb, next is Tue 24 Feb.
    assert add_working_time(start, timedelta(hours=9.5)) == sh(2026, 2, 24, 9, 30)
    # Three working days from Saturday 14 Feb 10:00 → 24, 25, 26 Feb → Thu 26 Feb 10:00.
    assert DEFAULT_CALENDAR.add_working_days(sh(2026, 2, 14, 10), 3) == sh(2026, 2, 26, 10)


def test_add_working_time_lunch_break_and_evening() -> None:
    assert add_working_time(sh(2026, 3, 10, 11, 0), timedelta(hours=2)) == sh(2026, 3, 10, 14, 30)
    assert add_working_time(sh(2026, 3, 10, 20, 0), timedelta(hours=1)) == sh(2026, 3, 11, 9, 30)
    assert DEFAULT_CALENDAR.add_working_days(sh(2026, 3, 10, 10), 1) == sh(2026, 3, 11, 10)
    assert DEFAULT_CALENDAR.add_working_days(sh(2026, 3, 10, 20), 1) == sh(2026, 3, 11, 17, 30)


def test_midnight_shanghai_vs_utc() -> None:
    # 2026-03-13 16:30 UTC is Saturday 00:30 in Shanghai: not a working day.
    t = datetime(2026, 3, 13, 16, 30, tzinfo=UTC)
    assert not is_working_day(t)
    assert is_working_day(t.date())  # the UTC date is a Friday
    # Thursday 2026-03-12 23:30 UTC = Friday 07:30 Shanghai: one hour lands at 09:30 local.
    got = add_working_time(datetime(2026, 3, 12, 23, 30, tzinfo=UTC), timedelta(hours=1))
    assert got == datetime(2026, 3, 13, 1, 30, tzinfo=UTC)
    # 2025-12-31 16:00 UTC is New Year's Day in Shanghai.
    assert not is_working_day(datetime(2025, 12, 31, 16, 0, tzinfo=UTC))
    assert is_working_day(datetime(2025, 12, 31, 15, 59, tzinfo=UTC))


def test_working_time_between() -> None:
    assert working_time_between(sh(2026, 3, 10, 8, 0), sh(2026, 3, 10, 18, 0)) == timedelta(
        hours=7.5
    )
    assert working_time_between(sh(2026, 2, 13, 17, 0), sh(2026, 2, 24, 9, 0)) == timedelta(
        hours=0.5 + 7.5 + 0.5
    )
    assert working_time_between(sh(2026, 3, 11), sh(2026, 3, 10)) == -timedelta(hours=7.5)


def test_refusals() -> None:
    with pytest.raises(ValidationFailed) as e:
        add_working_time(datetime(2026, 3, 10, 9), timedelta(hours=1))  # noqa: DTZ001 - the naive instant this test refuses
    assert e.value.code == "naive_datetime"
    with pytest.raises(ValidationFailed):
        add_working_time(sh(2026, 3, 10, 9), timedelta(hours=-1))
    with pytest.raises(ValidationFailed):
        WorkingCalendar.from_data({}, office_hours=[(time(12), time(9))])
    with pytest.raises(ValidationFailed) as e2:
        WorkingCalendar.from_data(
            {
                2025: {
                    "holidays": [{"from": "2025-01-01", "to": "2025-01-01"}],
                    "makeup_workdays": ["2025-01-01"],
                }
            }
        )
    assert e2.value.code == "holiday_makeup_overlap"


def test_configurable_office_hours() -> None:
    cal = WorkingCalendar.from_data(office_hours=[(time(9), time(17))])
    assert cal.day_length == timedelta(hours=8)
    assert cal.add_working_time(sh(2026, 3, 10, 16), timedelta(hours=2)) == sh(2026, 3, 11, 10)


moments = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
    max_value=datetime(2027, 6, 30),  # noqa: DTZ001 - hypothesis takes naive bounds
    timezones=st.just(UTC),
)


@settings(max_examples=150, deadline=None)
@given(start=moments, minutes=st.integers(min_value=0, max_value=60 * 7.5 * 15))
def test_add_then_measure_roundtrip(start: datetime, minutes: int) -> None:
    d = timedelta(minutes=minutes)
    end = add_working_time(start, d)
    assert end >= start
    assert working_time_between(start, end) == d
    if minutes:
        # the end is inside office hours (or at a period's close)
        assert DEFAULT_CALENDAR.is_working_time(end - timedelta(microseconds=1))


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2024, 12, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
        max_value=datetime(2026, 12, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
        timezones=st.just(UTC),
    ),
    st.lists(st.integers(min_value=0, max_value=40 * 3600), min_size=1, max_size=4),
)
def test_add_working_times_equals_add_working_time_each(start: datetime, secs: list[int]) -> None:
    cal = WorkingCalendar.from_data()
    durations = [timedelta(seconds=s) for s in secs]
    assert cal.add_working_times(start, durations) == tuple(
        cal.add_working_time(start, d) for d in durations
    )
