"""The point-ordering loop: 点单 → 审单/派单 → 接单 → 扫码签到 → 完成 → 评单 → 积分.

One unit of work per command: load the order, let the domain decide, save it with
``UPDATE ... WHERE version = <loaded>`` (a lost race is ``version_conflict``), write its
events to the outbox and (for a rating) the points entry, then commit — all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.volunteers.adapters import repository as repo
from services.volunteers.adapters.tables import orders, qr_nonces
from services.volunteers.domain import order as d
from services.volunteers.domain.common import GeoPoint, TimeWindow
from services.volunteers.domain.qr import QrIssuer, QrVerifier
from services.volunteers.service_layer import points
from services.volunteers.service_layer.common import DEFAULT_POLICY, new_id, staff_of
from yiwang.contracts import volunteers as c
from yiwang.errors import Forbidden
from yiwang.uow import UnitOfWork


def emit_order_events(uow: UnitOfWork, order: d.ServiceOrder, now: datetime) -> None:
    """Map the order's domain events to contracts, in order, into the outbox."""
    for ev in order.pull_events():
        base: dict[str, Any] = dict(
            order_id=ev.order_id,
            community_code=ev.community_code,
            seq=ev.version,
            occurred_at=ev.occurred_at,
        )
        payload: Any = None
        match ev:
            case d.OrderCreated():
                payload = c.VolunteerOrderCreatedV1(
                    **base,
                    resident_id=ev.resident_id,
                    category=ev.category,
                    review_level=ev.review_level,
                    claim_deadline=ev.claim_deadline,
                    window_start=order.window.start,
                    window_end=order.window.end,
                    lat=order.place.lat,
                    lon=order.place.lon,
                )
            case d.OrderClaimed():
                payload = c.VolunteerOrderClaimedV1(
                    **base,
                    claimant_kind=ev.claimant_kind,  # type: ignore[arg-type]
                    claimant_id=ev.claimant_id,
                    via=ev.via,  # type: ignore[arg-type]
                    by=ev.by,
                )
            case d.OrderCheckedIn():
                payload = c.VolunteerOrderCheckedInV1(
                    **base, claimant_id=ev.claimant_id, distance_m=ev.distance_m
                )
            case d.OrderCompleted():
                payload = c.VolunteerOrderCompletedV1(
                    **base, claimant_id=ev.claimant_id, photos=list(ev.photos)
                )
            case d.OrderRated():
                payload = c.VolunteerOrderRatedV1(
                    **base, claimant_id=ev.claimant_id, stars=ev.stars
                )
            case d.OrderEscalated():
                payload = c.VolunteerOrderUnclaimedV1(
                    **base, dispatcher_code=ev.dispatcher_code, case_deadline=ev.case_deadline
                )
            case d.OrderEscalatedToCase():
                payload = c.VolunteerOrderEscalatedV1(
                    **base,
                    category=ev.category,
                    description=ev.description,
                    lat=ev.lat,
                    lon=ev.lon,
                    resident_id=ev.resident_id,
                    address=order.address,
                )
            case d.OrderRejected() | d.OrderCancelled():
                status = "rejected" if isinstance(ev, d.OrderRejected) else "cancelled"
                payload = c.VolunteerOrderClosedV1(**base, status=status, reason=ev.reason)  # type: ignore[arg-type]
            case d.OrderClosedUnrated():
                payload = c.VolunteerOrderClosedV1(**base, status="closed_unrated")
            case d.PointsAwarded():
                points.award(
                    uow,
                    holder_kind=ev.holder_kind,
                    holder_id=ev.holder_id,
                    points=ev.points,
                    reason=ev.reason,
                    ref=f"order:{ev.order_id}",
                    community_code=ev.community_code,
                    now=now,
                )
            case _:  # published, released: state only, no integration event
                pass
        if payload is not None:
            uow.emit(payload, jurisdiction_code=ev.community_code, occurred_at=ev.occurred_at)


