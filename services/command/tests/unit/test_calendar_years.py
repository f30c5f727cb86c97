"""A year of the working-day calendar as data: validation codes, round trip, the calendar
built from years, and the live calendar swapping its days."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from services.command.domain.calendar import (
    CalendarDay,
    CalendarYear,
    WorkingCalendar,
    year_from_ranges,
)
from services.command.domain.holidays_cn import HOLIDAY_DATA
from services.command.domain.sla import SlaPolicy
from services.command.service_layer.calendar import CalendarCache, LiveCalendar
from yiwang.clock import SHANGHAI
from yiwang.errors import ValidationFailed
from yiwang.jurisdiction import Level

D = CalendarDay


def refused(code: str, *args: object, **kw: object) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as e:
        CalendarYear.of(*args, **kw)  # type: ignore[arg-type]
    assert e.value.code == code, e.value.to_dict()
    assert e.value.message_zh and e.value.message_en
    return e.value


def test_valid_year_is_normalised_and_round_trips() -> None:
    y = CalendarYear.of(
        2028,
        "provisional",
        [
            D(date(2028, 10, 2), " 国庆节 "),
            D(date(2028, 10, 1), "国庆节"),
            D(date(2028, 9, 30), "周末也可以是节假日"),
        ],  # Saturday 2028-09-30
        [D(date(2028, 10, 8))],  # Sunday
        " 测试 ",
    )
    assert [d.day for d in y.holidays] == [date(2028, 9, 30), date(2028, 10, 1), date(2028, 10, 2)]
    assert y.holidays[2].name == "国庆节" and y.source == "测试"
    assert CalendarYear.from_data(y.to_data()) == y


def test_refusals_have_stable_codes() -> None:
    refused("calendar_year_out_of_range", 1999, "published", [], [])
    refused("invalid_year_status", 2028, "draft", [], [])
    refused("calendar_day_outside_year", 2028, "published", [D(date(2029, 1, 1), "元旦")], [])
    refused("calendar_day_outside_year", 2028, "published", [], [D(date(2027, 12, 25))])
    refused(
        "calendar_duplicate_day",
        2028,
        "published",
        [D(date(2028, 1, 1), "元旦"), D(date(2028, 1, 1), "元旦")],
        [],
    )
    e = refused(
        "holiday_makeup_overlap",
        2028,
        "published",
        [D(date(2028, 1, 1), "元旦")],
        [D(date(2028, 1, 1))],
    )
    assert e.details["day"] == "2028-01-01"
    refused("calendar_holiday_name_required", 2028, "published", [D(date(2028, 1, 3), "  ")], [])
    # 2028-01-05 is a Wednesday: a make-up working day must be a weekend
    e = refused("calendar_makeup_not_weekend", 2028, "published", [], [D(date(2028, 1, 5))])
    assert e.details["day"] == "2028-01-05"
    refused("calendar_name_too_long", 2028, "published", [D(date(2028, 1, 1), "节" * 41)], [])


def test_holiday_data_expands_to_named_days() -> None:
    y = year_from_ranges(2026, HOLIDAY_DATA[2026])
    assert y.status == "published"
    spring = [d for d in y.holidays if d.name == "春节"]
    assert len(spring) == 9 and spring[0].day == date(2026, 2, 15)
    assert all(d.day.weekday() >= 5 for d in y.makeup_workdays)
    with pytest.raises(ValidationFailed) as e:
        year_from_ranges(
            2026, {"holidays": [{"name": "x", "from": "2026-12-31", "to": "2027-01-02"}]}
        )
    assert e.value.code == "invalid_holiday_range"


def test_calendar_from_years_equals_calendar_from_data() -> None:
    years = [year_from_ranges(y, e) for y, e in HOLIDAY_DATA.items()]
    a, b = WorkingCalendar.from_years(years), WorkingCalendar.from_data()
    assert a.holidays == b.holidays and a.makeup_workdays == b.makeup_workdays
    assert dict(a.year_statuses) == dict(b.year_statuses)


def test_live_calendar_follows_installed_years_and_moves_deadlines() -> None:
    base = WorkingCalendar.from_data()
    live = LiveCalendar(base.holidays, base.makeup_workdays, dict(base.year_statuses))
    cache = CalendarCache(live)
    policy = SlaPolicy(calendar=live)
    start = datetime(2028, 3, 6, 9, 0, tzinfo=SHANGHAI)  # Monday; 2028 has no data yet
    before = policy.handling_deadline("quick_1d", Level.GRID, start).due
    assert before == datetime(2028, 3, 7, 9, 0, tzinfo=SHANGHAI)
    assert live.year_status(2028) == "fallback_weekdays"
    year = CalendarYear.of(
        2028, "published", [D(date(2028, 3, 7), "测试假日")], [D(date(2028, 3, 11))]
    )
    cache.install(7, [year])
    assert cache.revision == 7 and live.year_status(2028) == "published"
    assert not live.is_working_day(date(2028, 3, 7))
    assert live.is_working_day(date(2028, 3, 11))  # a Saturday worked
    after = policy.handling_deadline("quick_1d", Level.GRID, start).due
    assert after == datetime(2028, 3, 8, 9, 0, tzinfo=SHANGHAI)  # the holiday is skipped
    assert after - before == timedelta(days=1)
    cache.reset()
    assert live.is_working_day(date(2028, 3, 7)) and cache.revision == -1
    assert live.holidays == base.holidays
