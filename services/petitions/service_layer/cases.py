"""Lifecycle commands on cases: one unit of work each, optimistic concurrency, events and
status notifications written in the same transaction."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.petitions.adapters import repository as repo
from services.petitions.adapters.tables import case_followers, case_reports, cases
from services.petitions.domain.case import (
    SYSTEM,
    Actor,
    Case,
    ChildSpec,
    close_children,
)
from services.petitions.domain.categories import CategoryCatalogue
from services.petitions.domain.common import public_location, version_conflict
from services.petitions.domain.duplicates import merge, split_off
from services.petitions.domain.lifecycle import OPEN, ROLES, CaseStatus, Role
from services.petitions.domain.sla import expected_datetime, sla_class
from services.petitions.service_layer import catalogue as catalogue_store
from services.petitions.service_layer.common import (
    actor_of,
    case_view,
    persist,
    persist_new,
    step_time,
)
from services.petitions.service_layer.intake import Intake, _open, case_id_for
from yiwang import access
from yiwang.contracts import Envelope
from yiwang.contracts.command import CaseEscalatedV1, CaseRoutedV1
from yiwang.contracts.petitions import (
    CaseActionRequest,
    CaseActor,
    DetachSupporterRequest,
    GetCaseRequest,
    ListMyCasesRequest,
    MergeCasesRequest,
    PublicMapRequest,
    SplitCaseRequest,
)
from yiwang.errors import DomainError, Forbidden, ValidationFailed
from yiwang.logging import get_logger
from yiwang.uow import UnitOfWork

log = get_logger(__name__)
S = CaseStatus
INFO_DEFAULT_HOURS = 72


class _Fields(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Note(_Fields):
    note: str = ""


class _Accept(_Note):
    due_at: datetime | None = None


class _Reason(_Fields):
    reason: str = ""


class _Forward(_Note):
    body: str = ""


class _Dispatch(_Note):
    department: str = ""
    assignee_id: str | None = None


class _Handle(_Fields):
    feedback: str = ""
    attachments: list[str] = Field(default_factory=list)


class _Verify(_Note):
    attachments: list[str] = Field(default_factory=list)


class _Fail(_Reason):
    attachments: list[str] = Field(default_factory=list)


class _Rate(_Fields):
    score: int = 0
    comment: str = ""


class _RequestInfo(_Fields):
    question: str = ""
    deadline: datetime | None = None
    deadline_hours: int = Field(default=INFO_DEFAULT_HOURS, ge=1, le=24 * 30)


class _ProvideInfo(_Fields):
    answer: str = ""
    attachments: list[str] = Field(default_factory=list)


ACTIONS: dict[str, type[_Fields]] = {
    "accept": _Accept,
    "reject": _Reason,
    "forward": _Forward,
    "dispatch": _Dispatch,
    "reassign": _Dispatch,
    "send_back": _Reason,
    "start": _Note,
    "handle": _Handle,
    "verify": _Verify,
    "fail_verification": _Fail,
    "close": _Note,
    "rate": _Rate,
    "return_visit": _Rate,
    "conclude_review": _Note,
    "review_rework": _Note,
    "request_info": _RequestInfo,
    "provide_info": _ProvideInfo,
    "supervise": _Note,
}


def _due(case: Case, at: datetime) -> datetime:
    try:
        return expected_datetime(sla_class(case.sla_class), at)
    except DomainError:
        return at + timedelta(days=3)


def _check_prefix(case: Case, prefix: str) -> None:
    if prefix and not case.jurisdiction_code.startswith(prefix):
        raise Forbidden(
            "outside_jurisdiction",
            f"case {case.case_id} is outside your jurisdiction",
            "该案件不在您的管辖范围内",
            case_id=case.case_id,
        )


def _own(uow: UnitOfWork, case: Case, account_id: str) -> bool:
    """Did ``account_id`` report this case or support it ("me too")?"""
    if not account_id:
        return False
    if case.reporter.account_id == account_id:
        return True
    return _follows(uow, account_id, uuid.UUID(case.case_id))


def check_access(uow: UnitOfWork, case: Case, acc: access.Accessor) -> None:
    """Object-level access to one case, decided by :func:`yiwang.access.check_case` before
    anything of the case (version, status) is checked or revealed."""
    facts = access.CaseFacts(
        jurisdiction_code=case.jurisdiction_code,
        department=case.department,
        own=acc.role == access.CITIZEN and _own(uow, case, acc.id),
    )
    access.check_case(acc, facts, unknown=lambda: repo.not_found(case.case_id))


def accessor_of(actor: CaseActor, prefix: str = "") -> access.Accessor:
    """The accessor of an RPC actor; ``prefix`` (the older ``jurisdiction_prefix`` field)
    stands in for the actor's unit code when the caller sent none."""
    acc = access.Accessor.of(actor)
    if not acc.jurisdiction_code and prefix and acc.role != access.CITIZEN:
        acc = access.Accessor(acc.id, acc.role, prefix, acc.department)
    return acc


