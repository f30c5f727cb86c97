"""Key projects: approval procedures with compressed limits, early warning and lateness."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from services.enterprise.adapters import tables as t
from services.enterprise.adapters.codec import encode
from services.enterprise.adapters.repository import PROJECTS
from services.enterprise.domain import events as dev
from services.enterprise.domain import projects as dom
from services.enterprise.domain.projects import STANDARD_PROCEDURE
from services.enterprise.service_layer.common import check_version, new_id, official
from yiwang.contracts.enterprise import (
    ApprovalStepApprovedV1,
    ApprovalStepLateV1,
    ApprovalStepWarnedV1,
    ApproveStepRequest,
    CreateProjectRequest,
    KeyProjectApprovedV1,
    ListProjectsRequest,
    StartProjectRequest,
)
from yiwang.errors import Conflict
from yiwang.uow import UnitOfWork


def project_view(p: dom.KeyProject, version: int, now: datetime) -> dict[str, Any]:
    data = encode(p)
    data["progress"] = encode(p.progress(now))
    data["version"] = version
    return data


def _emit(uow: UnitOfWork, p: dom.KeyProject, events: list[dev.Event]) -> dict[str, int]:
    counts = {"warned": 0, "late": 0}
    for ev in events:
        payload: BaseModel | None = None
        if isinstance(ev, dev.ApprovalStepWarned | dev.ApprovalStepLate | dev.ApprovalStepApproved):
            step = p.steps[ev.step_index]
            assert step.due_at is not None
            common: dict[str, Any] = dict(
                project_id=p.project_id,
                project_name=p.name,
                jurisdiction_code=p.district_code,
                leader_id=p.leader_id,
                step_index=step.index,
                step_name=step.name,
                department=step.department,
                due_at=step.due_at,
                occurred_at=ev.occurred_at,
            )
            if isinstance(ev, dev.ApprovalStepWarned):
                payload = ApprovalStepWarnedV1(**common, share_elapsed=ev.share_elapsed)
                counts["warned"] += 1
            elif isinstance(ev, dev.ApprovalStepLate):
                payload = ApprovalStepLateV1(**common, late_seconds=ev.late_seconds)
                counts["late"] += 1
            else:
                payload = ApprovalStepApprovedV1(**common, approved_by=ev.approved_by, late=ev.late)
        elif isinstance(ev, dev.ProjectApprovalsCompleted):
            payload = KeyProjectApprovedV1(
                project_id=p.project_id,
                project_name=p.name,
                jurisdiction_code=p.district_code,
                late_steps=list(ev.late_steps),
                occurred_at=ev.occurred_at,
            )
        # ApprovalStepStarted stays internal: the next step's due date is in the view.
        if payload is not None:
            uow.emit(payload, jurisdiction_code=p.district_code, occurred_at=ev.occurred_at)
    return counts


def create_project(uow: UnitOfWork, cmd: CreateProjectRequest, now: datetime) -> dict[str, Any]:
    official(cmd.actor, cmd.district_code).require_within(cmd.district_code)
    steps = (
        [dom.StepSpec(s.name, s.department, s.working_days) for s in cmd.steps]
        if cmd.steps
        else list(STANDARD_PROCEDURE)
    )
    project = dom.create_project(
        project_id=cmd.project_id or new_id("KP"),
        name=cmd.name,
        district_code=cmd.district_code,
        leader_id=cmd.leader_id,
        steps=steps,
        warn_share=cmd.warn_share,
    )
    with uow:
        version = PROJECTS.add(uow.session, project.project_id, project, now)
        uow.commit()
    return project_view(project, version, now)


def start_project(uow: UnitOfWork, cmd: StartProjectRequest, now: datetime) -> dict[str, Any]:
    with uow:
        p, version = PROJECTS.get(uow.session, cmd.project_id, for_update=True)
        official(cmd.actor, p.district_code).require_within(p.district_code)
        _emit(uow, p, [p.start(now)])
        version = PROJECTS.save(uow.session, p.project_id, p, version, now)
        uow.commit()
        return project_view(p, version, now)


def approve_step(uow: UnitOfWork, cmd: ApproveStepRequest, now: datetime) -> dict[str, Any]:
    with uow:
        p, version = PROJECTS.get(uow.session, cmd.project_id, for_update=True)
        check_version(cmd.expected_version, version, "project")
        events = p.approve(official(cmd.actor, p.district_code), cmd.step_index, now)
        _emit(uow, p, events)
        version = PROJECTS.save(uow.session, p.project_id, p, version, now)
        uow.commit()
        return project_view(p, version, now)


def get_project(uow: UnitOfWork, project_id: str, now: datetime) -> dict[str, Any]:
    with uow:
        p, version = PROJECTS.get(uow.session, project_id)
    return project_view(p, version, now)


def list_projects(uow: UnitOfWork, req: ListProjectsRequest, now: datetime) -> dict[str, Any]:
    k = t.key_projects
    where: list[Any] = []
    if req.jurisdiction_prefix:
        where.append(
            sa.or_(
                k.c.district_code.startswith(req.jurisdiction_prefix, autoescape=True),
                sa.literal(req.jurisdiction_prefix).startswith(k.c.district_code),
            )
        )
    if req.status:
        where.append(k.c.status == req.status)
    if req.department:
        where.append(k.c.current_department == req.department)
    with uow:
        rows = PROJECTS.find(uow.session, *where, order_by=[k.c.id])
    items = [project_view(p, v, now) for p, v in rows]
    if req.late_only:
        items = [i for i in items if i["progress"]["late_steps"]]
    return {"items": items, "total": len(items)}


# --- sweep -----------------------------------------------------------------------------


def due_for_check(uow: UnitOfWork, now: datetime, limit: int = 500) -> list[str]:
    k = t.key_projects
    with uow:
        return list(
            uow.session.execute(
                sa.select(k.c.id)
                .where(k.c.next_check_at.is_not(None), k.c.next_check_at <= now)
                .order_by(k.c.next_check_at)
                .limit(limit)
            ).scalars()
        )


def sweep_project(uow: UnitOfWork, project_id: str, now: datetime) -> dict[str, int]:
    with uow:
        p, version = PROJECTS.get(uow.session, project_id, for_update=True)
        events = p.sweep(now)
        if not events:
            return {"warned": 0, "late": 0}
        counts = _emit(uow, p, events)
        PROJECTS.save(uow.session, project_id, p, version, now)
        uow.commit()
        return counts


def sweep_approvals(uow_factory: Any, now: datetime) -> dict[str, int]:
    """Early warnings and lateness due at ``now``, each once per step."""
    total = {"warned": 0, "late": 0}
    for project_id in due_for_check(uow_factory(), now):
        try:
            counts = sweep_project(uow_factory(), project_id, now)
        except Conflict:
            continue
        for k, v in counts.items():
            total[k] += v
    return total
