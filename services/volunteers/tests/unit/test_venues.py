"""Shared venues: opening hours and no double booking."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.volunteers.domain.common import TimeWindow
from services.volunteers.domain.venues import OpeningSlot, Venue
from services.volunteers.tests.unit.builders import COMMUNITY, T0
from yiwang.clock import SHANGHAI
from yiwang.errors import Conflict, DomainError, Forbidden, ValidationFailed

TUE = date(2026, 1, 6)


def _venue() -> Venue:
    return Venue(
        venue_id="hall",
        community_code=COMMUNITY,
        name="Party-masses service centre hall",
        capacity=40,
        timetable=(
            OpeningSlot(1, time(9), time(12)),  # Tuesday mornings
            OpeningSlot(1, time(14), time(17, 30)),
        ),
        closed_dates={date(2026, 1, 13)},
    )


def _w(day: date, h1: float, h2: float) -> TimeWindow:
    base = datetime.combine(day, time(0), SHANGHAI)
    return TimeWindow(base + timedelta(hours=h1), base + timedelta(hours=h2))


def _book(v: Venue, bid: str, window: TimeWindow, headcount: int = 10):
    return v.book(
        booking_id=bid,
        booker_id="team-1",
        window=window,
        purpose="meeting",
        headcount=headcount,
        now=T0,
    )


def test_double_booking_refused_and_cancel_frees_the_slot():
    v = _venue()
    _book(v, "b1", _w(TUE, 9, 10.5))
    with pytest.raises(Conflict) as exc:
        _book(v, "b2", _w(TUE, 10, 11))
    assert exc.value.code == "venue_booked"
    _book(v, "b3", _w(TUE, 10.5, 12))  # touching is fine
    with pytest.raises(Forbidden, match="not_the_booker"):
        v.cancel("b1", "someone", T0)
    v.cancel("b1", "team-1", T0)
    _book(v, "b2", _w(TUE, 10, 10.5))
    assert [(s.start.hour, s.end.hour) for s in v.free_slots(TUE)] == [(9, 10), (14, 17)]


@pytest.mark.parametrize(
    "window",
    [
        _w(TUE, 8, 10),  # before opening
        _w(TUE, 11, 15),  # across the lunch closure
        _w(TUE + timedelta(days=1), 9, 10),  # Wednesday: closed
        _w(date(2026, 1, 13), 9, 10),  # closed date
    ],
)
def test_outside_opening_hours(window):
    with pytest.raises(ValidationFailed, match="outside_opening_hours"):
        _book(_venue(), "b", window)


def test_capacity_and_past():
    v = _venue()
    with pytest.raises(ValidationFailed, match="venue_over_capacity"):
        _book(v, "b", _w(TUE, 9, 10), headcount=41)
    with pytest.raises(ValidationFailed, match="booking_in_past"):
        _book(v, "b", _w(date(2026, 1, 5), 7, 8))


@given(st.lists(st.tuples(st.integers(18, 34), st.integers(1, 6)), max_size=30))
@settings(max_examples=150, deadline=None)
def test_random_bookings_never_overlap(requests):
    v = _venue()
    for i, (start_half_hours, length) in enumerate(requests):
        window = _w(TUE, start_half_hours / 2, (start_half_hours + length) / 2)
        try:
            _book(v, f"b{i}", window)
        except DomainError as err:
            assert err.code in ("venue_booked", "outside_opening_hours")
    active = v.active_bookings()
    for a, b in zip(active, active[1:], strict=False):
        assert a.window.end <= b.window.start
    for b in active:
        assert v.is_open_for(b.window)
