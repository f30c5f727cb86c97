"""Shared venues (场所共享): timetables and bookings without double booking.

A booking locks the venue row (``SELECT ... FOR UPDATE``) so bookings of one venue are
decided one at a time against the active bookings that overlap; the exclusion constraint
``ex_venue_bookings_no_overlap`` refuses an overlap in the database whatever happens.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from services.volunteers.adapters import repository as repo
from services.volunteers.domain.common import TimeWindow
from services.volunteers.domain.venues import OpeningSlot, Venue
from services.volunteers.service_layer.common import new_id, staff_of, unique_or_conflict
from yiwang.clock import SHANGHAI
from yiwang.contracts import volunteers as c
from yiwang.uow import UnitOfWork


def create_venue(uow: UnitOfWork, req: c.CreateVenueRequest, now: datetime) -> dict[str, Any]:
    staff_of(req.staff, req.community_code).require_covers(req.community_code)
    venue = Venue(
        venue_id=new_id("venue"),
        community_code=req.community_code,
        name=req.name,
        capacity=req.capacity,
        timetable=tuple(
            OpeningSlot(s.weekday, time.fromisoformat(s.opens), time.fromisoformat(s.closes))
            for s in req.timetable
        ),
        closed_dates=set(req.closed_dates),
    )
    with uow:
        repo.add_venue(uow.session, venue, now)
        uow.commit()
    return repo.venue_view(venue)


def book_venue(uow: UnitOfWork, req: c.BookVenueRequest, now: datetime) -> dict[str, Any]:
    window = TimeWindow(req.start, req.end)
    with uow:
        venue = repo.get_venue(
            uow.session, req.venue_id, for_update=True, bookings_between=(window.start, window.end)
        )
        booking = venue.book(
            booking_id=new_id("bk"),
            booker_id=req.booker_id,
            window=window,
            purpose=req.purpose,
            headcount=req.headcount,
            now=now,
        )
        with unique_or_conflict(
            "venue_booked",
            "the venue is already booked for part of that time",
            "该时段场所已被预约",
        ):
            repo.add_booking(uow.session, booking)
        uow.commit()
    return repo.booking_view(booking)


def cancel_booking(uow: UnitOfWork, req: c.CancelBookingRequest, now: datetime) -> dict[str, Any]:
    with uow:
        venue = repo.get_venue(
            uow.session, req.venue_id, for_update=True, booking_id=req.booking_id
        )
        venue.cancel(
            req.booking_id,
            req.by,
            now,
            staff_of(req.staff, venue.community_code) if req.staff is not None else None,
        )
        booking = venue.bookings[req.booking_id]
        repo.save_booking_status(uow.session, booking)
        uow.commit()
    return repo.booking_view(booking)


def free_slots(uow: UnitOfWork, req: c.VenueFreeSlotsRequest) -> dict[str, Any]:
    lo = datetime.combine(req.day, time(0), SHANGHAI)
    with uow:
        venue = repo.get_venue(
            uow.session, req.venue_id, bookings_between=(lo, lo + timedelta(days=1))
        )
    slots = venue.free_slots(req.day)
    return {
        "venue_id": venue.venue_id,
        "day": req.day,
        "slots": [{"start": w.start, "end": w.end} for w in slots],
    }
