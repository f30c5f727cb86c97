"""Early warnings (隐患实时预警): rules kept as data, each yielding ``Alert`` objects.

- ``spike``: one category in one grid today exceeds its own trailing baseline
  (count > mean + k·sd over the previous ``baseline_days`` days, missing days = 0) and
  is at least ``min_count``;
- ``repeat_address``: at least ``min_reports`` reports from one (normalised) address within
  ``window_hours``;
- ``rising_overdue``: a department's daily overdue count rose on each of the last ``days``
  days (strictly increasing over ``days + 1`` points).

``parse_rules`` reads the rule table (a list of dicts with ``kind``); ``evaluate`` runs it.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from yiwang.clock import require_aware
from yiwang.errors import ValidationFailed


@dataclass(frozen=True)
class Alert:
    rule: str
    kind: str
    key: tuple[str, ...]
    at: datetime
    message_en: str
    message_zh: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SpikeRule:
    name: str
    sd_factor: float = 3.0
    min_count: int = 5
    baseline_days: int = 28
    category_prefix: str = ""


@dataclass(frozen=True)
class RepeatAddressRule:
    name: str
    min_reports: int = 3
    window_hours: float = 72


@dataclass(frozen=True)
class RisingOverdueRule:
    name: str
    days: int = 3


WarningRule = SpikeRule | RepeatAddressRule | RisingOverdueRule


@dataclass(frozen=True)
class WarningInputs:
    """Data the rules look at (the adapter fills it from the read model / KPI counters).

    ``daily_counts[(grid_code, category)][day]``; ``reports`` as (address, case_id, at);
    ``overdue_by_department[department][day]``.
    """

    today: date
    daily_counts: Mapping[tuple[str, str], Mapping[date, int]] = field(default_factory=dict)
    reports: Sequence[tuple[str, str, datetime]] = ()
    overdue_by_department: Mapping[str, Mapping[date, int]] = field(default_factory=dict)


def parse_rules(table: Iterable[Mapping[str, Any]]) -> list[WarningRule]:
    out: list[WarningRule] = []
    kinds: dict[str, type] = {
        "spike": SpikeRule,
        "repeat_address": RepeatAddressRule,
        "rising_overdue": RisingOverdueRule,
    }
    for row in table:
        params = dict(row)
        kind = params.pop("kind", None)
        if kind not in kinds:
            raise ValidationFailed(
                "unknown_rule_kind",
                f"unknown warning rule kind {kind}",
                f"未知的预警规则类型{kind}",
            )
        try:
            rule = kinds[kind](**params)
        except TypeError as exc:
            raise ValidationFailed(
                "invalid_rule", f"bad {kind} rule: {exc}", f"{kind}规则参数错误：{exc}"
            ) from None
        _validate(rule)
        out.append(rule)
    return out


def _validate(rule: WarningRule) -> None:
    ok = True
    if isinstance(rule, SpikeRule):
        ok = rule.sd_factor >= 0 and rule.min_count >= 1 and rule.baseline_days >= 2
    elif isinstance(rule, RepeatAddressRule):
        ok = rule.min_reports >= 2 and rule.window_hours > 0
    elif isinstance(rule, RisingOverdueRule):
        ok = rule.days >= 1
    if not ok or not rule.name:
        raise ValidationFailed(
            "invalid_rule",
            f"rule {rule.name!r} has out-of-range parameters",
            f"规则{rule.name!r}参数超出范围",
        )


def normalise_address(address: str) -> str:
    """NFKC (full-width → half-width), lower-case, no whitespace."""
    return "".join(unicodedata.normalize("NFKC", address).lower().split())


def spikes(rule: SpikeRule, inputs: WarningInputs, now: datetime) -> list[Alert]:
    out = []
    for (grid, category), by_day in inputs.daily_counts.items():
        if not category.startswith(rule.category_prefix):
            continue
        today = by_day.get(inputs.today, 0)
        if today < rule.min_count:
            continue
        base = [
            by_day.get(inputs.today - timedelta(days=i), 0)
            for i in range(1, rule.baseline_days + 1)
        ]
        mean = sum(base) / len(base)
        sd = math.sqrt(sum((x - mean) ** 2 for x in base) / len(base))
        threshold = mean + rule.sd_factor * sd
        if today > threshold:
            out.append(
                Alert(
                    rule.name,
                    "spike",
                    (grid, category),
                    now,
                    f"{category} in grid {grid}: {today} today vs baseline {mean:.1f}±{sd:.1f}",
                    f"网格{grid}的{category}今日{today}件，基线{mean:.1f}±{sd:.1f}",
                    {"count": today, "mean": mean, "sd": sd, "threshold": threshold},
                )
            )
    return out


def repeated_addresses(
    rule: RepeatAddressRule, inputs: WarningInputs, now: datetime
) -> list[Alert]:
    since = now - timedelta(hours=rule.window_hours)
    groups: dict[str, list[str]] = {}
    for address, case_id, at in inputs.reports:
        if since <= at <= now and address.strip():
            groups.setdefault(normalise_address(address), []).append(case_id)
    return [
        Alert(
            rule.name,
            "repeat_address",
            (addr,),
            now,
            f"{len(ids)} reports from {addr} within {rule.window_hours:g} h",
            f"{rule.window_hours:g}小时内同一地址“{addr}”反映{len(ids)}次",
            {"case_ids": sorted(ids), "count": len(ids)},
        )
        for addr, ids in sorted(groups.items())
        if len(ids) >= rule.min_reports
    ]


def rising_overdue(rule: RisingOverdueRule, inputs: WarningInputs, now: datetime) -> list[Alert]:
    out = []
    for dept, by_day in sorted(inputs.overdue_by_department.items()):
        points = [by_day.get(inputs.today - timedelta(days=i), 0) for i in range(rule.days, -1, -1)]
        if all(b > a for a, b in zip(points, points[1:], strict=False)):
            out.append(
                Alert(
                    rule.name,
                    "rising_overdue",
                    (dept,),
                    now,
                    f"department {dept}: overdue count rose {rule.days} days running {points}",
                    f"部门{dept}超期数连续{rule.days}天上升：{points}",
                    {"counts": points},
                )
            )
    return out


def evaluate(rules: Iterable[WarningRule], inputs: WarningInputs, now: datetime) -> list[Alert]:
    require_aware(now, "now")
    out: list[Alert] = []
    for rule in rules:
        if isinstance(rule, SpikeRule):
            out += spikes(rule, inputs, now)
        elif isinstance(rule, RepeatAddressRule):
            out += repeated_addresses(rule, inputs, now)
        else:
            out += rising_overdue(rule, inputs, now)
    return out
