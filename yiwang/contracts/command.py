"""Contracts of the command service."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from yiwang.contracts.base import Payload
from yiwang.contracts.envelope import event_contract
from yiwang.contracts.rpc import rpc_contract
from yiwang.contracts.subscription import Subscription

# --- command -----------------------------------------------------------------------------


class Actor(Payload):
    """Who acts (from the gateway's principal): timelines and the audit trail name them."""

    id: str = Field(min_length=1, max_length=64)
    role: str = Field(max_length=32)
    name: str = Field(default="", max_length=100)
    jurisdiction_code: str = Field(default="", pattern=r"^[0-9]{0,18}$")
    department: str | None = Field(default=None, max_length=64)


class CaseRow(Payload):
    case_id: uuid.UUID
    source: str
    category: str
    title: str
    grid_code: str
    jurisdiction_code: str
    level: str
    status: str
    handler: str | None = None
    deadline: datetime | None = None
    escalation_level: str | None = None
    overdue: bool = False
    supervised: bool = False
    created_at: datetime
    updated_at: datetime
    department: str | None = None
    sla_class: str | None = None
    sla_state: str = "on_time"
    warn_at: datetime | None = None
    accept_due: datetime | None = None
    escalation_count: int = 0
    whistle_count: int = 0
    supervision_count: int = 0
    rework_count: int = 0
    rating: int | None = None
    return_reason: str | None = None
    description: str | None = None
    version: int | None = Field(
        default=None,
        description="the row's version: send it as ``expected_version`` with a dispatch, "
        "escalation, whistle or supervision (409 version_conflict when it moved on)",
    )


class CaseListResponse(Payload):
    items: list[CaseRow]
    total: int
    page: int
    page_size: int
    total_exact: bool = Field(default=True, description="false: at least ``total`` matches")
    total_estimated: bool = Field(
        default=False, description="true: ``total`` is the planner's estimate (count='auto')"
    )
    next_cursor: str | None = Field(
        default=None, description="pass as ``cursor`` for the next page (keyset paging)"
    )


class CaseFilter(Payload):
    """Filters of the dispatch view (also what a saved filter stores)."""

    jurisdiction_prefix: str = Field(default="", pattern=r"^[0-9]{0,18}$")
    status: str | None = Field(default=None, max_length=32)
    source: str | None = Field(default=None, max_length=32)
    category: str | None = Field(default=None, max_length=64)
    department: str | None = Field(default=None, max_length=64)
    overdue: bool | None = None
    supervised: bool | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    q: str | None = Field(default=None, max_length=100, description="text search (Chinese ok)")
    escalated: bool | None = Field(default=None, description="escalated at least once (or never)")
    whistled: bool | None = Field(default=None, description="departments summoned (吹哨) or not")
    sources: list[str] | None = Field(
        default=None, max_length=20, description="any of these sources (with ``source``: both)"
    )


@rpc_contract("command", "list_cases", CaseListResponse)
class ListCasesRequest(CaseFilter):
    page: int = Field(default=1, ge=1, le=100000)
    page_size: int = Field(default=20, ge=1, le=200)
    cursor: str | None = Field(
        default=None,
        max_length=200,
        description="keyset paging: ``next_cursor`` of the previous page (``page`` ignored)",
    )
    count: Literal["auto", "exact", "capped"] = Field(
        default="auto",
        description="auto: exact when small, else the planner's estimate; exact: a full "
        "count; capped: exact up to 10,000",
    )


class TimelineEntry(Payload):
    seq: int
    type: str
    action: str | None = None
    at: datetime
    data: dict[str, Any] = Field(default_factory=dict)


class CaseDetail(Payload):
    case: CaseRow
    timeline: list[TimelineEntry]
    escalations: list[dict[str, Any]]
    supervisions: list[dict[str, Any]]
    whistles: list[dict[str, Any]]
    audit: list[dict[str, Any]]


@rpc_contract("command", "get_case", CaseDetail)
class GetCaseRequest(Payload):
    case_id: uuid.UUID
    jurisdiction_prefix: str = Field(default="", pattern=r"^[0-9]{0,18}$")
    viewer: Actor | None = Field(default=None, description="object access (yiwang.access)")


class Export(Payload):
    filename: str
    content_type: str
    content_b64: str
    rows: int


@rpc_contract("command", "export_cases", Export)
class ExportCasesRequest(CaseFilter):
    format: Literal["csv", "xlsx"] = "csv"
    limit: int = Field(default=50000, ge=1, le=200000)


class RebuildResponse(Payload):
    cases: int
    events: int


@rpc_contract("command", "rebuild", RebuildResponse)
class RebuildRequest(Payload):
    case_id: uuid.UUID | None = None


class SavedFilter(Payload):
    owner: str
    name: str
    filters: CaseFilter
    created_at: datetime


class SavedFilterList(Payload):
    items: list[SavedFilter]


@rpc_contract("command", "save_filter", SavedFilter)
class SaveFilterRequest(Payload):
    owner: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)
    filters: CaseFilter


