"""KPI queries over ``kpi_counters`` (one indexed range read each), exports, early warnings."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.command.adapters.tables import (
    alerts,
    case_view,
    departments,
    kpi_counters,
    warning_rules,
)
from services.command.domain import warnings as wdomain
from services.command.domain.casefile import CLOSED_STATUSES
from services.command.domain.kpi import ALL, KpiFigures, local_day
from services.command.service_layer.view import to_export
from yiwang.errors import NotFound, ValidationFailed
from yiwang.jurisdiction import CODE_LENGTHS, LEVEL_BY_LENGTH, Level
from yiwang.uow import UnitOfWork


def _check_range(a: date, b: date) -> None:
    if b < a or (b - a).days > 3660:
        raise ValidationFailed(
            "invalid_range",
            "day_to must follow day_from (max 10 years)",
            "结束日期须不早于开始日期（最长十年）",
        )


def figures_out(code: str, dept: str, a: date, b: date, counts: dict[str, int]) -> dict[str, Any]:
    f = KpiFigures(counts)
    return {
        "jurisdiction_code": code,
        "department": dept,
        "day_from": a,
        "day_to": b,
        "counts": dict(sorted(counts.items())),
        "on_time_acceptance_rate": f.on_time_acceptance_rate,
        "on_time_resolution_rate": f.on_time_resolution_rate,
        "rework_rate": f.rework_rate,
        "satisfaction_rate": f.satisfaction_rate,
        "average_handling_seconds": f.average_handling_seconds,
        "by_source": f.by_prefix("source:"),
        "by_category": f.by_prefix("category:"),
        "escalations_by_level": f.by_prefix("escalated:"),
    }


def _range(code: str, dept: str, a: date, b: date) -> Any:
    k = kpi_counters
    return sa.and_(k.c.code == code, k.c.department == dept, k.c.day >= a, k.c.day <= b)


def kpis(uow: UnitOfWork, code: str, dept: str, a: date, b: date) -> dict[str, Any]:
    _check_range(a, b)
    k = kpi_counters
    with uow:
        rows = uow.session.execute(
            sa.select(k.c.metric, sa.func.sum(k.c.value))
            .where(_range(code, dept, a, b))
            .group_by(k.c.metric)
        ).all()
    return figures_out(code, dept, a, b, {m: int(v) for m, v in rows})


def kpi_series(uow: UnitOfWork, code: str, dept: str, a: date, b: date) -> dict[str, Any]:
    _check_range(a, b)
    k = kpi_counters
    with uow:
        rows = uow.session.execute(
            sa.select(k.c.day, k.c.metric, k.c.value).where(_range(code, dept, a, b))
        ).all()
    by_day: dict[date, dict[str, int]] = defaultdict(dict)
    for day, m, v in rows:  # several shards per key: sum them
        by_day[day][m] = by_day[day].get(m, 0) + int(v)
    days = []
    d = a
    while d <= b:
        days.append(figures_out(code, dept, d, d, by_day.get(d, {})))
        d += timedelta(days=1)
    return {"jurisdiction_code": code, "department": dept, "days": days}


RATE_COLUMNS = (
    "on_time_acceptance_rate",
    "on_time_resolution_rate",
    "rework_rate",
    "satisfaction_rate",
    "average_handling_seconds",
)


def export_kpis(
    uow: UnitOfWork, code: str, dept: str, a: date, b: date, fmt: str
) -> dict[str, Any]:
    series = kpi_series(uow, code, dept, a, b)["days"]
    metrics = sorted({m for d in series for m in d["counts"]})
    header = ["day", *metrics, *RATE_COLUMNS]
    rows = [
        [
            d["day_from"].isoformat(),
            *[d["counts"].get(m, 0) for m in metrics],
            *[d[c] for c in RATE_COLUMNS],
        ]
        for d in series
    ]
    return to_export(f"kpis_{code}_{dept.replace('*', 'all')}", header, rows, fmt)


# -- per child unit / per department (the map, the league tables) ----------------------------
CHILD_LENGTH = {0: 4, 4: 6, 6: 9, 9: 12, 12: 15}
PERIOD_METRICS = ("created", "resolved", "resolved_on_time", "rated", "satisfied", "rework")


def _stats_row(code: str, now: dict[str, int], counts: dict[str, int]) -> dict[str, Any]:
    f = KpiFigures(counts)
    row: dict[str, Any] = {
        "code": code,
        **{k: now.get(k, 0) for k in ("open", "overdue", "escalated", "supervised")},
    }
    row.update({m: f.get(m) for m in PERIOD_METRICS})
    row["overdue_events"] = f.get("overdue")
    row["escalations"] = sum(f.by_prefix("escalated:").values())
    row["on_time_resolution_rate"] = f.on_time_resolution_rate
    row["satisfaction_rate"] = f.satisfaction_rate
    row["rework_rate"] = f.rework_rate
    return row


def _period_metric(metric: Any) -> Any:
    return sa.or_(metric.in_([*PERIOD_METRICS, "overdue"]), metric.startswith("escalated:"))


def unit_stats(uow: UnitOfWork, parent: str, by: str, a: date, b: date) -> dict[str, Any]:
    """Per child unit of ``parent`` (or per department inside it): what is open, overdue and
    escalated now (one grouped read of ``case_view``) and the period's figures (one grouped
    read of ``kpi_counters``: the child codes' own counters, department ``*``)."""
    _check_range(a, b)
    if by == "unit" and len(parent) not in CHILD_LENGTH:
        raise ValidationFailed(
            "invalid_parent",
            "the parent must be a city, district, street or community code",
            "上级单位须为市、区、街道或社区",
        )
    cv, k = case_view, kpi_counters
    is_open = cv.c.status.not_in(sorted(CLOSED_STATUSES))
    now_cols = [
        sa.func.count().filter(is_open).label("open"),
        sa.func.count().filter(sa.and_(is_open, cv.c.overdue.is_(True))).label("overdue"),
        sa.func.count().filter(sa.and_(is_open, cv.c.escalation_count > 0)).label("escalated"),
        sa.func.count().filter(sa.and_(is_open, cv.c.supervised.is_(True))).label("supervised"),
    ]
    in_parent: list[Any] = [cv.c.complete.is_(True)]
    if parent:
        in_parent.append(cv.c.grid_code.startswith(parent, autoescape=True))
    period = [k.c.day >= a, k.c.day <= b, _period_metric(k.c.metric)]
    child_level: str | None = None
    with uow:
        s = uow.session
        if by == "unit":
            n = CHILD_LENGTH[len(parent)]
            child_level = LEVEL_BY_LENGTH[n].value
            # where the case is (its grid), also once it was escalated to a higher level
            key = sa.func.left(cv.c.grid_code, n)
            now_rows = (
                s.execute(
                    sa.select(key.label("code"), *now_cols)
                    .where(*in_parent, sa.func.length(cv.c.grid_code) >= n)
                    .group_by(key)
                )
                .mappings()
                .all()
            )
            # the children's codes are n digits after the parent's: a range of the primary
            # key (usable whatever the collation), then the length picks their level
            m = n - len(parent)
            conds = [
                k.c.code >= parent + "0" * m,
                k.c.code <= parent + "9" * m,
                sa.func.length(k.c.code) == n,
                k.c.department == ALL,
                *period,
            ]
            count_rows = s.execute(
                sa.select(k.c.code, k.c.metric, sa.func.sum(k.c.value))
                .where(*conds)
                .group_by(k.c.code, k.c.metric)
            ).all()
        else:
            key = sa.func.coalesce(cv.c.department, "")
            now_rows = (
                s.execute(sa.select(key.label("code"), *now_cols).where(*in_parent).group_by(key))
                .mappings()
                .all()
            )
            city = parent or None
            conds = [k.c.department != ALL, *period]
            conds.append(k.c.code == city if city else sa.func.length(k.c.code) == 4)
            count_rows = s.execute(
                sa.select(k.c.department, k.c.metric, sa.func.sum(k.c.value))
                .where(*conds)
                .group_by(k.c.department, k.c.metric)
            ).all()
        names = (
            {
                r.code: (r.name_zh, r.name_en)
                for r in s.execute(
                    sa.select(departments.c.code, departments.c.name_zh, departments.c.name_en)
                )
            }
            if by == "department"
            else {}
        )
    now_by = {r["code"]: dict(r) for r in now_rows if r["code"]}
    counts_by: dict[str, dict[str, int]] = defaultdict(dict)
    for code, metric, value in count_rows:
        counts_by[code][metric] = counts_by[code].get(metric, 0) + int(value)
    items = []
    for code in sorted(set(now_by) | set(counts_by)):
        row = _stats_row(code, now_by.get(code, {}), counts_by.get(code, {}))
        if code in names:
            row["name"], row["name_en"] = names[code][0], names[code][1] or None
        items.append(row)
    return {
        "parent_code": parent,
        "by": by,
        "child_level": child_level,
        "day_from": a,
        "day_to": b,
        "items": items,
    }


