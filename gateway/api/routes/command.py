"""The command centre: unified dispatch view, dispatch, escalation, whistle, supervision,
KPIs, early warnings, exports, audit."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.params import (
    CaseCategory,
    CaseDepartment,
    CaseSource,
    CaseStatus,
    CaseText,
    CreatedFrom,
    CreatedTo,
    DayFrom,
    DayTo,
    KpiDepartment,
)
from gateway.deps import ReadCacheDep, RpcDep
from gateway.readcache import scope_of
from gateway.security import STAFF_ROLES, Principal, require
from yiwang.errors import Forbidden

router = APIRouter(prefix="/api/v1/command", tags=["command"])

DISPATCHERS = {"community_staff", "street_staff", "district_staff", "city_staff"}
POLICY = {
    # Department handlers see the cases dispatched to their department (forced filter).
    "command.cases.read": {*STAFF_ROLES, "leader", "department_handler"},
    "command.cases.export": {*STAFF_ROLES, "leader"},
    "command.filters": {*STAFF_ROLES, "leader", "department_handler"},
    "command.dispatch": DISPATCHERS,
    "command.escalate": {*STAFF_ROLES, "department_handler"},
    "command.whistle": {"community_staff", "street_staff"},
    "command.whistle.report": {"department_handler"},
    "command.whistle.read": {*STAFF_ROLES, "leader", "department_handler"},
    "command.supervise": {"leader", "district_staff", "city_staff"},
    "command.supervision.answer": {"department_handler", *STAFF_ROLES},
    "command.supervision.read": {*STAFF_ROLES, "leader", "department_handler"},
    "command.rules.read": {*DISPATCHERS, "leader", "admin"},
    "command.rules.write": {"district_staff", "city_staff", "admin"},
    "command.kpis.read": {*STAFF_ROLES, "leader", "department_handler"},
    "command.stats.read": {*STAFF_ROLES, "leader"},
    "command.warnings.read": {*STAFF_ROLES, "leader"},
    "command.warnings.write": {"city_staff", "admin"},
    "command.audit.read": {"leader", "district_staff", "city_staff", "admin"},
    "command.admin": {"admin"},
}

Code = Annotated[
    str,
    Query(
        pattern=r"^[0-9]{0,18}$",
        max_length=18,
        description="jurisdiction code prefix; empty = all the caller may see",
        examples=["329901"],
    ),
]


Sources = Annotated[
    str | None,
    Query(
        pattern=r"^[a-z0-9_]{1,32}(,[a-z0-9_]{1,32}){0,19}$",
        description="any of these sources, comma-separated (e.g. the citizens' channels)",
        examples=["citizen,hotline,open311,suggestion_box,agency"],
    ),
]


def _actor(who: Principal) -> dict[str, Any]:
    return {**who.actor(), "jurisdiction_code": who.jurisdiction_code, "department": who.department}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOWNLOAD = {
    200: {
        "description": "CSV (UTF-8 with BOM) or Excel, as an attachment",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            XLSX: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def _download(out: dict[str, Any]) -> Response:
    return Response(
        content=base64.b64decode(out["content_b64"]),
        media_type=out["content_type"],
        headers={
            "Content-Disposition": f'attachment; filename="{out["filename"]}"',
            "X-Rows": str(out["rows"]),
        },
    )


# -- the dispatch view ----------------------------------------------------------------------
def _own_department(who: Principal) -> str:
    if not who.department:
        raise Forbidden(
            "department_required", "Your account is bound to no department.", "您的账号未绑定部门。"
        )
    return who.department


@dataclass(frozen=True)
class CaseQuery:
    """The case-view filters every case list and export takes (one declaration of them)."""

    jurisdiction: str
    status: str | None
    source: str | None
    category: str | None
    department: str | None
    overdue: bool | None
    supervised: bool | None
    created_from: datetime | None
    created_to: datetime | None
    q: str | None
    escalated: bool | None
    whistled: bool | None
    sources: str | None


def case_query(
    jurisdiction: Code = "",
    status: CaseStatus = None,
    source: CaseSource = None,
    category: CaseCategory = None,
    department: CaseDepartment = None,
    overdue: bool | None = None,
    supervised: bool | None = None,
    created_from: CreatedFrom = None,
    created_to: CreatedTo = None,
    q: CaseText = None,
    escalated: Annotated[
        bool | None, Query(description="only cases escalated at least once (true) or never (false)")
    ] = None,
    whistled: Annotated[
        bool | None, Query(description="only cases on which departments were summoned (吹哨)")
    ] = None,
    sources: Sources = None,
) -> CaseQuery:
    return CaseQuery(
        jurisdiction,
        status,
        source,
        category,
        department,
        overdue,
        supervised,
        created_from,
        created_to,
        q,
        escalated,
        whistled,
        sources,
    )


CaseQueryDep = Annotated[CaseQuery, Depends(case_query)]


def _filters(who: Principal, f: CaseQuery) -> dict[str, Any]:
    department = _own_department(who) if who.role == "department_handler" else f.department
    return {
        "jurisdiction_prefix": who.jurisdiction_prefix(f.jurisdiction),
        "status": f.status,
        "source": f.source,
        "category": f.category,
        "department": department,
        "overdue": f.overdue,
        "supervised": f.supervised,
        "created_from": f.created_from,
        "created_to": f.created_to,
        "q": f.q,
        **({"escalated": f.escalated} if f.escalated is not None else {}),
        **({"whistled": f.whistled} if f.whistled is not None else {}),
        **({"sources": f.sources.split(",")} if f.sources else {}),
    }


@router.get(
    "/cases",
    summary="Cases in a jurisdiction (code prefix), filtered and paged",
    response_model=dict[str, Any],
)
async def list_cases(
    rpc: RpcDep,
    cache: ReadCacheDep,
    who: Annotated[Principal, Depends(require("command.cases.read"))],
    query: CaseQueryDep,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
    cursor: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Za-z0-9_-]{1,200}$",
            description="keyset paging: ``next_cursor`` of the previous page (``page`` "
            "ignored); an invalid cursor is refused (422), never ignored",
        ),
    ] = None,
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    f = _filters(who, query)
    args = {"page": page, "page_size": page_size, **f}
    if cursor:
        args["cursor"] = cursor
    return await cache.respond(
        if_none_match,
        scope_of(who),
        "list_cases",
        args,
        f["jurisdiction_prefix"],
        lambda: rpc.call("command", "list_cases", **args),
    )


@router.get(
    "/cases/export",
    response_class=Response,
    responses=DOWNLOAD,
    summary="The filtered view as CSV or Excel (xlsx)",
)
async def export_cases(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.cases.export"))],
    query: CaseQueryDep,
    format: Literal["csv", "xlsx"] = "csv",
) -> Response:
    f = _filters(who, query)
    return _download(await rpc.call("command", "export_cases", format=format, **f))


@router.get("/cases/{case_id}", summary="One case: its row, timeline, escalations, supervision")
async def get_case(
    case_id: uuid.UUID,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.cases.read"))],
) -> dict[str, Any]:
    # object access (a department: only cases dispatched or whistled to it) is decided by
    # the command service in yiwang.access, from the viewer passed here
    return await rpc.call(
        "command",
        "get_case",
        case_id=str(case_id),
        jurisdiction_prefix=who.jurisdiction_code,
        viewer=_actor(who),
    )


class FilterIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "jurisdiction_prefix": "329901001",
                    "status": "dispatched",
                    "overdue": True,
                    "q": "垃圾",
                }
            ]
        },
    )
    jurisdiction_prefix: str = Field(default="", pattern=r"^[0-9]{0,18}$")
    status: str | None = Field(default=None, max_length=32)
    source: str | None = Field(default=None, max_length=32)
    category: str | None = Field(default=None, max_length=64)
    department: str | None = Field(default=None, max_length=64)
    overdue: bool | None = None
    supervised: bool | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    q: str | None = Field(default=None, max_length=100)


@router.get("/filters", summary="My saved filters")
async def list_filters(
    rpc: RpcDep, who: Annotated[Principal, Depends(require("command.filters"))]
) -> dict[str, Any]:
    return await rpc.call("command", "list_filters", owner=who.account_id)


@router.put("/filters/{name}", summary="Save a filter under a name")
async def save_filter(
    name: Annotated[str, Field(min_length=1, max_length=100)],
    body: FilterIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.filters"))],
) -> dict[str, Any]:
    return await rpc.call(
        "command",
        "save_filter",
        owner=who.account_id,
        name=name,
        filters=body.model_dump(mode="json", exclude_none=True),
    )


@router.delete("/filters/{name}", summary="Delete a saved filter")
async def delete_filter(
    name: str, rpc: RpcDep, who: Annotated[Principal, Depends(require("command.filters"))]
) -> dict[str, Any]:
    return await rpc.call("command", "delete_filter", owner=who.account_id, name=name)


# -- dispatch -------------------------------------------------------------------------------
ExpectedVersion = Annotated[
    int,
    Field(
        ge=1,
        description="the case's ``version`` as the dispatch view showed it; a stale one "
        "is refused (409 version_conflict), so a double click or a concurrent write acts once",
    ),
]


class DispatchIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"department": "urban_management", "note": "请城管处置", "expected_version": 3001}
            ]
        },
    )
    expected_version: ExpectedVersion
    department: str | None = Field(default=None, max_length=64)
    worker_id: str | None = Field(default=None, max_length=64)
    note: str = Field(default="", max_length=2000)


@router.post("/cases/{case_id}/dispatch", summary="Manual dispatch or re-dispatch")
async def dispatch_case(
    case_id: uuid.UUID,
    body: DispatchIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.dispatch"))],
) -> dict[str, Any]:
    return await rpc.call(
        "command", "dispatch_case", case_id=str(case_id), actor=_actor(who), **body.model_dump()
    )


@router.get("/departments", summary="Departments cases can be dispatched to")
async def list_departments(
    rpc: RpcDep, who: Annotated[Principal, Depends(require("command.rules.read"))]
) -> dict[str, Any]:
    return await rpc.call("command", "list_departments")


class DepartmentIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name_zh": "城市管理局", "name_en": "Urban management", "active": True}]
        },
    )
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(default="", max_length=100)
    active: bool = True


@router.put("/departments/{code}", summary="Add or edit a department")
async def put_department(
    code: str,
    body: DepartmentIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.rules.write"))],
) -> dict[str, Any]:
    return await rpc.call("command", "put_department", code=code, **body.model_dump())


class RuleTargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["department", "grid_worker"]
    id: str = Field(min_length=1, max_length=64)


class RuleWhenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category_prefix: str | None = Field(default=None, max_length=64)
    jurisdiction_prefix: str | None = Field(default=None, pattern=r"^[0-9]{1,18}$")
    area_wkt: str | None = Field(default=None, max_length=100000)
    sources: list[Annotated[str, Field(max_length=32)]] | None = Field(default=None, max_length=20)
    time_from: str | None = Field(default=None, pattern=r"^[0-9]{2}:[0-9]{2}(:[0-9]{2})?$")
    time_to: str | None = Field(default=None, pattern=r"^[0-9]{2}:[0-9]{2}(:[0-9]{2})?$")
    weekdays: list[int] | None = Field(default=None, max_length=7)
    attributes: dict[str, str | int | float | bool] = Field(default_factory=dict)


class RuleIn(BaseModel):
    """A routing rule as the editor sends it (the name is in the path; unknown keys 422)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "order": 100,
                    "target": {"kind": "department", "id": "urban_management"},
                    "when": {"category_prefix": "appearance.", "jurisdiction_prefix": "329901"},
                }
            ]
        },
    )
    order: int = Field(ge=0, le=1_000_000)
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="ignored: the rule's name is the path's",
    )
    target: RuleTargetIn
    when: RuleWhenIn = Field(default_factory=RuleWhenIn)


class RuleTestIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "category": "appearance.litter",
                    "jurisdiction_code": "329901001001001",
                    "source": "citizen",
                    "at": "2026-11-23T09:15:00+08:00",
                }
            ]
        },
    )
    category: str = Field(max_length=64)
    jurisdiction_code: str = Field(pattern=r"^[0-9]{4,18}$")
    source: str = Field(max_length=32)
    at: datetime
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    attributes: dict[str, str | int | float | bool] = Field(default_factory=dict)
    rule: RuleIn | None = Field(default=None, description="test this rule alone")


@router.get("/rules", summary="Routing rules, in evaluation order (first match wins)")
async def list_rules(
    rpc: RpcDep, who: Annotated[Principal, Depends(require("command.rules.read"))]
) -> dict[str, Any]:
    return await rpc.call("command", "list_rules")


@router.put("/rules/{name}", summary="Add or replace a routing rule")
async def put_rule(
    name: Annotated[str, Path(min_length=1, max_length=100)],
    body: RuleIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.rules.write"))],
) -> dict[str, Any]:
    rule = body.model_dump(mode="json", exclude={"name"})
    return await rpc.call("command", "put_rule", **rule, name=name, actor=_actor(who))


@router.delete("/rules/{name}", summary="Delete a routing rule")
async def delete_rule(
    name: str, rpc: RpcDep, who: Annotated[Principal, Depends(require("command.rules.write"))]
) -> dict[str, Any]:
    return await rpc.call("command", "delete_rule", name=name, actor=_actor(who))


