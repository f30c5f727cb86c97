"""Folding case events into ``case_view`` and ``kpi_counters`` (inside a caller's unit of work).

Sequence space: a producer event with per-case seq ``s`` is stored at ``s * SLOT``; the
command's own events about a case (warning, overdue, escalated, supervised, whistled)
take the following slots ``last_seq + 1`` (they come after everything seen so far and
before the producer's next seq). Folding is by ``casefile.apply`` (idempotent,
last-writer-wins per field by seq); an event arriving below what the view has already
seen triggers a replay of the case's log in seq order, so derived values (deadlines)
are always computed from in-order predecessors.

KPIs are applied strictly in order (held until a gap fills) by ``KpiBook`` resumed from
the memo kept in ``case_view.kpi``; deltas are upserted into ``kpi_counters`` in the
same transaction.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.command.adapters.tables import KPI_SHARDS, case_events, case_view, kpi_counters
from services.command.domain import casefile as cf
from services.command.domain.casefile import CaseEvent, CaseView, EscalationEntry
from services.command.domain.kpi import CaseMemo, KpiBook
from services.command.domain.sla import SlaPolicy
from services.command.service_layer.calendar import LIVE_CALENDAR
from yiwang.contracts.envelope import ContractViolation, Envelope, registry
from yiwang.errors import Conflict
from yiwang.jurisdiction import Level
from yiwang.tracing import current_trace_context
from yiwang.uow import UnitOfWork

SLOT = 1000
DEFAULT_SLA_CLASS = "standard_3d"
POLICY = SlaPolicy(calendar=LIVE_CALENDAR)  # the calendar as kept in calendar_years
# Producer statuses during which the SLA clock runs.
CLOCK_RUNNING = frozenset(
    {"submitted", "accepted", "dispatched", "in_progress", "registered", "returned", "rework"}
)

# petitions action -> casefile event type (others: ``case.stepped``, status only)
ACTION_TYPES: dict[str, str] = {
    "accept": cf.CASE_ACCEPTED,
    "dispatch": cf.CASE_DISPATCHED,
    "reassign": cf.CASE_DISPATCHED,
    "review_rework": cf.CASE_DISPATCHED,
    "send_back": cf.CASE_RETURNED,
    "handle": cf.CASE_HANDLED,
    "close": cf.CASE_CLOSED,
    "close_with_parent": cf.CASE_CLOSED,
    "rate": cf.CASE_EVALUATED,
    "return_visit": cf.CASE_EVALUATED,
    "auto_evaluate": cf.CASE_EVALUATED,
}
LOCAL_TYPES = frozenset(
    {cf.CASE_SLA_WARNING, cf.CASE_OVERDUE, cf.CASE_ESCALATED, cf.CASE_SUPERVISED, cf.CASE_WHISTLED}
)


@dataclass
class RawEvent:
    """One entry of ``case_events`` (data as stored: JSON-native, ISO datetimes)."""

    case_id: uuid.UUID
    seq: int
    type: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    action: str | None = None
    event_id: uuid.UUID | None = None


@dataclass
class Change:
    """A view change, for live updates."""

    case_id: str
    jurisdiction_code: str | None
    status: str | None
    overdue: bool
    supervised: bool
    kind: str = "case"
    extra: dict[str, Any] = field(default_factory=dict)

    def message(self) -> dict[str, Any]:
        out = {
            "kind": self.kind,
            "case_id": self.case_id,
            "jurisdiction_code": self.jurisdiction_code,
            "status": self.status,
            "overdue": self.overdue,
            "supervised": self.supervised,
        }
        out.update(self.extra)
        return out


# -- JSON <-> python -------------------------------------------------------------------------
_DT_KEYS = frozenset({"due", "warn_at", "accept_due", "created_at", "deadline", "at"})


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime) else v


def _dt(v: Any) -> datetime | None:
    if v is None or isinstance(v, datetime):
        return v
    return datetime.fromisoformat(v)


def jsonable(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _iso(v) for k, v in d.items()}


def decode_data(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (_dt(v) if k in _DT_KEYS else v) for k, v in d.items()}


# -- derivation (deadlines from the SLA policy) ---------------------------------------------
def sla_class_of(name: str | None) -> str:
    return name if name is not None and name in POLICY.classes else DEFAULT_SLA_CLASS


def level_of_view(level: str | None) -> Level:
    try:
        return Level(level or "grid")
    except ValueError:
        return Level.GRID


def derive(raw: RawEvent, view: CaseView | None) -> CaseEvent:
    """The casefile event for ``raw`` given the view folded from its predecessors."""
    data = decode_data(raw.data)
    if raw.type == cf.CASE_CREATED:
        cls = sla_class_of(data.get("sla_class"))
        start = data.get("created_at") or raw.at
        acc = POLICY.accept_deadline(cls, start)
        dl = POLICY.handling_deadline(cls, level_of_view(data.get("level")), start)
        data.update(sla_class=cls, accept_due=acc.due, due=dl.due, warn_at=dl.warn_at)
    elif raw.type == cf.CASE_DISPATCHED and view is not None and view.sla_class:
        dl = POLICY.handling_deadline(
            view.sla_class,
            level_of_view(view.level),
            raw.at,
            escalated=view.escalation_level is not None,
        )
        data.update(due=dl.due, warn_at=dl.warn_at)
        if not data.get("handler"):
            data["handler"] = view.handler or "unassigned"
    elif raw.type == cf.CASE_DISPATCHED and not data.get("handler"):
        data["handler"] = "unassigned"
    return CaseEvent(str(raw.case_id), raw.seq, raw.type, raw.at, data)


def fold_in_order(case_id: str, raws: Iterable[RawEvent]) -> CaseView | None:
    view: CaseView | None = None
    for raw in sorted(raws, key=lambda r: r.seq):
        view = cf.apply(view, derive(raw, view))
    return view


# -- view <-> row ---------------------------------------------------------------------------
def view_state(view: CaseView) -> dict[str, Any]:
    return {
        "seen": {str(k): v for k, v in view.seen.items()},
        "stamps": dict(view.stamps),
        "escalations": [
            {
                "seq": e.seq,
                "from_level": e.from_level,
                "to_level": e.to_level,
                "jurisdiction_code": e.jurisdiction_code,
                "reason": e.reason,
                "at": e.at.isoformat(),
            }
            for e in view.escalations
        ],
        "reworks": sorted(view.reworks),
        "supervisions": {k: jsonable(v) for k, v in view.supervisions.items()},
        "whistles": {
            k: {**jsonable(v), "departments": list(v.get("departments", ()))}
            for k, v in view.whistles.items()
        },
        "satisfied": view.satisfied,
        "created_at": _iso(view.created_at),
        "updated_at": _iso(view.updated_at),
    }


_ROW_SCALARS = (
    "source",
    "category",
    "title",
    "grid_code",
    "jurisdiction_code",
    "level",
    "sla_class",
    "status",
    "handler",
    "return_reason",
    "accept_due",
    "warn_at",
    "sla_state",
    "escalation_level",
    "satisfied",
    "rating",
    "accepted_at",
    "dispatched_at",
    "handled_at",
    "closed_at",
    "last_seq",
)


def row_to_view(row: Mapping[str, Any]) -> CaseView | None:
    if not row["last_seq"]:
        return None
    st = row["state"] or {}
    kw: dict[str, Any] = {k: row[k] for k in _ROW_SCALARS}
    kw["due"] = row["deadline"]
    kw["complete"] = row["complete"]
    kw["created_at"] = _dt(st.get("created_at"))
    kw["updated_at"] = _dt(st.get("updated_at"))
    kw["escalations"] = tuple(
        EscalationEntry(
            seq=e["seq"],
            from_level=e["from_level"],
            to_level=e["to_level"],
            jurisdiction_code=e["jurisdiction_code"],
            reason=e["reason"],
            at=_dt(e["at"]),  # type: ignore[arg-type]
        )
        for e in st.get("escalations", [])
    )
    kw["reworks"] = frozenset(st.get("reworks", []))
    kw["supervisions"] = {k: decode_data(v) for k, v in st.get("supervisions", {}).items()}
    kw["whistles"] = {
        k: {**decode_data(v), "departments": tuple(v.get("departments", []))}
        for k, v in st.get("whistles", {}).items()
    }
    kw["seen"] = {int(k): v for k, v in st.get("seen", {}).items()}
    kw["stamps"] = dict(st.get("stamps", {}))
    return CaseView(case_id=str(row["case_id"]), **kw)


def next_due_at(view: CaseView) -> datetime | None:
    if not view.complete or view.status not in CLOCK_RUNNING or view.due is None:
        return None
    if view.sla_state == "on_time":
        return view.warn_at or view.due
    if view.sla_state == "warning":
        return view.due
    return None


def view_to_row(view: CaseView, status_at: datetime | None) -> dict[str, Any]:
    out: dict[str, Any] = {k: getattr(view, k) for k in _ROW_SCALARS}
    handler = view.handler
    out.update(
        complete=view.complete,
        deadline=view.due,
        department=handler if handler and not handler.startswith("worker:") else None,
        next_due_at=next_due_at(view),
        escalation_count=len(view.escalations),
        overdue=view.overdue,
        supervised=view.supervised,
        supervision_count=len(view.supervisions),
        whistle_count=len(view.whistles),
        rework_count=view.rework_count,
        created_at=view.created_at,
        status_at=status_at,
        state=view_state(view),
    )
    return out


# -- events log -----------------------------------------------------------------------------
def load_log(session: Session, case_id: uuid.UUID, after: int = 0) -> list[RawEvent]:
    ce = case_events
    rows = session.execute(
        sa.select(ce.c.seq, ce.c.type, ce.c.at, ce.c.data, ce.c.action, ce.c.event_id)
        .where(ce.c.case_id == case_id, ce.c.seq > after)
        .order_by(ce.c.seq)
    ).all()
    return [RawEvent(case_id, r.seq, r.type, r.at, r.data, r.action, r.event_id) for r in rows]


def append_log(session: Session, raws: list[RawEvent]) -> list[RawEvent]:
    """Insert events; returns the new ones (duplicates skipped, a clash is a Conflict)."""
    fresh: list[RawEvent] = []
    for raw in raws:
        got = session.execute(
            pg_insert(case_events)
            .values(
                case_id=raw.case_id,
                seq=raw.seq,
                type=raw.type,
                action=raw.action,
                event_id=raw.event_id,
                at=raw.at,
                data=jsonable(raw.data),
            )
            .on_conflict_do_nothing()
            .returning(case_events.c.id)
        ).first()
        if got is not None:
            fresh.append(raw)
            continue
        existing = session.execute(
            sa.select(case_events.c.type).where(
                case_events.c.case_id == raw.case_id, case_events.c.seq == raw.seq
            )
        ).scalar_one()
        if existing != raw.type:
            raise Conflict(
                "sequence_conflict",
                f"seq {raw.seq} of case {raw.case_id} already holds a {existing} event",
                f"案件{raw.case_id}的序号{raw.seq}已被{existing}事件占用",
                case_id=str(raw.case_id),
                seq=raw.seq,
            )
    return fresh


_LOG_INSERT = f"""
INSERT INTO {case_events.fullname} (case_id, seq, type, action, event_id, at, data)
SELECT * FROM unnest(CAST(:case_id AS uuid[]), CAST(:seq AS bigint[]), CAST(:type AS text[]),
                     CAST(:action AS text[]), CAST(:event_id AS uuid[]),
                     CAST(:at AS timestamptz[]), CAST(:data AS jsonb[]))