def apply_action(
    case: Case, action: str, actor: Actor, at: datetime, expected: int, raw: dict[str, Any]
) -> None:
    """Call the domain method for ``action`` with its validated fields."""
    model = ACTIONS.get(action)
    if model is None:
        raise ValidationFailed(
            "unknown_action",
            f"'{action}' is not a case action here",
            f"“{action}”不是可执行的案件操作",
            action=action,
            actions=sorted(ACTIONS),
        )
    try:
        f: Any = model.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed(
            "invalid_action_fields",
            f"invalid fields for {action}",
            f"“{action}”的参数无效",
            errors=[{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()][:10],
        ) from None
    v = expected
    match action:
        case "accept":
            case.accept(actor, at, v, due_at=f.due_at or _due(case, at), note=f.note)
        case "reject":
            case.reject(actor, at, v, reason=f.reason)
        case "forward":
            case.forward(actor, at, v, body=f.body, note=f.note)
        case "dispatch" | "reassign":
            getattr(case, action)(
                actor, at, v, department=f.department, assignee_id=f.assignee_id, note=f.note
            )
        case "send_back":
            case.send_back(actor, at, v, reason=f.reason)
        case "start":
            case.start(actor, at, v, note=f.note)
        case "handle":
            case.handle(actor, at, v, feedback=f.feedback, attachments=f.attachments)
        case "verify":
            case.verify(actor, at, v, note=f.note, attachments=f.attachments)
        case "fail_verification":
            case.fail_verification(actor, at, v, reason=f.reason, attachments=f.attachments)
        case "close":
            case.close(actor, at, v, note=f.note)
        case "rate" | "return_visit":
            getattr(case, action)(
                actor, at, v, score=f.score, comment=f.comment, rework_due_at=_due(case, at)
            )
        case "conclude_review":
            case.conclude_review(actor, at, v, note=f.note)
        case "review_rework":
            case.review_rework(actor, at, v, note=f.note, rework_due_at=_due(case, at))
        case "request_info":
            deadline = f.deadline or at + timedelta(hours=f.deadline_hours)
            case.request_info(actor, at, v, question=f.question, deadline=deadline)
        case "provide_info":
            case.provide_info(actor, at, v, answer=f.answer, attachments=f.attachments)
        case "supervise":
            case.supervise(actor, at, v, note=f.note)


def _close_open_children(uow: UnitOfWork, parent: Case, now: datetime) -> None:
    if not parent.child_ids:
        return
    children = [repo.load(uow.session, cid, for_update=True) for cid in sorted(parent.child_ids)]
    before = {c.case_id: c.version for c in children}
    for child in close_children(parent, children, step_time(parent, now)):
        persist(uow, child, before[child.case_id], now)


def case_action(uow: UnitOfWork, req: CaseActionRequest, now: datetime) -> dict[str, Any]:
    actor = actor_of(req.actor)
    with uow:
        case = repo.load(uow.session, req.case_id)
        check_access(uow, case, accessor_of(req.actor, req.jurisdiction_prefix))
        apply_action(
            case, req.action, actor, step_time(case, now), req.expected_version, req.fields
        )
        persist(uow, case, req.expected_version, now)
        if req.action == "close":
            _close_open_children(uow, case, now)
        uow.commit()
    return case_view(case, role=actor.role, citizen=actor.role is Role.CITIZEN)


def _follows(uow: UnitOfWork, account_id: str, case_id: uuid.UUID) -> bool:
    return (
        uow.session.execute(
            sa.select(case_followers.c.relation).where(
                case_followers.c.account_id == account_id, case_followers.c.case_id == case_id
            )
        ).first()
        is not None
    )


def get_case(uow: UnitOfWork, req: GetCaseRequest) -> dict[str, Any]:
    with uow:
        case = repo.load(uow.session, req.case_id)
        if req.viewer_role == "citizen":
            if not req.viewer_id or not _follows(uow, req.viewer_id, req.case_id):
                raise repo.not_found(req.case_id)  # do not reveal others' cases
            return case_view(case, citizen=True, role=Role.CITIZEN)
        if req.viewer_role == access.DEPARTMENT:
            acc = access.Accessor(
                req.viewer_id or "",
                access.DEPARTMENT,
                req.jurisdiction_prefix,
                req.viewer_department,
            )
            check_access(uow, case, acc)
    _check_prefix(case, req.jurisdiction_prefix)
    role = None
    if req.viewer_role:
        try:
            role = Role(req.viewer_role)
        except ValueError:
            role = None
    return case_view(case, unmask=req.unmask, role=role)


def list_my_cases(uow: UnitOfWork, req: ListMyCasesRequest) -> dict[str, Any]:
    f, c = case_followers, cases
    with uow:
        s = uow.session
        total = s.execute(
            sa.select(sa.func.count()).select_from(f).where(f.c.account_id == req.account_id)
        ).scalar_one()
        rows = s.execute(
            sa.select(
                c.c.id,
                c.c.version,
                c.c.status,
                c.c.category,
                c.c.title,
                c.c.source,
                c.c.supporter_count,
                c.c.created_at,
                c.c.updated_at,
                c.c.due_at,
                f.c.relation,
            )
            .join(c, c.c.id == f.c.case_id)
            .where(f.c.account_id == req.account_id)
            .order_by(c.c.created_at.desc(), c.c.id)
            .limit(req.page_size)
            .offset((req.page - 1) * req.page_size)
        ).all()
    items = [
        {
            "case_id": r.id,
            "version": r.version,
            "status": r.status,
            "category": r.category,
            "title": r.title,
            "source": r.source,
            "relation": r.relation,
            "supporter_count": r.supporter_count,
            "created_at": r.created_at,
            "updated_at": r.updated_at,
            "due_at": r.due_at,
            "can_rate": r.status == "closed" and r.relation == "reporter",
        }
        for r in rows
    ]
    return {"items": items, "total": total, "page": req.page, "page_size": req.page_size}


def public_map(uow: UnitOfWork, req: PublicMapRequest) -> dict[str, Any]:
    """Public cases of public categories as GeoJSON: location blurred to ~100 m (public_location),
    no title, description, reporter or photos."""
    c = cases
    hidden = ["rejected", "merged", "forwarded"]
    conds: list[Any] = [c.c.public.is_(True), c.c.lat.is_not(None), c.c.status.not_in(hidden)]
    if req.prefix:
        conds.append(c.c.jurisdiction_code.startswith(req.prefix, autoescape=True))
    if req.category:
        conds.append(
            sa.or_(
                c.c.category == req.category,
                c.c.category.startswith(req.category + ".", autoescape=True),
            )
        )
    if not req.include_closed:
        conds.append(c.c.status.in_([s.value for s in OPEN]))
    with uow:
        cat = catalogue_store.load(uow)
        rows = uow.session.execute(
            sa.select(
                c.c.id,
                c.c.category,
                c.c.status,
                c.c.lat,
                c.c.lon,
                c.c.grid_code,
                c.c.supporter_count,
                c.c.created_at,
                c.c.updated_at,
            )
            .where(*conds)
            .order_by(c.c.created_at.desc())
            .limit(req.limit)
        ).all()
    features = []
    for r in rows:
        category = cat.categories.get(r.category)
        if category is None or not category.public:
            continue
        lat, lon = public_location(r.lat, r.lon)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "case_id": str(r.id),
                    "category": r.category,
                    "category_name": category.name_zh,
                    "status": r.status,
                    "grid_code": r.grid_code,
                    "supporters": r.supporter_count,
                    "created_at": r.created_at.isoformat(),
                    "updated_at": r.updated_at.isoformat(),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


# --- staff: merge, detach, split ---------------------------------------------------------


def merge_cases(uow: UnitOfWork, req: MergeCasesRequest, now: datetime) -> dict[str, Any]:
    actor = actor_of(req.actor)
    with uow:
        s = uow.session
        first, second = sorted([req.case_id, req.target_case_id])
        loaded = {str(i): repo.load(s, i, for_update=True) for i in (first, second)}
        dup, target = loaded[str(req.case_id)], loaded[str(req.target_case_id)]
        _check_version(dup, req.expected_version)
        if dup.category != target.category:
            log.info("merge_across_categories", dup=dup.case_id, target=target.case_id)
        v_dup, v_target = dup.version, target.version
        at = max(step_time(dup, now), step_time(target, now))
        moved = merge(target, dup, actor, at, note=req.note)
        persist(uow, dup, v_dup, now)
        persist(uow, target, v_target, now)
        for sup in moved:
            if sup.reporter.account_id:
                repo.follow(s, sup.reporter.account_id, target.case_id, "supporter", at)
        uow.commit()
    return case_view(target, role=actor.role)


def detach_supporter(uow: UnitOfWork, req: DetachSupporterRequest, now: datetime) -> dict[str, Any]:
    """Undo a wrong "me too" link: the supporter's own report becomes a separate case."""
    actor = actor_of(req.actor)
    with uow:
        s = uow.session
        case = repo.load(s, req.case_id, for_update=True)
        _check_version(case, req.expected_version)
        at = step_time(case, now)
        sup = split_off(case, actor, at, req.supporter_id, note=req.note)
        persist(uow, case, req.expected_version, now)
        details: dict[str, Any] = {}
        if sup.report_id:
            details = (
                s.execute(
                    sa.select(case_reports.c.details).where(
                        case_reports.c.report_id == uuid.UUID(sup.report_id)
                    )
                ).scalar()
                or {}
            )
        cat = catalogue_store.load(uow)
        new_id = case_id_for("detach", f"{case.case_id}:{req.supporter_id}")
        it = Intake(
            case_id=new_id,
            source=case.source,
            category=details.get("category", case.category),
            description=details.get("description") or case.description,
            grid_code=details.get("grid_code") or case.grid_code,
            at=at,
            reporter=sup.reporter,
            actor=actor,
            lat=details.get("lat", case.lat),
            lon=details.get("lon", case.lon),
            address=details.get("address"),
            attributes=details.get("attributes") or {},
            media=details.get("media") or [],
        )
        new = _open(cat, it)
        persist_new(uow, new, now)
        if sup.report_id:
            s.execute(
                case_reports.update()
                .where(case_reports.c.report_id == uuid.UUID(sup.report_id))
                .values(case_id=uuid.UUID(new_id), outcome="case_created")
            )
        if sup.reporter.account_id:
            s.execute(
                case_followers.delete().where(
                    case_followers.c.account_id == sup.reporter.account_id,
                    case_followers.c.case_id == uuid.UUID(case.case_id),
                    case_followers.c.relation == "supporter",
                )
            )
            repo.follow(s, sup.reporter.account_id, new_id, "reporter", at)
        uow.commit()
    return {"case": case_view(case, role=actor.role), "new_case_id": new_id}


def _check_version(case: Case, expected: int) -> None:
    if case.version != expected:
        raise version_conflict(expected, case.version)


def split_case(uow: UnitOfWork, req: SplitCaseRequest, now: datetime) -> dict[str, Any]:
    actor = actor_of(req.actor)
    with uow:
        case = repo.load(uow.session, req.case_id, for_update=True)
        _check_version(case, req.expected_version)
        cat: CategoryCatalogue = catalogue_store.load(uow)
        at = step_time(case, now)
        parts = []
        for i, p in enumerate(req.parts):
            c = cat.reportable(p.category, by_citizen=False)
            parts.append(
                ChildSpec(
                    case_id=case_id_for("split", f"{case.case_id}:{case.version}:{i}"),
                    category=c,
                    department=p.department,
                    description=p.description,
                    due_at=expected_datetime(cat.sla(c.code), at),
                )
            )
        children = case.split(actor, at, req.expected_version, parts=parts, note=req.note)
        persist(uow, case, req.expected_version, now)
        for child, part in zip(children, parts, strict=True):
            persist_new(uow, child, now, department=part.department)
        uow.commit()
    return case_view(case, role=actor.role)


# --- from the command centre -------------------------------------------------------------


def _system_actor(actor_id: str, role: str) -> Actor:
    try:
        return Actor(actor_id[:64] or "system", Role(role))
    except ValueError:
        return SYSTEM


def apply_case_routed(uow: UnitOfWork, env: Envelope, ev: CaseRoutedV1, now: datetime) -> bool:
    """The command centre's routing becomes the case's ``dispatch`` (or ``reassign`` when a
    dispatcher moves a case already dispatched). A decision the case can no longer take
    (e.g. closed meanwhile) is logged and skipped."""
    with uow:
        if not uow.claim_event("petitions.handle_case_routed", env.id, env.type):
            return False
        try:
            case = repo.load(uow.session, ev.case_id, for_update=True)
            actor = _system_actor(ev.actor_id, ev.actor_role)
            department = ev.department or "grid"
            note = f"rule {ev.rule_id}" if ev.rule_id else ("manual" if ev.manual else "")
            at, v = step_time(case, ev.at), case.version
            if case.status is S.ACCEPTED:
                if actor.role not in ROLES["dispatch"]:
                    actor = SYSTEM
                case.dispatch(
                    actor, at, v, department=department, assignee_id=ev.worker_id, note=note
                )
            elif case.status in (S.DISPATCHED, S.IN_PROGRESS) and actor.role in ROLES["reassign"]:
                case.reassign(
                    actor, at, v, department=department, assignee_id=ev.worker_id, note=note
                )
            else:
                log.info("case_routed_skipped", case_id=str(ev.case_id), status=case.status.value)
                uow.commit()
                return True
            persist(uow, case, v, now)
        except DomainError as e:
            log.warning("case_routed_refused", case_id=str(ev.case_id), code=e.code)
            uow.rollback()
            uow.claim_event("petitions.handle_case_routed", env.id, env.type)
        uow.commit()
    return True


def apply_case_escalated(
    uow: UnitOfWork, env: Envelope, ev: CaseEscalatedV1, now: datetime
) -> bool:
    with uow:
        if not uow.claim_event("petitions.handle_case_escalated", env.id, env.type):
            return False
        try:
            case = repo.load(uow.session, ev.case_id, for_update=True)
            if case.is_open:
                v = case.version
                case.escalate(
                    SYSTEM,
                    step_time(case, ev.at),
                    v,
                    jurisdiction_code=ev.jurisdiction_code,
                    to_level=ev.to_level,
                    from_level=ev.from_level,
                    reason=ev.reason,
                    note=ev.note,
                    deadline=ev.deadline,
                )
                persist(uow, case, v, now)
        except DomainError as e:
            log.warning("case_escalated_refused", case_id=str(ev.case_id), code=e.code)
            uow.rollback()
            uow.claim_event("petitions.handle_case_escalated", env.id, env.type)
        uow.commit()
    return True