@router.post("/rules/test", summary="Which rule (or the given one) routes these facts")
async def test_rules(
    body: RuleTestIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.rules.read"))],
) -> dict[str, Any]:
    facts = body.model_dump(mode="json", exclude={"rule"})
    if body.rule is not None:
        facts["rule"] = {**body.rule.model_dump(mode="json"), "name": body.rule.name or "test"}
    return await rpc.call("command", "test_rules", **facts)


# -- escalation, whistle, supervision -------------------------------------------------------
class NoteIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"note": "本级无法解决，请上级协调", "expected_version": 3001}]
        },
    )
    expected_version: ExpectedVersion
    note: str = Field(default="", max_length=2000)


@router.post("/cases/{case_id}/escalate", summary="Cannot solve at this level: one level up")
async def escalate_case(
    case_id: uuid.UUID,
    body: NoteIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.escalate"))],
) -> dict[str, Any]:
    return await rpc.call(
        "command",
        "escalate_case",
        case_id=str(case_id),
        note=body.note,
        actor=_actor(who),
        expected_version=body.expected_version,
    )


class WhistleIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "caller_code": "329901001",
                    "departments": ["urban_management", "housing"],
                    "deadline_hours": 2,
                    "note": "街道吹哨，部门报到",
                    "expected_version": 3001,
                }
            ]
        },
    )
    expected_version: ExpectedVersion
    caller_code: str | None = Field(default=None, pattern=r"^[0-9]{9}([0-9]{3})?$")
    departments: list[str] = Field(min_length=1, max_length=20)
    deadline_hours: float = Field(default=2, gt=0, le=720)
    note: str = Field(default="", max_length=2000)