def _command(
    uow: UnitOfWork, order_id: str, now: datetime, fn: Callable[[d.ServiceOrder], None]
) -> dict[str, Any]:
    with uow:
        order = repo.get_order(uow.session, order_id)
        loaded = order.version
        fn(order)
        repo.save_order(uow.session, order, loaded, now)
        emit_order_events(uow, order, now)
        uow.commit()
        return repo.order_view(order)


def place_order(
    uow: UnitOfWork, req: c.PlaceOrderRequest, now: datetime, policy: d.OrderPolicy = DEFAULT_POLICY
) -> dict[str, Any]:
    order = d.place_order(
        order_id=new_id("ord"),
        community_code=req.community_code,
        resident_id=req.resident_id,
        category=req.category,
        description=req.description,
        window=TimeWindow(req.window_start, req.window_end),
        place=GeoPoint(req.lat, req.lon),
        now=now,
        policy=policy,
        address=req.address,
    )
    with uow:
        repo.add_order(uow.session, order, now)
        emit_order_events(uow, order, now)
        uow.commit()
    return repo.order_view(order)


def publish_order(uow: UnitOfWork, req: c.PublishOrderRequest, now: datetime) -> dict[str, Any]:
    return _command(
        uow,
        req.order_id,
        now,
        lambda o: o.publish(staff_of(req.staff, o.community_code), now, req.expected_version),
    )


def reject_order(uow: UnitOfWork, req: c.RejectOrderRequest, now: datetime) -> dict[str, Any]:
    return _command(
        uow,
        req.order_id,
        now,
        lambda o: o.reject(
            staff_of(req.staff, o.community_code), req.reason, now, req.expected_version
        ),
    )


def _claimant(uow: UnitOfWork, kind: str, claimant_id: str) -> tuple[repo.Registration, int]:
    # Locking the claimant's registration serialises one claimant's claims, so two
    # concurrent claims of different orders cannot both slip under the capacity.
    reg = repo.get_registration(uow.session, kind, claimant_id, for_update=True)
    return reg, repo.active_orders(uow.session, reg.claimant_kind, reg.claimant_id)


def dispatch_order(uow: UnitOfWork, req: c.DispatchOrderRequest, now: datetime) -> dict[str, Any]:
    with uow:
        claimant, active = _claimant(uow, req.claimant_kind, req.claimant_id)
        order = repo.get_order(uow.session, req.order_id)
        loaded = order.version
        order.dispatch(
            staff_of(req.staff, order.community_code), claimant, active, now, req.expected_version
        )
        repo.save_order(uow.session, order, loaded, now)
        emit_order_events(uow, order, now)
        uow.commit()
        return repo.order_view(order)


def claim_order(uow: UnitOfWork, req: c.ClaimOrderRequest, now: datetime) -> dict[str, Any]:
    """First valid claim wins: the others lose on the version check (``version_conflict``)
    or, if they read after the winner committed, get ``order_already_claimed``."""
    with uow:
        claimant, active = _claimant(uow, req.claimant_kind, req.claimant_id)
        order = repo.get_order(uow.session, req.order_id)
        loaded = order.version
        expected = req.expected_version if req.expected_version is not None else loaded
        order.claim(claimant, expected, active, now)
        repo.save_order(uow.session, order, loaded, now)
        emit_order_events(uow, order, now)
        uow.commit()
        return repo.order_view(order)


def release_order(uow: UnitOfWork, req: c.ReleaseOrderRequest, now: datetime) -> dict[str, Any]:
    return _command(uow, req.order_id, now, lambda o: o.release(req.claimant_id, req.reason, now))


