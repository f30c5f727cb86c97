"""The unified dispatch view: fold case events into ``case_view``; query, export, rebuild."""

from __future__ import annotations

import base64
import csv
import io
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.visitors import InternalTraversal

from services.command.adapters.tables import (
    audit_log,
    case_events,
    case_view,
    kpi_counters,
    saved_filters,
    supervisions,
    whistles,
)
from services.command.domain import casefile as cf
from services.command.service_layer import audit, dispatch, guard
from services.command.service_layer.fold import (
    ACTION_TYPES,
    SLOT,
    Change,
    RawEvent,
    add_kpis,
    change_of,
    deltas_factory,
    flush_kpis,
    fold_in_order,
    ingest,
    kpi_apply,
    load_log,
    lock_case,
    row_to_view,
    view_to_row,
    write_row,
)
from yiwang.contracts import Envelope
from yiwang.contracts.command import CaseFilter, ListCasesRequest
from yiwang.contracts.petitions import CaseCreatedV1, CaseTransitionedV1
from yiwang.errors import Forbidden, NotFound, ValidationFailed
from yiwang.uow import UnitOfWork

CONSUMER = "command.handle_case_event"
CONSUMER_TRANSITIONED = "command.handle_case_transitioned"
COUNT_CAP = 10_000
Notify = Callable[[list[dict[str, Any]]], None]


def _publish(notify: Notify | None, changes: list[Change]) -> None:
    if notify is not None and changes:
        try:
            notify([c.message() for c in changes])
        except Exception:  # noqa: BLE001 - live updates are best effort
            pass


def raw_created(ev: CaseCreatedV1, event_id: uuid.UUID | None = None) -> RawEvent:
    data: dict[str, Any] = {
        "source": ev.source,
        "category": ev.category,
        "title": ev.title,
        "grid_code": ev.grid_code,
        "jurisdiction_code": ev.jurisdiction_code,
        "level": ev.level,
        "status": ev.status,
        "sla_class": ev.sla_class,
        "created_at": ev.created_at,
        "default_department": ev.department,
        "lat": ev.lat,
        "lon": ev.lon,
        "attributes": dict(ev.attributes),
    }
    return RawEvent(
        ev.case_id, ev.seq * SLOT, cf.CASE_CREATED, ev.created_at, data, "create", event_id
    )


def raw_transitioned(ev: CaseTransitionedV1, event_id: uuid.UUID | None = None) -> RawEvent:
    type_ = ACTION_TYPES.get(ev.action, cf.CASE_STEPPED)
    data: dict[str, Any] = {
        "status": ev.status,
        "previous_status": ev.previous_status,
        "actor_id": ev.actor_id,
        "actor_role": ev.actor_role,
    }
    if ev.note:
        data["note"] = ev.note
    if type_ == cf.CASE_DISPATCHED:
        who = ev.department or (f"worker:{ev.handler}" if ev.handler else None)
        if who:
            data["handler"] = who
    elif type_ == cf.CASE_RETURNED:
        data["reason"] = ev.note or "sent back"
    elif type_ == cf.CASE_EVALUATED:
        data["rating"] = ev.rating
        data["satisfied"] = (ev.rating >= 3) if ev.rating is not None else not ev.rework
    return RawEvent(ev.case_id, ev.seq * SLOT, type_, ev.at, data, ev.action, event_id)


def _created_extra(ev: CaseCreatedV1) -> dict[str, Any]:
    attrs = ev.attributes
    desc = attrs.get("description")
    addr = attrs.get("address")
    return {
        "lat": ev.lat,
        "lon": ev.lon,
        "description": str(desc)[:4000] if desc is not None else None,
        "address": str(addr)[:200] if addr is not None else None,
    }


def apply_case_created(
    uow: UnitOfWork, env: Envelope, ev: CaseCreatedV1, now: datetime, notify: Notify | None = None
) -> bool:
    """Fold ``case.created``; a repeated delivery changes nothing."""
    with uow:
        if not uow.claim_event(CONSUMER, env.id, env.type):
            return False
        s = uow.session
        row = lock_case(s, ev.case_id, now)
        deltas = deltas_factory()
        view, values = ingest(
            s, row, [raw_created(ev, env.id)], now, deltas, extra=_created_extra(ev)
        )
        write_row(s, ev.case_id, values)
        add_kpis(uow, deltas)
        uow.commit()
    if view is not None and values:
        _publish(notify, [change_of(view)])
    return True