@router.post("/cases/{case_id}/whistle", summary="Blow the whistle: summon departments (吹哨)")
async def blow_whistle(
    case_id: uuid.UUID,
    body: WhistleIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.whistle"))],
) -> dict[str, Any]:
    caller = body.caller_code or who.jurisdiction_code
    who.check_jurisdiction(caller)
    return await rpc.call(
        "command",
        "blow_whistle",
        case_id=str(case_id),
        caller_code=caller,
        departments=body.departments,
        deadline_hours=body.deadline_hours,
        note=body.note,
        actor=_actor(who),
        expected_version=body.expected_version,
    )


class DutyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"department": "urban_management"}]}
    )
    department: str | None = Field(default=None, max_length=64)


@router.post("/whistles/{whistle_id}/report", summary="Report for duty (报到)")
async def report_for_duty(
    whistle_id: uuid.UUID,
    body: DutyIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.whistle.report"))],
) -> dict[str, Any]:
    return await rpc.call(
        "command",
        "report_for_duty",
        whistle_id=str(whistle_id),
        department=body.department or _own_department(who),
        actor=_actor(who),
    )


@router.get("/whistles/tally", summary="Per department: on time, late, missing")
async def whistle_tally(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.whistle.read"))],
    jurisdiction: Code = "",
) -> dict[str, Any]:
    return await rpc.call(
        "command", "whistle_tally", jurisdiction_prefix=who.jurisdiction_prefix(jurisdiction)
    )


class SuperviseIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "handlers": ["urban_management"],
                    "deadline_hours": 24,
                    "note": "请于今日办结",
                    "expected_version": 3001,
                }
            ]
        },
    )
    expected_version: ExpectedVersion
    handlers: list[str] = Field(default_factory=list, max_length=20)
    deadline_hours: float = Field(default=24, gt=0, le=720)
    note: str = Field(min_length=1, max_length=1000)


@router.post("/cases/{case_id}/supervise", summary="One-key supervision (一键督办)")
async def supervise_case(
    case_id: uuid.UUID,
    body: SuperviseIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.supervise"))],
) -> dict[str, Any]:
    return await rpc.call(
        "command", "supervise_case", case_id=str(case_id), actor=_actor(who), **body.model_dump()
    )


class SuperviseOverdueIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "department": "urban_management",
                    "deadline_hours": 24,
                    "note": "超期案件集中督办",
                    "limit": 500,
                }
            ]
        },
    )
    department: str = Field(max_length=64)
    deadline_hours: float = Field(default=24, gt=0, le=720)
    note: str = Field(min_length=1, max_length=1000)
    limit: int = Field(default=500, ge=1, le=5000)


@router.post("/supervisions/overdue", summary="Supervise a department's overdue set at once")
async def supervise_overdue(
    body: SuperviseOverdueIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.supervise"))],
) -> dict[str, Any]:
    return await rpc.call("command", "supervise_overdue", actor=_actor(who), **body.model_dump())


class AnswerIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"kind": "text", "text": "已安排人员到场处置"}]},
    )
    handler: str | None = Field(default=None, max_length=64)
    kind: Literal["text", "photo", "video"]
    text: str = Field(default="", max_length=2000)
    media: list[str] = Field(default_factory=list, max_length=9)


@router.post("/supervisions/{supervision_id}/answers", summary="Answer with text, photo or video")
async def answer_supervision(
    supervision_id: uuid.UUID,
    body: AnswerIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.supervision.answer"))],
) -> dict[str, Any]:
    handler = body.handler or who.department or who.jurisdiction_code
    return await rpc.call(
        "command",
        "answer_supervision",
        supervision_id=str(supervision_id),
        handler=handler,
        kind=body.kind,
        text=body.text,
        media=body.media,
        actor=_actor(who),
    )


@router.get("/supervisions/{supervision_id}", summary="A supervision: timeline and roster")
async def get_supervision(
    supervision_id: uuid.UUID,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.supervision.read"))],
) -> dict[str, Any]:
    return await rpc.call(
        "command", "get_supervision", supervision_id=str(supervision_id), viewer=_actor(who)
    )


# -- KPIs, warnings, audit ------------------------------------------------------------------
def _kpi_args(
    who: Principal, jurisdiction: str, department: str, day_from: date, day_to: date
) -> dict[str, Any]:
    code = who.jurisdiction_prefix(jurisdiction)
    if who.role == "department_handler" and who.department:
        department = who.department
    return {
        "jurisdiction_code": code,
        "department": department,
        "day_from": str(day_from),
        "day_to": str(day_to),
    }