"""


def append_log_bulk(session: Session, raws: list[RawEvent]) -> None:
    """Insert events known to be new (the command's own, under the case's row lock):
    one ``INSERT … SELECT FROM unnest(…)`` whatever their number."""
    if not raws:
        return
    dumps = json.dumps
    session.execute(
        sa.text(_LOG_INSERT),
        {
            "case_id": [str(r.case_id) for r in raws],
            "seq": [r.seq for r in raws],
            "type": [r.type for r in raws],
            "action": [r.action for r in raws],
            "event_id": [str(r.event_id) if r.event_id else None for r in raws],
            "at": [r.at for r in raws],
            "data": [dumps(jsonable(r.data)) for r in raws],
        },
    )


# -- KPI ------------------------------------------------------------------------------------
KpiDeltas = dict[tuple[str, str, date, str], int]


def _memo_from(d: Mapping[str, Any]) -> tuple[CaseMemo, dict[str, Any]]:
    memo = CaseMemo(
        last_seq=int(d.get("n", 0)),
        grid_code=d.get("grid_code", ""),
        created_at=_dt(d.get("created_at")),
        accept_due=_dt(d.get("accept_due")),
        due=_dt(d.get("due")),
        handler=d.get("handler"),
        accepted=bool(d.get("accepted", False)),
    )
    ctx = {
        "pos": int(d.get("pos", 0)),
        "sla_class": d.get("sla_class"),
        "level": d.get("level"),
        "escalated": bool(d.get("escalated", False)),
        "handler": d.get("handler"),
    }
    return memo, ctx


def _memo_to(memo: CaseMemo, ctx: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "n": memo.last_seq,
        "pos": ctx["pos"],
        "grid_code": memo.grid_code,
        "created_at": _iso(memo.created_at),
        "accept_due": _iso(memo.accept_due),
        "due": _iso(memo.due),
        "handler": memo.handler,
        "accepted": memo.accepted,
        "sla_class": ctx["sla_class"],
        "level": ctx["level"],
        "escalated": ctx["escalated"],
    }


def next_in_order(pos: int, seq: int) -> bool:
    """May ``seq`` be applied right after ``pos`` (gap-free in producer seqs)?"""
    base = pos // SLOT
    if seq % SLOT == 0:
        return seq // SLOT == base + 1
    return seq // SLOT == base and seq > pos


def kpi_apply(
    memo_json: Mapping[str, Any], case_id: str, candidates: list[RawEvent], deltas: KpiDeltas
) -> dict[str, Any]:
    """Apply the in-order prefix of ``candidates`` (sorted, all > pos); add counter deltas."""
    memo, ctx = _memo_from(memo_json)
    book = KpiBook()
    book.seed(case_id, memo)
    # ctx-view: the minimum ``derive`` needs for dispatch deadlines
    for raw in candidates:
        if not next_in_order(ctx["pos"], raw.seq):
            break
        pseudo = CaseView(
            case_id=case_id,
            sla_class=ctx["sla_class"],
            level=ctx["level"],
            escalation_level="x" if ctx["escalated"] else None,
            handler=ctx["handler"],
        )
        ev = derive(raw, pseudo if ctx["sla_class"] else None)
        if ev.type == cf.CASE_CREATED:
            ctx["sla_class"] = ev.data["sla_class"]
            ctx["level"] = ev.data.get("level")
        elif ev.type == cf.CASE_ESCALATED:
            ctx["level"] = ev.data["to_level"]
            ctx["escalated"] = True
        elif ev.type == cf.CASE_DISPATCHED:
            ctx["handler"] = ev.data["handler"]
        elif ev.type == cf.CASE_RETURNED:
            ctx["handler"] = None
        ctx["pos"] = raw.seq
        book.add(CaseEvent(case_id, memo.last_seq + 1, ev.type, ev.at, ev.data))
    for (code, dept, day), bucket in book.counters.items():
        for metric, value in bucket.items():
            if value:
                key = (code, dept, day, metric)
                deltas[key] = deltas.get(key, 0) + value
    return _memo_to(memo, ctx)


KPI_COLLECTION = "command:10:kpis"


def add_kpis(uow: UnitOfWork, deltas: KpiDeltas) -> None:
    """Count ``deltas`` when ``uow`` commits, merged with its transaction's others into one
    sorted upsert on one shard: a batch of events locks each counter row once, at the end,
    in the same order as every other transaction (see ``UnitOfWork.collect``)."""
    if deltas:
        uow.collect(
            KPI_COLLECTION, dict(deltas), lambda parts: flush_kpis(uow.session, _merged(parts))
        )


def _merged(parts: list[KpiDeltas]) -> KpiDeltas:
    total: KpiDeltas = {}
    for part in parts:
        for key, value in part.items():
            total[key] = total.get(key, 0) + value
    return total


_KPI_UPSERT = sa.text(f"""
    INSERT INTO {kpi_counters.fullname} AS k (code, department, day, metric, shard, value)
    SELECT r.code, r.department, r.day, r.metric, :shard, r.value
    FROM jsonb_to_recordset(CAST(:rows AS jsonb))
         AS r(code text, department text, day date, metric text, value bigint)
    ORDER BY r.code, r.department, r.day, r.metric
    ON CONFLICT (code, department, day, metric, shard)
    DO UPDATE SET value = k.value + excluded.value
