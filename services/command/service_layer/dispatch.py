"""Dispatch: departments and routing rules kept as data; routing on acceptance; manual
dispatch and re-dispatch. Decisions leave as ``case.routed`` through the outbox (the
petitions service applies them as the case's ``dispatch`` step)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.command.adapters.tables import case_events, case_view, departments, routing_rules
from services.command.domain import casefile as cf
from services.command.domain.casefile import CaseView
from services.command.domain.dispatch import CaseFacts, Rule, RuleSet, Target, check_target
from services.command.service_layer import audit, guard
from yiwang.contracts.command import CaseRoutedV1
from yiwang.errors import Conflict, NotFound, ValidationFailed
from yiwang.uow import UnitOfWork


def known_departments(session: Session) -> set[str]:
    return set(
        session.execute(sa.select(departments.c.code).where(departments.c.active.is_(True)))
        .scalars()
        .all()
    )


def load_rules(session: Session) -> RuleSet:
    bodies = session.execute(
        sa.select(routing_rules.c.body).order_by(routing_rules.c.order)
    ).scalars()
    rules = [Rule.from_dict(b) for b in bodies]
    return RuleSet(
        rules,
        known_departments(session) | {r.target.id for r in rules if r.target.kind != "department"},
    )


def _facts(session: Session, view: CaseView, at: datetime) -> tuple[CaseFacts, str | None]:
    created = session.execute(
        sa.select(case_events.c.data).where(
            case_events.c.case_id == uuid.UUID(view.case_id),
            case_events.c.type == cf.CASE_CREATED,
        )
    ).scalar()
    data = created or {}
    facts = CaseFacts(
        category=view.category or "",
        jurisdiction_code=view.grid_code or view.jurisdiction_code or "",
        source=view.source or "",
        at=at,
        lat=data.get("lat"),
        lon=data.get("lon"),
        attributes=data.get("attributes") or {},
    )
    return facts, data.get("default_department")


def route_accepted(uow: UnitOfWork, view: CaseView, at: datetime) -> str | None:
    """Evaluate the rules for an accepted case; emit ``case.routed``. None: no route."""
    s = uow.session
    facts, fallback = _facts(s, view, at)
    decision = load_rules(s).route(facts)
    target: Target | None = decision.target if decision else None
    rule_name = decision.rule.name if decision else None
    if target is None and fallback and fallback in known_departments(s):
        target, rule_name = Target("department", fallback), "category_default"
    if target is None:
        return None
    _emit_routed(
        uow,
        view,
        target,
        at,
        rule_id=rule_name,
        manual=False,
        actor_id="system",
        actor_role="system",
    )
    return target.id


def _emit_routed(
    uow: UnitOfWork,
    view: CaseView,
    target: Target,
    at: datetime,
    *,
    rule_id: str | None,
    manual: bool,
    actor_id: str,
    actor_role: str,
    note: str = "",
) -> uuid.UUID:
    env = uow.emit(
        CaseRoutedV1(
            case_id=uuid.UUID(view.case_id),
            department=target.id if target.kind == "department" else None,
            worker_id=target.id if target.kind == "grid_worker" else None,
            rule_id=rule_id,
            manual=manual,
            actor_id=actor_id,
            actor_role=actor_role,
            at=at,
        ),
        jurisdiction_code=view.jurisdiction_code or "",
    )
    audit.add(
        uow,
        [
            audit.AuditItem(
                view.case_id,
                actor_id,
                actor_role,
                "redispatch" if view.handler else "dispatch",
                at,
                {"handler": view.handler},
                {
                    "target": f"{target.kind}:{target.id}",
                    "rule": rule_id,
                    "manual": manual,
                    "note": note[:200],
                },
            )
        ],
    )
    return env.id


def dispatch_case(uow: UnitOfWork, req: Any, now: datetime) -> dict[str, Any]:
    """Manual dispatch / re-dispatch by a dispatcher."""
    from services.command.service_layer.fold import row_to_view

    if bool(req.department) == bool(req.worker_id):
        raise ValidationFailed(
            "one_target",
            "give a department or a worker, not both",
            "请指定一个职能部门或一名网格员",
        )
    target = (
        Target("department", req.department)
        if req.department
        else Target("grid_worker", req.worker_id)
    )
    with uow:
        s = uow.session
        check_target(target, known_departments(s))
        row = (
            s.execute(
                sa.select(case_view).where(case_view.c.case_id == req.case_id).with_for_update()
            )
            .mappings()
            .first()
        )
        view = row_to_view(dict(row)) if row is not None else None
        if row is None or view is None or not view.complete:
            raise guard.case_not_found(req.case_id)
        guard.check_write(req.actor, view, req.expected_version)
        if view.is_closed:
            raise Conflict(
                "case_closed", "a closed case cannot be dispatched", "已结案的案件不能派遣"
            )
        current = view.handler
        wanted = target.id if target.kind == "department" else f"worker:{target.id}"
        if current == wanted and view.status in ("dispatched", "in_progress"):
            raise Conflict(
                "already_assigned", "the case is already with this target", "案件已派给该对象"
            )
        event_id = _emit_routed(
            uow,
            view,
            target,
            now,
            rule_id=None,
            manual=True,
            actor_id=req.actor.id,
            actor_role=req.actor.role,
            note=req.note,
        )
        # the order itself moves the view's version on, so a second dispatch sent with the
        # same expected version (double click, two dispatchers at once) is refused
        new_view = _record_order(uow, dict(row), view, target, req.actor, now)
        uow.commit()
    return {
        "case_id": req.case_id,
        "department": req.department,
        "worker_id": req.worker_id,
        "manual": True,
        "event_id": event_id,
        "version": new_view.last_seq,
    }


def _record_order(
    uow: UnitOfWork, row: dict[str, Any], view: CaseView, target: Target, actor: Any, now: datetime
) -> CaseView:
    """A manual dispatch order as the command's own step on the case (no status change:
    the case's status follows when petitions applies the routing)."""
    from services.command.service_layer.fold import (
        RawEvent,
        append_log_bulk,
        deltas_factory,
        flush_kpis,
        ingest,
        write_row,
    )

    s = uow.session
    data = {"target": f"{target.kind}:{target.id}", "actor_id": actor.id}
    raw = RawEvent(
        uuid.UUID(view.case_id), view.last_seq + 1, cf.CASE_STEPPED, now, data, "dispatch_order"
    )
    deltas = deltas_factory()
    new_view, values = ingest(s, row, [raw], now, deltas, known_new=True)
    append_log_bulk(s, [raw])
    write_row(s, uuid.UUID(view.case_id), values)
    flush_kpis(s, deltas)
    assert new_view is not None
    return new_view


