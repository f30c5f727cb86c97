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

import gc
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.command.adapters.tables import case_events, case_view
from services.command.domain import casefile as cf
from services.command.domain.casefile import CaseView
from services.command.domain.escalation import Escalation, EscalationSubject, escalate
from services.command.domain.kpi import ALL, local_day
from services.command.service_layer import audit, guard
from services.command.service_layer.fold import (
    CLOCK_RUNNING,
    POLICY,
    SLOT,
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
from yiwang.errors import Conflict
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


def _escalated_fields(view: CaseView, esc: Escalation, note: str = "") -> dict[str, Any]:
    """The ``CaseEscalatedV1`` fields of an escalation."""
    return {
        "case_id": uuid.UUID(view.case_id),
        "escalation_no": len(view.escalations) + 1,
        "from_level": str(esc.from_level),
        "to_level": str(esc.to_level),
        "jurisdiction_code": esc.jurisdiction_code,
        "reason": str(esc.reason),
        "note": note[:2000],
        "deadline": esc.deadline.due,
        "at": esc.at,
    }


def _emit_escalated(uow: UnitOfWork, view: CaseView, esc: Escalation, note: str = "") -> None:
    uow.emit(
        CaseEscalatedV1(**_escalated_fields(view, esc, note)),
        jurisdiction_code=esc.jurisdiction_code,
        occurred_at=esc.at,
    )


def _slow_row(
    s: Any,
    row: dict[str, Any],
    now: datetime,
    deltas: Any,
    log: list[RawEvent],
    audits: list[audit.AuditItem],
    updates: list[dict[str, Any]],
    pending: list[tuple[dict[str, Any], str, datetime]],
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
        raws.append(
            RawEvent(
                cid, seq + 1, cf.CASE_OVERDUE, at, {"due": view.due, "level": view.level}, "overdue"
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
        raws.append(
            RawEvent(cid, seq + 1, cf.CASE_SLA_WARNING, at, {"due": view.due}, "sla_warning")
        )
    new_view, values = ingest(s, row, raws, now, deltas, known_new=True)
    assert new_view is not None
    log.extend(raws)
    values["case_id"] = cid
    updates.append(values)
    if esc is not None:
        pending.append((_escalated_fields(view, esc), esc.jurisdiction_code, esc.at))
        audits.append(_escalation_audit(view.case_id, view.level, view.jurisdiction_code, esc))
        totals["escalated"] += 1
        changes.append(
            change_of(
                new_view,
                "escalation",
                to_level=str(esc.to_level),
                notify_code=esc.jurisdiction_code,
            )
        )
    else:
        changes.append(change_of(new_view))
    totals["overdue" if raws[0].type == cf.CASE_OVERDUE else "warned"] += 1


def _escalation_audit(
    case_id: str, level: str | None, code: str | None, esc: Escalation
) -> audit.AuditItem:
    return audit.AuditItem(
        case_id,
        "system",
        "system",
        "escalate",
        esc.at,
        {"level": level, "jurisdiction_code": code},
        {
            "level": str(esc.to_level),
            "jurisdiction_code": esc.jurisdiction_code,
            "reason": "overdue",
            "due": esc.deadline.due,
        },
    )


# Columns the set-based path reads: plain columns, and the few memo/state fields it needs
# extracted in SQL (the ``state``/``kpi`` documents are patched in SQL, never read whole).
def _fast_cols() -> list[Any]:
    cv = case_view
    return [
        cv.c[k]
        for k in (
            "case_id",
            "complete",
            "status",
            "level",
            "grid_code",
            "jurisdiction_code",
            "sla_class",
            "deadline",
            "warn_at",
            "last_seq",
            "status_at",
            "escalation_count",
            "supervision_count",
        )
    ] + [
        cv.c.kpi["waiting"].as_boolean().label("kpi_waiting"),
        cv.c.kpi["pos"].as_integer().label("kpi_pos"),
        cv.c.kpi["n"].as_integer().label("kpi_n"),
        cv.c.kpi["grid_code"].astext.label("kpi_grid"),
        cv.c.kpi["handler"].astext.label("kpi_handler"),
        cv.c.state["updated_at"].astext.label("st_updated"),
    ]


# One statement per batch. Python decides, per row, what happens (``kind``: w = warning,
# o = overdue at the top, e = overdue and escalated, with the escalation's level, code and
# deadline) and ships the decisions as one JSON array of arrays; the statement derives the
# same column values, ``state``/``kpi`` patches and ``case_events`` rows as the per-row fold
# (``ingest``) writes — the equality test in tests/integration/test_sweep_setbased.py holds
# both to it. Datetimes travel as Python ISO strings, so the JSON documents hold the same
# text as the fold's.
_FAST_WRITE = f"""
WITH u AS MATERIALIZED (
    SELECT CAST(r ->> 0 AS uuid) AS case_id, r ->> 1 AS kind, CAST(r ->> 2 AS bigint) AS seq,
           r ->> 3 AS at, r ->> 4 AS st_updated, CAST(r ->> 5 AS bigint) AS kpi_n,
           r ->> 6 AS due0, r ->> 7 AS level0, r ->> 8 AS to_level, r ->> 9 AS code,
           r ->> 10 AS due, r ->> 11 AS warn_at, CAST(r ->> 12 AS integer) AS n_esc,
           CAST(r ->> 2 AS bigint) + CASE r ->> 1 WHEN 'e' THEN 2 ELSE 1 END AS last_seq
    FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS r
), upd AS (
    UPDATE {case_view.fullname} AS v SET
        level = coalesce(u.to_level, v.level),
        escalation_level = coalesce(u.to_level, v.escalation_level),
        jurisdiction_code = coalesce(u.code, v.jurisdiction_code),
        deadline = coalesce(CAST(u.due AS timestamptz), v.deadline),
        warn_at = coalesce(CAST(u.warn_at AS timestamptz), v.warn_at),
        sla_state = CASE u.kind WHEN 'w' THEN 'warning' WHEN 'o' THEN 'overdue'
                    ELSE 'on_time' END,
        overdue = u.kind = 'o',
        next_due_at = CASE u.kind WHEN 'w' THEN v.deadline
                      WHEN 'e' THEN CAST(u.warn_at AS timestamptz) END,
        escalation_count = coalesce(u.n_esc, v.escalation_count),
        last_seq = u.last_seq,
        updated_at = :now,
        kpi = v.kpi || jsonb_build_object('n', u.kpi_n, 'pos', u.last_seq, 'waiting', false)
            || CASE u.kind WHEN 'e' THEN jsonb_build_object(
                   'due', u.due, 'level', u.to_level, 'escalated', true)
               ELSE '{{}}'::jsonb END,
        state = v.state || jsonb_build_object(
            'seen', coalesce(v.state -> 'seen', '{{}}'::jsonb) || CASE u.kind
                WHEN 'w' THEN jsonb_build_object(u.seq + 1, '{cf.CASE_SLA_WARNING}')
                WHEN 'o' THEN jsonb_build_object(u.seq + 1, '{cf.CASE_OVERDUE}')
                ELSE jsonb_build_object(u.seq + 1, '{cf.CASE_OVERDUE}',
                                        u.seq + 2, '{cf.CASE_ESCALATED}') END,
            'stamps', coalesce(v.state -> 'stamps', '{{}}'::jsonb) || CASE u.kind
                WHEN 'e' THEN jsonb_build_object(
                    'level', u.last_seq, 'escalation_level', u.last_seq,
                    'jurisdiction_code', u.last_seq, 'due', u.last_seq,
                    'warn_at', u.last_seq, 'sla_state', u.last_seq)
                ELSE jsonb_build_object('sla_state', u.last_seq) END,
            'escalations', coalesce(v.state -> 'escalations', '[]'::jsonb) || CASE u.kind
                WHEN 'e' THEN jsonb_build_array(jsonb_build_object(
                    'seq', u.last_seq, 'from_level', u.level0, 'to_level', u.to_level,
                    'jurisdiction_code', u.code, 'reason', 'overdue', 'at', u.at))
                ELSE '[]'::jsonb END,
            'updated_at', u.st_updated)
    FROM u
    WHERE v.case_id = u.case_id
)
INSERT INTO {case_events.fullname} (case_id, seq, type, action, at, data)
SELECT u.case_id, e.seq, e.type, e.action, CAST(u.at AS timestamptz), e.data
FROM u CROSS JOIN LATERAL (VALUES
    (u.seq + 1,
     CASE u.kind WHEN 'w' THEN '{cf.CASE_SLA_WARNING}' ELSE '{cf.CASE_OVERDUE}' END,
     CASE u.kind WHEN 'w' THEN 'sla_warning' ELSE 'overdue' END,
     CASE u.kind WHEN 'w' THEN jsonb_build_object('due', u.due0)
     ELSE jsonb_build_object('due', u.due0, 'level', u.level0) END),
    (CASE u.kind WHEN 'e' THEN u.seq + 2 END, '{cf.CASE_ESCALATED}', 'escalate',
     jsonb_build_object(
         'from_level', u.level0, 'to_level', u.to_level, 'jurisdiction_code', u.code,
         'reason', 'overdue', 'due', u.due, 'warn_at', u.warn_at, 'escalation_no', u.n_esc,
         'note', ''))
) AS e(seq, type, action, data)
WHERE e.seq IS NOT NULL
"""


def _kpi_fast_ok(waiting: bool | None, pos: int | None, last_seq: int, steps: int) -> bool:
    """May the KPI memo advance directly (in order, no held events, same seq slot)?"""
    return (
        waiting is not True
        and int(pos or 0) == last_seq
        and (last_seq + steps) // SLOT == last_seq // SLOT
    )


def _sweep_fast(
    rows: Sequence[Any],
    now: datetime,
    deltas: Any,
    audits: list[audit.AuditItem],
    pending: list[tuple[dict[str, Any], str, datetime]],
    changes: list[Change] | None,
    totals: dict[str, int],
) -> tuple[list[list[Any]], list[Any]]:
    """Set-based: per row the same decision as folding it (``escalate`` in the domain),
    from the row's columns alone. Returns the decisions for ``_FAST_WRITE`` and the ids it
    declines (for the full fold); ``pending`` gets the ``CaseEscalatedV1`` fields, ``deltas``
    the KPI counters (``overdue``, ``escalated:<level>`` on every rung of the ladder)."""
    out: list[list[Any]] = []
    declined: list[Any] = []
    kpi_keys: Counter[tuple[str, str | None, date, str | None]] = Counter()
    escalated, overdue, warned = 0, 0, 0
    for (
        case_id,
        complete,
        status,
        level,
        grid_code,
        code,
        sla_class,
        due,
        warn_at,
        seq,
        status_at,
        escalation_count,
        supervision_count,
        kpi_waiting,
        kpi_pos,
        kpi_n,
        kpi_grid,
        kpi_handler,
        st_updated,
    ) in rows:
        is_due = due is not None and due <= now
        if (
            not complete
            or not seq
            or due is None
            or status not in CLOCK_RUNNING
            or not _kpi_fast_ok(kpi_waiting, kpi_pos, seq, 2 if is_due else 1)
        ):
            declined.append(case_id)
            continue
        cid = str(case_id)
        if status_at is None:
            status_at = due
        if is_due:
            at = due if due >= status_at else status_at
            subject = EscalationSubject(
                cid, status or "", level_of_view(level), grid_code or "", sla_class or "standard_3d"
            )
            try:
                esc: Escalation | None = escalate(subject, "overdue", at, POLICY)
            except Conflict:
                esc = None  # at the city: stays overdue there
            at_iso = at.isoformat()
            if esc is None:
                out.append(
                    [
                        cid,
                        "o",
                        seq,
                        at_iso,
                        None,
                        (kpi_n or 0) + 1,
                        due.isoformat(),
                        level,
                        None,
                        None,
                        None,
                        None,
                        None,
                    ]
                )
                if changes is not None:
                    changes.append(Change(cid, code, status, True, bool(supervision_count)))
                to = None
            else:
                to = str(esc.to_level)
                dl = esc.deadline
                n_esc = escalation_count + 1
                esc_code = esc.jurisdiction_code
                out.append(
                    [
                        cid,
                        "e",
                        seq,
                        at_iso,
                        None,
                        (kpi_n or 0) + 2,
                        due.isoformat(),
                        level,
                        to,
                        esc_code,
                        dl.due.isoformat(),
                        dl.warn_at.isoformat(),
                        n_esc,
                    ]
                )
                pending.append(
                    (
                        {
                            "case_id": case_id,
                            "escalation_no": n_esc,
                            "from_level": str(esc.from_level),
                            "to_level": to,
                            "jurisdiction_code": esc_code,
                            "reason": "overdue",
                            "note": "",
                            "deadline": dl.due,
                            "at": at,
                        },
                        esc_code,
                        at,
                    )
                )
                audits.append(_escalation_audit(cid, level, code, esc))
                escalated += 1
                if changes is not None:
                    changes.append(
                        Change(
                            cid,
                            esc_code,
                            status,
                            False,
                            bool(supervision_count),
                            "escalation",
                            {"to_level": to, "notify_code": esc_code},
                        )
                    )
            overdue += 1
            if kpi_grid:
                kpi_keys[(kpi_grid, kpi_handler, local_day(at), to)] += 1
        else:
            at = warn_at or due
            if status_at > at:
                at = status_at
            at_iso = at.isoformat()
            out.append(
                [
                    cid,
                    "w",
                    seq,
                    at_iso,
                    None,
                    (kpi_n or 0) + 1,
                    due.isoformat(),
                    level,
                    None,
                    None,
                    None,
                    None,
                    None,
                ]
            )
            warned += 1
            if changes is not None:
                changes.append(Change(cid, code, status, False, bool(supervision_count)))
        # the fold's ``state.updated_at``: the latest event instant seen
        old = datetime.fromisoformat(st_updated) if st_updated else None
        out[-1][4] = at_iso if old is None or at > old else old.isoformat()
    # KPI counters, exactly as ``kpi_apply`` counts them: one per rung and department
    for (grid, handler, day, to), n in kpi_keys.items():
        depts = (ALL,) if handler is None else (ALL, handler)
        metrics = ("overdue",) if to is None else ("overdue", f"escalated:{to}")
        for lv in ESCALATION_LADDER:
            c = code_at(grid, lv)
            for d in depts:
                for m in metrics:
                    deltas[(c, d, day, m)] += n
    totals["escalated"] += escalated
    totals["overdue"] += overdue
    totals["warned"] += warned
    return out, declined


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside one batch.

    A batch keeps tens of thousands of small containers alive until it commits (the rows,
    the outbox payloads, the audit items), enough to trigger full collections that walk
    the whole heap of the process (about a tenth of a batch's time, for no garbage: all of
    it is freed by reference counting when the batch ends). The collector's state is
    restored after the batch; collections resume from the next allocation on.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def sweep(
    uow: UnitOfWork,
    now: datetime,
    *,
    batch: int = 5000,
    max_rounds: int = 100,
    notify: Notify | None = None,
) -> dict[str, int]:
    """Warn, mark overdue and escalate every due row, ``batch`` rows per transaction.

    Set-based: per batch one indexed ``SELECT … FOR UPDATE SKIP LOCKED`` of plain columns,
    the new values computed in Python from them and shipped as one JSON document to one
    statement that updates ``case_view`` and inserts the events into ``case_events``; then
    one insert each for the outbox and the audit chain, and one KPI upsert. Rows the
    set-based path declines (KPI memo waiting on a gap, incomplete rows) take the full fold.
    """
    totals = {"warned": 0, "overdue": 0, "escalated": 0, "rows": 0}
    cv = case_view
    select_due = (
        sa.select(*_fast_cols())
        .where(cv.c.next_due_at <= now)
        .order_by(cv.c.next_due_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    for _ in range(max_rounds):
        changes: list[Change] = []
        with _collector_paused(), uow:
            s = uow.session
            rows = s.execute(select_due).all()
            if not rows:
                break
            deltas = deltas_factory()
            log: list[RawEvent] = []
            audits: list[audit.AuditItem] = []
            pending: list[tuple[dict[str, Any], str, datetime]] = []
            new, declined = _sweep_fast(
                rows, now, deltas, audits, pending, changes if notify is not None else None, totals
            )
            updates: list[dict[str, Any]] = []
            if declined:  # already locked by the SELECT above
                full = s.execute(sa.select(cv).where(cv.c.case_id.in_(declined))).mappings()
                for r in full:
                    _slow_row(
                        s, dict(r), now, deltas, log, audits, updates, pending, changes, totals
                    )
            if new:
                s.execute(sa.text(_FAST_WRITE), {"rows": json.dumps(new), "now": now})
            append_log_bulk(s, log)
            if updates:
                # one multi-row upsert (every row exists: it updates) instead of N UPDATEs
                stmt = pg_insert(cv)
                stmt = stmt.on_conflict_do_update(
                    index_elements=[cv.c.case_id],
                    set_={k: stmt.excluded[k] for k in updates[0] if k != "case_id"},
                )
                s.execute(stmt, updates)
            emit_many(uow, CaseEscalatedV1, pending)
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
    uow: UnitOfWork,
    case_id: uuid.UUID,
    actor: Any,
    note: str,
    now: datetime,
    notify: Notify | None = None,
    *,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """ "Cannot solve at this level" (本级无法解决): one level up now, with the reason.
    ``expected_version``: the view's version the caller saw (a double click escalates once)."""
    with uow:
        s = uow.session
        exists = s.execute(sa.select(case_view.c.complete).where(case_view.c.case_id == case_id))
        if not exists.scalar():
            raise guard.case_not_found(case_id)
        row = lock_case(s, case_id, now)
        view = row_to_view(row)
        assert view is not None
        guard.check_write(actor, view, expected_version)
        esc = escalate(_subject(view), "cannot_solve", now, POLICY)
        raw = _escalated_raw(view, esc, view.last_seq + 1, note)
        deltas = deltas_factory()
        new_view, values = ingest(s, row, [raw], now, deltas, known_new=True)
        append_log_bulk(s, [raw])
        write_row(s, case_id, values)
        flush_kpis(s, deltas)
        _emit_escalated(uow, view, esc, note)
        audit.append(
            s,
            [
                audit.AuditItem(
                    view.case_id,
                    actor.id,
                    actor.role,
                    "escalate",
                    now,
                    {"level": view.level, "jurisdiction_code": view.jurisdiction_code},
                    {
                        "level": str(esc.to_level),
                        "jurisdiction_code": esc.jurisdiction_code,
                        "reason": "cannot_solve",
                        "note": note[:200],
                        "due": esc.deadline.due,
                    },
                )
            ],
        )
        uow.commit()
    if notify is not None and new_view is not None:
        try:
            notify(
                [
                    change_of(
                        new_view,
                        "escalation",
                        to_level=str(esc.to_level),
                        notify_code=esc.jurisdiction_code,
                    ).message()
                ]
            )
        except Exception:  # noqa: BLE001
            pass
    return {
        "case_id": case_id,
        "escalation_no": len(view.escalations) + 1,
        "from_level": str(esc.from_level),
        "to_level": str(esc.to_level),
        "jurisdiction_code": esc.jurisdiction_code,
        "deadline": esc.deadline.due,
        "version": new_view.last_seq if new_view is not None else None,
    }