@rpc_contract("command", "list_filters", SavedFilterList)
class ListFiltersRequest(Payload):
    owner: str = Field(min_length=1, max_length=64)


class Done(Payload):
    ok: bool = True
    detail: dict[str, Any] = Field(default_factory=dict)


@rpc_contract("command", "delete_filter", Done)
class DeleteFilterRequest(Payload):
    owner: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)


# -- departments and routing rules ---------------------------------------------------------
class Department(Payload):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(default="", max_length=100)
    active: bool = True


class DepartmentList(Payload):
    items: list[Department]


@rpc_contract("command", "list_departments", DepartmentList)
class ListDepartmentsRequest(Payload):
    pass


@rpc_contract("command", "put_department", Department)
class PutDepartmentRequest(Department):
    pass


class RuleTarget(Payload):
    kind: Literal["department", "grid_worker"]
    id: str = Field(min_length=1, max_length=64)


class RuleConditions(Payload):
    category_prefix: str | None = Field(default=None, max_length=64)
    jurisdiction_prefix: str | None = Field(default=None, pattern=r"^[0-9]{1,18}$")
    area_wkt: str | None = Field(default=None, max_length=100000)
    sources: list[str] | None = None
    time_from: str | None = Field(default=None, pattern=r"^[0-9]{2}:[0-9]{2}(:[0-9]{2})?$")
    time_to: str | None = Field(default=None, pattern=r"^[0-9]{2}:[0-9]{2}(:[0-9]{2})?$")
    weekdays: list[int] | None = None
    attributes: dict[str, str | int | float | bool] = Field(default_factory=dict)


class RoutingRule(Payload):
    order: int = Field(ge=0, le=1_000_000)
    name: str = Field(min_length=1, max_length=100)
    target: RuleTarget
    when: RuleConditions = Field(default_factory=RuleConditions)


class RoutingRuleList(Payload):
    items: list[RoutingRule]


@rpc_contract("command", "list_rules", RoutingRuleList)
class ListRulesRequest(Payload):
    pass


@rpc_contract("command", "put_rule", RoutingRule)
class PutRuleRequest(RoutingRule):
    actor: Actor | None = None


@rpc_contract("command", "delete_rule", Done)
class DeleteRuleRequest(Payload):
    name: str = Field(min_length=1, max_length=100)
    actor: Actor | None = None


class RuleTestResult(Payload):
    matched: bool
    rule: str | None = None
    target: RuleTarget | None = None


@rpc_contract("command", "test_rules", RuleTestResult)
class TestRulesRequest(Payload):
    category: str = Field(max_length=64)
    jurisdiction_code: str = Field(pattern=r"^[0-9]{4,18}$")
    source: str = Field(max_length=32)
    at: datetime
    lat: float | None = None
    lon: float | None = None
    attributes: dict[str, str | int | float | bool] = Field(default_factory=dict)
    rule: RoutingRule | None = Field(default=None, description="test this rule alone")


class Routed(Payload):
    case_id: uuid.UUID
    department: str | None = None
    worker_id: str | None = None
    manual: bool
    event_id: uuid.UUID
    version: int | None = None


@rpc_contract("command", "dispatch_case", Routed)
class DispatchCaseRequest(Payload):
    case_id: uuid.UUID
    department: str | None = Field(default=None, max_length=64)
    worker_id: str | None = Field(default=None, max_length=64)
    note: str = Field(default="", max_length=2000)
    actor: Actor
    expected_version: int | None = Field(
        default=None,
        ge=1,
        description="the case view's ``version`` the caller saw; None: "
        "no check (in-process drivers only, the gateway always sends it)",
    )