async def _cached_kpis(
    cache: ReadCacheDep,
    rpc: RpcDep,
    who: Principal,
    method: str,
    args: dict[str, Any],
    if_none_match: str | None,
) -> Response:
    return await cache.respond(
        if_none_match,
        scope_of(who),
        method,
        args,
        args["jurisdiction_code"],
        lambda: rpc.call("command", method, **args),
    )


@router.get(
    "/kpis",
    summary="KPIs of a jurisdiction (and department) over a day range",
    response_model=dict[str, Any],
)
async def kpis(
    rpc: RpcDep,
    cache: ReadCacheDep,
    who: Annotated[Principal, Depends(require("command.kpis.read"))],
    day_from: DayFrom,
    day_to: DayTo,
    jurisdiction: Code = "",
    department: KpiDepartment = "*",
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    args = _kpi_args(who, jurisdiction, department, day_from, day_to)
    return await _cached_kpis(cache, rpc, who, "kpis", args, if_none_match)


@router.get("/kpis/series", summary="KPIs per day", response_model=dict[str, Any])
async def kpi_series(
    rpc: RpcDep,
    cache: ReadCacheDep,
    who: Annotated[Principal, Depends(require("command.kpis.read"))],
    day_from: DayFrom,
    day_to: DayTo,
    jurisdiction: Code = "",
    department: KpiDepartment = "*",
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    args = _kpi_args(who, jurisdiction, department, day_from, day_to)
    return await _cached_kpis(cache, rpc, who, "kpi_series", args, if_none_match)


@router.get(
    "/kpis/export",
    response_class=Response,
    responses=DOWNLOAD,
    summary="KPIs per day as CSV or Excel (xlsx)",
)
async def export_kpis(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.kpis.read"))],
    day_from: DayFrom,
    day_to: DayTo,
    jurisdiction: Code = "",
    department: KpiDepartment = "*",
    format: Literal["csv", "xlsx"] = "csv",
) -> Response:
    args = _kpi_args(who, jurisdiction, department, day_from, day_to)
    return _download(await rpc.call("command", "export_kpis", format=format, **args))


# a child unit without any case: zero counts, no rates
ZERO_STATS: dict[str, Any] = {
    **dict.fromkeys(
        (
            "open",
            "overdue",
            "escalated",
            "supervised",
            "created",
            "resolved",
            "resolved_on_time",
            "overdue_events",
            "escalations",
            "rated",
            "satisfied",
            "rework",
        ),
        0,
    ),
    **dict.fromkeys(("on_time_resolution_rate", "satisfaction_rate", "rework_rate")),
}


@router.get(
    "/units/stats",
    summary="Per child unit (or per department): open, overdue, "
    "escalated now; created, on-time, satisfaction, rework over the days",
    response_model=dict[str, Any],
)
async def unit_stats(
    rpc: RpcDep,
    cache: ReadCacheDep,
    who: Annotated[Principal, Depends(require("command.stats.read"))],
    day_from: DayFrom,
    day_to: DayTo,
    jurisdiction: Annotated[
        str,
        Query(
            pattern=r"^([0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})?$",
            description="the parent unit (city, district, street or community); empty: the "
            "caller's own unit",
            examples=["329901"],
        ),
    ] = "",
    by: Annotated[
        Literal["unit", "department"],
        Query(
            description="unit: one row per child unit of the parent (the map, the league table "
            "of units); department: one row per department handling cases inside it"
        ),
    ] = "unit",
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    code = who.jurisdiction_prefix(jurisdiction)
    args = {"parent_code": code, "by": by, "day_from": str(day_from), "day_to": str(day_to)}

    async def fetch() -> dict[str, Any]:
        out = await rpc.call("command", "unit_stats", **args)
        if by != "unit" or not code:
            return out
        # the child units' names (and the children without any case: zero rows)
        try:
            kids = (await rpc.call("grids", "unit_children", code=code)).get("units", [])
        except Exception:  # noqa: BLE001 -- names are a nicety: the counts stand alone
            return out
        rows = {r["code"]: r for r in out.get("items", [])}
        items = []
        for u in kids:
            row = rows.pop(u["code"], None) or {"code": u["code"], **ZERO_STATS}
            items.append({**row, "name": u.get("name")})
        out["items"] = items + list(rows.values())
        return out

    return await cache.respond(if_none_match, scope_of(who), "unit_stats", args, code, fetch)


@router.get("/alerts", summary="Early-warning alerts (隐患预警) about the caller's area")
async def list_alerts(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.warnings.read"))],
    jurisdiction: Code = "",
    since: Annotated[
        datetime | None,
        Query(
            description="Only alerts raised at or after this instant (ISO 8601 with offset)",
            examples=["2026-11-01T00:00:00+08:00"],
        ),
    ] = None,
    kind: Annotated[
        str | None,
        Query(
            max_length=32,
            examples=["spike"],
            description="Only alerts of this kind (预警类型): spike (a category's reports well "
            "above its baseline), repeat_address (the same place reported again and again), "
            "rising_overdue (overdue cases growing day after day)",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    return await rpc.call(
        "command",
        "list_alerts",
        since=since and since.isoformat(),
        kind=kind,
        limit=limit,
        jurisdiction_prefix=who.jurisdiction_prefix(jurisdiction),
    )


@router.get("/warning-rules", summary="Early-warning rules (data)")
async def list_warning_rules(
    rpc: RpcDep, who: Annotated[Principal, Depends(require("command.warnings.read"))]
) -> dict[str, Any]:
    return await rpc.call("command", "list_warning_rules")


class WarningRuleIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"kind": "spike", "params": {"window_hours": 24, "factor": 3}, "enabled": True}
            ]
        },
    )
    kind: Literal["spike", "repeat_address", "rising_overdue"]
    params: dict[str, float | int | str] = Field(default_factory=dict)
    enabled: bool = True


@router.put("/warning-rules/{name}", summary="Add or edit an early-warning rule")
async def put_warning_rule(
    name: str,
    body: WarningRuleIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.warnings.write"))],
) -> dict[str, Any]:
    return await rpc.call("command", "put_warning_rule", name=name, **body.model_dump())


@router.delete("/warning-rules/{name}", summary="Delete an early-warning rule")
async def delete_warning_rule(
    name: str,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.warnings.write"))],
) -> dict[str, Any]:
    return await rpc.call("command", "delete_warning_rule", name=name)


@router.get("/cases/{case_id}/audit", summary="The audit trail of a case")
async def audit_trail(
    case_id: uuid.UUID,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.audit.read"))],
) -> dict[str, Any]:
    await rpc.call(
        "command", "get_case", case_id=str(case_id), jurisdiction_prefix=who.jurisdiction_code
    )  # jurisdiction check
    return await rpc.call("command", "audit_trail", case_id=str(case_id))


@router.get("/audit/verify", summary="Verify the audit hash chain")
async def verify_audit(
    rpc: RpcDep, who: Annotated[Principal, Depends(require("command.audit.read"))]
) -> dict[str, Any]:
    return await rpc.call("command", "verify_audit")


@router.post("/rebuild", summary="Rebuild the dispatch view (and KPIs) from the event log")
async def rebuild(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.admin"))],
    case_id: Annotated[
        uuid.UUID | None,
        Query(
            description="Rebuild this case only; omitted: the whole view and the KPI counters",
            examples=["3f6d2a1c-7b4e-4c8a-9e21-5d0b8f7a6c34"],
        ),
    ] = None,
) -> dict[str, Any]:
    return await rpc.call("command", "rebuild", case_id=str(case_id) if case_id else None)


@router.post("/sweep", summary="Run the SLA sweep now")
async def run_sweep(
    rpc: RpcDep, who: Annotated[Principal, Depends(require("command.admin"))]
) -> dict[str, Any]:
    return await rpc.call("command", "run_sweep")
