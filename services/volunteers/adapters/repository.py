"""Rows ⇄ domain aggregates for the volunteers service, and optimistic saves.

Every ``save_*`` of an existing aggregate is ``UPDATE ... WHERE id = :id AND version = :v``
with the version the aggregate was loaded at; zero rows means someone else changed it
first and the command fails with ``Conflict("version_conflict")`` (the transaction rolls
back, nothing changed). ``for_update=True`` loads take a row lock instead, for commands
where waiting is better than failing (a volunteer's capacity, a venue, an activity).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.orm import Session

from services.volunteers.adapters.tables import (
    activities,
    list_items,
    orders,
    registrations,
    teams,
    venue_bookings,
    venues,
    wishes,
)
from services.volunteers.domain.common import GeoPoint, TimeWindow
from services.volunteers.domain.lists import ItemStatus, ListItem, ListKind, ResourceType
from services.volunteers.domain.order import OrderStatus, ServiceOrder
from services.volunteers.domain.points import PointRules
from services.volunteers.domain.registration import (
    Availability,
    ClaimantKind,
    CoBuildingUnit,
    Contact,
    RegistrationStatus,
    UnitKind,
    Volunteer,
    VolunteerKind,
)
from services.volunteers.domain.teams import Activity, ActivityStatus, Participant, Team
from services.volunteers.domain.venues import Booking, BookingStatus, OpeningSlot, Venue
from services.volunteers.domain.wishes import ClaimerKind, Wish, WishStatus
from yiwang.errors import Conflict, NotFound
from yiwang.jurisdiction import Level


def _iso(d: datetime | None) -> str | None:
    return d.isoformat() if d is not None else None


def _dt(s: str | None) -> datetime | None:
    return datetime.fromisoformat(s) if s is not None else None


def _dt1(s: str) -> datetime:
    return datetime.fromisoformat(s)


def version_conflict(what: str, ident: str) -> Conflict:
    return Conflict(
        "version_conflict",
        f"{what} {ident} was changed by someone else; reload and retry",
        "记录已被他人修改，请刷新后重试",
        entity=what,
        id=ident,
    )


def not_found(what: str, ident: str) -> NotFound:
    zh = {
        "order": "工单",
        "registration": "报到记录",
        "wish": "心愿",
        "team": "服务队",
        "activity": "活动",
        "venue": "场所",
        "item": "清单项",
    }.get(what, what)
    return NotFound(f"{what}_not_found", f"no {what} {ident}", f"{zh}{ident}不存在", id=ident)


def _update(
    session: Session,
    table: sa.Table,
    where: Any,
    old_version: int,
    values: dict[str, Any],
    what: str,
    ident: str,
) -> None:
    res = session.execute(
        table.update().where(where, table.c.version == old_version).values(**values)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise version_conflict(what, ident)


def _load(
    session: Session, table: sa.Table, where: Any, for_update: bool, what: str, ident: str
) -> Any:
    stmt = sa.select(table).where(where)
    if for_update:
        stmt = stmt.with_for_update()
    row = session.execute(stmt).mappings().first()
    if row is None:
        raise not_found(what, ident)
    return row


# --- orders ------------------------------------------------------------------------------

_ORDER_TIMES = (
    "claimed_at",
    "checked_in_at",
    "completed_at",
    "rated_at",
    "escalated_at",
    "updated_at",
)
_ORDER_PLAIN = (
    "description",
    "address",
    "required_skill",
    "reviewed_by",
    "points_holder",
    "claimed_via",
    "checkin_nonce",
    "completion_note",
    "stars",
    "rating_comment",
    "points_awarded",
    "closing_reason",
)


def order_state(o: ServiceOrder) -> dict[str, Any]:
    state: dict[str, Any] = {k: getattr(o, k) for k in _ORDER_PLAIN}
    state.update({k: _iso(getattr(o, k)) for k in _ORDER_TIMES})
    rules = o.point_rules
    state.update(
        window=[o.window.start.isoformat(), o.window.end.isoformat()],
        place=[o.place.lat, o.place.lon],
        review_level=str(o.review_level),
        claim_deadline=o.claim_deadline.isoformat(),
        case_deadline=o.case_deadline.isoformat(),
        rating_limit_s=o.rating_limit.total_seconds(),
        point_rules={
            "base_by_category": dict(rules.base_by_category),
            "default_base": rules.default_base,
            "five_star_bonus": rules.five_star_bonus,
            "no_points_at_or_below": rules.no_points_at_or_below,
        },
        photos=list(o.photos),
    )
    return state


def order_from_row(row: Any) -> ServiceOrder:
    s = row["state"]
    extra: dict[str, Any] = {k: s[k] for k in _ORDER_PLAIN}
    extra.update({k: _dt(s[k]) for k in _ORDER_TIMES})
    return ServiceOrder(
        order_id=row["id"],
        community_code=row["community_code"],
        resident_id=row["resident_id"],
        category=row["category"],
        status=OrderStatus(row["status"]),
        version=row["version"],
        created_at=row["created_at"],
        claimant_id=row["claimant_id"],
        claimant_kind=ClaimantKind(row["claimant_kind"]) if row["claimant_kind"] else None,
        window=TimeWindow(_dt1(s["window"][0]), _dt1(s["window"][1])),
        place=GeoPoint(s["place"][0], s["place"][1]),
        review_level=Level(s["review_level"]),
        claim_deadline=_dt1(s["claim_deadline"]),
        case_deadline=_dt1(s["case_deadline"]),
        rating_limit=timedelta(seconds=s["rating_limit_s"]),
        point_rules=PointRules.from_dict(s["point_rules"]),
        photos=tuple(s["photos"]),
        **extra,
    )


def next_deadline(o: ServiceOrder) -> datetime | None:
    if o.status in (OrderStatus.ORDERED, OrderStatus.PUBLISHED):
        return o.claim_deadline
    if o.status is OrderStatus.ESCALATED:
        return o.case_deadline
    if o.status is OrderStatus.COMPLETED and o.completed_at is not None:
        return o.completed_at + o.rating_limit
    return None


def _order_values(o: ServiceOrder, now: datetime) -> dict[str, Any]:
    return dict(
        status=str(o.status),
        claimant_kind=str(o.claimant_kind) if o.claimant_kind else None,
        claimant_id=o.claimant_id,
        next_deadline=next_deadline(o),
        version=o.version,
        state=order_state(o),
        updated_at=now,
    )


def add_order(session: Session, o: ServiceOrder, now: datetime) -> None:
    session.execute(
        orders.insert().values(
            id=o.order_id,
            community_code=o.community_code,
            resident_id=o.resident_id,
            category=o.category,
            created_at=o.created_at,
            **_order_values(o, now),
        )
    )


def get_order(session: Session, order_id: str, *, for_update: bool = False) -> ServiceOrder:
    return order_from_row(
        _load(session, orders, orders.c.id == order_id, for_update, "order", order_id)
    )


def save_order(session: Session, o: ServiceOrder, old_version: int, now: datetime) -> None:
    _update(
        session,
        orders,
        orders.c.id == o.order_id,
        old_version,
        _order_values(o, now),
        "order",
        o.order_id,
    )


def active_orders(session: Session, kind: ClaimantKind, claimant_id: str) -> int:
    return int(
        session.execute(
            sa.select(sa.func.count())
            .select_from(orders)
            .where(
                orders.c.claimant_kind == str(kind),
                orders.c.claimant_id == claimant_id,
                orders.c.status.in_([str(OrderStatus.CLAIMED), str(OrderStatus.CHECKED_IN)]),
            )
        ).scalar_one()
    )


def order_view(o: ServiceOrder) -> dict[str, Any]:
    return dict(
        order_id=o.order_id,
        community_code=o.community_code,
        resident_id=o.resident_id,
        category=o.category,
        description=o.description,
        address=o.address,
        status=str(o.status),
        window_start=o.window.start,
        window_end=o.window.end,
        lat=o.place.lat,
        lon=o.place.lon,
        review_level=str(o.review_level),
        required_skill=o.required_skill,
        claim_deadline=o.claim_deadline,
        case_deadline=o.case_deadline,
        claimant_kind=str(o.claimant_kind) if o.claimant_kind else None,
        claimant_id=o.claimant_id,
        claimed_via=o.claimed_via,
        checked_in_at=o.checked_in_at,
        completed_at=o.completed_at,
        completion_note=o.completion_note,
        photos=list(o.photos),
        stars=o.stars,
        rating_comment=o.rating_comment,
        points_awarded=o.points_awarded,
        closing_reason=o.closing_reason,
        version=o.version,
        created_at=o.created_at,
        updated_at=o.updated_at,
    )


# --- registrations -----------------------------------------------------------------------

Registration = Volunteer | CoBuildingUnit


def _hm(t: time) -> str:
    return t.strftime("%H:%M")


def registration_state(r: Registration) -> dict[str, Any]:
    state: dict[str, Any] = dict(
        phone=r.contact.phone,
        email=r.contact.email,
        skills=sorted(r.skills),
        availability=[[a.weekday, _hm(a.start), _hm(a.end)] for a in r.availability],
        capacity=r.capacity,
        registered_at=r.registered_at.isoformat(),
        decided_at=_iso(r.decided_at),
        decided_by=r.decided_by,
        decision_note=r.decision_note,
    )
    if isinstance(r, Volunteer):
        state.update(
            kind=str(r.kind), work_unit=r.work_unit, unit_id=r.unit_id, volunteer_id=r.volunteer_id
        )
    else:
        state.update(kind=str(r.kind), party_org=r.party_org)
    return state


def registration_from_row(row: Any) -> Registration:
    s = row["state"]
    common: dict[str, Any] = dict(
        community_code=row["community_code"],
        contact=Contact(s["phone"], s["email"]),
        skills=frozenset(s["skills"]),
        availability=tuple(
            Availability(a[0], time.fromisoformat(a[1]), time.fromisoformat(a[2]))
            for a in s["availability"]
        ),
        capacity=s["capacity"],
        status=RegistrationStatus(row["status"]),
        registered_at=_dt1(s["registered_at"]),
        decided_at=_dt(s["decided_at"]),
        decided_by=s["decided_by"],
        decision_note=s["decision_note"],
        version=row["version"],
    )
    if row["kind"] == "volunteer":
        return Volunteer(
            volunteer_id=row["id"],
            person_id=row["person_id"],
            name=row["name"],
            kind=VolunteerKind(s["kind"]),
            work_unit=s["work_unit"],
            unit_id=s["unit_id"],
            **common,
        )
    return CoBuildingUnit(
        unit_id=row["id"],
        name=row["name"],
        kind=UnitKind(s["kind"]),
        party_org=s["party_org"],
        **common,
    )


def _reg_key(r: Registration) -> tuple[str, str]:
    return str(r.claimant_kind), r.claimant_id


def add_registration(session: Session, r: Registration, now: datetime) -> None:
    kind, ident = _reg_key(r)
    session.execute(
        registrations.insert().values(
            kind=kind,
            id=ident,
            community_code=r.community_code,
            status=str(r.status),
            name=r.name,
            person_id=r.person_id if isinstance(r, Volunteer) else None,
            version=r.version,
            state=registration_state(r),
            created_at=now,
            updated_at=now,
        )
    )


def get_registration(
    session: Session, kind: str, ident: str, *, for_update: bool = False
) -> Registration:
    t = registrations
    return registration_from_row(
        _load(
            session,
            t,
            sa.and_(t.c.kind == kind, t.c.id == ident),
            for_update,
            "registration",
            ident,
        )
    )


def save_registration(session: Session, r: Registration, old_version: int, now: datetime) -> None:
    kind, ident = _reg_key(r)
    t = registrations
    _update(
        session,
        t,
        sa.and_(t.c.kind == kind, t.c.id == ident),
        old_version,
        dict(status=str(r.status), version=r.version, state=registration_state(r), updated_at=now),
        "registration",
        ident,
    )


def registration_view(r: Registration) -> dict[str, Any]:
    vol = isinstance(r, Volunteer)
    return dict(
        kind=str(r.claimant_kind),
        registration_id=r.claimant_id,
        community_code=r.community_code,
        name=r.name,
        status=str(r.status),
        person_id=r.person_id if isinstance(r, Volunteer) else None,
        volunteer_kind=str(r.kind) if vol else None,
        unit_kind=str(r.kind) if not vol else None,
        work_unit=r.work_unit if isinstance(r, Volunteer) else None,
        skills=sorted(r.skills),
        capacity=r.capacity,
        version=r.version,
        registered_at=r.registered_at,
        decided_by=r.decided_by,
        decision_note=r.decision_note,
    )


# --- list items ----------------------------------------------------------------------------


def item_from_row(row: Any) -> ListItem:
    s = row["state"]
    return ListItem(
        item_id=row["id"],
        community_code=row["community_code"],
        kind=ListKind(row["kind"]),
        title=row["title"],
        description=s["description"],
        tags=frozenset(s["tags"]),
        submitted_by=s["submitted_by"],
        created_at=row["created_at"],
        resource_type=ResourceType(s["resource_type"]) if s["resource_type"] else None,
        quantity=s["quantity"],
        status=ItemStatus(row["status"]),
        updated_at=row["updated_at"],
        updated_by=s["updated_by"],
        version=row["version"],
    )


def _item_values(it: ListItem) -> dict[str, Any]:
    return dict(
        status=str(it.status),
        title=it.title,
        version=it.version,
        updated_at=it.updated_at or it.created_at,
        state=dict(
            description=it.description,
            tags=sorted(it.tags),
            submitted_by=it.submitted_by,
            resource_type=str(it.resource_type) if it.resource_type else None,
            quantity=it.quantity,
            updated_by=it.updated_by,
        ),
    )


def add_item(session: Session, it: ListItem) -> None:
    session.execute(
        list_items.insert().values(
            id=it.item_id,
            community_code=it.community_code,
            kind=str(it.kind),
            created_at=it.created_at,
            **_item_values(it),
        )
    )


def get_item(session: Session, item_id: str) -> ListItem:
    return item_from_row(
        _load(session, list_items, list_items.c.id == item_id, False, "item", item_id)
    )


def save_item(session: Session, it: ListItem, old_version: int) -> None:
    _update(
        session,
        list_items,
        list_items.c.id == it.item_id,
        old_version,
        _item_values(it),
        "item",
        it.item_id,
    )


def item_view(it: ListItem) -> dict[str, Any]:
    return dict(
        item_id=it.item_id,
        community_code=it.community_code,
        kind=str(it.kind),
        title=it.title,
        description=it.description,
        tags=sorted(it.tags),
        status=str(it.status),
        resource_type=str(it.resource_type) if it.resource_type else None,
        quantity=it.quantity,
        submitted_by=it.submitted_by,
        version=it.version,
        created_at=it.created_at,
        updated_at=it.updated_at,
    )


# --- wishes ------------------------------------------------------------------------------

_WISH_TIMES = ("claimed_at", "fulfilled_at", "lit_at")
_WISH_PLAIN = (
    "beneficiary",
    "title",
    "description",
    "value_fen",
    "verified_by",
    "proof_note",
    "reason",
)


def wish_from_row(row: Any) -> Wish:
    s = row["state"]
    extra: dict[str, Any] = {k: s[k] for k in _WISH_PLAIN}
    extra.update({k: _dt(s[k]) for k in _WISH_TIMES})
    return Wish(
        wish_id=row["id"],
        community_code=row["community_code"],
        poster_id=row["poster_id"],
        posted_at=row["posted_at"],
        status=WishStatus(row["status"]),
        claimer_id=row["claimer_id"],
        claimer_kind=ClaimerKind(s["claimer_kind"]) if s["claimer_kind"] else None,
        proof_photos=tuple(s["proof_photos"]),
        version=row["version"],
        **extra,
    )


def _wish_values(w: Wish, now: datetime) -> dict[str, Any]:
    state: dict[str, Any] = {k: getattr(w, k) for k in _WISH_PLAIN}
    state.update({k: _iso(getattr(w, k)) for k in _WISH_TIMES})
    state.update(
        claimer_kind=str(w.claimer_kind) if w.claimer_kind else None,
        proof_photos=list(w.proof_photos),
    )
    return dict(
        status=str(w.status),
        claimer_id=w.claimer_id,
        version=w.version,
        state=state,
        updated_at=now,
    )


def add_wish(session: Session, w: Wish, now: datetime) -> None:
    session.execute(
        wishes.insert().values(
            id=w.wish_id,
            community_code=w.community_code,
            poster_id=w.poster_id,
            posted_at=w.posted_at,
            **_wish_values(w, now),
        )
    )


def get_wish(session: Session, wish_id: str) -> Wish:
    return wish_from_row(_load(session, wishes, wishes.c.id == wish_id, False, "wish", wish_id))


def save_wish(session: Session, w: Wish, old_version: int, now: datetime) -> None:
    _update(
        session,
        wishes,
        wishes.c.id == w.wish_id,
        old_version,
        _wish_values(w, now),
        "wish",
        w.wish_id,
    )


def wish_view(w: Wish) -> dict[str, Any]:
    return dict(
        wish_id=w.wish_id,
        community_code=w.community_code,
        poster_id=w.poster_id,
        beneficiary=w.beneficiary,
        title=w.title,
        description=w.description,
        value_fen=w.value_fen,
        status=str(w.status),
        claimer_kind=str(w.claimer_kind) if w.claimer_kind else None,
        claimer_id=w.claimer_id,
        proof_note=w.proof_note,
        proof_photos=list(w.proof_photos),
        reason=w.reason,
        posted_at=w.posted_at,
        version=w.version,
    )


# --- teams and activities ------------------------------------------------------------------


def team_from_row(row: Any) -> Team:
    s = row["state"]
    return Team(
        team_id=row["id"],
        community_code=row["community_code"],
        name=row["name"],
        leader_ids=set(s["leader_ids"]),
        member_ids=set(s["member_ids"]),
        version=row["version"],
    )


def _team_state(t: Team) -> dict[str, Any]:
    return {"leader_ids": sorted(t.leader_ids), "member_ids": sorted(t.member_ids)}


def add_team(session: Session, t: Team, now: datetime) -> None:
    session.execute(
        teams.insert().values(
            id=t.team_id,
            community_code=t.community_code,
            name=t.name,
            version=t.version,
            state=_team_state(t),
            created_at=now,
            updated_at=now,
        )
    )


def get_team(session: Session, team_id: str) -> Team:
    return team_from_row(_load(session, teams, teams.c.id == team_id, False, "team", team_id))


def save_team(session: Session, t: Team, old_version: int, now: datetime) -> None:
    _update(
        session,
        teams,
        teams.c.id == t.team_id,
        old_version,
        dict(version=t.version, state=_team_state(t), updated_at=now),
        "team",
        t.team_id,
    )


def team_view(t: Team) -> dict[str, Any]:
    return dict(
        team_id=t.team_id,
        community_code=t.community_code,
        name=t.name,
        leader_ids=sorted(t.leader_ids),
        member_ids=sorted(t.member_ids),
        version=t.version,
    )


def activity_from_row(row: Any) -> Activity:
    s = row["state"]
    return Activity(
        activity_id=row["id"],
        team_id=row["team_id"],
        community_code=row["community_code"],
        title=s["title"],
        description=s["description"],
        place=s["place"],
        window=TimeWindow(row["starts_at"], row["ends_at"]),
        capacity=s["capacity"],
        status=ActivityStatus(row["status"]),
        version=row["version"],
        participants={
            pid: Participant(
                person_id=pid,
                signed_up_at=_dt1(p["signed_up_at"]),
                checked_in_at=_dt(p["checked_in_at"]),
                stars=p["stars"],
            )
            for pid, p in s["participants"].items()
        },
    )


def _activity_values(a: Activity, now: datetime) -> dict[str, Any]:
    return dict(
        status=str(a.status),
        version=a.version,
        updated_at=now,
        state=dict(
            title=a.title,
            description=a.description,
            place=a.place,
            capacity=a.capacity,
            participants={
                pid: {
                    "signed_up_at": p.signed_up_at.isoformat(),
                    "checked_in_at": _iso(p.checked_in_at),
                    "stars": p.stars,
                }
                for pid, p in a.participants.items()
            },
        ),
    )


def add_activity(session: Session, a: Activity, now: datetime) -> None:
    session.execute(
        activities.insert().values(
            id=a.activity_id,
            team_id=a.team_id,
            community_code=a.community_code,
            starts_at=a.window.start,
            ends_at=a.window.end,
            **_activity_values(a, now),
        )
    )


def get_activity(session: Session, activity_id: str, *, for_update: bool = False) -> Activity:
    return activity_from_row(
        _load(
            session, activities, activities.c.id == activity_id, for_update, "activity", activity_id
        )
    )


def save_activity(session: Session, a: Activity, old_version: int, now: datetime) -> None:
    _update(
        session,
        activities,
        activities.c.id == a.activity_id,
        old_version,
        _activity_values(a, now),
        "activity",
        a.activity_id,
    )


def activity_view(a: Activity) -> dict[str, Any]:
    return dict(
        activity_id=a.activity_id,
        team_id=a.team_id,
        community_code=a.community_code,
        title=a.title,
        description=a.description,
        place=a.place,
        window_start=a.window.start,
        window_end=a.window.end,
        capacity=a.capacity,
        seats_left=a.seats_left,
        status=str(a.status),
        average_stars=a.average_stars,
        participants=[
            dict(
                person_id=p.person_id,
                signed_up_at=p.signed_up_at,
                checked_in_at=p.checked_in_at,
                stars=p.stars,
            )
            for p in sorted(a.participants.values(), key=lambda p: p.signed_up_at)
        ],
        version=a.version,
    )


# --- venues ----------------------------------------------------------------------------------


def _venue_state(v: Venue) -> dict[str, Any]:
    return {
        "timetable": [[s.weekday, _hm(s.opens), _hm(s.closes)] for s in v.timetable],
        "closed_dates": sorted(d.isoformat() for d in v.closed_dates),
    }


def add_venue(session: Session, v: Venue, now: datetime) -> None:
    session.execute(
        venues.insert().values(
            id=v.venue_id,
            community_code=v.community_code,
            name=v.name,
            capacity=v.capacity,
            version=v.version,
            state=_venue_state(v),
            created_at=now,
        )
    )


def booking_from_row(row: Any) -> Booking:
    return Booking(
        booking_id=row["id"],
        venue_id=row["venue_id"],
        booker_id=row["booker_id"],
        window=TimeWindow(row["starts_at"], row["ends_at"]),
        purpose=row["purpose"],
        headcount=row["headcount"],
        booked_at=row["booked_at"],
        status=BookingStatus(row["status"]),
        cancelled_at=row["cancelled_at"],
    )


def get_venue(
    session: Session,
    venue_id: str,
    *,
    for_update: bool = False,
    bookings_between: tuple[datetime, datetime] | None = None,
    booking_id: str | None = None,
) -> Venue:
    """The venue with the active bookings that overlap ``bookings_between`` (and, when
    given, the booking ``booking_id`` whatever its status)."""
    row = _load(session, venues, venues.c.id == venue_id, for_update, "venue", venue_id)
    s = row["state"]
    venue = Venue(
        venue_id=row["id"],
        community_code=row["community_code"],
        name=row["name"],
        capacity=row["capacity"],
        version=row["version"],
        timetable=tuple(
            OpeningSlot(t[0], time.fromisoformat(t[1]), time.fromisoformat(t[2]))
            for t in s["timetable"]
        ),
        closed_dates={date.fromisoformat(d) for d in s["closed_dates"]},
    )
    b = venue_bookings
    conds = []
    if bookings_between is not None:
        lo, hi = bookings_between
        conds.append(sa.and_(b.c.status == "active", b.c.starts_at < hi, b.c.ends_at > lo))
    if booking_id is not None:
        conds.append(b.c.id == booking_id)
    if conds:
        for r in session.execute(
            sa.select(b).where(b.c.venue_id == venue_id, sa.or_(*conds))
        ).mappings():
            venue.bookings[r["id"]] = booking_from_row(r)
    return venue


def add_booking(session: Session, bk: Booking) -> None:
    session.execute(
        venue_bookings.insert().values(
            id=bk.booking_id,
            venue_id=bk.venue_id,
            booker_id=bk.booker_id,
            status=str(bk.status),
            starts_at=bk.window.start,
            ends_at=bk.window.end,
            during=Range(bk.window.start, bk.window.end, bounds="[)"),
            purpose=bk.purpose,
            headcount=bk.headcount,
            booked_at=bk.booked_at,
            cancelled_at=bk.cancelled_at,
        )
    )


def save_booking_status(session: Session, bk: Booking) -> None:
    session.execute(
        venue_bookings.update()
        .where(venue_bookings.c.id == bk.booking_id)
        .values(status=str(bk.status), cancelled_at=bk.cancelled_at)
    )


def venue_view(v: Venue) -> dict[str, Any]:
    return dict(
        venue_id=v.venue_id,
        community_code=v.community_code,
        name=v.name,
        capacity=v.capacity,
        timetable=[
            dict(weekday=s.weekday, opens=_hm(s.opens), closes=_hm(s.closes)) for s in v.timetable
        ],
        closed_dates=sorted(v.closed_dates),
        version=v.version,
    )


def booking_view(bk: Booking) -> dict[str, Any]:
    return dict(
        booking_id=bk.booking_id,
        venue_id=bk.venue_id,
        booker_id=bk.booker_id,
        start=bk.window.start,
        end=bk.window.end,
        purpose=bk.purpose,
        headcount=bk.headcount,
        status=str(bk.status),
        booked_at=bk.booked_at,
        cancelled_at=bk.cancelled_at,
    )