""")


def flush_kpis(session: Session, deltas: KpiDeltas) -> None:
    """Add ``deltas`` to the counters in one statement (rows as one JSON document, locked in
    key order on one shard: concurrent flushes never deadlock)."""
    if not deltas:
        return
    shard = random.randrange(KPI_SHARDS)  # spread hot keys over shards
    rows = [
        {"code": c, "department": d, "day": day.isoformat(), "metric": m, "value": v}
        for (c, d, day, m), v in sorted(deltas.items())
    ]
    session.execute(_KPI_UPSERT, {"shard": shard, "rows": json.dumps(rows, ensure_ascii=False)})


# -- the case row ---------------------------------------------------------------------------
# one round trip: created empty if absent, locked either way (DO UPDATE locks the row; the
# no-op SET changes nothing), and returned
_LOCK_CASE = (
    pg_insert(case_view)
    .on_conflict_do_update(
        index_elements=[case_view.c.case_id],
        set_={"case_id": pg_insert(case_view).excluded.case_id},
    )
    .returning(*case_view.c)
)


def lock_case(session: Session, case_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    """The case's row, locked (created empty if absent)."""
    params = {"case_id": case_id, "last_seq": 0, "updated_at": now}
    return dict(session.execute(_LOCK_CASE, params).mappings().one())


