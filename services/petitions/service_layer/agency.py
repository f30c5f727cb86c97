"""Agency applications (微代办): catalogue, apply, accept → handle → feed back → close.

Each application is stored in ``agency_applications`` (snapshot + indexed columns, optimistic
``UPDATE … WHERE version``) and, like any case, emits ``case.created`` (source ``agency``,
category ``agency.<item>``) and ``case.transitioned`` to the outbox in the same transaction,
so the command centre counts them in the same KPIs. Application steps map onto case
actions/statuses: feed back is the case's ``handle`` (handled), close its ``close``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.petitions.adapters.tables import agency_applications as apps
from services.petitions.domain.agency import (
    DEFAULT_ITEMS,
    MATERIALS,
    AgencyApplication,
    ApplicationStatus,
    ApplicationStep,
    ServiceItem,
    apply_for,
    service_item,
)
from services.petitions.domain.common import version_conflict
from services.petitions.domain.lifecycle import Role
from services.petitions.domain.sla import expected_datetime, sla_class
from services.petitions.service_layer.common import level
from yiwang.contracts.petitions import (
    AgencyActionRequest,
    AgencyApplicationView,
    AgencyApplyRequest,
    AgencyCatalogueRequest,
    CaseActor,
    CaseCreatedV1,
    CaseTransitionedV1,
    GetAgencyApplicationRequest,
    ListAgencyApplicationsRequest,
)
from yiwang.errors import Forbidden, NotFound, ValidationFailed
from yiwang.uow import UnitOfWork

A = ApplicationStatus
CATEGORY_PREFIX = "agency."
# application step → (case action, case status) as the command centre folds them
CASE_ACTIONS: dict[str, str] = {
    "accept": "accept",
    "return_materials": "request_info",
    "resubmit": "provide_info",
    "handle": "start",
    "feed_back": "handle",
    "close": "close",
    "reject": "reject",
    "withdraw": "withdraw",
}
CASE_STATUS: dict[ApplicationStatus, str] = {
    A.SUBMITTED: "submitted",
    A.RETURNED: "awaiting_info",
    A.ACCEPTED: "accepted",
    A.HANDLING: "in_progress",
    A.FED_BACK: "handled",
    A.CLOSED: "closed",
    A.REJECTED: "rejected",
    A.WITHDRAWN: "rejected",
}


# --- catalogue -----------------------------------------------------------------------------


def _material(code: str) -> dict[str, str]:
    zh, en = MATERIALS[code]
    return {"code": code, "name_zh": zh, "name_en": en}


def item_out(item: ServiceItem) -> dict[str, Any]:
    return {
        "code": item.code,
        "name_zh": item.name_zh,
        "name_en": item.name_en,
        "domain": item.domain,
        "level": item.level.value,
        "department": item.department,
        "sla_class": item.sla_class,
        "time_limit_working_days": sla_class(item.sla_class).amount,
        "required": [_material(m) for m in item.required],
        "optional": [_material(m) for m in item.optional],
    }


def catalogue(req: AgencyCatalogueRequest) -> dict[str, Any]:
    items = [i for i in DEFAULT_ITEMS if req.domain in (None, i.domain)]
    return {"items": [item_out(i) for i in items]}


# --- snapshot ------------------------------------------------------------------------------


def _iso(d: datetime | None) -> str | None:
    return d.isoformat() if d else None


def _dt(s: str | None) -> datetime | None:
    return datetime.fromisoformat(s) if s else None


def to_dict(app: AgencyApplication) -> dict[str, Any]:
    return {
        "application_id": app.application_id,
        "item_code": app.item.code,
        "community_code": app.community_code,
        "applicant_id": app.applicant_id,
        "materials": {k: list(v) for k, v in app.materials.items()},
        "created_at": _iso(app.created_at),
        "appointment_at": _iso(app.appointment_at),
        "status": app.status.value,
        "version": app.version,
        "due_at": _iso(app.due_at),
        "accepted_at": _iso(app.accepted_at),
        "result": app.result,
        "closed_at": _iso(app.closed_at),
        "returned_materials": list(app.returned_materials),
        "steps": [
            {
                "seq": s.seq,
                "action": s.action,
                "status": s.status.value,
                "actor_id": s.actor_id,
                "role": s.role.value,
                "at": s.at.isoformat(),
                "note": s.note,
                "attachments": list(s.attachments),
            }
            for s in app.steps
        ],
    }


def from_dict(d: dict[str, Any]) -> AgencyApplication:
    created = _dt(d["created_at"])
    assert created is not None
    app = AgencyApplication(
        application_id=d["application_id"],
        item=service_item(d["item_code"]),
        community_code=d["community_code"],
        applicant_id=d["applicant_id"],
        materials={k: tuple(v) for k, v in d["materials"].items()},
        created_at=created,
        appointment_at=_dt(d.get("appointment_at")),
        status=A(d["status"]),
        version=d["version"],
        due_at=_dt(d.get("due_at")),
        accepted_at=_dt(d.get("accepted_at")),
        result=d.get("result"),
        closed_at=_dt(d.get("closed_at")),
        returned_materials=tuple(d.get("returned_materials") or ()),
        steps=[
            ApplicationStep(
                s["seq"],
                s["action"],
                A(s["status"]),
                s["actor_id"],
                Role(s["role"]),
                datetime.fromisoformat(s["at"]),
                s.get("note", ""),
                tuple(s.get("attachments") or ()),
            )
            for s in d.get("steps", [])
        ],
    )
    app.grid_code = d.get("grid_code") or ""  # type: ignore[attr-defined]
    return app


def grid_of(app: AgencyApplication) -> str:
    return getattr(app, "grid_code", "") or app.community_code + "000"


def view(app: AgencyApplication) -> dict[str, Any]:
    d = to_dict(app)
    d["grid_code"] = grid_of(app)
    d.pop("item_code")
    d.update(item=item_out(app.item), on_time=app.on_time(), allowed_actions=app.allowed_actions())
    return AgencyApplicationView.model_validate(d).model_dump(mode="json")


# --- persistence and events ----------------------------------------------------------------


def _load(
    uow: UnitOfWork, application_id: uuid.UUID, *, for_update: bool = False
) -> AgencyApplication:
    stmt = sa.select(apps.c.state).where(apps.c.id == application_id)
    if for_update:
        stmt = stmt.with_for_update()
    state = uow.session.execute(stmt).scalar()
    if state is None:
        raise NotFound(
            "application_not_found",
            f"application {application_id} not found",
            f"代办申请{application_id}不存在",
            application_id=str(application_id),
        )
    return from_dict(state)


def _columns(app: AgencyApplication, now: datetime) -> dict[str, Any]:
    state = {**to_dict(app), "grid_code": grid_of(app)}
    return {"status": app.status.value, "version": app.version, "state": state, "updated_at": now}


def _emit(uow: UnitOfWork, app: AgencyApplication, actor: CaseActor | None = None) -> None:
    steps = {s.seq: s for s in app.steps}
    for e in app.pull_events():
        jcode = app.community_code
        if e.action == "submit":
            payload: Any = CaseCreatedV1(
                case_id=uuid.UUID(app.application_id),
                seq=e.version,
                source="agency",
                category=CATEGORY_PREFIX + app.item.code,
                title=app.item.name_zh,
                grid_code=grid_of(app),
                jurisdiction_code=jcode,
                level=level(jcode),
                status=CASE_STATUS[A(e.status)],
                created_at=app.created_at,
                sla_class=app.item.sla_class,
                department=None,
                attributes={
                    "item": app.item.code,
                    "handling_level": app.item.level.value,
                    "appointment": app.appointment_at is not None,
                },
            )
        else:
            step = steps.get(e.version)
            prev = steps.get(e.version - 1)
            payload = CaseTransitionedV1(
                case_id=uuid.UUID(app.application_id),
                seq=e.version,
                action=CASE_ACTIONS[e.action],
                status=CASE_STATUS[A(e.status)],
                previous_status=CASE_STATUS[prev.status] if prev else "submitted",
                actor_id=e.actor_id[:64],
                actor_role=step.role.value if step else "system",
                at=e.occurred_at,
                jurisdiction_code=jcode,
                category=CATEGORY_PREFIX + app.item.code,
                source="agency",
                department="community",
                handler=actor.id if actor else None,
                note=(step.note if step else "")[:2000],
            )
        uow.emit(payload, jurisdiction_code=jcode, occurred_at=e.occurred_at)


# --- commands ------------------------------------------------------------------------------


def apply(uow: UnitOfWork, req: AgencyApplyRequest, now: datetime) -> dict[str, Any]:
    if req.actor.role != "citizen":
        raise Forbidden(
            "role_not_allowed",
            "residents apply for agency items",
            "代办事项由居民本人申请",
            role=req.actor.role,
        )
    item = service_item(req.item_code)
    if not req.grid_code.startswith(req.community_code):
        raise ValidationFailed(
            "grid_outside_community",
            "the grid is not in the community",
            "网格不属于该社区",
            grid_code=req.grid_code,
        )
    app_id = req.application_id or uuid.uuid4()
    with uow:
        existing = uow.session.execute(sa.select(apps.c.state).where(apps.c.id == app_id)).scalar()
        if existing is not None:
            found = from_dict(existing)
            if found.applicant_id != req.actor.id:
                raise Forbidden(
                    "not_applicant", "only the applicant may see this", "只有申请人可以查看"
                )
            return view(found)
        app = apply_for(
            application_id=str(app_id),
            item=item,
            community_code=req.community_code,
            applicant_id=req.actor.id,
            at=now,
            materials=req.materials,
            appointment_at=req.appointment_at,
        )
        app.grid_code = req.grid_code  # type: ignore[attr-defined]
        uow.session.execute(
            apps.insert().values(
                id=app_id,
                item_code=item.code,
                account_id=req.actor.id,
                community_code=req.community_code,
                created_at=now,
                **_columns(app, now),
            )
        )
        _emit(uow, app, req.actor)
        uow.commit()
    return view(app)


class _F(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Materials(_F):
    materials: dict[str, list[str]] = Field(default_factory=dict)


class _Return(_F):
    materials: list[str] = Field(min_length=1, max_length=20)
    note: str = Field(min_length=1, max_length=500)


class _Note(_F):
    note: str = Field(default="", max_length=500)


class _Result(_F):
    result: str = Field(min_length=1, max_length=2000)
    attachments: list[str] = Field(default_factory=list, max_length=9)


class _Reason(_F):
    reason: str = Field(min_length=1, max_length=500)


FIELDS: dict[str, type[_F]] = {
    "accept": _F,
    "return_materials": _Return,
    "resubmit": _Materials,
    "handle": _Note,
    "feed_back": _Result,
    "close": _F,
    "reject": _Reason,
    "withdraw": _F,
}


def _role(actor: CaseActor) -> Role:
    try:
        return Role(actor.role)
    except ValueError:
        raise Forbidden(
            "role_not_allowed",
            f"role {actor.role} may not act on applications",
            f"角色“{actor.role}”无权办理代办申请",
            role=actor.role,
        ) from None


def _step(
    app: AgencyApplication,
    action: str,
    actor: CaseActor,
    at: datetime,
    v: int,
    fields: dict[str, Any],
) -> None:
    if action not in FIELDS:
        raise ValidationFailed(
            "unknown_action",
            f"unknown action '{action}'",
            f"未知的操作“{action}”",
            allowed=sorted(FIELDS),
        )
    try:
        f: Any = FIELDS[action].model_validate(fields)
    except ValidationError as e:
        raise ValidationFailed(
            "invalid_fields",
            f"invalid fields for {action}",
            f"“{action}”的参数无效",
            errors=[err["msg"] for err in e.errors()][:10],
        ) from None
    role = _role(actor)
    if action == "accept":
        due = expected_datetime(sla_class(app.item.sla_class), at)
        app.accept(actor.id, role, at, v, due_at=due)
    elif action == "return_materials":
        app.return_materials(actor.id, role, at, v, materials=f.materials, note=f.note)
    elif action == "resubmit":
        _citizen(role)
        app.resubmit(actor.id, at, v, materials=f.materials)
    elif action == "handle":
        app.handle(actor.id, role, at, v, note=f.note)
    elif action == "feed_back":
        app.feed_back(actor.id, role, at, v, result=f.result, attachments=f.attachments)
    elif action == "close":
        app.close(actor.id, role, at, v)
    elif action == "reject":
        app.reject(actor.id, role, at, v, reason=f.reason)
    else:
        _citizen(role)
        app.withdraw(actor.id, at, v)


def _citizen(role: Role) -> None:
    if role is not Role.CITIZEN:
        raise Forbidden(
            "role_not_allowed", "only the applicant may do this", "只有申请人可以执行此操作"
        )


def _check_scope(app: AgencyApplication, actor_id: str, role: str, prefix: str) -> None:
    if role == "citizen":
        if app.applicant_id != actor_id:
            raise Forbidden(
                "not_applicant",
                "only the applicant may see this application",
                "只有申请人可以查看此申请",
            )
    elif not app.community_code.startswith(prefix):
        raise Forbidden(
            "outside_jurisdiction",
            "the application is outside your jurisdiction",
            "该申请不在您的管辖范围内",
        )


def act(uow: UnitOfWork, req: AgencyActionRequest, now: datetime) -> dict[str, Any]:
    with uow:
        app = _load(uow, req.application_id, for_update=True)
        _check_scope(app, req.actor.id, req.actor.role, req.jurisdiction_prefix)
        if req.expected_version != app.version:
            raise version_conflict(req.expected_version, app.version)
        at = max(now, app.steps[-1].at) if app.steps else now
        v = app.version
        _step(app, req.action, req.actor, at, v, req.fields)
        res = uow.session.execute(
            apps.update()
            .where(apps.c.id == req.application_id, apps.c.version == v)
            .values(**_columns(app, now))
        )
        if res.rowcount != 1:  # type: ignore[attr-defined]
            raise version_conflict(v, v + 1)
        _emit(uow, app, req.actor)
        uow.commit()
    return view(app)


def get(uow: UnitOfWork, req: GetAgencyApplicationRequest) -> dict[str, Any]:
    with uow:
        app = _load(uow, req.application_id)
    _check_scope(app, req.viewer_id, req.viewer_role, req.jurisdiction_prefix)
    return view(app)


def list_applications(uow: UnitOfWork, req: ListAgencyApplicationsRequest) -> dict[str, Any]:
    conds: list[Any] = []
    if req.account_id:
        conds.append(apps.c.account_id == req.account_id)
    if req.prefix:
        conds.append(apps.c.community_code.startswith(req.prefix, autoescape=True))
    if req.status:
        conds.append(apps.c.status == req.status)
    with uow:
        total = uow.session.execute(
            sa.select(sa.func.count()).select_from(apps).where(*conds)
        ).scalar_one()
        states = (
            uow.session.execute(
                sa.select(apps.c.state)
                .where(*conds)
                .order_by(apps.c.created_at.desc(), apps.c.id)
                .limit(req.page_size)
                .offset((req.page - 1) * req.page_size)
            )
            .scalars()
            .all()
        )
    return {
        "items": [view(from_dict(s)) for s in states],
        "total": total,
        "page": req.page,
        "page_size": req.page_size,
    }