# -- escalation, whistle, supervision ------------------------------------------------------
class Escalated(Payload):
    case_id: uuid.UUID
    escalation_no: int
    from_level: str
    to_level: str
    jurisdiction_code: str
    deadline: datetime
    version: int | None = None


@rpc_contract("command", "escalate_case", Escalated)
class EscalateCaseRequest(Payload):
    """ "Cannot solve at this level" (本级无法解决): one level up, now."""

    case_id: uuid.UUID
    note: str = Field(default="", max_length=2000)
    actor: Actor
    expected_version: int | None = Field(
        default=None,
        ge=1,
        description="the case view's ``version`` the caller saw; None: "
        "no check (in-process drivers only, the gateway always sends it)",
    )


class SweepResult(Payload):
    warned: int
    overdue: int
    escalated: int
    rows: int


@rpc_contract("command", "run_sweep", SweepResult)
class RunSweepRequest(Payload):
    pass


class WhistleOut(Payload):
    whistle_id: uuid.UUID
    case_id: uuid.UUID
    caller_code: str
    called_at: datetime
    deadline: datetime
    departments: list[str]
    reported: dict[str, datetime]
    duty: dict[str, str]
    version: int | None = None


@rpc_contract("command", "blow_whistle", WhistleOut)
class BlowWhistleRequest(Payload):
    case_id: uuid.UUID
    caller_code: str = Field(pattern=r"^[0-9]{9}([0-9]{3})?$")
    departments: list[str] = Field(min_length=1, max_length=20)
    deadline_hours: float = Field(default=2, gt=0, le=24 * 30)
    note: str = Field(default="", max_length=2000)
    actor: Actor
    expected_version: int | None = Field(
        default=None,
        ge=1,
        description="the case view's ``version`` the caller saw; None: "
        "no check (in-process drivers only, the gateway always sends it)",
    )


@rpc_contract("command", "report_for_duty", WhistleOut)
class ReportForDutyRequest(Payload):
    whistle_id: uuid.UUID
    department: str = Field(max_length=64)
    actor: Actor


class DutyTallyRow(Payload):
    department: str
    summoned: int
    on_time: int
    late: int
    missing: int
    pending: int
    late_seconds: int


class DutyTallyList(Payload):
    items: list[DutyTallyRow]


@rpc_contract("command", "whistle_tally", DutyTallyList)
class WhistleTallyRequest(Payload):
    jurisdiction_prefix: str = Field(default="", pattern=r"^[0-9]{0,18}$")


class SupervisionOut(Payload):
    supervision_id: uuid.UUID
    case_id: uuid.UUID
    leader: str
    handlers: list[str]
    deadline: datetime
    note: str
    at: datetime
    timeline: list[dict[str, Any]]
    roster: dict[str, str]
    version: int | None = None


class SupervisionList(Payload):
    items: list[SupervisionOut]


@rpc_contract("command", "supervise_case", SupervisionOut)
class SuperviseCaseRequest(Payload):
    case_id: uuid.UUID
    handlers: list[str] = Field(default_factory=list, max_length=20)
    deadline_hours: float = Field(default=24, gt=0, le=24 * 30)
    note: str = Field(min_length=1, max_length=1000)
    actor: Actor
    expected_version: int | None = Field(
        default=None,
        ge=1,
        description="the case view's ``version`` the caller saw; None: "
        "no check (in-process drivers only, the gateway always sends it)",
    )


@rpc_contract("command", "supervise_overdue", SupervisionList)
class SuperviseOverdueRequest(Payload):
    """A department's overdue set inside the leader's jurisdiction, supervised at once."""

    department: str = Field(max_length=64)
    deadline_hours: float = Field(default=24, gt=0, le=24 * 30)
    note: str = Field(min_length=1, max_length=1000)
    limit: int = Field(default=500, ge=1, le=5000)
    actor: Actor


@rpc_contract("command", "answer_supervision", SupervisionOut)
class AnswerSupervisionRequest(Payload):
    supervision_id: uuid.UUID
    handler: str = Field(max_length=64)
    kind: Literal["text", "photo", "video"]
    text: str = Field(default="", max_length=2000)
    media: list[str] = Field(default_factory=list, max_length=9)
    actor: Actor


@rpc_contract("command", "get_supervision", SupervisionOut)
class GetSupervisionRequest(Payload):
    supervision_id: uuid.UUID
    viewer: Actor | None = Field(default=None, description="object access (yiwang.access)")


