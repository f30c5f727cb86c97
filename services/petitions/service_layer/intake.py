"""Intake: every source becomes a case (once, whatever the broker redelivers).

Each handler claims the event in the inbox, builds an :class:`Intake`, and calls
:func:`take_in` inside its unit of work: the domain's ``open_case`` validates against the
categories catalogue; a report of an unknown category (or with answers its category refuses)
still becomes a case, in ``other.unclassified`` with a note in the timeline, because a report
acknowledged with 202 is never lost. A report within 50 m / 72 h of an open case of the same
category is linked to that case as a supporter ("me too") instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from services.petitions.adapters import repository as repo
from services.petitions.adapters.tables import case_reports, cases
from services.petitions.domain.case import (
    SYSTEM,
    Actor,
    Case,
    Reporter,
    Supporter,
    hotline_ref,
    open_case,
)
from services.petitions.domain.categories import CategoryCatalogue
from services.petitions.domain.duplicates import DuplicatePolicy, candidate_cells, find_duplicate
from services.petitions.domain.lifecycle import Role, Source
from services.petitions.domain.sla import expected_datetime
from services.petitions.service_layer import catalogue as catalogue_store
from services.petitions.service_layer.common import case_view, persist, persist_new, step_time
from yiwang.contracts import Envelope
from yiwang.contracts.enterprise import DemandOverdueV1
from yiwang.contracts.gateway import ReportSubmittedV1
from yiwang.contracts.grids import PatrolFindingReportedV1, SensorAlertRaisedV1
from yiwang.contracts.petitions import ImportHotlineRequest
from yiwang.contracts.volunteers import VolunteerOrderEscalatedV1
from yiwang.errors import Conflict, DomainError, Forbidden
from yiwang.uow import UnitOfWork

CONSUMER = "petitions.handle_report_submitted"
FALLBACK_CODES = frozenset(
    {
        "unknown_category",
        "category_not_reportable",
        "unknown_attribute",
        "missing_attribute",
        "invalid_attribute",
    }
)
DEDUPE_SOURCES = frozenset({Source.CITIZEN, Source.OPEN311, Source.PATROL})
POLICY = DuplicatePolicy()
NS = uuid.NAMESPACE_URL


def case_id_for(kind: str, key: object) -> str:
    """Deterministic case id of a source item (a redelivered event finds the same case)."""
    return str(uuid.uuid5(NS, f"yiwang:{kind}:{key}"))


@dataclass
class Intake:
    case_id: str
    source: Source
    category: str
    description: str
    grid_code: str | None
    at: datetime
    reporter: Reporter
    report_id: uuid.UUID | None = None
    title: str | None = None
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    media: list[str] = field(default_factory=list)
    external_ref: str | None = None
    actor: Actor | None = None
    auto_accept: bool = False
    due_at: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    case_id: str
    outcome: str  # case_created | linked_duplicate


def _open(cat: CategoryCatalogue, it: Intake) -> Case:
    kw: dict[str, Any] = dict(
        case_id=it.case_id,
        source=it.source,
        catalogue=cat,
        description=it.description,
        grid_code=it.grid_code,
        at=it.at,
        reporter=it.reporter,
        actor=it.actor,
        title=it.title,
        lat=it.lat,
        lon=it.lon,
        address=it.address,
        media=it.media,
        external_ref=it.external_ref,
    )
    try:
        return open_case(category=it.category, attributes=it.attributes, **kw)
    except DomainError as e:
        if e.code not in FALLBACK_CODES:
            raise
        reason = e
    # the fallback category always exists and is open, whatever admins did to the catalogue
    kw["catalogue"] = CategoryCatalogue(
        categories={**cat.categories, **{c.code: c for c in catalogue_store.OTHER_CATEGORIES}},
        sla_classes=cat.sla_classes,
    )
    case = open_case(category=catalogue_store.UNCLASSIFIED, attributes={}, **kw)
    first = case.timeline[0]
    case.timeline[0] = replace(
        first,
        note=f"unclassified: reported as '{it.category}' ({reason.code}); staff to reclassify",
        data={
            "original_category": it.category,
            "original_attributes": it.attributes,
            "reason": reason.code,
        },
    )
    return case


def _find_duplicate(uow: UnitOfWork, it: Intake) -> str | None:
    if it.source not in DEDUPE_SOURCES or it.lat is None or it.lon is None:
        return None
    s = uow.session
    repo.lock_duplicate_bucket(s, it.category, it.lat, it.lon)
    cells = candidate_cells(it.lat, it.lon, POLICY.radius_m)
    found = repo.duplicate_candidates(s, it.category, cells, it.at - POLICY.window)
    match = find_duplicate(
        category=it.category, lat=it.lat, lon=it.lon, at=it.at, candidates=found, policy=POLICY
    )
    return match.case_id if match else None


def _link_supporter(uow: UnitOfWork, target_id: str, it: Intake, now: datetime) -> bool:
    s = uow.session
    case = repo.load(s, target_id, for_update=True)
    if not case.is_open:
        return False
    supporter = Supporter(
        supporter_id=it.reporter.account_id or f"report:{it.report_id or it.case_id}",
        at=it.at,
        reporter=it.reporter,
        report_id=str(it.report_id) if it.report_id else None,
    )
    expected = case.version
    actor = Actor(
        it.reporter.account_id or "system", Role.CITIZEN if it.reporter.account_id else Role.SYSTEM
    )
    try:
        case.support(actor, step_time(case, now), expected, supporter=supporter)
    except Conflict as e:
        if e.code != "already_supporting":
            raise
        return True  # the same person again: linked, nothing new to record
    persist(uow, case, expected, now)
    if it.reporter.account_id:
        repo.follow(s, it.reporter.account_id, case.case_id, "supporter", it.at)
    return True


def take_in(uow: UnitOfWork, it: Intake, now: datetime) -> Outcome:
    """Open the case (or link the report to its duplicate) inside ``uow``; no commit."""
    s = uow.session
    existing = s.execute(sa.select(cases.c.id).where(cases.c.id == uuid.UUID(it.case_id))).scalar()
    if existing is not None:
        return Outcome(it.case_id, "case_created")
    cat = catalogue_store.load(uow)
    target = _find_duplicate(uow, it)
    if target is not None and _link_supporter(uow, target, it, now):
        if it.report_id is not None:
            details = {
                "source": it.source.value,
                "category": it.category,
                "description": it.description,
                "grid_code": it.grid_code,
                "lat": it.lat,
                "lon": it.lon,
                "address": it.address,
                "attributes": it.attributes,
                "media": it.media,
            }
            repo.link_report(
                s, it.report_id, target, "linked_duplicate", it.reporter.account_id, it.at, details
            )
        return Outcome(target, "linked_duplicate")
    case = _open(cat, it)
    if it.auto_accept:
        due = it.due_at or expected_datetime(cat.sla(case.category), case.created_at)
        case.accept(SYSTEM, case.created_at, case.version, due_at=max(due, case.created_at))
    persist_new(
        uow, case, now, report_id=it.report_id, department=cat.get(case.category).department
    )
    if it.report_id is not None:
        repo.link_report(
            s, it.report_id, case.case_id, "case_created", it.reporter.account_id, it.at
        )
    return Outcome(case.case_id, "case_created")


def _claimed(uow: UnitOfWork, consumer: str, env: Envelope) -> bool:
    return uow.claim_event(consumer, env.id, env.type)


# --- sources -----------------------------------------------------------------------------


def lock_reports(uow: UnitOfWork, events: Sequence[tuple[Envelope, ReportSubmittedV1]]) -> None:
    """Before a batch of reports: every duplicate-check lock its reports will take, in one
    sorted order (``yiwang.batch.apply_batch``'s ``prepare``)."""
    repo.lock_in_order(
        uow.session,
        [key for _, r in events for key in repo.duplicate_lock_keys(r.category, r.lat, r.lon)],
    )


def open_case_from_report(
    uow: UnitOfWork, env: Envelope, report: ReportSubmittedV1, now: datetime
) -> uuid.UUID | None:
    """Create the case for ``report`` (or link it as "me too"); returns the case id, or
    None if the event was already applied."""
    with uow:
        if not _claimed(uow, CONSUMER, env):
            return None
        contact = report.contact
        reporter = Reporter(
            account_id=report.account_id,
            name=contact.name if contact else None,
            phone=contact.phone if contact else None,
            email=contact.email if contact else None,
            anonymous=report.anonymous,
            channel="sse"
            if report.account_id
            else (
                "sms"
                if contact and contact.phone
                else "email"
                if contact and contact.email
                else "none"
            ),
        )
        it = Intake(
            case_id=case_id_for("report", report.report_id),
            source=Source(report.source),
            category=report.category,
            description=report.description,
            grid_code=report.grid_code,
            at=report.submitted_at,
            reporter=reporter,
            report_id=report.report_id,
            lat=report.lat,
            lon=report.lon,
            address=report.address,
            attributes=dict(report.attributes),
            media=list(report.media),
        )
        out = take_in(uow, it, now)
        uow.commit()
        return uuid.UUID(out.case_id)


def open_case_from_patrol(
    uow: UnitOfWork, env: Envelope, f: PatrolFindingReportedV1, now: datetime
) -> str | None:
    with uow:
        if not _claimed(uow, "petitions.handle_patrol_finding", env):
            return None
        it = Intake(
            case_id=case_id_for("patrol", f.finding_id),
            source=Source.PATROL,
            category=f.category,
            description=f.description,
            grid_code=f.grid_code,
            at=f.at,
            reporter=Reporter(account_id=None, name=f.worker_name or None, channel="none"),
            actor=Actor(f.worker_id, Role.GRID_WORKER),
            lat=f.lat,
            lon=f.lon,
            media=list(f.photos),
            external_ref=str(f.finding_id),
            auto_accept=True,
        )
        out = take_in(uow, it, now)
        uow.commit()
        return out.case_id


def _sensor_attributes(a: SensorAlertRaisedV1) -> dict[str, Any]:
    if a.kind == "water_zero_use":
        hours = 6.0
        if a.since is not None:
            hours = round(max((a.raised_at - a.since).total_seconds() / 3600, 0.0), 1)
        return {"meter_id": a.device_id or a.household_code, "hours_without_use": hours}
    return {"device_id": a.device_id or a.household_code}


def open_case_from_sensor(
    uow: UnitOfWork, env: Envelope, a: SensorAlertRaisedV1, now: datetime
) -> str | None:
    with uow:
        if not _claimed(uow, "petitions.handle_sensor_alert", env):
            return None
        it = Intake(
            case_id=case_id_for("sensor", a.alert_id),
            source=Source.SENSOR,
            category=a.category,
            description=a.description,
            grid_code=a.grid_code,
            at=a.raised_at,
            reporter=Reporter(channel="none"),
            lat=a.lat,
            lon=a.lon,
            address=a.address,
            attributes=_sensor_attributes(a),
            external_ref=str(a.alert_id),
            auto_accept=True,
        )
        out = take_in(uow, it, now)
        uow.commit()
        return out.case_id


def open_case_from_volunteer_order(
    uow: UnitOfWork,
    env: Envelope,
    o: VolunteerOrderEscalatedV1,
    now: datetime,
    grid_code: str | None,
) -> str | None:
    with uow:
        if not _claimed(uow, "petitions.handle_volunteer_order_escalated", env):
            return None
        it = Intake(
            case_id=case_id_for("volunteer_order", o.order_id),
            source=Source.VOLUNTEER_ORDER,
            category=o.category,
            description=o.description,
            grid_code=grid_code,
            at=o.occurred_at,
            reporter=Reporter(account_id=None, channel="none"),
            lat=o.lat,
            lon=o.lon,
            address=o.address or None,
            external_ref=o.order_id[:80],
            auto_accept=True,
        )
        out = take_in(uow, it, now)
        uow.commit()
        return out.case_id


def open_case_from_demand(
    uow: UnitOfWork, env: Envelope, d: DemandOverdueV1, now: datetime
) -> str | None:
    """An enterprise demand past its limit becomes a case the command centre chases."""
    with uow:
        if not _claimed(uow, "petitions.handle_demand_overdue", env):
            return None
        hours = round(d.overdue_seconds / 3600, 1)
        it = Intake(
            case_id=case_id_for("demand", d.demand_id),
            source=Source.ENTERPRISE,
            category=d.category,
            title=d.title,
            description=f"{d.enterprise_name}：{d.title}（企业诉求已超期{hours}小时）",
            grid_code=d.grid_code,
            at=d.occurred_at,
            reporter=Reporter(channel="none"),
            external_ref=f"demand:{d.demand_id}"[:80],
            auto_accept=True,
        )
        out = take_in(uow, it, now)
        uow.commit()
        return out.case_id


HOTLINE_ROLES = frozenset({"admin", "city_staff", "district_staff", "street_staff", "system"})


def import_hotline(
    uow_factory: Callable[[], UnitOfWork], req: ImportHotlineRequest, now: datetime
) -> dict[str, Any]:
    """12345/8890 tickets, keyed by (hotline, ticket no): each row answers created,
    duplicate (already imported, or repeated in the batch) or refused (with the error).
    Each row commits on its own; the unique (source, external_ref) constraint makes a
    concurrent import of the same ticket a duplicate, never a second case. The ticket
    number is that key, never the case id: a new case gets a random id, so knowing a
    ticket number tells nothing about where its case is."""
    if req.actor.role not in HOTLINE_ROLES:
        raise Forbidden(
            "role_not_allowed",
            "only staff import hotline tickets",
            "只有工作人员可以导入热线工单",
            role=req.actor.role,
        )
    results: list[dict[str, Any]] = []
    seen: dict[str, str | None] = {}  # ref -> its case id in this batch (None: refused)
    for i, t in enumerate(req.tickets):
        row: dict[str, Any] = {"index": i, "hotline": t.hotline, "ticket_no": t.ticket_no}
        try:
            ref = hotline_ref(t.hotline, t.ticket_no)
        except DomainError as e:
            results.append({**row, "outcome": "refused", "error": e.to_dict()})
            continue
        if ref in seen:
            results.append({**row, "outcome": "duplicate", "case_id": seen[ref]})
            continue
        case_id = str(uuid.uuid4())
        seen[ref] = None
        it = Intake(
            case_id=case_id,
            source=Source.HOTLINE,
            category=t.category,
            description=t.description,
            grid_code=t.grid_code,
            at=t.received_at or now,
            reporter=Reporter(
                name=t.caller_name,
                phone=t.caller_phone,
                channel="sms" if t.caller_phone else "none",
            ),
            actor=Actor(req.actor.id, Role.SYSTEM),
            lat=t.lat,
            lon=t.lon,
            address=t.address,
            attributes=dict(t.attributes),
            external_ref=ref,
        )
        try:
            with uow_factory() as uow:
                exists = uow.session.execute(
                    sa.select(cases.c.id).where(
                        cases.c.source == "hotline", cases.c.external_ref == ref
                    )
                ).scalar()
                if exists is not None:
                    seen[ref] = str(exists)
                    results.append({**row, "outcome": "duplicate", "case_id": str(exists)})
                    continue
                take_in(uow, it, now)
                uow.commit()
            seen[ref] = case_id
            results.append({**row, "outcome": "created", "case_id": case_id})
        except DomainError as e:
            results.append({**row, "outcome": "refused", "error": e.to_dict()})
        except sa.exc.IntegrityError:  # imported concurrently: the case of the other import
            with uow_factory() as uow:
                other = uow.session.execute(
                    sa.select(cases.c.id).where(
                        cases.c.source == "hotline", cases.c.external_ref == ref
                    )
                ).scalar()
            seen[ref] = str(other) if other is not None else None
            results.append({**row, "outcome": "duplicate", "case_id": seen[ref]})
    count = {
        k: sum(1 for r in results if r["outcome"] == k) for k in ("created", "duplicate", "refused")
    }
    return {"results": results, **count}


def report_status(uow: UnitOfWork, report_id: uuid.UUID) -> dict[str, Any]:
    with uow:
        row = uow.session.execute(
            sa.select(case_reports.c.case_id, case_reports.c.outcome, cases.c.status)
            .join(cases, cases.c.id == case_reports.c.case_id)
            .where(case_reports.c.report_id == report_id)
        ).first()
    if row is None:
        return {"report_id": report_id, "state": "pending"}
    return {
        "report_id": report_id,
        "state": row.outcome,
        "case_id": row.case_id,
        "case_status": row.status,
    }


__all__ = ["case_view", "import_hotline", "open_case_from_report", "report_status", "take_in"]