def apply_case_transitioned(
    uow: UnitOfWork,
    env: Envelope,
    ev: CaseTransitionedV1,
    now: datetime,
    notify: Notify | None = None,
) -> bool:
    """Fold one lifecycle step; on acceptance, route the case (``case.routed``)."""
    with uow:
        if not uow.claim_event(CONSUMER_TRANSITIONED, env.id, env.type):
            return False
        s = uow.session
        row = lock_case(s, ev.case_id, now)
        before_status = row.get("status")
        deltas = deltas_factory()
        raw = raw_transitioned(ev, env.id)
        view, values = ingest(s, row, [raw], now, deltas)
        write_row(s, ev.case_id, values)
        add_kpis(uow, deltas)
        changes: list[Change] = []
        if values and view is not None:
            audit.add(
                uow,
                [
                    audit.AuditItem(
                        str(ev.case_id),
                        ev.actor_id,
                        ev.actor_role,
                        f"status:{ev.action}",
                        ev.at,
                        {"status": ev.previous_status},
                        {"status": ev.status, "seq": ev.seq},
                    )
                ],
            )
            changes.append(change_of(view))
            if ev.action == "accept" and view.complete and before_status != "closed":
                routed = dispatch.route_accepted(uow, view, ev.at)
                if routed is not None:
                    changes.append(change_of(view, "routed", department=routed))
        uow.commit()
    _publish(notify, changes)
    return True


# -- queries --------------------------------------------------------------------------------
ROW_FIELDS = (
    "case_id",
    "source",
    "category",
    "title",
    "grid_code",
    "jurisdiction_code",
    "level",
    "status",
    "handler",
    "deadline",
    "escalation_level",
    "overdue",
    "supervised",
    "created_at",
    "updated_at",
    "department",
    "sla_class",
    "sla_state",
    "warn_at",
    "accept_due",
    "escalation_count",
    "whistle_count",
    "supervision_count",
    "rework_count",
    "rating",
    "return_reason",
    "description",
)


def _conditions(req: CaseFilter) -> list[Any]:
    cv = case_view
    conds: list[Any] = [cv.c.complete.is_(True)]
    if req.jurisdiction_prefix:
        conds.append(cv.c.jurisdiction_code.startswith(req.jurisdiction_prefix, autoescape=True))
    for name in ("status", "source", "category", "department", "overdue", "supervised"):
        value = getattr(req, name)
        if value is not None:
            conds.append(cv.c[name] == value)
    sources = getattr(req, "sources", None)
    if sources:
        conds.append(cv.c.source.in_(sources))
    for flag, count in (("escalated", cv.c.escalation_count), ("whistled", cv.c.whistle_count)):
        wanted = getattr(req, flag, None)
        if wanted is not None:
            conds.append(count > 0 if wanted else count == 0)
    if req.created_from is not None:
        conds.append(cv.c.created_at >= req.created_from)
    if req.created_to is not None:
        conds.append(cv.c.created_at < req.created_to)
    if req.q:
        pattern = "%" + req.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conds.append(sa.or_(cv.c.title.ilike(pattern), cv.c.description.ilike(pattern)))
    return conds


def _row_out(r: Any) -> dict[str, Any]:
    out = {k: r[k] for k in ROW_FIELDS}
    if "last_seq" in r:
        out["version"] = r["last_seq"]  # what command writes send back as expected_version
    return out


AUTO_EXACT_UP_TO = 1_000  # count="auto": exact up to this, else the planner's estimate


def encode_cursor(created_at: datetime | None, case_id: Any) -> str:
    raw = f"{created_at.isoformat() if created_at else ''}|{case_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime | None, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, cid = raw.partition("|")
        when = datetime.fromisoformat(at) if at else None
        if when is not None and when.tzinfo is None:
            raise ValueError("naive")
        return when, uuid.UUID(cid)
    except ValueError:
        raise ValidationFailed("invalid_cursor", "invalid paging cursor", "分页游标无效") from None


