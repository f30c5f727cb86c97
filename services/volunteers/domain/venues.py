"""Shared venues (场所共享): places opened on a weekly timetable, booked without overlap.

Opening hours are Asia/Shanghai wall-clock intervals per weekday (0 = Monday). A booking
must lie inside one opening interval of one local day, must not overlap another active
booking (``venue_booked``), and must fit the venue's capacity. Closed dates (holidays,
repairs) refuse bookings too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum

from yiwang.clock import SHANGHAI, require_aware
from yiwang.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yiwang.text import require_text

from .common import Staff, TimeWindow, require_community_code


@dataclass(frozen=True, slots=True)
class OpeningSlot:
    weekday: int
    opens: time
    closes: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6 or self.closes <= self.opens:
            raise ValidationFailed(
                "invalid_opening_hours",
                "opening hours need a weekday 0-6 and closing after opening",
                "开放时间需要星期（0-6）且关闭晚于开放",
            )


class BookingStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


@dataclass(kw_only=True)
class Booking:
    booking_id: str
    venue_id: str
    booker_id: str
    window: TimeWindow
    purpose: str
    headcount: int
    booked_at: datetime
    status: BookingStatus = BookingStatus.ACTIVE
    cancelled_at: datetime | None = None


@dataclass(kw_only=True)
class Venue:
    venue_id: str
    community_code: str
    name: str
    capacity: int
    timetable: tuple[OpeningSlot, ...]
    closed_dates: set[date] = field(default_factory=set)
    bookings: dict[str, Booking] = field(default_factory=dict)
    version: int = 1

    def __post_init__(self) -> None:
        require_community_code(self.community_code)
        require_text(self.name, "name", max_len=100)
        if self.capacity < 1:
            raise ValidationFailed(
                "invalid_capacity", "capacity must be positive", "容纳人数必须为正数"
            )
        slots = sorted(self.timetable, key=lambda s: (s.weekday, s.opens))
        for a, b in zip(slots, slots[1:], strict=False):
            if a.weekday == b.weekday and b.opens < a.closes:
                raise ValidationFailed(
                    "overlapping_opening_hours", "opening hours overlap", "开放时间段重叠"
                )
        self.timetable = tuple(slots)

    def is_open_for(self, window: TimeWindow) -> bool:
        start, end = window.start.astimezone(SHANGHAI), window.end.astimezone(SHANGHAI)
        if end.date() != start.date() or start.date() in self.closed_dates:
            return False
        return any(
            s.weekday == start.weekday() and s.opens <= start.time() and end.time() <= s.closes
            for s in self.timetable
        )

    def active_bookings(self) -> list[Booking]:
        return sorted(
            (b for b in self.bookings.values() if b.status is BookingStatus.ACTIVE),
            key=lambda b: b.window.start,
        )

    def book(
        self,
        *,
        booking_id: str,
        booker_id: str,
        window: TimeWindow,
        purpose: str,
        headcount: int,
        now: datetime,
    ) -> Booking:
        require_aware(now)
        if booking_id in self.bookings:
            raise Conflict("duplicate_booking", f"booking {booking_id} exists", "预约编号重复")
        if window.start < now:
            raise ValidationFailed(
                "booking_in_past", "cannot book a time in the past", "不能预约过去的时间"
            )
        if not 1 <= headcount <= self.capacity:
            raise ValidationFailed(
                "venue_over_capacity",
                f"headcount must be 1 to {self.capacity}",
                f"人数须在1到{self.capacity}之间",
                capacity=self.capacity,
            )
        if not self.is_open_for(window):
            raise ValidationFailed(
                "outside_opening_hours",
                "the venue is not open for the whole requested time",
                "所选时间不在场所开放时间内",
            )
        clash = next((b for b in self.active_bookings() if b.window.overlaps(window)), None)
        if clash is not None:
            raise Conflict(
                "venue_booked",
                "the venue is already booked for part of that time",
                "该时段场所已被预约",
                clashing_start=clash.window.start.isoformat(),
                clashing_end=clash.window.end.isoformat(),
            )
        booking = Booking(
            booking_id=require_text(booking_id, "booking_id", max_len=64),
            venue_id=self.venue_id,
            booker_id=require_text(booker_id, "booker_id", max_len=64),
            window=window,
            purpose=require_text(purpose, "purpose", max_len=200),
            headcount=headcount,
            booked_at=now,
        )
        self.bookings[booking.booking_id] = booking
        self.version += 1
        return booking

    def cancel(self, booking_id: str, by: str, now: datetime, staff: Staff | None = None) -> None:
        """The booker (or community staff) cancels a booking, freeing the slot."""
        booking = self.bookings.get(booking_id)
        if booking is None:
            raise NotFound("booking_not_found", f"no booking {booking_id}", "预约不存在")
        if staff is not None:
            staff.require_covers(self.community_code)
        elif by != booking.booker_id:
            raise Forbidden("not_the_booker", "only the booker may cancel", "只有预约人可以取消")
        if booking.status is BookingStatus.CANCELLED:
            raise Conflict("booking_cancelled", "the booking is already cancelled", "预约已取消")
        booking.status = BookingStatus.CANCELLED
        booking.cancelled_at = require_aware(now)
        self.version += 1

    def free_slots(self, day: date) -> list[TimeWindow]:
        """Open, unbooked intervals on a local day (for the booking screen)."""
        if day in self.closed_dates:
            return []
        out: list[TimeWindow] = []
        taken = self.active_bookings()
        for s in self.timetable:
            if s.weekday != day.weekday():
                continue
            cursor = datetime.combine(day, s.opens, SHANGHAI)
            close = datetime.combine(day, s.closes, SHANGHAI)
            for b in taken:
                if b.window.end <= cursor or b.window.start >= close:
                    continue
                if b.window.start > cursor:
                    out.append(TimeWindow(cursor, b.window.start))
                cursor = max(cursor, b.window.end)
            if cursor < close:
                out.append(TimeWindow(cursor, close))
        return out
