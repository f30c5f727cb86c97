"""Talent recruitment: postings, applications, decisions, hires counted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from services.enterprise.adapters import tables as t
from services.enterprise.adapters.codec import encode
from services.enterprise.adapters.repository import JOBS
from services.enterprise.domain import talent as dom
from services.enterprise.service_layer.common import load_enterprise, new_id
from yiwang.contracts.enterprise import (
    ApplyJobRequest,
    CandidateHiredV1,
    DecideApplicationRequest,
    HireCountsRequest,
    ListJobsRequest,
    PostJobRequest,
)
from yiwang.uow import UnitOfWork


def job_view(j: dom.JobPosting, version: int, with_applications: bool = True) -> dict[str, Any]:
    data = encode(j)
    data["applications"] = list(data["applications"].values()) if with_applications else []
    data["hires"] = j.hires
    data["version"] = version
    return data


def post_job(uow: UnitOfWork, cmd: PostJobRequest, now: datetime) -> dict[str, Any]:
    with uow:
        ent = load_enterprise(uow, cmd.enterprise_id, cmd.actor)
        job = dom.post_job(
            posting_id=cmd.posting_id or new_id("JOB"),
            enterprise=ent,
            user_id=cmd.actor.id,
            title=cmd.title,
            description=cmd.description,
            headcount=cmd.headcount,
            now=now,
        )
        version = JOBS.add(uow.session, job.posting_id, job, now)
        uow.commit()
        return job_view(job, version)


def list_jobs(uow: UnitOfWork, req: ListJobsRequest) -> dict[str, Any]:
    j = t.job_postings
    where: list[Any] = []
    if req.enterprise_id:
        where.append(j.c.enterprise_id == req.enterprise_id)
    if req.status:
        where.append(j.c.status == req.status)
    with uow:
        rows = JOBS.find(uow.session, *where, order_by=[j.c.created_at.desc(), j.c.id])
    return {"items": [job_view(x, v, req.include_applications) for x, v in rows]}


def apply_job(uow: UnitOfWork, cmd: ApplyJobRequest, now: datetime) -> dict[str, Any]:
    with uow:
        job, version = JOBS.get(uow.session, cmd.posting_id, for_update=True)
        app = job.apply(
            application_id=new_id("APP"),
            candidate_id=cmd.actor.id,
            candidate_name=cmd.candidate_name,
            contact=cmd.contact,
            now=now,
        )
        version = JOBS.save(uow.session, job.posting_id, job, version, now)
        uow.commit()
    view = job_view(job, version, with_applications=False)
    view["applications"] = [encode(app)]
    return view


def decide(uow: UnitOfWork, cmd: DecideApplicationRequest, now: datetime) -> dict[str, Any]:
    with uow:
        ent = load_enterprise(uow, cmd.enterprise_id, cmd.actor)
        job, version = JOBS.get(uow.session, cmd.posting_id, for_update=True)
        if cmd.decision == "shortlist":
            job.shortlist(ent, cmd.actor.id, cmd.application_id, now)
        elif cmd.decision == "reject":
            job.reject(ent, cmd.actor.id, cmd.application_id, now)
        else:
            ev = job.hire(ent, cmd.actor.id, cmd.application_id, now)
            uow.emit(
                CandidateHiredV1(
                    posting_id=ev.posting_id,
                    application_id=ev.application_id,
                    enterprise_id=ev.enterprise_id,
                    jurisdiction_code=ent.district_code,
                    occurred_at=now,
                ),
                jurisdiction_code=ent.grid_code,
            )
        version = JOBS.save(uow.session, job.posting_id, job, version, now)
        uow.commit()
        return job_view(job, version)


def hire_counts(uow: UnitOfWork, req: HireCountsRequest) -> dict[str, Any]:
    j, e = t.job_postings, t.enterprises
    q = (
        sa.select(j.c.enterprise_id, sa.func.sum(j.c.hires).label("hires"))
        .join(e, e.c.id == j.c.enterprise_id)
        .group_by(j.c.enterprise_id)
        .having(sa.func.sum(j.c.hires) > 0)
    )
    if req.jurisdiction_prefix:
        q = q.where(e.c.grid_code.startswith(req.jurisdiction_prefix, autoescape=True))
    with uow:
        rows = uow.session.execute(q).all()
    by = {r.enterprise_id: int(r.hires) for r in rows}
    return {"total": sum(by.values()), "by_enterprise": by}
