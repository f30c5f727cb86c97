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

import json
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.command.adapters.tables import case_view
from services.command.domain import casefile as cf
from services.command.domain.casefile import CaseView
from services.command.domain.escalation import Escalation, EscalationSubject, escalate
from services.command.domain.kpi import ALL, local_day
from services.command.service_layer import audit
from services.command.service_layer.dispatch import _check_scope
from services.command.service_layer.fold import (
    CLOCK_RUNNING,
    POLICY,
    SLOT,
    Change,
    RawEvent,
    _memo_from,
    _memo_to,
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
from yiwang.jurisdiction import ESCALATION_LADDER, code_at
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


def _slow_row(
    s: Any,
    row: dict[str, Any],
    now: datetime,
    deltas: Any,
    log: list[RawEvent],
    audits: list[audit.AuditItem],
    updates: list[dict[str, Any]],
    pending: list[tuple[CaseEscalatedV1, str, datetime]],
    changes: list[Change],
    totals: dict[str, int],
) -> None:
    """The general path for one due row: a full fold (rows the set-based path declines)."""
    view = row_to_view(row)
    if view is None or view.due is None:
        return
    cid = uuid.UUID(view.case_id)
    status_at = row["status_at"] or view.due
    seq = view.last_seq
    raws: list[RawEvent] = []
    esc: Escalation | None = None
    if view.due <= now:
        at = max(view.due, status_at)
        raws.append(RawEvent(cid, seq + 1, cf.CASE_OVERDUE, at,
                             {"due": view.due, "level": view.level}, "overdue"))  # fmt: skip
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
    values["case_id"] = cid
    updates.append(values)
    if esc is not None:
        pending.append(_escalated_event(view, esc))
        audits.append(_escalation_audit(view.case_id, view.level, view.jurisdiction_code, esc))
        totals["escalated"] += 1
        changes.append(change_of(new_view, "escalation", to_level=str(esc.to_level),
                                 notify_code=esc.jurisdiction_code))  # fmt: skip
    else:
        changes.append(change_of(new_view))
    totals["overdue" if raws[0].type == cf.CASE_OVERDUE else "warned"] += 1


def _escalation_audit(
    case_id: str, level: str | None, code: str | None, esc: Escalation
) -> audit.AuditItem:
    return audit.AuditItem(
        case_id, "system", "system", "escalate", esc.at,
        {"level": level, "jurisdiction_code": code},
        {"level": str(esc.to_level), "jurisdiction_code": esc.jurisdiction_code,
         "reason": "overdue", "due": esc.deadline.due},
    )  # fmt: skip


# Columns the set-based path reads (not the fold's ``state``: it is patched in SQL).
_FAST_COLS = (
    "case_id", "complete", "status", "level", "grid_code", "jurisdiction_code", "sla_class",
    "deadline", "warn_at", "sla_state", "last_seq", "status_at", "escalation_count",
    "escalation_level", "supervision_count", "kpi",
)  # fmt: skip

_FAST_UPDATE = f"""
UPDATE {case_view.fullname} AS v SET
    level = u.level, escalation_level = u.escalation_level,
    jurisdiction_code = u.jurisdiction_code, deadline = u.deadline, warn_at = u.warn_at,
    sla_state = u.sla_state, overdue = u.overdue, next_due_at = u.next_due_at,
    escalation_count = u.escalation_count, last_seq = u.last_seq, kpi = u.kpi,
    updated_at = :now,
    state = v.state || jsonb_build_object(
        'seen', coalesce(v.state -> 'seen', '{{}}'::jsonb) || u.seen,
        'stamps', coalesce(v.state -> 'stamps', '{{}}'::jsonb) || u.stamps,
        'escalations', coalesce(v.state -> 'escalations', '[]'::jsonb) || u.escs,
        'updated_at', u.st_updated)
FROM unnest(
    CAST(:case_id AS uuid[]), CAST(:level AS text[]), CAST(:escalation_level AS text[]),
    CAST(:jurisdiction_code AS text[]), CAST(:deadline AS timestamptz[]),
    CAST(:warn_at AS timestamptz[]), CAST(:sla_state AS text[]), CAST(:overdue AS boolean[]),
    CAST(:next_due_at AS timestamptz[]), CAST(:escalation_count AS integer[]),
    CAST(:last_seq AS bigint[]), CAST(:kpi AS jsonb[]), CAST(:seen AS jsonb[]),
    CAST(:stamps AS jsonb[]), CAST(:escs AS jsonb[]), CAST(:st_updated AS text[])
) AS u(case_id, level, escalation_level, jurisdiction_code, deadline, warn_at, sla_state,
       overdue, next_due_at, escalation_count, last_seq, kpi, seen, stamps, escs, st_updated)
WHERE v.case_id = u.case_id
"""
_UPDATE_KEYS = (
    "case_id", "level", "escalation_level", "jurisdiction_code", "deadline", "warn_at",
    "sla_state", "overdue", "next_due_at", "escalation_count", "last_seq", "kpi", "seen",
    "stamps", "escs", "st_updated",
)  # fmt: skip
_ESC_STAMPS = ("level", "escalation_level", "jurisdiction_code", "due", "warn_at", "sla_state")


def _kpi_fast_ok(row: Mapping[str, Any], steps: int) -> bool:
    """May the KPI memo advance directly (in order, no held events, same seq slot)?"""
    memo = row["kpi"] or {}
    last = int(row["last_seq"] or 0)
    return (
        memo.get("waiting") is not True
        and int(memo.get("pos", 0)) == last
        and (last + steps) // SLOT == last // SLOT
    )


def _sweep_fast(
    rows: list[Mapping[str, Any]],
    now: datetime,
    deltas: Any,
    log: list[RawEvent],
    audits: list[audit.AuditItem],
    pending: list[tuple[CaseEscalatedV1, str, datetime]],
    changes: list[Change],
    totals: dict[str, int],
) -> tuple[dict[str, list[Any]], list[Any]]:
    """Set-based: the same events, view values, memo and KPI deltas as folding each row,
    computed from the row's columns alone. Returns the column arrays and the declined ids."""
    cols: dict[str, list[Any]] = {k: [] for k in _UPDATE_KEYS}
    declined: list[Any] = []
    ladder_codes: dict[str, tuple[str, ...]] = {}
    dumps = json.dumps
    for r in rows:
        due = r["deadline"]
        status = r["status"]
        if (
            not r["complete"]
            or not r["last_seq"]
            or due is None
            or status not in CLOCK_RUNNING
            or not _kpi_fast_ok(r, 2 if due <= now else 1)
        ):
            declined.append(r["case_id"])
            continue
        case_id = r["case_id"]
        cid = str(case_id)
        seq = int(r["last_seq"])
        level = r["level"]
        code = r["jurisdiction_code"]
        status_at = r["status_at"] or due
        warn_at = r["warn_at"]
        esc: Escalation | None = None
        seen: dict[str, str] = {}
        escs: list[dict[str, Any]] = []
        if due <= now:
            at = max(due, status_at)
            log.append(RawEvent(case_id, seq + 1, cf.CASE_OVERDUE, at,
                                {"due": due, "level": level}, "overdue"))  # fmt: skip
            seen[str(seq + 1)] = cf.CASE_OVERDUE
            stamps = {"sla_state": seq + 1}
            subject = EscalationSubject(cid, status or "", level_of_view(level),
                                        r["grid_code"] or "", r["sla_class"] or "standard_3d")  # fmt: skip
            try:
                esc = escalate(subject, "overdue", at, POLICY)
            except Conflict:
                esc = None  # at the city: stays overdue there
            if esc is None:
                new = (level, r["escalation_level"], code, due, warn_at, "overdue", True, None,
                       r["escalation_count"], seq + 1)  # fmt: skip
            else:
                to = str(esc.to_level)
                dl = esc.deadline
                n_esc = int(r["escalation_count"]) + 1
                log.append(RawEvent(case_id, seq + 2, cf.CASE_ESCALATED, at, {
                    **esc.event_data(), "due": dl.due, "warn_at": dl.warn_at,
                    "escalation_no": n_esc, "note": ""}, "escalate"))  # fmt: skip
                seen[str(seq + 2)] = cf.CASE_ESCALATED
                stamps.update(dict.fromkeys(_ESC_STAMPS, seq + 2))
                escs.append({"seq": seq + 2, "from_level": str(esc.from_level), "to_level": to,
                             "jurisdiction_code": esc.jurisdiction_code, "reason": "overdue",
                             "at": at.isoformat()})  # fmt: skip
                new = (to, to, esc.jurisdiction_code, dl.due, dl.warn_at, "on_time", False,
                       dl.warn_at or dl.due, n_esc, seq + 2)  # fmt: skip
                pending.append((CaseEscalatedV1(
                    case_id=case_id, escalation_no=n_esc, from_level=str(esc.from_level),
                    to_level=to, jurisdiction_code=esc.jurisdiction_code, reason="overdue",
                    note="", deadline=dl.due, at=at), esc.jurisdiction_code, at))  # fmt: skip
                audits.append(_escalation_audit(cid, level, code, esc))
                totals["escalated"] += 1
            totals["overdue"] += 1
        else:
            at = max(warn_at or due, status_at)
            log.append(RawEvent(case_id, seq + 1, cf.CASE_SLA_WARNING, at,
                                {"due": due}, "sla_warning"))  # fmt: skip
            seen[str(seq + 1)] = cf.CASE_SLA_WARNING
            stamps = {"sla_state": seq + 1}
            new = (level, r["escalation_level"], code, due, warn_at, "warning", False, due,
                   r["escalation_count"], seq + 1)  # fmt: skip
            totals["warned"] += 1
        # the KPI memo, advanced exactly as ``kpi_apply`` would (overdue, escalated:<level>)
        memo, ctx = _memo_from(r["kpi"] or {})
        steps = new[9] - seq
        memo.last_seq += steps
        ctx["pos"] = new[9]
        if due <= now and memo.grid_code:
            grid = memo.grid_code
            codes = ladder_codes.get(grid)
            if codes is None:
                codes = ladder_codes[grid] = tuple(code_at(grid, lv) for lv in ESCALATION_LADDER)
            day = local_day(at)
            depts = (ALL,) if memo.handler is None else (ALL, memo.handler)
            metrics = ["overdue"] if esc is None else ["overdue", f"escalated:{esc.to_level}"]
            for c in codes:
                for d in depts:
                    for m in metrics:
                        deltas[(c, d, day, m)] += 1
        if esc is not None:
            memo.due = esc.deadline.due
            ctx["level"] = str(esc.to_level)
            ctx["escalated"] = True
        kpi = _memo_to(memo, ctx)
        kpi["waiting"] = False
        old = r["st_updated"]
        old_dt = datetime.fromisoformat(old) if old else None
        st_updated = at if old_dt is None else max(old_dt, at)
        for k, v in zip(_UPDATE_KEYS[1:11], new, strict=True):
            cols[k].append(v)
        cols["case_id"].append(cid)
        cols["kpi"].append(dumps(kpi))
        cols["seen"].append(dumps(seen))
        cols["stamps"].append(dumps(stamps))
        cols["escs"].append(dumps(escs))
        cols["st_updated"].append(st_updated.isoformat())
        supervised = bool(r["supervision_count"])
        if esc is not None:
            changes.append(Change(cid, esc.jurisdiction_code, status, False, supervised,
                                  "escalation", {"to_level": str(esc.to_level),
                                                 "notify_code": esc.jurisdiction_code}))  # fmt: skip
        else:
            changes.append(Change(cid, code, status, new[6], supervised))
    return cols, declined


def sweep(
    uow: UnitOfWork,
    now: datetime,
    *,
    batch: int = 5000,
    max_rounds: int = 100,
    notify: Notify | None = None,
) -> dict[str, int]:
    """Warn, mark overdue and escalate every due row, ``batch`` rows per transaction.

    Set-based: per batch one indexed ``SELECT … FOR UPDATE SKIP LOCKED``, the new values
    computed in Python from the columns, then one ``UPDATE … FROM unnest(…)``, one insert
    each for ``case_events``, the outbox and the audit chain, and one KPI upsert. Rows the
    set-based path declines (KPI memo waiting on a gap, incomplete rows) take the full fold.
    """
    totals = {"warned": 0, "overdue": 0, "escalated": 0, "rows": 0}
    cv = case_view
    fast_cols = [cv.c[k] for k in _FAST_COLS] + [
        cv.c.state["updated_at"].astext.label("st_updated")
    ]
    for _ in range(max_rounds):
        changes: list[Change] = []
        with uow:
            s = uow.session
            rows = (
                s.execute(
                    sa.select(*fast_cols)
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
            pending: list[tuple[CaseEscalatedV1, str, datetime]] = []
            cols, declined = _sweep_fast(rows, now, deltas, log, audits, pending, changes, totals)
            updates: list[dict[str, Any]] = []
            if declined:  # already locked by the SELECT above
                full = s.execute(sa.select(cv).where(cv.c.case_id.in_(declined))).mappings()
                for r in full:
                    _slow_row(s, dict(r), now, deltas, log, audits, updates, pending, changes,
                              totals)  # fmt: skip
            append_log_bulk(s, log)
            if cols["case_id"]:
                s.execute(sa.text(_FAST_UPDATE), {**cols, "now": now})
            if updates:
                # one multi-row upsert (every row exists: it updates) instead of N UPDATEs
                stmt = pg_insert(cv)
                stmt = stmt.on_conflict_do_update(
                    index_elements=[cv.c.case_id],
                    set_={k: stmt.excluded[k] for k in updates[0] if k != "case_id"},
                )
                s.execute(stmt, updates)
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