# -- KPIs, warnings, audit -----------------------------------------------------------------
class KpiOut(Payload):
    jurisdiction_code: str
    department: str
    day_from: date
    day_to: date
    counts: dict[str, int]
    on_time_acceptance_rate: float | None = None
    on_time_resolution_rate: float | None = None
    rework_rate: float | None = None
    satisfaction_rate: float | None = None
    average_handling_seconds: float | None = None
    by_source: dict[str, int] = Field(default_factory=dict)
    by_category: dict[str, int] = Field(default_factory=dict)
    escalations_by_level: dict[str, int] = Field(default_factory=dict)


class KpiSeries(Payload):
    jurisdiction_code: str
    department: str
    days: list[KpiOut]


class KpiQuery(Payload):
    jurisdiction_code: str = Field(pattern=r"^[0-9]{4,15}$")
    department: str = Field(default="*", max_length=64)
    day_from: date
    day_to: date


@rpc_contract("command", "kpis", KpiOut)
class KpiRequest(KpiQuery):
    pass


@rpc_contract("command", "kpi_series", KpiSeries)
class KpiSeriesRequest(KpiQuery):
    pass


@rpc_contract("command", "export_kpis", Export)
class ExportKpisRequest(KpiQuery):
    format: Literal["csv", "xlsx"] = "csv"


class UnitStatsRow(Payload):
    """One child unit (or one department) of a parent: now (from ``case_view``) and over the
    day range (from the incremental KPI counters)."""

    code: str = Field(description="the child unit's code, or the department's code")
    name: str | None = Field(default=None, description="unit or department name (zh-CN)")
    name_en: str | None = None
    # now, from the dispatch view (cases not finished)
    open: int = 0
    overdue: int = 0
    escalated: int = Field(default=0, description="open cases escalated at least once")
    supervised: int = 0
    # over [day_from, day_to], from the KPI counters
    created: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    overdue_events: int = 0
    escalations: int = 0
    rated: int = 0
    satisfied: int = 0
    rework: int = 0
    on_time_resolution_rate: float | None = None
    satisfaction_rate: float | None = None
    rework_rate: float | None = None


class UnitStats(Payload):
    parent_code: str
    by: Literal["unit", "department"]
    child_level: str | None = None
    day_from: date
    day_to: date
    items: list[UnitStatsRow]


@rpc_contract("command", "unit_stats", UnitStats)
class UnitStatsRequest(Payload):
    """Per child unit of ``parent_code`` (by="unit") or per department inside it
    (by="department"): open / overdue / escalated now, and the counters' figures over the
    day range (created, resolved on time, satisfaction, rework, overdue)."""

    parent_code: str = Field(default="", pattern=r"^[0-9]{0,12}$")
    by: Literal["unit", "department"] = "unit"
    day_from: date
    day_to: date


class WarningRuleIn(Payload):
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["spike", "repeat_address", "rising_overdue"]
    params: dict[str, float | int | str] = Field(default_factory=dict)
    enabled: bool = True


class WarningRuleList(Payload):
    items: list[WarningRuleIn]


@rpc_contract("command", "list_warning_rules", WarningRuleList)
class ListWarningRulesRequest(Payload):
    pass


@rpc_contract("command", "put_warning_rule", WarningRuleIn)
class PutWarningRuleRequest(WarningRuleIn):
    pass


@rpc_contract("command", "delete_warning_rule", Done)
class DeleteWarningRuleRequest(Payload):
    name: str = Field(min_length=1, max_length=100)


class AlertOut(Payload):
    id: int
    rule: str
    kind: str
    key: str
    at: datetime
    message_en: str
    message_zh: str
    details: dict[str, Any]
    # what the alert is about, for pages that show names (absent when not applicable)
    jurisdiction_code: str | None = None
    category: str | None = None
    department: str | None = None


class AlertList(Payload):
    items: list[AlertOut]
    total: int


@rpc_contract("command", "list_alerts", AlertList)
class ListAlertsRequest(Payload):
    jurisdiction_prefix: str = Field(
        default="",
        pattern=r"^[0-9]{0,18}$",
        description="only alerts about this unit's area (department-wide ones: city level only)",
    )
    since: datetime | None = None
    kind: str | None = Field(default=None, max_length=32)
    limit: int = Field(default=100, ge=1, le=1000)


@rpc_contract("command", "evaluate_warnings", AlertList)
class EvaluateWarningsRequest(Payload):
    pass


