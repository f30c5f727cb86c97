"""The hash-chained audit trail in ``audit_log`` (append-only; the table refuses UPDATE/DELETE).

Appends take a transaction-scoped advisory lock so the chain has one head; entries are
hashed exactly like ``domain.audit.AuditLog.append`` and verified with ``verify_chain``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.command.adapters.tables import audit_log
from services.command.domain.audit import (
    GENESIS,
    AuditEntry,
    canonical_json,
    entry_hash,
    json_value,
)
from yiwang.clock import require_aware
from yiwang.uow import UnitOfWork

_LOCK_KEY = 7_420_001  # pg_advisory_xact_lock key of the audit chain


@dataclass
class AuditItem:
    case_id: str
    actor: str
    role: str
    action: str
    at: datetime
    before: Mapping[str, Any] = field(default_factory=dict)
    after: Mapping[str, Any] = field(default_factory=dict)


_AUDIT_INSERT = f"""
INSERT INTO {audit_log.fullname} (seq, case_id, actor, role, action, at, before, after,
                                  prev_hash, hash)
SELECT CAST(r ->> 0 AS bigint), r ->> 1, r ->> 2, r ->> 3, r ->> 4,
       CAST(r ->> 5 AS timestamptz), r -> 6, r -> 7, r ->> 8, r ->> 9
FROM jsonb_array_elements(CAST(:rows AS jsonb)) WITH ORDINALITY AS x(r, i)
ORDER BY i
"""


def _utc(v: Any) -> Any:
    """Datetimes as canonical JSON writes them (UTC ISO-8601); other values unchanged."""
    return json_value(v) if isinstance(v, datetime) else v


AUDIT_COLLECTION = "command:20:audit"  # flushed after the KPI counters (the sweep's order)


def add(uow: UnitOfWork, items: list[AuditItem]) -> None:
    """Chain ``items`` when ``uow`` commits, with the rest of its transaction's entries: the
    chain's head lock is then held for the commit's last milliseconds, not from the first
    event of a batch to its end (see ``UnitOfWork.collect``)."""
    if items:
        uow.collect(
            AUDIT_COLLECTION,
            list(items),
            lambda parts: append(uow.session, [it for part in parts for it in part]),
        )


def append(session: Session, items: list[AuditItem]) -> None:
    """Chain ``items`` after the head, in order, in one insert.

    Each entry is hashed exactly like ``domain.audit.entry_hash`` (the canonical JSON of
    its body, datetimes turned to UTC strings first so the encoder needs no callback for
    them), and stored as hashed."""
    if not items:
        return
    session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    head = session.execute(
        sa.select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
    rows: list[list[Any]] = []
    sha256 = hashlib.sha256
    for it in items:
        seq += 1
        actor, role = it.actor or "system", it.role or "system"
        at = _utc(require_aware(it.at, "at"))
        before = {k: _utc(v) for k, v in it.before.items()}
        after = {k: _utc(v) for k, v in it.after.items()}
        body = {
            "seq": seq,
            "case_id": it.case_id,
            "actor": actor,
            "role": role,
            "action": it.action,
            "at": at,
            "before": before,
            "after": after,
        }
        digest = sha256((prev + canonical_json(body)).encode("utf-8")).hexdigest()
        rows.append([seq, it.case_id, actor, role, it.action, at, before, after, prev, digest])
        prev = digest
    session.execute(
        sa.text(_AUDIT_INSERT), {"rows": json.dumps(rows, ensure_ascii=False, default=json_value)}
    )


def _entry(r: Any) -> AuditEntry:
    return AuditEntry(
        seq=r.seq,
        case_id=r.case_id,
        actor=r.actor,
        role=r.role,
        action=r.action,
        at=r.at,
        before=r.before,
        after=r.after,
        prev_hash=r.prev_hash,
        hash=r.hash,
    )


def trail(uow: UnitOfWork, case_id: str) -> list[dict[str, Any]]:
    with uow:
        rows = uow.session.execute(
            sa.select(audit_log).where(audit_log.c.case_id == case_id).order_by(audit_log.c.seq)
        ).mappings()
        return [dict(r) for r in rows]


def verify(uow: UnitOfWork, chunk: int = 20000) -> dict[str, Any]:
    """Recompute every link; the first bad entry's seq (or None)."""
    prev, count, last = GENESIS, 0, 0
    with uow:
        conn = uow.session.connection().execution_options(stream_results=True, yield_per=chunk)
        result = conn.execute(sa.select(audit_log).order_by(audit_log.c.seq))
        for r in result:
            e = _entry(r)
            count += 1
            if e.seq != last + 1 or e.prev_hash != prev or entry_hash(prev, e.body()) != e.hash:
                return {"intact": False, "entries": count, "first_bad_seq": e.seq, "head": prev}
            prev, last = e.hash, e.seq
    return {"intact": True, "entries": count, "first_bad_seq": None, "head": prev}