# -- departments and rules as data -----------------------------------------------------------
def list_departments(uow: UnitOfWork) -> dict[str, Any]:
    with uow:
        rows = uow.session.execute(sa.select(departments).order_by(departments.c.code)).mappings()
        return {"items": [dict(r) for r in rows]}


def put_department(uow: UnitOfWork, dep: dict[str, Any]) -> dict[str, Any]:
    with uow:
        stmt = pg_insert(departments).values(**dep)
        stmt = stmt.on_conflict_do_update(
            index_elements=[departments.c.code],
            set_={k: stmt.excluded[k] for k in ("name_zh", "name_en", "active")},
        )
        uow.session.execute(stmt)
        uow.commit()
    return dep


def list_rules(uow: UnitOfWork) -> dict[str, Any]:
    with uow:
        bodies = uow.session.execute(
            sa.select(routing_rules.c.body).order_by(routing_rules.c.order)
        ).scalars()
        return {"items": list(bodies)}


def _clean_rule(body: dict[str, Any]) -> dict[str, Any]:
    when = {k: v for k, v in (body.get("when") or {}).items() if v not in (None, {}, [])}
    return {**body, "when": when}


def put_rule(uow: UnitOfWork, body: dict[str, Any], actor: Any, now: datetime) -> dict[str, Any]:
    body = _clean_rule(body)
    rule = Rule.from_dict(body)  # validates conditions (WKT, time window, weekdays)
    with uow:
        s = uow.session
        check_target(rule.target, known_departments(s))
        clash = s.execute(
            sa.select(routing_rules.c.name).where(
                routing_rules.c.order == rule.order, routing_rules.c.name != rule.name
            )
        ).scalar()
        if clash:
            raise Conflict(
                "duplicate_rule_order",
                f"rule '{clash}' already has order {rule.order}",
                f"规则“{clash}”已使用顺序号{rule.order}",
                order=rule.order,
            )
        before = s.execute(
            sa.select(routing_rules.c.body).where(routing_rules.c.name == rule.name)
        ).scalar()
        stmt = pg_insert(routing_rules).values(
            name=rule.name, order=rule.order, body=rule.to_dict(), updated_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[routing_rules.c.name],
            set_={
                "order": stmt.excluded.order,
                "body": stmt.excluded.body,
                "updated_at": stmt.excluded.updated_at,
            },
        )
        s.execute(stmt)
        a = actor or type("A", (), {"id": "system", "role": "system"})
        audit.append(
            s,
            [
                audit.AuditItem(
                    f"rule:{rule.name}", a.id, a.role, "rule.put", now, before or {}, rule.to_dict()
                )
            ],
        )
        uow.commit()
    return rule.to_dict()


def delete_rule(uow: UnitOfWork, name: str, actor: Any, now: datetime) -> dict[str, Any]:
    with uow:
        s = uow.session
        before = s.execute(
            sa.select(routing_rules.c.body).where(routing_rules.c.name == name)
        ).scalar()
        if before is None:
            raise NotFound(
                "rule_not_found", f"no routing rule '{name}'", f"没有名为“{name}”的派遣规则"
            )
        s.execute(routing_rules.delete().where(routing_rules.c.name == name))
        a = actor or type("A", (), {"id": "system", "role": "system"})
        audit.append(
            s, [audit.AuditItem(f"rule:{name}", a.id, a.role, "rule.delete", now, before, {})]
        )
        uow.commit()
    return {"ok": True}


def test_rules(uow: UnitOfWork, req: Any) -> dict[str, Any]:
    facts = CaseFacts(
        category=req.category,
        jurisdiction_code=req.jurisdiction_code,
        source=req.source,
        at=req.at,
        lat=req.lat,
        lon=req.lon,
        attributes=dict(req.attributes),
    )
    with uow:
        if req.rule is not None:
            body = _clean_rule(req.rule.model_dump(mode="json"))
            ruleset = RuleSet([Rule.from_dict(body)], known_departments(uow.session))
        else:
            ruleset = load_rules(uow.session)
    d = ruleset.route(facts)
    if d is None:
        return {"matched": False}
    return {
        "matched": True,
        "rule": d.rule.name,
        "target": {"kind": d.target.kind, "id": d.target.id},
    }