class AuditList(Payload):
    items: list[dict[str, Any]]


@rpc_contract("command", "audit_trail", AuditList)
class AuditTrailRequest(Payload):
    case_id: uuid.UUID


class AuditVerdict(Payload):
    intact: bool
    entries: int
    first_bad_seq: int | None = None
    head: str


@rpc_contract("command", "verify_audit", AuditVerdict)
class VerifyAuditRequest(Payload):
    pass


# --- the working-day calendar (kept as data per year; RPC contracts v1) -----------------


class CalendarDayV1(Payload):
    """A named day: a holiday (name required) or a make-up working day (调休)."""

    day: date = Field(description="a day of the year (Asia/Shanghai), YYYY-MM-DD")
    name: str = Field(default="", max_length=40, description="required for holidays")


class CalendarYearV1(Payload):
    """One year of the calendar. ``status`` ``fallback_weekdays``: no data kept for the year
    (Monday–Friday are working days); ``revision`` 0 then."""

    year: int
    status: Literal["published", "provisional", "fallback_weekdays"]
    source: str = ""
    holidays: list[CalendarDayV1] = Field(default_factory=list)
    makeup_workdays: list[CalendarDayV1] = Field(default_factory=list)
    revision: int = 0
    updated_at: datetime | None = None
    updated_by: str = ""


class CalendarYearSummaryV1(Payload):
    year: int
    status: Literal["published", "provisional"]
    source: str = ""
    holidays: int = Field(description="number of holiday days")
    makeup_workdays: int = Field(description="number of make-up working days")
    revision: int
    updated_at: datetime | None = None
    updated_by: str = ""


class CalendarYearListV1(Payload):
    items: list[CalendarYearSummaryV1]
    revision: int = Field(description="the whole calendar's revision (max over the years)")


@rpc_contract("command", "list_calendar_years", CalendarYearListV1)
class ListCalendarYearsRequest(Payload):
    pass


@rpc_contract("command", "get_calendar_year", CalendarYearV1)
class GetCalendarYearRequest(Payload):
    year: int = Field(ge=2000, le=2100)


@rpc_contract("command", "put_calendar_year", CalendarYearV1)
class PutCalendarYearRequest(Payload):
    """Replace one year's holidays and make-up working days (validated by the domain:
    days inside the year, not both, make-up days on weekends, holidays named)."""

    year: int = Field(ge=2000, le=2100)
    status: Literal["published", "provisional"] = Field(
        description="published: as the State Council announced; provisional: statutory days only"
    )
    source: str = Field(default="", max_length=200, description="where the dates come from")
    holidays: list[CalendarDayV1] = Field(default_factory=list, max_length=366)
    makeup_workdays: list[CalendarDayV1] = Field(default_factory=list, max_length=366)
    expected_revision: int | None = Field(
        default=None,
        ge=0,
        description="the revision you loaded (0 for a new year); refused with 409 if it changed",
    )
    actor: Actor | None = None


@event_contract("case.routed", 1)
class CaseRoutedV1(Payload):
    """The command centre's dispatch decision (routing rule or a dispatcher's choice);
    the petitions service applies it as the case's ``dispatch`` step."""

    case_id: uuid.UUID
    department: str | None = None
    worker_id: str | None = None
    rule_id: str | None = None
    manual: bool = False
    actor_id: str = "system"
    actor_role: str = "system"
    at: datetime


@event_contract("case.escalated", 1)
class CaseEscalatedV1(Payload):
    """A case moved one level up the ladder (grid → community → street → district → city)."""

    case_id: uuid.UUID
    escalation_no: int = Field(ge=1)
    from_level: str
    to_level: str
    jurisdiction_code: str = Field(pattern=r"^[0-9]{4,18}$")
    reason: str = Field(max_length=40)
    note: str = Field(default="", max_length=2000)
    deadline: datetime
    at: datetime


@event_contract("case.supervised", 1)
class CaseSupervisedV1(Payload):
    """A leader's one-key supervision (一键督办) of a case."""

    case_id: uuid.UUID
    supervision_id: uuid.UUID
    leader_id: str
    jurisdiction_code: str
    deadline: datetime
    note: str = Field(default="", max_length=2000)
    at: datetime


SUBSCRIPTIONS = [
    Subscription("petitions", "case.created", "command", "handle_case_event"),
    Subscription("petitions", "case.transitioned", "command", "handle_case_transitioned"),
]