def ingest(
    session: Session,
    row: dict[str, Any],
    raws: list[RawEvent],
    now: datetime,
    deltas: KpiDeltas,
    *,
    known_new: bool = False,  # the command's own new events: the caller logs them
    extra: Mapping[str, Any] | None = None,
) -> tuple[CaseView | None, dict[str, Any]]:
    """Append ``raws`` to the case's log and fold them into ``row`` (locked by the caller).

    Returns the new view and the column values to write (``write_row``)."""
    case_id = row["case_id"]
    cid = str(case_id)
    # known_new: the command's own new events, which the caller logs (in bulk) itself
    fresh = raws if known_new else append_log(session, raws)
    view = row_to_view(row)
    if not fresh:
        return view, {}
    last = view.last_seq if view else 0
    at_by_seq = {r.seq: r.at for r in fresh}
    if view is None or any(r.seq < last for r in fresh):
        log = load_log(session, case_id)
        at_by_seq.update({r.seq: r.at for r in log})
        view = fold_in_order(cid, log)
    else:
        for raw in sorted(fresh, key=lambda r: r.seq):
            view = cf.apply(view, derive(raw, view))
    assert view is not None
    # KPIs, strictly in order
    memo_json = row.get("kpi") or {}
    pos = int(memo_json.get("pos", 0))
    ordered = sorted((r for r in fresh if r.seq > pos), key=lambda r: r.seq)
    direct = bool(ordered) and memo_json.get("waiting") is not True
    if direct:
        p = pos
        for r in ordered:
            if not next_in_order(p, r.seq):
                direct = False
                break
            p = r.seq
    candidates = ordered if direct else load_log(session, case_id, after=pos)
    new_memo = kpi_apply(memo_json, cid, candidates, deltas)
    new_memo["waiting"] = new_memo["pos"] < view.last_seq
    # the status clock: when the step that set the current status happened
    status_at = row.get("status_at")
    stamp = view.stamps.get("status")
    if stamp in at_by_seq:
        status_at = at_by_seq[stamp]
    values = view_to_row(view, status_at)
    values["kpi"] = new_memo
    values["updated_at"] = now
    if extra:
        values.update(extra)
    return view, values


