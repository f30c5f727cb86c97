"""Shared by the petitions command handlers: actors, events to the outbox, notifications,
and the case views answered over RPC."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from services.petitions.adapters import repository as repo
from services.petitions.adapters.tables import notifications
from services.petitions.domain import events as ev
from services.petitions.domain.case import Actor, Case, Reporter, TimelineEntry
from services.petitions.domain.hotline import CHANNEL as HOTLINE_CHANNEL
from services.petitions.domain.hotline import hotline_update
from services.petitions.domain.lifecycle import CaseStatus, Role
from services.petitions.domain.notifications import TemplateSet, plan_notifications
from services.petitions.domain.reach import (
    Planned,
    apply_preferences,
    plan_staff_alerts,
    staff_queue_of,
)
from services.petitions.service_layer.delivery import load_preferences, load_staff
from yiwang.contracts.petitions import CaseActor, CaseCreatedV1, CaseTransitionedV1, CaseView
from yiwang.errors import Forbidden
from yiwang.jurisdiction import level_of
from yiwang.uow import UnitOfWork

TEMPLATES = TemplateSet.defaults()
REWORK_ACTIONS = frozenset({"fail_verification", "review_rework"})


def actor_of(a: CaseActor) -> Actor:
    """The domain actor for a gateway principal; roles outside the case model may not act."""
    try:
        role = Role(a.role)
    except ValueError:
        raise Forbidden(
            "role_not_allowed",
            f"role {a.role} may not act on cases",
            f"角色“{a.role}”无权处理案件",
            role=a.role,
        ) from None
    return Actor(a.id, role)


def level(code: str) -> str:
    return level_of(code).value


def step_time(case: Case, now: datetime) -> datetime:
    """``now``, never before the case's last step (clock skew between processes)."""
    return max(now, case.timeline[-1].at) if case.timeline else now


def emit_case_events(
    uow: UnitOfWork,
    case: Case,
    *,
    report_id: uuid.UUID | None = None,
    department: str | None = None,
) -> int:
    """Drain the aggregate's events into the outbox (same transaction); returns how many."""
    n = 0
    for e in case.pull_events():
        if isinstance(e, ev.CaseSubmitted):
            payload: Any = CaseCreatedV1(
                case_id=uuid.UUID(case.case_id),
                report_id=report_id,
                seq=e.version,
                source=case.source.value,
                category=case.category,
                title=case.title[:200],
                grid_code=case.grid_code,
                jurisdiction_code=e.jurisdiction_code,
                level=level(e.jurisdiction_code),
                status=e.status,
                lat=case.lat,
                lon=case.lon,
                created_at=case.created_at,
                sla_class=case.sla_class,
                department=department or case.department,
                attributes={
                    k: v
                    for k, v in case.attributes.items()
                    if isinstance(v, str | int | float | bool)
                },
                parent_case_id=uuid.UUID(e.parent_id) if e.parent_id else None,
            )
        else:
            rating = e.score if isinstance(e, ev.CaseRated) else None
            rework = e.action in REWORK_ACTIONS or (
                isinstance(e, ev.CaseRated) and e.status == "dispatched"
            )
            entry = case.timeline[e.version - 1] if len(case.timeline) >= e.version else None
            payload = CaseTransitionedV1(
                case_id=uuid.UUID(case.case_id),
                seq=e.version,
                action=e.action,
                status=e.status,
                previous_status=e.from_status or e.status,
                actor_id=e.actor_id[:64],
                actor_role=e.role,
                at=e.occurred_at,
                jurisdiction_code=e.jurisdiction_code,
                category=e.category,
                source=case.source.value,
                department=case.department,
                handler=case.assignee_id,
                note=(entry.note if entry else "")[:2000],
                rating=rating,
                rework=rework,
                auto=e.role == Role.SYSTEM.value,
            )
        uow.emit(payload, jurisdiction_code=e.jurisdiction_code, occurred_at=e.occurred_at)
        n += 1
    return n


#: status messages that ignore quiet hours (the person has to act before a deadline)
URGENT_STATUSES = frozenset({CaseStatus.AWAITING_INFO})