# -- warning rules and alerts ---------------------------------------------------------------
def list_warning_rules(uow: UnitOfWork) -> dict[str, Any]:
    with uow:
        rows = uow.session.execute(sa.select(warning_rules).order_by(warning_rules.c.name))
        return {"items": [dict(r._mapping) for r in rows]}


def put_warning_rule(uow: UnitOfWork, body: dict[str, Any]) -> dict[str, Any]:
    wdomain.parse_rules([{"kind": body["kind"], "name": body["name"], **body["params"]}])
    with uow:
        stmt = pg_insert(warning_rules).values(**body)
        stmt = stmt.on_conflict_do_update(
            index_elements=[warning_rules.c.name],
            set_={k: stmt.excluded[k] for k in ("kind", "params", "enabled")},
        )
        uow.session.execute(stmt)
        uow.commit()
    return body


def delete_warning_rule(uow: UnitOfWork, name: str) -> dict[str, Any]:
    with uow:
        n = uow.session.execute(warning_rules.delete().where(warning_rules.c.name == name)).rowcount  # type: ignore[attr-defined]
        uow.commit()
    if not n:
        raise NotFound("rule_not_found", f"no warning rule '{name}'", f"没有名为“{name}”的预警规则")
    return {"ok": True}


def evaluate_warnings(uow: UnitOfWork, now: datetime) -> dict[str, Any]:
    """Run the enabled rules on today's data; new alerts are stored (one per rule/key/day)."""
    today = local_day(now)
    k = kpi_counters
    with uow:
        s = uow.session
        rule_rows = s.execute(sa.select(warning_rules).where(warning_rules.c.enabled.is_(True)))
        rules = wdomain.parse_rules(
            [{"kind": r.kind, "name": r.name, **r.params} for r in rule_rows]
        )
        if not rules:
            return {"items": [], "total": 0}
        base_days = max([r.baseline_days for r in rules if isinstance(r, wdomain.SpikeRule)] or [1])
        rise_days = max([r.days for r in rules if isinstance(r, wdomain.RisingOverdueRule)] or [1])
        window = max(
            [r.window_hours for r in rules if isinstance(r, wdomain.RepeatAddressRule)] or [1]
        )
        daily: dict[tuple[str, str], dict[date, int]] = defaultdict(dict)
        for code, day, metric, value in s.execute(
            sa.select(k.c.code, k.c.day, k.c.metric, k.c.value).where(
                sa.func.length(k.c.code) == 15,
                k.c.department == "*",
                k.c.day >= today - timedelta(days=base_days),
                k.c.day <= today,
                k.c.metric.startswith("category:"),
            )
        ):
            per_day = daily[(code, metric[len("category:") :])]
            per_day[day] = per_day.get(day, 0) + int(value)  # sum the shards
        overdue: dict[str, dict[date, int]] = defaultdict(dict)
        for dept, day, value in s.execute(
            sa.select(k.c.department, k.c.day, sa.func.sum(k.c.value))
            .where(
                sa.func.length(k.c.code) == 4,
                k.c.department != "*",
                k.c.metric == "overdue",
                k.c.day >= today - timedelta(days=rise_days),
                k.c.day <= today,
            )
            .group_by(k.c.department, k.c.day)
        ):
            overdue[dept][day] = int(value)
        reports = [
            (addr, str(cid), at)
            for addr, cid, at in s.execute(
                sa.select(case_view.c.address, case_view.c.case_id, case_view.c.created_at).where(
                    case_view.c.address.is_not(None),
                    case_view.c.created_at >= now - timedelta(hours=window),
                )
            )
        ]
        found = wdomain.evaluate(rules, wdomain.WarningInputs(today, daily, reports, overdue), now)
        stored = []
        for al in found:
            got = (
                s.execute(
                    pg_insert(alerts)
                    .values(
                        rule=al.rule,
                        kind=al.kind,
                        key="|".join(al.key)[:300],
                        day=today,
                        at=now,
                        message_en=al.message_en,
                        message_zh=al.message_zh,
                        details={k2: v for k2, v in al.details.items()},
                    )
                    .on_conflict_do_nothing()
                    .returning(alerts)
                )
                .mappings()
                .first()
            )
            if got is not None:
                stored.append(dict(got))
        uow.commit()
    return {"items": stored, "total": len(stored)}


