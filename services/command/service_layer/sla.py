"""The SLA sweep and closed-loop escalation.

``sweep(now)`` reads only rows with ``next_due_at <= now`` through the partial index
(``ix_case_view_next_due``), in batches, ``FOR UPDATE SKIP LOCKED`` (several workers may
sweep at once). A row past its warning instant gets ``case.sla_warning``; a row past its
deadline gets ``case.overdue`` and, below the city, ``case.escalated`` one level up with
that level's deadline (emitted through the outbox, audited, and announced on the live
channel to the next level's dispatchers).

The instant of a warning/escalation is ``max(deadline, when the current status began)``,
independent of when the sweep happens to run: a late sweep records the same history.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.command.adapters.tables import case_view
from services.command.domain import casefile as cf
from services.command.domain.casefile import CaseView
from services.command.domain.escalation import Escalation, EscalationSubject, escalate
from services.command.service_layer import audit
from services.command.service_layer.dispatch import _check_scope
from services.command.service_layer.fold import (
    POLICY,
    Change,
    RawEvent,
    append_log_bulk,
    change_of,
    deltas_factory,
    emit_many,
    flush_kpis,
    ingest,
    level_of_view,
    lock_case,
    row_to_view,
    write_row,
)
from yiwang.contracts.command import CaseEscalatedV1
from yiwang.errors import Conflict, NotFound
from yiwang.uow import UnitOfWork

Notify = Callable[[list[dict[str, Any]]], None]


def _subject(view: CaseView) -> EscalationSubject:
    return EscalationSubject(
        case_id=view.case_id,
        status=view.status or "",
        level=level_of_view(view.level),
        grid_code=view.grid_code or "",
        sla_class=view.sla_class or "standard_3d",
    )


def _escalated_raw(view: CaseView, esc: Escalation, seq: int, note: str = "") -> RawEvent:
    data = {
        **esc.event_data(),
        "due": esc.deadline.due,
        "warn_at": esc.deadline.warn_at,
        "escalation_no": len(view.escalations) + 1,
        "note": note,
    }
    return RawEvent(uuid.UUID(view.case_id), seq, cf.CASE_ESCALATED, esc.at, data, "escalate")


def _escalated_event(
    view: CaseView, esc: Escalation, note: str = ""
) -> tuple[CaseEscalatedV1, str, datetime]:
    return (
        CaseEscalatedV1(
            case_id=uuid.UUID(view.case_id),
            escalation_no=len(view.escalations) + 1,
            from_level=str(esc.from_level),
            to_level=str(esc.to_level),
            jurisdiction_code=esc.jurisdiction_code,
            reason=str(esc.reason),
            note=note[:2000],
            deadline=esc.deadline.due,
            at=esc.at,
        ),
        esc.jurisdiction_code,
        esc.at,
    )


def _emit_escalated(uow: UnitOfWork, view: CaseView, esc: Escalation, note: str = "") -> None:
    ev, code, at = _escalated_event(view, esc, note)
    uow.emit(ev, jurisdiction_code=code, occurred_at=at)


def sweep(
    uow: UnitOfWork,
    now: datetime,
    *,
    batch: int = 2000,
    max_rounds: int = 100,
    notify: Notify | None = None,
) -> dict[str, int]:
    totals = {"warned": 0, "overdue": 0, "escalated": 0, "rows": 0}
    cv = case_view
    for _ in range(max_rounds):
        changes: list[Change] = []
        with uow:
            s = uow.session
            rows = (
                s.execute(
                    sa.select(cv)
                    .where(cv.c.next_due_at <= now)
                    .order_by(cv.c.next_due_at)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
                .mappings()
                .all()
            )
            if not rows:
                break
            deltas = deltas_factory()
            log: list[RawEvent] = []
            audits: list[audit.AuditItem] = []
            updates: list[dict[str, Any]] = []
            pending: list[tuple[CaseEscalatedV1, str, datetime]] = []
            for r in rows:
                row = dict(r)
                view = row_to_view(row)
                if view is None or view.due is None:
                    continue
                cid = uuid.UUID(view.case_id)
                status_at = row["status_at"] or view.due
                seq = view.last_seq
                raws: list[RawEvent] = []
                esc: Escalation | None = None
                if view.due <= now:
                    at = max(view.due, status_at)
                    raws.append(
                        RawEvent(
                            cid,
                            seq + 1,
                            cf.CASE_OVERDUE,
                            at,
                            {"due": view.due, "level": view.level},
                            "overdue",
                        )
                    )
                    try:
                        esc = escalate(_subject(view), "overdue", at, POLICY)
                    except Conflict:
                        esc = None  # at the city: stays overdue there
                    if esc is not None:
                        raws.append(_escalated_raw(view, esc, seq + 2))
                else:
                    at = max(view.warn_at or view.due, status_at)
                    raws.append(RawEvent(cid, seq + 1, cf.CASE_SLA_WARNING, at,
                                         {"due": view.due}, "sla_warning"))  # fmt: skip
                new_view, values = ingest(s, row, raws, now, deltas, known_new=True)
                assert new_view is not None
                log.extend(raws)
                values["b_case_id"] = cid
                updates.append(values)
                if esc is not None:
                    pending.append(_escalated_event(view, esc))
                    audits.append(audit.AuditItem(
                        view.case_id, "system", "system", "escalate", esc.at,
                        {"level": view.level, "jurisdiction_code": view.jurisdiction_code},
                        {"level": str(esc.to_level), "jurisdiction_code": esc.jurisdiction_code,
                         "reason": "overdue", "due": esc.deadline.due},
                    ))  # fmt: skip
                    totals["escalated"] += 1
                    changes.append(change_of(new_view, "escalation", to_level=str(esc.to_level),
                                             notify_code=esc.jurisdiction_code))  # fmt: skip
                else:
                    changes.append(change_of(new_view))
                if raws[0].type == cf.CASE_OVERDUE:
                    totals["overdue"] += 1
                else:
                    totals["warned"] += 1
            append_log_bulk(s, log)
            if updates:
                # one multi-row upsert (every row exists: it updates) instead of N UPDATEs
                rows_in = [{**{k: v for k, v in u.items() if k != "b_case_id"},
                            "case_id": u["b_case_id"]} for u in updates]  # fmt: skip
                stmt = pg_insert(cv)
                stmt = stmt.on_conflict_do_update(
                    index_elements=[cv.c.case_id],
                    set_={k: stmt.excluded[k] for k in rows_in[0] if k != "case_id"},
                )
                s.execute(stmt, rows_in)
            emit_many(uow, pending)
            flush_kpis(s, deltas)
            audit.append(s, audits)
            uow.commit()
            totals["rows"] += len(rows)
        if notify is not None and changes:
            try:
                notify([c.message() for c in changes])
            except Exception:  # noqa: BLE001 - best effort
                pass
        # rows escalated with a deadline already past are due again: loop until none is
    return totals


def escalate_case(
    uow: UnitOfWork, case_id: uuid.UUID, actor: Any, note: str, now: datetime,
    notify: Notify | None = None,
) -> dict[str, Any]:  # fmt: skip
    """ "Cannot solve at this level" (本级无法解决): one level up now, with the reason."""
    with uow:
        s = uow.session
        exists = s.execute(sa.select(case_view.c.complete).where(case_view.c.case_id == case_id))
        if not exists.scalar():
            raise NotFound("case_not_found", f"case {case_id} not found", "案件不存在")
        row = lock_case(s, case_id, now)
        view = row_to_view(row)
        assert view is not None
        _check_scope(actor, view)
        esc = escalate(_subject(view), "cannot_solve", now, POLICY)
        raw = _escalated_raw(view, esc, view.last_seq + 1, note)
        deltas = deltas_factory()
        new_view, values = ingest(s, row, [raw], now, deltas, known_new=True)
        append_log_bulk(s, [raw])
        write_row(s, case_id, values)
        flush_kpis(s, deltas)
        _emit_escalated(uow, view, esc, note)
        audit.append(s, [audit.AuditItem(
            view.case_id, actor.id, actor.role, "escalate", now,
            {"level": view.level, "jurisdiction_code": view.jurisdiction_code},
            {"level": str(esc.to_level), "jurisdiction_code": esc.jurisdiction_code,
             "reason": "cannot_solve", "note": note[:200], "due": esc.deadline.due},
        )])  # fmt: skip
        uow.commit()
    if notify is not None and new_view is not None:
        try:
            notify([change_of(new_view, "escalation", to_level=str(esc.to_level),
                              notify_code=esc.jurisdiction_code).message()])  # fmt: skip
        except Exception:  # noqa: BLE001
            pass
    return {
        "case_id": case_id,
        "escalation_no": len(view.escalations) + 1,
        "from_level": str(esc.from_level),
        "to_level": str(esc.to_level),
        "jurisdiction_code": esc.jurisdiction_code,
        "deadline": esc.deadline.due,
    }
