"""SLA deadlines: hours, calendar days, working days on a pluggable calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.petitions.domain.sla import (
    COMPLEX_7D,
    QUICK_1D,
    SLOW_2D,
    STANDARD_3D,
    URGENT_2H,
    expected_datetime,
    is_overdue,
    monday_to_friday,
    sla_class,
)
from yiwang.clock import SHANGHAI
from yiwang.errors import NotFound, ValidationFailed


def sh(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=SHANGHAI)


MON = sh(2026, 1, 5)  # Monday 10:00


def test_hours_and_calendar_days() -> None:
    assert expected_datetime(URGENT_2H, sh(2026, 1, 10, 23)) == sh(2026, 1, 11, 1)  # Saturday
    assert expected_datetime(SLOW_2D, sh(2026, 1, 9)) == sh(2026, 1, 11)
    assert expected_datetime(COMPLEX_7D, MON) == sh(2026, 1, 12)


def test_working_days() -> None:
    assert expected_datetime(QUICK_1D, MON) == sh(2026, 1, 6)
    assert expected_datetime(QUICK_1D, sh(2026, 1, 9, 15)) == sh(2026, 1, 12, 15)  # Fri → Mon
    assert expected_datetime(QUICK_1D, sh(2026, 1, 10, 15)) == sh(2026, 1, 13, 0)  # Sat → end Mon
    assert expected_datetime(STANDARD_3D, MON) == sh(2026, 1, 8)
    assert expected_datetime(STANDARD_3D, sh(2026, 1, 8)) == sh(2026, 1, 13)  # Thu → Tue


def test_holiday_calendar_is_pluggable() -> None:
    holidays = {date(2026, 1, 6), date(2026, 1, 7)}

    def working(d: date) -> bool:
        return monday_to_friday(d) and d not in holidays

    assert expected_datetime(QUICK_1D, MON, is_working_day=working) == sh(2026, 1, 8)
    with pytest.raises(ValidationFailed):
        expected_datetime(QUICK_1D, MON, is_working_day=lambda d: False)


def test_input_checks_and_lookup() -> None:
    with pytest.raises(ValidationFailed):
        expected_datetime(QUICK_1D, datetime(2026, 1, 5))  # noqa: DTZ001 - the naive instant this test refuses
    with pytest.raises(NotFound):
        sla_class("nope")
    assert sla_class("quick_1d") is QUICK_1D
    assert is_overdue(MON, MON + timedelta(seconds=1))
    assert not is_overdue(MON, MON + timedelta(days=9), finished_at=MON)
    assert not is_overdue(None, MON)


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
        max_value=datetime(2027, 12, 31),  # noqa: DTZ001 - hypothesis takes naive bounds
        timezones=st.just(SHANGHAI),
    ),
    st.sampled_from([QUICK_1D, STANDARD_3D]),
)
def test_working_day_deadlines_land_on_working_days(at: datetime, sla: object) -> None:
    due = expected_datetime(sla, at)  # type: ignore[arg-type]
    assert due > at
    assert monday_to_friday(due.date()) or due.time() == datetime.min.time()
    span = (due.date() - at.date()).days
    assert sla.amount <= span <= sla.amount + 4  # type: ignore[attr-defined]