def queue_notifications(s: Session, case: Case, now: datetime) -> None:
    """Status messages for the latest step (templates, per reporter's channel) and the SSE
    feed entry of the case; a timer delivers them after commit (never before)."""
    case_id = uuid.UUID(case.case_id)
    rows = [
        {
            "case_id": case_id,
            "case_version": case.version,
            "channel": "case",
            "account_id": None,
            "address": None,
            "text": "",
            "created_at": now,
            "payload": sse_payload(case),
            "urgent": False,
            "next_attempt_at": None,
        }
    ]  # every row the same keys: one executemany
    planned = [
        Planned(n.channel.value, n.account_id, n.address, n.text)
        for n in plan_notifications(case, TEMPLATES)
    ]
    accounts = sorted({p.account_id for p in planned if p.account_id})
    if accounts:  # each person's chosen channels (reach)
        planned = apply_preferences(planned, load_preferences(s, accounts))
    urgent = case.status in URGENT_STATUSES
    rows += [
        {
            "case_id": case_id,
            "case_version": case.version,
            "channel": p.channel,
            "account_id": p.account_id,
            "address": p.address,
            "text": p.text,
            "created_at": now,
            "payload": {"status": case.status.value},
            "urgent": urgent,
            "next_attempt_at": now,
        }
        for p in planned
    ]
    last = case.timeline[-1] if case.timeline else None
    queue = staff_queue_of(last.action, last.data) if last is not None else None
    if queue is not None:  # the case entered a department's or a unit's queue
        due = case.due_at.strftime("%Y-%m-%d %H:%M") if case.due_at else ""
        staff = plan_staff_alerts(queue, case.title, due, load_staff(s, queue.kind, queue.key))
        rows += [
            {
                "case_id": case_id,
                "case_version": case.version,
                "channel": p.channel,
                "account_id": p.account_id,
                "address": p.address,
                "text": p.text,
                "created_at": now,
                "payload": {"status": case.status.value, **p.extra},
                "urgent": queue.urgent,
                "next_attempt_at": now,
            }
            for p in staff
        ]
    s.execute(notifications.insert(), rows)  # one statement for all of them
    update = hotline_update(case)
    if update is not None:  # 12345/8890: the change goes back to the hotline system
        s.execute(
            notifications.insert().values(
                case_id=case_id,
                case_version=case.version,
                channel=HOTLINE_CHANNEL,
                address=update["hotline"],
                text=json.dumps(update, ensure_ascii=False, separators=(",", ":")),
                payload={"status": case.status.value, "event": update["event"]},
                created_at=now,
                urgent=False,
                next_attempt_at=now,
                idempotency_key=f"hotline-{case.case_id}-{case.version}",
            )
        )


def sse_payload(case: Case) -> dict[str, Any]:
    last = case.public_timeline()[-1:] or case.timeline[-1:]
    return {
        "case_id": case.case_id,
        "version": case.version,
        "status": case.status.value,
        "supporter_count": case.supporter_count,
        "last": _entry(last[0]) if last else None,
    }


def persist_new(
    uow: UnitOfWork,
    case: Case,
    now: datetime,
    *,
    report_id: uuid.UUID | None = None,
    department: str | None = None,
) -> None:
    repo.insert(uow.session, case, report_id=report_id, now=now)
    emit_case_events(uow, case, report_id=report_id, department=department)
    queue_notifications(uow.session, case, now)


def persist(uow: UnitOfWork, case: Case, expected_version: int, now: datetime) -> None:
    repo.save(uow.session, case, expected_version, now)
    emit_case_events(uow, case)
    queue_notifications(uow.session, case, now)


# --- views -------------------------------------------------------------------------------


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    return phone[:3] + "*" * max(len(phone) - 7, 1) + phone[-4:] if len(phone) >= 8 else "****"


def mask_name(name: str | None) -> str | None:
    return name[0] + "*" * max(len(name) - 1, 1) if name else name


def mask_email(email: str | None) -> str | None:
    if not email or "@" not in email:
        return email
    local, _, domain = email.partition("@")
    return (local[:1] or "*") + "***@" + domain


def reporter_view(r: Reporter, *, unmask: bool) -> dict[str, Any]:
    out = asdict(r)
    if not unmask:
        out.update(name=mask_name(r.name), phone=mask_phone(r.phone), email=mask_email(r.email))
    return out


def _entry(e: TimelineEntry) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "action": e.action,
        "from_status": e.from_status.value if e.from_status else None,
        "status": e.status.value,
        "actor_id": e.actor_id,
        "role": e.role.value,
        "at": e.at.isoformat(),
        "note": e.note,
        "attachments": list(e.attachments),
        "data": e.data,
    }


def case_view(
    case: Case, *, unmask: bool = False, citizen: bool = False, role: Role | None = None
) -> dict[str, Any]:
    timeline = case.public_timeline() if citizen else case.timeline
    data = case.to_dict()
    view: dict[str, Any] = {k: data.get(k) for k in CaseView.model_fields if k in data}
    view.update(
        case_id=case.case_id,
        level=level(case.jurisdiction_code),
        media=list(case.media),
        child_ids=list(case.child_ids),
        supporter_count=case.supporter_count,
        reporter=reporter_view(case.reporter, unmask=unmask and not citizen),
        contact_erased=case.contact_erased_at is not None,
        allowed_actions=case.allowed_actions(role),
        timeline=[_entry(e) for e in timeline],
        ratings=[
            {"score": r.score, "comment": r.comment, "at": r.at.isoformat()} for r in case.ratings
        ],
    )
    if citizen:
        view.update(assignee_id=None, external_ref=None)
    return CaseView.model_validate(view).model_dump(mode="json")
