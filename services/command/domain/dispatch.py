"""Dispatch (派遣): routing rules as data, first match wins; manual dispatch and send-back.

A ``Rule`` is plain data (``Rule.from_dict`` / ``to_dict``): an ``order``, conditions that
must *all* hold (absent = any), and a target (a department code or a grid worker id).
``RuleSet.route`` evaluates rules by ascending ``order`` and returns the first match.
Times of day and weekdays are evaluated in Asia/Shanghai.

``DispatchRecord`` is one case's dispatch state: ``pending`` → ``dispatched`` (manual or
by rule; re-dispatch to another target allowed) → ``returned`` (the assignee sent it back,
退单, with a reason: it lands with the dispatcher again) → ``dispatched`` …
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from typing import Any, Literal

from shapely import wkt as shapely_wkt
from shapely.errors import ShapelyError
from shapely.geometry import Point
from shapely.prepared import PreparedGeometry, prep

from yiwang.clock import SHANGHAI, require_aware
from yiwang.errors import Conflict, Forbidden, ValidationFailed

TargetKind = Literal["department", "grid_worker"]


def _bad(code: str, en: str, zh: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(code, en, zh, **details)


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    id: str

    def __post_init__(self) -> None:
        if self.kind not in ("department", "grid_worker"):
            raise _bad(
                "invalid_target",
                "target kind must be department or grid_worker",
                "派遣对象类型无效",
            )
        if not self.id or not self.id.strip():
            raise _bad("invalid_target", "target id is required", "派遣对象不能为空")


@dataclass(frozen=True)
class CaseFacts:
    """What routing looks at."""

    category: str
    jurisdiction_code: str
    source: str
    at: datetime
    lat: float | None = None
    lon: float | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Conditions:
    category_prefix: str | None = None
    jurisdiction_prefix: str | None = None
    area_wkt: str | None = None
    sources: frozenset[str] | None = None
    time_from: time | None = None  # local time of day, inclusive
    time_to: time | None = None  # exclusive; time_to < time_from wraps midnight
    weekdays: frozenset[int] | None = None  # ISO 1 = Monday … 7 = Sunday
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    order: int
    name: str
    target: Target
    when: Conditions = field(default_factory=Conditions)
    _area: PreparedGeometry | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        c = self.when
        area = None
        if c.area_wkt is not None:
            try:
                geom = shapely_wkt.loads(c.area_wkt)
            except (ShapelyError, ValueError, TypeError):
                raise _bad(
                    "invalid_area",
                    f"rule {self.name}: invalid WKT",
                    f"规则{self.name}：区域WKT无效",
                ) from None
            if geom.geom_type not in ("Polygon", "MultiPolygon") or not geom.is_valid:
                raise _bad(
                    "invalid_area",
                    f"rule {self.name}: area must be a valid polygon",
                    f"规则{self.name}：区域必须是有效多边形",
                )
            area = prep(geom)
        if (c.time_from is None) != (c.time_to is None) or (
            c.time_from is not None and c.time_from == c.time_to
        ):
            raise _bad(
                "invalid_time_window",
                f"rule {self.name}: give both ends of a non-empty time window",
                f"规则{self.name}：时间段须同时给出起止且不为空",
            )
        if c.weekdays is not None and (not c.weekdays or not c.weekdays <= set(range(1, 8))):
            raise _bad(
                "invalid_weekdays",
                f"rule {self.name}: weekdays are 1..7",
                f"规则{self.name}：星期取值为1至7",
            )
        if c.sources is not None and not c.sources:
            raise _bad(
                "invalid_sources",
                f"rule {self.name}: empty source set",
                f"规则{self.name}：来源集合为空",
            )
        object.__setattr__(self, "_area", area)

    def matches(self, facts: CaseFacts) -> bool:
        c = self.when
        if c.category_prefix is not None and not facts.category.startswith(c.category_prefix):
            return False
        if c.jurisdiction_prefix is not None and not facts.jurisdiction_code.startswith(
            c.jurisdiction_prefix
        ):
            return False
        if c.sources is not None and facts.source not in c.sources:
            return False
        local = facts.at.astimezone(SHANGHAI)
        if c.weekdays is not None and local.isoweekday() not in c.weekdays:
            return False
        if c.time_from is not None and c.time_to is not None:
            t = local.time().replace(tzinfo=None)
            if c.time_from < c.time_to:
                inside = c.time_from <= t < c.time_to
            else:
                inside = t >= c.time_from or t < c.time_to
            if not inside:
                return False
        for key, value in c.attributes.items():
            if key not in facts.attributes or facts.attributes[key] != value:
                return False
        if self._area is not None:
            if facts.lat is None or facts.lon is None:
                return False
            if not self._area.covers(Point(facts.lon, facts.lat)):
                return False
        return True

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rule:
        """Parse ``{"order", "name", "target": {"kind", "id"}, "when": {...}}``."""
        try:
            w = dict(data.get("when") or {})
            cond = Conditions(
                category_prefix=w.get("category_prefix"),
                jurisdiction_prefix=w.get("jurisdiction_prefix"),
                area_wkt=w.get("area_wkt"),
                sources=frozenset(w["sources"]) if w.get("sources") is not None else None,
                time_from=time.fromisoformat(w["time_from"]) if w.get("time_from") else None,
                time_to=time.fromisoformat(w["time_to"]) if w.get("time_to") else None,
                weekdays=frozenset(int(d) for d in w["weekdays"])
                if w.get("weekdays") is not None
                else None,
                attributes=dict(w.get("attributes") or {}),
            )
            t = data["target"]
            return cls(
                order=int(data["order"]),
                name=str(data.get("name") or data["order"]),
                target=Target(t["kind"], str(t["id"])),
                when=cond,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise _bad("invalid_rule", f"malformed rule: {exc}", f"规则格式错误：{exc}") from None

    def to_dict(self) -> dict[str, Any]:
        c = self.when
        when: dict[str, Any] = {}
        for key in ("category_prefix", "jurisdiction_prefix", "area_wkt"):
            if getattr(c, key) is not None:
                when[key] = getattr(c, key)
        if c.sources is not None:
            when["sources"] = sorted(c.sources)
        if c.time_from is not None and c.time_to is not None:
            when["time_from"] = c.time_from.isoformat()
            when["time_to"] = c.time_to.isoformat()
        if c.weekdays is not None:
            when["weekdays"] = sorted(c.weekdays)
        if c.attributes:
            when["attributes"] = dict(c.attributes)
        return {
            "order": self.order,
            "name": self.name,
            "target": {"kind": self.target.kind, "id": self.target.id},
            "when": when,
        }


def check_target(target: Target, known_departments: Collection[str]) -> None:
    if target.kind == "department" and target.id not in known_departments:
        raise _bad(
            "unknown_department",
            f"unknown department '{target.id}'",
            f"未知的职能部门“{target.id}”",
            department=target.id,
        )


@dataclass(frozen=True)
class RouteDecision:
    rule: Rule
    target: Target


class RuleSet:
    """Validated, ordered routing rules. Unknown departments and duplicate orders refused."""

    def __init__(self, rules: Iterable[Rule], known_departments: Collection[str]) -> None:
        ordered = sorted(rules, key=lambda r: r.order)
        seen: set[int] = set()
        for rule in ordered:
            if rule.order in seen:
                raise _bad(
                    "duplicate_rule_order",
                    f"two rules have order {rule.order}",
                    f"存在两条顺序号为{rule.order}的规则",
                    order=rule.order,
                )
            seen.add(rule.order)
            check_target(rule.target, known_departments)
        self.rules: tuple[Rule, ...] = tuple(ordered)

    @classmethod
    def from_data(
        cls, data: Iterable[Mapping[str, Any]], known_departments: Collection[str]
    ) -> RuleSet:
        return cls([Rule.from_dict(d) for d in data], known_departments)

    def to_data(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.rules]

    def route(self, facts: CaseFacts) -> RouteDecision | None:
        require_aware(facts.at, "at")
        for rule in self.rules:
            if rule.matches(facts):
                return RouteDecision(rule, rule.target)
        return None


# -- manual dispatch, re-dispatch, send-back ----------------------------------------------
PENDING = "pending"
DISPATCHED = "dispatched"
RETURNED = "returned"


@dataclass(frozen=True)
class DispatchStep:
    action: Literal["dispatch", "redispatch", "send_back"]
    actor: str
    at: datetime
    target: Target | None = None
    reason: str | None = None


@dataclass(frozen=True)
class DispatchRecord:
    case_id: str
    state: str = PENDING
    assignee: Target | None = None
    return_reason: str | None = None
    history: tuple[DispatchStep, ...] = ()


def dispatch(
    record: DispatchRecord,
    target: Target,
    *,
    actor: str,
    now: datetime,
    known_departments: Collection[str],
) -> DispatchRecord:
    """Dispatch (or re-dispatch) to ``target``; the same assignee again is a Conflict."""
    require_aware(now, "now")
    check_target(target, known_departments)
    if record.state == DISPATCHED and record.assignee == target:
        raise Conflict(
            "already_assigned", "the case is already with this target", "案件已派给该对象"
        )
    action: Literal["dispatch", "redispatch"] = "redispatch" if record.history else "dispatch"
    step = DispatchStep(action=action, actor=actor, at=now, target=target)
    return replace(
        record,
        state=DISPATCHED,
        assignee=target,
        return_reason=None,
        history=(*record.history, step),
    )


def send_back(record: DispatchRecord, *, by: Target, reason: str, now: datetime) -> DispatchRecord:
    """退单: the current assignee returns the case to the dispatcher with a reason."""
    require_aware(now, "now")
    if record.state != DISPATCHED:
        raise Conflict(
            "not_dispatched", "only a dispatched case can be sent back", "只有已派遣的案件才能退单"
        )
    if record.assignee != by:
        raise Forbidden(
            "not_assignee",
            "only the current assignee can send a case back",
            "只有当前承办单位可以退单",
        )
    text = (reason or "").strip()
    if not text:
        raise _bad(
            "reason_required", "a reason is required to send a case back", "退单必须填写原因"
        )
    step = DispatchStep(action="send_back", actor=by.id, at=now, target=by, reason=text)
    return replace(
        record, state=RETURNED, assignee=None, return_reason=text, history=(*record.history, step)
    )
