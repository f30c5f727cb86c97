"""The read-model record of one case (the unified dispatch view) and its event fold.

``apply(view, event)`` is idempotent and order-independent. Every event carries the case's
per-case sequence number ``seq`` (1, 2, …). Each event either *assigns* fields absolute
values or *adds* entries to keyed sets (escalations, reworks, whistles, supervisions);
every assigned field remembers the seq that last wrote it and only a higher seq may
overwrite it (last-writer-wins by seq). Hence:

- a duplicate (same seq) is a no-op; an older event never overwrites newer state;
- folding any permutation of a history yields the same view, equal to folding it in order;
- events may arrive before ``case.created``: the view then exists with ``complete=False``
  until the creation event arrives (queries should skip incomplete views).

Two different events claiming the same seq for one case are refused (Conflict).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from yiwang.clock import require_aware
from yiwang.errors import Conflict, ValidationFailed

# -- event types -------------------------------------------------------------------------
CASE_CREATED = "case.created"
CASE_ACCEPTED = "case.accepted"
CASE_DISPATCHED = "case.dispatched"
CASE_RETURNED = "case.returned"  # 退单: sent back to the dispatcher
CASE_HANDLED = "case.handled"
CASE_CLOSED = "case.closed"
CASE_EVALUATED = "case.evaluated"
CASE_ESCALATED = "case.escalated"
CASE_SUPERVISED = "case.supervised"
CASE_WHISTLED = "case.whistled"
CASE_SLA_WARNING = "case.sla_warning"
CASE_OVERDUE = "case.overdue"
CASE_STEPPED = "case.stepped"  # any other lifecycle step: only its status (if given) counts

EVENT_TYPES = frozenset(
    {
        CASE_CREATED,
        CASE_ACCEPTED,
        CASE_DISPATCHED,
        CASE_RETURNED,
        CASE_HANDLED,
        CASE_CLOSED,
        CASE_EVALUATED,
        CASE_ESCALATED,
        CASE_SUPERVISED,
        CASE_WHISTLED,
        CASE_SLA_WARNING,
        CASE_OVERDUE,
        CASE_STEPPED,
    }
)

# -- statuses ----------------------------------------------------------------------------
REGISTERED = "registered"
ACCEPTED = "accepted"
DISPATCHED = "dispatched"
RETURNED = "returned"
HANDLED = "handled"
CLOSED = "closed"
REWORK = "rework"  # an unsatisfied rating reopened it (返工)
# Finished: closed, or one of the producer's terminal statuses (no escalation any more).
CLOSED_STATUSES = frozenset({CLOSED, "evaluated", "rejected", "forwarded", "merged"})


@dataclass(frozen=True)
class CaseEvent:
    """One event about one case. ``data`` holds the type-specific fields (see ``_effects``)."""

    case_id: str
    seq: int
    type: str
    at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValidationFailed(
                "unknown_event_type", f"unknown event type {self.type}", f"未知事件类型{self.type}"
            )
        if self.seq < 1:
            raise ValidationFailed("invalid_seq", "seq must be >= 1", "序号必须大于等于1")
        require_aware(self.at, "at")


@dataclass(frozen=True)
class EscalationEntry:
    seq: int
    from_level: str
    to_level: str
    jurisdiction_code: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class CaseView:
    case_id: str
    complete: bool = False
    source: str | None = None
    category: str | None = None
    title: str | None = None
    grid_code: str | None = None
    jurisdiction_code: str | None = None
    level: str | None = None
    sla_class: str | None = None
    status: str | None = None
    handler: str | None = None
    return_reason: str | None = None
    accept_due: datetime | None = None
    due: datetime | None = None
    warn_at: datetime | None = None
    sla_state: str = "on_time"
    escalation_level: str | None = None
    satisfied: bool | None = None
    rating: int | None = None
    created_at: datetime | None = None
    accepted_at: datetime | None = None
    dispatched_at: datetime | None = None
    handled_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime | None = None
    last_seq: int = 0
    escalations: tuple[EscalationEntry, ...] = ()
    reworks: frozenset[int] = frozenset()
    supervisions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    whistles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    seen: Mapping[int, str] = field(default_factory=dict)
    stamps: Mapping[str, int] = field(default_factory=dict)

    @property
    def overdue(self) -> bool:
        return self.sla_state == "overdue"

    @property
    def supervised(self) -> bool:
        return bool(self.supervisions)

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    @property
    def rework_count(self) -> int:
        return len(self.reworks)


_CREATED_FIELDS = (
    "source",
    "category",
    "title",
    "grid_code",
    "jurisdiction_code",
    "level",
    "sla_class",
    "accept_due",
    "due",
    "warn_at",
)


def _effects(ev: CaseEvent) -> dict[str, Any]:
    """Absolute field assignments made by one event.

    ``data["status"]``, when given, is the producer's own status name after the step and
    replaces the generic default (so the view shows the statuses the case service uses).
    """
    d = ev.data
    st = d.get("status")
    if ev.type == CASE_CREATED:
        out = {k: d.get(k) for k in _CREATED_FIELDS}
        out.update(complete=True, status=st or REGISTERED, created_at=d.get("created_at", ev.at))
        return out
    if ev.type == CASE_ACCEPTED:
        return {"status": st or ACCEPTED, "accepted_at": ev.at}
    if ev.type == CASE_DISPATCHED:
        out = {"status": st or DISPATCHED, "handler": d["handler"], "dispatched_at": ev.at}
        for k in ("due", "warn_at"):
            if k in d:
                out[k] = d[k]
        if d.get("due") is not None:
            out["sla_state"] = "on_time"  # a new deadline restarts the SLA state
        return out
    if ev.type == CASE_RETURNED:
        return {"status": st or RETURNED, "handler": None, "return_reason": d["reason"]}
    if ev.type == CASE_HANDLED:
        return {"status": st or HANDLED, "handled_at": ev.at}
    if ev.type == CASE_CLOSED:
        return {"status": st or CLOSED, "closed_at": ev.at}
    if ev.type == CASE_EVALUATED:
        out = {"satisfied": bool(d["satisfied"]), "rating": d.get("rating")}
        if not d["satisfied"]:
            out["status"] = st or REWORK
        elif st:
            out["status"] = st
        return out
    if ev.type == CASE_ESCALATED:
        return {
            "level": d["to_level"],
            "escalation_level": d["to_level"],
            "jurisdiction_code": d["jurisdiction_code"],
            "due": d.get("due"),
            "warn_at": d.get("warn_at"),
            "sla_state": "on_time",
        }
    if ev.type == CASE_SLA_WARNING:
        return {"sla_state": "warning"}
    if ev.type == CASE_OVERDUE:
        return {"sla_state": "overdue"}
    if ev.type == CASE_STEPPED:
        return {"status": st} if st else {}
    return {}  # supervised, whistled: keyed-set additions only


def apply(view: CaseView | None, ev: CaseEvent) -> CaseView:
    """Fold one event into the view (``None`` = no view yet). Returns the new view."""
    if view is None:
        view = CaseView(case_id=ev.case_id)
    elif view.case_id != ev.case_id:
        raise ValidationFailed(
            "case_mismatch", "event belongs to another case", "事件不属于该案件", case_id=ev.case_id
        )
    known = view.seen.get(ev.seq)
    if known is not None:
        if known != ev.type:
            raise Conflict(
                "sequence_conflict",
                f"seq {ev.seq} already holds a {known} event",
                f"序号{ev.seq}已被{known}事件占用",
                seq=ev.seq,
            )
        return view  # duplicate
    changes: dict[str, Any] = {}
    stamps = dict(view.stamps)
    for name, value in _effects(ev).items():
        if stamps.get(name, 0) < ev.seq:
            stamps[name] = ev.seq
            changes[name] = value
    d = ev.data
    if ev.type == CASE_ESCALATED:
        entry = EscalationEntry(
            seq=ev.seq,
            from_level=d["from_level"],
            to_level=d["to_level"],
            jurisdiction_code=d["jurisdiction_code"],
            reason=d["reason"],
            at=ev.at,
        )
        changes["escalations"] = tuple(sorted((*view.escalations, entry), key=lambda e: e.seq))
    elif ev.type == CASE_EVALUATED and not d["satisfied"]:
        changes["reworks"] = view.reworks | {ev.seq}
    elif ev.type == CASE_SUPERVISED:
        changes["supervisions"] = {
            **view.supervisions,
            d["supervision_id"]: {
                "leader": d.get("leader"),
                "deadline": d.get("deadline"),
                "note": d.get("note"),
                "at": ev.at,
            },
        }
    elif ev.type == CASE_WHISTLED:
        changes["whistles"] = {
            **view.whistles,
            d["whistle_id"]: {
                "departments": tuple(d.get("departments", ())),
                "deadline": d.get("deadline"),
                "at": ev.at,
            },
        }
    changes["seen"] = {**view.seen, ev.seq: ev.type}
    changes["stamps"] = stamps
    changes["last_seq"] = max(view.last_seq, ev.seq)
    changes["updated_at"] = ev.at if view.updated_at is None else max(view.updated_at, ev.at)
    return replace(view, **changes)


def rebuild(events: Iterable[CaseEvent], case_id: str | None = None) -> CaseView | None:
    """Fold a history (any order, duplicates allowed) into a view."""
    view: CaseView | None = None
    for ev in events:
        if case_id is None or ev.case_id == case_id:
            view = apply(view, ev)
    return view