def issue_qr(
    uow: UnitOfWork,
    req: c.IssueOrderQrRequest,
    now: datetime,
    keys: Mapping[str, bytes],
    kid: str = "k1",
) -> dict[str, Any]:
    """A check-in code for a claimed order, shown by the resident (or staff) at the place."""
    with uow:
        order = repo.get_order(uow.session, req.order_id)
    if req.staff is not None:
        staff_of(req.staff, order.community_code).require_covers(order.community_code)
    elif req.resident_id != order.resident_id:
        raise Forbidden(
            "not_the_resident",
            "only the resident or community staff may show the check-in code",
            "只有点单居民或社区工作人员可以出示签到码",
        )
    if order.status is not d.OrderStatus.CLAIMED:
        raise d.illegal_transition("issue_qr", order.status, d.allowed_actions(order.status))
    issuer = QrIssuer(keys[kid], kid=kid)
    ttl = timedelta(minutes=req.ttl_minutes) if req.ttl_minutes else None
    token = issuer.issue(order.order_id, order.place, order.window, now, ttl)
    claims = QrVerifier(keys, set()).decode(token)
    return {"order_id": order.order_id, "token": token, "expires_at": claims.expires_at}


def check_in(
    uow: UnitOfWork, req: c.CheckInOrderRequest, now: datetime, keys: Mapping[str, bytes]
) -> dict[str, Any]:
    """Verify the scan (signature, order, expiry, window, distance, single use) and check in.

    The nonce is marked used by inserting it in this same transaction: a refused check-in
    rolls back and does not burn the code; a second scan finds the row (``qr_reused``).
    """

    def nonce_guard(nonce: str, expires_at: datetime) -> bool:
        stmt = (
            pg_insert(qr_nonces)
            .values(nonce=nonce, order_id=req.order_id, expires_at=expires_at, used_at=now)
            .on_conflict_do_nothing()
            .returning(qr_nonces.c.nonce)
        )
        return uow.session.execute(stmt).first() is not None

    def apply(o: d.ServiceOrder) -> None:
        verifier = QrVerifier(keys, nonce_guard)
        scan = verifier.verify(
            req.token, order_id=o.order_id, position=GeoPoint(req.lat, req.lon), now=now
        )
        o.check_in(req.claimant_id, scan, now)

    return _command(uow, req.order_id, now, apply)


def complete_order(uow: UnitOfWork, req: c.CompleteOrderRequest, now: datetime) -> dict[str, Any]:
    return _command(
        uow,
        req.order_id,
        now,
        lambda o: o.complete(req.claimant_id, req.note, now, tuple(req.photos)),
    )


def rate_order(uow: UnitOfWork, req: c.RateOrderRequest, now: datetime) -> dict[str, Any]:
    """The resident rates once; the points entry and its event commit with the rating."""
    return _command(
        uow, req.order_id, now, lambda o: o.rate(req.resident_id, req.stars, now, req.comment)
    )


def cancel_order(uow: UnitOfWork, req: c.CancelOrderRequest, now: datetime) -> dict[str, Any]:
    return _command(uow, req.order_id, now, lambda o: o.cancel(req.resident_id, req.reason, now))


def get_order(uow: UnitOfWork, req: c.GetOrderRequest) -> dict[str, Any]:
    with uow:
        return repo.order_view(repo.get_order(uow.session, req.order_id))


def list_orders(uow: UnitOfWork, req: c.ListOrdersRequest) -> dict[str, Any]:
    t = orders
    conds: list[Any] = []
    if req.jurisdiction_prefix:
        conds.append(t.c.community_code.startswith(req.jurisdiction_prefix, autoescape=True))
    for field in ("status", "category", "resident_id", "claimant_id"):
        value = getattr(req, field)
        if value is not None:
            conds.append(t.c[field] == value)
    where = sa.and_(sa.true(), *conds)
    with uow:
        total = uow.session.execute(
            sa.select(sa.func.count()).select_from(t).where(where)
        ).scalar_one()
        rows = (
            uow.session.execute(
                sa.select(t)
                .where(where)
                .order_by(t.c.created_at.desc(), t.c.id)
                .limit(req.page_size)
                .offset((req.page - 1) * req.page_size)
            )
            .mappings()
            .all()
        )
    return {
        "items": [repo.order_view(repo.order_from_row(r)) for r in rows],
        "total": total,
        "page": req.page,
        "page_size": req.page_size,
    }