_WRITE_ROW = case_view.update().where(case_view.c.case_id == sa.bindparam("b_case_id"))


def write_row(session: Session, case_id: uuid.UUID, values: Mapping[str, Any]) -> None:
    if values:  # statement and parameters apart: compiled once per set of columns
        session.execute(_WRITE_ROW, {**values, "b_case_id": case_id})


def change_of(view: CaseView, kind: str = "case", **extra: Any) -> Change:
    return Change(
        view.case_id,
        view.jurisdiction_code,
        view.status,
        view.overdue,
        view.supervised,
        kind,
        extra,
    )


def deltas_factory() -> KpiDeltas:
    return defaultdict(int)  # type: ignore[return-value]


_OUTBOX_INSERT = """
INSERT INTO {schema}.outbox (event_id, exchange, routing_key, body, headers)
SELECT CAST(e ->> 'id' AS uuid), :exchange, e ->> 'type', CAST(e AS text), CAST(:headers AS jsonb)
FROM json_array_elements(CAST(:envs AS json)) WITH ORDINALITY AS x(e, i)
ORDER BY i
"""
_ENVELOPES = TypeAdapter(list[Envelope])
_PAYLOAD_LISTS: dict[type[BaseModel], TypeAdapter[Any]] = {}


def emit_many(
    uow: UnitOfWork, model: type[BaseModel], items: list[tuple[dict[str, Any], str, datetime]]
) -> None:
    """``uow.emit`` for many events of one contract (same rows, same order), in one outbox
    insert: the payloads (``model``'s fields) are validated against the contract in one
    call; the envelopes around them are built from typed values and not validated again.
    Each row's ``body`` is the envelope's JSON exactly as serialised here (``json``, not
    ``jsonb``, keeps the text)."""
    if not items:
        return
    adapter = _PAYLOAD_LISTS.get(model)
    if adapter is None:
        adapter = _PAYLOAD_LISTS[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    try:
        payloads = adapter.validate_python([p for p, _, _ in items])
    except ValidationError as exc:
        raise ContractViolation("invalid_payload", str(exc)[:500]) from exc
    event_type, version = registry.key_of(payloads[0])
    trace = current_trace_context()  # one span for the whole batch
    envs = [
        Envelope.model_construct(
            id=uuid.uuid4(),
            type=event_type,
            version=version,
            occurred_at=at,
            producer=uow.producer,
            jurisdiction_code=code,
            trace=dict(trace),
            payload=data,
        )
        for data, (_, code, at) in zip(
            adapter.dump_python(payloads, mode="json"), items, strict=True
        )
    ]
    uow.session.execute(
        sa.text(_OUTBOX_INSERT.format(schema=uow.schema)),
        {
            "envs": _ENVELOPES.dump_json(envs).decode(),
            "exchange": f"{uow.producer}.events",
            "headers": json.dumps({f"nameko.{k}": v for k, v in trace.items()}),
        },
    )
    uow.emitted.extend(envs)