def _alert_scope(prefix: str) -> Any:
    """Alerts about the viewer's area: a spike in a grid inside it, a repeated address with a
    case inside it; department-wide (rising overdue) alerts are city-level facts."""
    if not prefix:
        return sa.true()
    a = alerts.c
    inside = sa.exists().where(
        case_view.c.jurisdiction_code.startswith(prefix, autoescape=True),
        a.details["case_ids"].contains(sa.func.to_jsonb(sa.cast(case_view.c.case_id, sa.Text))),
    )
    return sa.or_(
        sa.and_(a.kind == "spike", a.key.startswith(prefix, autoescape=True)),
        sa.and_(a.kind == "repeat_address", inside),
        sa.and_(a.kind == "rising_overdue", sa.literal(len(prefix) <= CODE_LENGTHS[Level.CITY])),
    )


def _alert_out(r: Any) -> dict[str, Any]:
    out = dict(r)
    parts = str(out["key"]).split("|")
    if out["kind"] == "spike" and len(parts) == 2:
        out["jurisdiction_code"], out["category"] = parts
    elif out["kind"] == "rising_overdue":
        out["department"] = parts[0]
    return out


def list_alerts(
    uow: UnitOfWork,
    since: datetime | None,
    kind: str | None,
    limit: int,
    jurisdiction_prefix: str = "",
) -> dict[str, Any]:
    conds: list[Any] = [_alert_scope(jurisdiction_prefix)]
    if since is not None:
        conds.append(alerts.c.at >= since)
    if kind:
        conds.append(alerts.c.kind == kind)
    with uow:
        s = uow.session
        total = s.execute(sa.select(sa.func.count()).select_from(alerts).where(*conds)).scalar_one()
        rows = (
            s.execute(
                sa.select(alerts)
                .where(*conds)
                .order_by(alerts.c.at.desc(), alerts.c.id.desc())
                .limit(limit)
            )
            .mappings()
            .all()
        )
    return {"items": [_alert_out(r) for r in rows], "total": total}