def _after_cursor(cursor: str) -> Any:
    """Rows after the cursor in the order (created_at DESC NULLS FIRST, case_id); written so
    that ``created_at <= :c`` bounds the index range scan."""
    cv = case_view
    at, cid = decode_cursor(cursor)
    if at is None:
        return sa.or_(
            sa.and_(cv.c.created_at.is_(None), cv.c.case_id > cid), cv.c.created_at.is_not(None)
        )
    return sa.and_(cv.c.created_at <= at, sa.or_(cv.c.created_at < at, cv.c.case_id > cid))


class _ExplainJson(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON) <statement>`` as a statement of its own, so that it goes
    through SQLAlchemy's compiled cache like any other query (compiling the page's filter
    afresh on every call took a fifth of a page's time)."""

    inherit_cache = True
    _traverse_internals = [("statement", InternalTraversal.dp_clauseelement)]
    _all_selected_columns: tuple[Any, ...] = ()  # its one column is read by position

    def __init__(self, statement: Any) -> None:
        self.statement = statement


@compiles(_ExplainJson, "postgresql")
def _compile_explain(element: _ExplainJson, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


def _estimate(session: Any, stmt: Any) -> int:
    """The planner's row estimate for ``stmt`` (no rows are read)."""
    plan = session.execute(_ExplainJson(stmt)).scalar_one()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _capped_count(session: Any, where: Any, cap: int) -> int:
    capped = sa.select(sa.literal(1)).select_from(case_view).where(where).limit(cap + 1)
    return int(
        session.execute(sa.select(sa.func.count()).select_from(capped.subquery())).scalar_one()
    )


def list_cases(uow: UnitOfWork, req: ListCasesRequest) -> dict[str, Any]:
    """One page of the dispatch view in the stable order (created_at DESC, case_id).

    Paging by ``page`` (offset) or by ``cursor`` (keyset: cost independent of depth).
    ``count``: ``auto`` (default) counts exactly only what is small — a first page that is
    not full is its own total, else a count capped at ``AUTO_EXACT_UP_TO`` rows (index-only
    for the usual filters); beyond it the planner's estimate (at least the cap;
    ``total_estimated``, ``total_exact`` false); ``exact``: a full count; ``capped``: exact
    up to ``COUNT_CAP`` (then ``total_exact`` false, as before)."""
    cv = case_view
    conds = _conditions(req)
    where = sa.and_(*conds)
    page_where = sa.and_(*conds, _after_cursor(req.cursor)) if req.cursor else where
    cols = [cv.c[k] for k in ROW_FIELDS] + [cv.c.last_seq]
    with uow:
        s = uow.session
        # keys first (index-only on the jurisdiction index for the usual filters), then the
        # page's rows by primary key: a deep page or a wide prefix never fetches more rows
        keys = (
            sa.select(cv.c.case_id)
            .where(page_where)
            .order_by(cv.c.created_at.desc(), cv.c.case_id)
            .limit(req.page_size + 1)
        )
        if not req.cursor:
            keys = keys.offset((req.page - 1) * req.page_size)
        k = keys.subquery("k")
        page = sa.select(*cols).join_from(cv, k, cv.c.case_id == k.c.case_id)
        capped: int | None = None
        if req.count == "auto":
            # the capped count rides along with the page (one round trip less): the page
            # is outer-joined to the count, so an empty page still brings the count
            n = (
                sa.select(sa.func.count().label("_n"))
                .select_from(
                    sa.select(sa.literal(1))
                    .select_from(cv)
                    .where(where)
                    .limit(AUTO_EXACT_UP_TO + 1)
                    .subquery("c")
                )
                .subquery("n")
            )
            p = page.subquery("p")
            q = (
                sa.select(p, n.c._n)
                .select_from(n)
                .outerjoin(p, sa.true())
                .order_by(p.c.created_at.desc(), p.c.case_id)
            )
            rows = s.execute(q).mappings().all()
            capped = int(rows[0]["_n"])
            rows = [r for r in rows if r["case_id"] is not None]
        else:
            q = page.order_by(cv.c.created_at.desc(), cv.c.case_id)
            rows = s.execute(q).mappings().all()
        more = len(rows) > req.page_size
        rows = rows[: req.page_size]
        estimated = False
        if req.count == "exact":
            total = int(
                s.execute(sa.select(sa.func.count()).select_from(cv).where(where)).scalar_one()
            )
        elif req.count == "capped":
            total = _capped_count(s, where, COUNT_CAP)
        elif not req.cursor and req.page == 1 and not more:
            total = len(rows)  # the whole result is on this page
        else:  # auto: exact up to AUTO_EXACT_UP_TO, beyond it the planner's estimate
            assert capped is not None
            total = capped
            if total > AUTO_EXACT_UP_TO:
                guess = _estimate(s, sa.select(sa.literal(1)).select_from(cv).where(where))
                total, estimated = max(guess, AUTO_EXACT_UP_TO + 1), True
    items = [_row_out(r) for r in rows]
    exact = not estimated and total <= COUNT_CAP
    if not estimated:
        total = min(total, COUNT_CAP) if req.count != "exact" else total
        exact = exact or req.count == "exact"
    nxt = encode_cursor(rows[-1]["created_at"], rows[-1]["case_id"]) if more and rows else None
    return {
        "items": items,
        "total": total,
        "page": req.page,
        "page_size": req.page_size,
        "total_exact": exact,
        "total_estimated": estimated,
        "next_cursor": nxt,
    }


def get_case(
    uow: UnitOfWork, case_id: uuid.UUID, jurisdiction_prefix: str = "", viewer: Any = None
) -> dict[str, Any]:
    with uow:
        s = uow.session
        row = (
            s.execute(sa.select(case_view).where(case_view.c.case_id == case_id)).mappings().first()
        )
        if row is None or not row["complete"]:
            raise NotFound(
                "case_not_found", f"case {case_id} not found", "案件不存在", case_id=str(case_id)
            )
        if (
            jurisdiction_prefix
            and not (row["jurisdiction_code"] or "").startswith(jurisdiction_prefix)
            and not (row["grid_code"] or "").startswith(jurisdiction_prefix)
        ):
            raise Forbidden(
                "outside_jurisdiction",
                "the case is outside your jurisdiction",
                "该案件不在您的管辖范围内",
            )
        if viewer is not None:
            view = row_to_view(row)
            if view is None:
                raise guard.case_not_found(case_id)
            guard.check_case(viewer, view)
        events = load_log(s, case_id)
        sups = (
            s.execute(
                sa.select(supervisions)
                .where(supervisions.c.case_id == case_id)
                .order_by(supervisions.c.at)
            )
            .mappings()
            .all()
        )
        whs = (
            s.execute(
                sa.select(whistles)
                .where(whistles.c.case_id == case_id)
                .order_by(whistles.c.called_at)
            )
            .mappings()
            .all()
        )
        trail = (
            s.execute(
                sa.select(audit_log)
                .where(audit_log.c.case_id == str(case_id))
                .order_by(audit_log.c.seq)
            )
            .mappings()
            .all()
        )
    state = row["state"] or {}
    return {
        "case": _row_out(row),
        "timeline": [
            {"seq": e.seq, "type": e.type, "action": e.action, "at": e.at, "data": e.data}
            for e in events
        ],
        "escalations": list(state.get("escalations", [])),
        "supervisions": [dict(x) for x in sups],
        "whistles": [dict(x) for x in whs],
        "audit": [dict(x) for x in trail],
    }


# -- exports --------------------------------------------------------------------------------
def to_export(name: str, header: list[str], rows: list[list[Any]], fmt: str) -> dict[str, Any]:
    def cell(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.isoformat()
        if isinstance(v, uuid.UUID):
            return str(v)
        return v

    if fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        def xml_cell(v: Any) -> Any:  # text stored with control characters must not fail
            v = cell(v)
            return ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v

        wb = Workbook(write_only=True)
        ws = wb.create_sheet(name[:31])
        ws.append(header)
        for r in rows:
            ws.append([xml_cell(v) for v in r])
        buf = io.BytesIO()
        wb.save(buf)
        content = buf.getvalue()
        ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        sio = io.StringIO()
        w = csv.writer(sio)
        w.writerow(header)
        for r in rows:
            w.writerow([cell(v) for v in r])
        content = ("\ufeff" + sio.getvalue()).encode("utf-8")  # BOM: Excel reads UTF-8
        ctype = "text/csv; charset=utf-8"
    return {
        "filename": f"{name}.{fmt}",
        "content_type": ctype,
        "content_b64": base64.b64encode(content).decode("ascii"),
        "rows": len(rows),
    }


def export_cases(uow: UnitOfWork, req: Any) -> dict[str, Any]:
    cv = case_view
    cols = [cv.c[k] for k in ROW_FIELDS]
    with uow:
        rows = uow.session.execute(
            sa.select(*cols)
            .where(sa.and_(*_conditions(req)))
            .order_by(cv.c.created_at.desc(), cv.c.case_id)
            .limit(req.limit)
        ).all()
    return to_export("cases", list(ROW_FIELDS), [list(r) for r in rows], req.format)


# -- saved filters --------------------------------------------------------------------------
def save_filter(
    uow: UnitOfWork, owner: str, name: str, filters: CaseFilter, now: datetime
) -> dict[str, Any]:
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    body = filters.model_dump(mode="json", exclude_none=True)
    with uow:
        stmt = pg_insert(saved_filters).values(owner=owner, name=name, filters=body, created_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[saved_filters.c.owner, saved_filters.c.name],
            set_={"filters": stmt.excluded.filters},
        )
        uow.session.execute(stmt)
        uow.commit()
    return {"owner": owner, "name": name, "filters": body, "created_at": now}


def list_filters(uow: UnitOfWork, owner: str) -> dict[str, Any]:
    with uow:
        rows = (
            uow.session.execute(
                sa.select(saved_filters)
                .where(saved_filters.c.owner == owner)
                .order_by(saved_filters.c.name)
            )
            .mappings()
            .all()
        )
    return {"items": [dict(r) for r in rows]}


def delete_filter(uow: UnitOfWork, owner: str, name: str) -> dict[str, Any]:
    with uow:
        n = uow.session.execute(
            saved_filters.delete().where(
                saved_filters.c.owner == owner, saved_filters.c.name == name
            )
        ).rowcount  # type: ignore[attr-defined]
        uow.commit()
    if not n:
        raise NotFound("filter_not_found", f"no saved filter '{name}'", f"没有名为“{name}”的筛选")
    return {"ok": True}


# -- rebuild --------------------------------------------------------------------------------
def rebuild(uow: UnitOfWork, now: datetime, case_id: uuid.UUID | None = None) -> dict[str, int]:
    """Replay ``case_events`` into ``case_view`` (and the KPI counters when rebuilding all)."""
    ce = case_events
    n_cases = n_events = 0
    with uow:
        s = uow.session
        if case_id is None:
            s.execute(kpi_counters.delete())
            ids = [r[0] for r in s.execute(sa.select(ce.c.case_id).distinct())]
        else:
            ids = [case_id]
        deltas = deltas_factory()
        for cid in ids:
            log = load_log(s, cid)
            if not log:
                continue
            row = lock_case(s, cid, now)
            view = fold_in_order(str(cid), log)
            assert view is not None
            stamp = view.stamps.get("status")
            status_at = next((r.at for r in log if r.seq == stamp), None)
            values = view_to_row(view, status_at)
            if case_id is None:
                memo = kpi_apply({}, str(cid), log, deltas)
                memo["waiting"] = memo["pos"] < view.last_seq
                values["kpi"] = memo
            else:
                values["kpi"] = row["kpi"]
            values["updated_at"] = now
            write_row(s, cid, values)
            n_cases += 1
            n_events += len(log)
        flush_kpis(s, deltas)
        uow.commit()
    return {"cases": n_cases, "events": n_events}
