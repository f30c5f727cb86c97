"""Whistle-blowing (吹哨报到) and one-key supervision (一键督办)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from services.command.adapters.tables import case_view, supervisions, whistles
from services.command.domain import casefile as cf
from services.command.domain import supervision as sup_domain
from services.command.domain import whistle as wh_domain
from services.command.domain.casefile import CaseView
from services.command.service_layer import audit, guard
from services.command.service_layer.dispatch import known_departments
from services.command.service_layer.fold import (
    RawEvent,
    append_log_bulk,
    change_of,
    deltas_factory,
    flush_kpis,
    ingest,
    lock_case,
    row_to_view,
    write_row,
)
from yiwang import access
from yiwang.contracts.command import CaseSupervisedV1
from yiwang.errors import Forbidden, NotFound
from yiwang.uow import UnitOfWork

Notify = Callable[[list[dict[str, Any]]], None]


def _load_view(
    uow: UnitOfWork, case_id: uuid.UUID, now: datetime
) -> tuple[dict[str, Any], CaseView]:
    s = uow.session
    ok = s.execute(sa.select(case_view.c.complete).where(case_view.c.case_id == case_id)).scalar()
    if not ok:
        raise guard.case_not_found(case_id)
    row = lock_case(s, case_id, now)
    view = row_to_view(row)
    assert view is not None
    return row, view


def _local(
    uow: UnitOfWork,
    row: dict[str, Any],
    view: CaseView,
    type_: str,
    at: datetime,
    data: dict[str, Any],
    action: str,
) -> CaseView:
    s = uow.session
    raw = RawEvent(uuid.UUID(view.case_id), view.last_seq + 1, type_, at, data, action)
    deltas = deltas_factory()
    new_view, values = ingest(s, row, [raw], at, deltas, known_new=True)
    append_log_bulk(s, [raw])
    write_row(s, uuid.UUID(view.case_id), values)
    flush_kpis(s, deltas)
    assert new_view is not None
    return new_view


def _notify(notify: Notify | None, msgs: list[dict[str, Any]]) -> None:
    if notify is not None and msgs:
        try:
            notify(msgs)
        except Exception:  # noqa: BLE001
            pass


# -- whistle --------------------------------------------------------------------------------
def _whistle_out(r: Any, now: datetime) -> dict[str, Any]:
    w = wh_domain.Whistle(
        str(r["whistle_id"]),
        str(r["case_id"]),
        r["caller_code"],
        r["called_at"],
        r["deadline"],
        tuple(r["departments"]),
        {k: datetime.fromisoformat(v) for k, v in (r["reported"] or {}).items()},
    )
    return {
        "whistle_id": r["whistle_id"],
        "case_id": r["case_id"],
        "caller_code": r["caller_code"],
        "called_at": r["called_at"],
        "deadline": r["deadline"],
        "departments": list(w.departments),
        "reported": w.reported,
        "duty": {d: str(w.duty_state(d, now)) for d in w.departments},
    }


def blow_whistle(
    uow: UnitOfWork, req: Any, now: datetime, notify: Notify | None = None
) -> dict[str, Any]:
    actor = req.actor
    if actor.jurisdiction_code and not req.caller_code.startswith(actor.jurisdiction_code):
        raise Forbidden(
            "outside_jurisdiction",
            "you cannot whistle for that unit",
            "您无权以该单位名义吹哨",
            caller_code=req.caller_code,
        )
    with uow:
        s = uow.session
        row, view = _load_view(uow, req.case_id, now)
        guard.check_write(actor, view, req.expected_version)
        if not (view.grid_code or "").startswith(req.caller_code):
            raise Forbidden(
                "outside_jurisdiction",
                "the case is not in the caller's area",
                "该案件不在吹哨单位辖区内",
            )
        wid = uuid.uuid4()
        w = wh_domain.blow_whistle(
            whistle_id=str(wid),
            case_id=view.case_id,
            caller_code=req.caller_code,
            departments=req.departments,
            deadline=now + timedelta(hours=req.deadline_hours),
            now=now,
            known_departments=known_departments(s),
        )
        s.execute(
            whistles.insert().values(
                whistle_id=wid,
                case_id=req.case_id,
                caller_code=w.caller_code,
                called_at=now,
                deadline=w.deadline,
                departments=list(w.departments),
                reported={},
                note=req.note,
            )
        )
        new_view = _local(
            uow,
            row,
            view,
            cf.CASE_WHISTLED,
            now,
            {
                "whistle_id": str(wid),
                "departments": list(w.departments),
                "deadline": w.deadline,
                "caller_code": w.caller_code,
            },
            "whistle",
        )
        audit.append(
            s,
            [
                audit.AuditItem(
                    view.case_id,
                    actor.id,
                    actor.role,
                    "whistle",
                    now,
                    {},
                    {
                        "departments": list(w.departments),
                        "deadline": w.deadline,
                        "caller": w.caller_code,
                    },
                )
            ],
        )
        r = s.execute(sa.select(whistles).where(whistles.c.whistle_id == wid)).mappings().one()
        out = {**_whistle_out(r, now), "version": new_view.last_seq}
        uow.commit()
    _notify(notify, [change_of(new_view, "whistle", departments=list(w.departments))])
    return out


def report_for_duty(uow: UnitOfWork, req: Any, now: datetime) -> dict[str, Any]:
    actor = req.actor
    with uow:
        s = uow.session
        r = (
            s.execute(
                sa.select(whistles).where(whistles.c.whistle_id == req.whistle_id).with_for_update()
            )
            .mappings()
            .first()
        )
        if r is None:
            raise _whistle_not_found()
        code = s.execute(
            sa.select(sa.func.coalesce(case_view.c.grid_code, case_view.c.jurisdiction_code)).where(
                case_view.c.case_id == r["case_id"]
            )
        ).scalar()
        access.check_duty_report(
            access.Accessor.of(actor),
            req.department,
            r["departments"],
            code or "",
            unknown=_whistle_not_found,
        )
        w = wh_domain.Whistle(
            str(r["whistle_id"]),
            str(r["case_id"]),
            r["caller_code"],
            r["called_at"],
            r["deadline"],
            tuple(r["departments"]),
            {k: datetime.fromisoformat(v) for k, v in r["reported"].items()},
        )
        w2 = wh_domain.report_for_duty(w, req.department, now)
        if w2 is not w:
            reported = {k: v.isoformat() for k, v in w2.reported.items()}
            s.execute(
                whistles.update()
                .where(whistles.c.whistle_id == req.whistle_id)
                .values(reported=reported)
            )
            audit.append(
                s,
                [
                    audit.AuditItem(
                        str(r["case_id"]),
                        actor.id,
                        actor.role,
                        "report_for_duty",
                        now,
                        {},
                        {"department": req.department, "whistle_id": str(req.whistle_id)},
                    )
                ],
            )
        r2 = (
            s.execute(sa.select(whistles).where(whistles.c.whistle_id == req.whistle_id))
            .mappings()
            .one()
        )
        out = _whistle_out(r2, now)
        uow.commit()
    return out


def whistle_tally(uow: UnitOfWork, prefix: str, now: datetime) -> dict[str, Any]:
    with uow:
        rows = (
            uow.session.execute(
                sa.select(whistles).where(
                    whistles.c.caller_code.startswith(prefix, autoescape=True)
                )
            )
            .mappings()
            .all()
        )
    ws = [
        wh_domain.Whistle(
            str(r["whistle_id"]),
            str(r["case_id"]),
            r["caller_code"],
            r["called_at"],
            r["deadline"],
            tuple(r["departments"]),
            {k: datetime.fromisoformat(v) for k, v in r["reported"].items()},
        )
        for r in rows
    ]
    t = wh_domain.tally(ws, now)
    return {"items": [{"department": d, **vars(v)} for d, v in sorted(t.items())]}


def _whistle_not_found() -> NotFound:
    return NotFound("whistle_not_found", "no such whistle", "吹哨记录不存在")


# -- supervision ----------------------------------------------------------------------------
def _sup_obj(r: Any) -> sup_domain.Supervision:
    timeline = tuple(
        sup_domain.Answer(
            a["handler"],
            a["kind"],
            datetime.fromisoformat(a["at"]),
            a.get("text", ""),
            tuple(a.get("media", [])),
        )
        for a in r["timeline"]
    )
    return sup_domain.Supervision(
        str(r["supervision_id"]),
        str(r["case_id"]),
        r["leader"],
        tuple(r["handlers"]),
        r["deadline"],
        r["note"],
        r["at"],
        timeline,
    )


def _sup_out(sp: sup_domain.Supervision, now: datetime) -> dict[str, Any]:
    return {
        "supervision_id": sp.supervision_id,
        "case_id": sp.case_id,
        "leader": sp.leader,
        "handlers": list(sp.handlers),
        "deadline": sp.deadline,
        "note": sp.note,
        "at": sp.at,
        "timeline": [
            {
                "handler": a.handler,
                "kind": a.kind,
                "at": a.at,
                "text": a.text,
                "media": list(a.media),
            }
            for a in sp.timeline
        ],
        "roster": {h: str(s) for h, s in sup_domain.roster(sp, now).items()},
    }


def _supervise_one(
    uow: UnitOfWork,
    case_id: uuid.UUID,
    handlers: list[str],
    hours: float,
    note: str,
    actor: Any,
    now: datetime,
    expected_version: int | None = None,
) -> tuple[dict[str, Any], Any]:
    s = uow.session
    row, view = _load_view(uow, case_id, now)
    guard.check_write(actor, view, expected_version)
    leader = sup_domain.Leader(actor.id, actor.jurisdiction_code or "")
    who = handlers or [view.handler or view.jurisdiction_code or "unassigned"]
    sid = uuid.uuid4()
    sp = sup_domain.supervise_case(
        leader,
        supervision_id=str(sid),
        case_id=view.case_id,
        case_jurisdiction=view.grid_code or view.jurisdiction_code or "",
        handlers=who,
        deadline=now + timedelta(hours=hours),
        note=note,
        now=now,
    )
    s.execute(
        supervisions.insert().values(
            supervision_id=sid,
            case_id=case_id,
            leader=actor.id,
            leader_code=actor.jurisdiction_code or "",
            handlers=list(sp.handlers),
            deadline=sp.deadline,
            note=sp.note,
            at=now,
            timeline=[],
        )
    )
    new_view = _local(
        uow,
        row,
        view,
        cf.CASE_SUPERVISED,
        now,
        {
            "supervision_id": str(sid),
            "leader": actor.id,
            "deadline": sp.deadline,
            "note": sp.note[:200],
            "handlers": list(sp.handlers),
        },
        "supervise",
    )
    uow.emit(
        CaseSupervisedV1(
            case_id=case_id,
            supervision_id=sid,
            leader_id=actor.id,
            jurisdiction_code=view.jurisdiction_code or "",
            deadline=sp.deadline,
            note=sp.note,
            at=now,
        ),
        jurisdiction_code=view.jurisdiction_code or "",
    )
    audit.append(
        s,
        [
            audit.AuditItem(
                view.case_id,
                actor.id,
                actor.role,
                "supervise",
                now,
                {"supervised": view.supervised},
                {
                    "supervision_id": str(sid),
                    "handlers": list(sp.handlers),
                    "deadline": sp.deadline,
                },
            )
        ],
    )
    out = {**_sup_out(sp, now), "version": new_view.last_seq}
    return out, change_of(new_view, "supervision", handlers=list(sp.handlers))


def supervise_case(
    uow: UnitOfWork, req: Any, now: datetime, notify: Notify | None = None
) -> dict[str, Any]:
    with uow:
        out, change = _supervise_one(
            uow,
            req.case_id,
            list(req.handlers),
            req.deadline_hours,
            req.note,
            req.actor,
            now,
            req.expected_version,
        )
        uow.commit()
    _notify(notify, [change.message()])
    return out


def supervise_overdue(
    uow: UnitOfWork, req: Any, now: datetime, notify: Notify | None = None
) -> dict[str, Any]:
    """A department's overdue set inside the leader's jurisdiction (one transaction)."""
    prefix = req.actor.jurisdiction_code or ""
    cv = case_view
    with uow:
        ids = (
            uow.session.execute(
                sa.select(cv.c.case_id)
                .where(
                    cv.c.overdue.is_(True),
                    cv.c.department == req.department,
                    cv.c.grid_code.startswith(prefix, autoescape=True),
                )
                .order_by(cv.c.case_id)
                .limit(req.limit)
            )
            .scalars()
            .all()
        )
        outs, changes = [], []
        for cid in ids:
            o, c = _supervise_one(
                uow, cid, [req.department], req.deadline_hours, req.note, req.actor, now
            )
            outs.append(o)
            changes.append(c.message())
        uow.commit()
    _notify(notify, changes)
    return {"items": outs}


def answer_supervision(uow: UnitOfWork, req: Any, now: datetime) -> dict[str, Any]:
    actor = req.actor
    with uow:
        s = uow.session
        r = (
            s.execute(
                sa.select(supervisions)
                .where(supervisions.c.supervision_id == req.supervision_id)
                .with_for_update()
            )
            .mappings()
            .first()
        )
        if r is None:
            raise _supervision_not_found()
        access.check_supervision_answer(
            access.Accessor.of(actor),
            req.handler,
            r["handlers"],
            _case_facts(s, r["case_id"]),
            unknown=_supervision_not_found,
        )
        sp = sup_domain.answer(
            _sup_obj(r), handler=req.handler, kind=req.kind, now=now, text=req.text, media=req.media
        )
        timeline = [
            {
                "handler": a.handler,
                "kind": a.kind,
                "at": a.at.isoformat(),
                "text": a.text,
                "media": list(a.media),
            }
            for a in sp.timeline
        ]
        s.execute(
            supervisions.update()
            .where(supervisions.c.supervision_id == req.supervision_id)
            .values(timeline=timeline)
        )
        audit.append(
            s,
            [
                audit.AuditItem(
                    str(r["case_id"]),
                    actor.id,
                    actor.role,
                    "supervision.answer",
                    now,
                    {},
                    {
                        "supervision_id": str(req.supervision_id),
                        "handler": req.handler,
                        "kind": req.kind,
                    },
                )
            ],
        )
        uow.commit()
    return _sup_out(sp, now)


def _supervision_not_found() -> NotFound:
    return NotFound("supervision_not_found", "no such supervision", "督办记录不存在")


def _case_facts(s: Any, case_id: Any) -> access.CaseFacts:
    """What access to a supervision's case depends on (an unknown case: nowhere)."""
    row = s.execute(sa.select(case_view).where(case_view.c.case_id == case_id)).mappings().first()
    view = row_to_view(row) if row is not None else None
    if view is None:
        return access.CaseFacts(jurisdiction_code="-")
    return guard.facts(view)


def get_supervision(
    uow: UnitOfWork, supervision_id: uuid.UUID, now: datetime, viewer: Any = None
) -> dict[str, Any]:
    with uow:
        r = (
            uow.session.execute(
                sa.select(supervisions).where(supervisions.c.supervision_id == supervision_id)
            )
            .mappings()
            .first()
        )
        if r is None:
            raise _supervision_not_found()
        if viewer is not None:  # a department sees the supervisions naming it, too
            acc = access.Accessor.of(viewer)
            facts = _case_facts(uow.session, r["case_id"])
            if acc.role == access.DEPARTMENT and acc.department in set(r["handlers"]):
                facts = access.CaseFacts(facts.jurisdiction_code, acc.department)
            access.check_case(acc, facts, unknown=_supervision_not_found)
    return _sup_out(_sup_obj(r), now)
