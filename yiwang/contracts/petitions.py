"""Contracts of the petitions service: its events, its RPC, its subscriptions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from yiwang.contracts.base import Payload, Source
from yiwang.contracts.envelope import event_contract
from yiwang.contracts.rpc import rpc_contract
from yiwang.contracts.subscription import Subscription


@event_contract("case.created", 1)
class CaseCreatedV1(Payload):
    """A case opened by the petitions service (from any source)."""

    case_id: uuid.UUID
    report_id: uuid.UUID | None = None
    seq: int = Field(ge=1, description="per-case sequence of events, for ordering")
    source: Source
    category: str
    title: str = Field(max_length=200)
    grid_code: str
    jurisdiction_code: str
    level: str
    status: str
    lat: float | None = None
    lon: float | None = None
    created_at: datetime
    sla_class: str | None = Field(default=None, description="category's SLA class")
    department: str | None = Field(default=None, description="category's default department")
    attributes: dict[str, str | int | float | bool] = Field(default_factory=dict)
    parent_case_id: uuid.UUID | None = None


@event_contract("case.transitioned", 1)
class CaseTransitionedV1(Payload):
    """One step of a case's lifecycle (accept, dispatch, handle, verify, close, rate, …).

    ``seq`` is the case's version after the step: consumers fold steps per case in ``seq``
    order and ignore anything at or below what they have already applied.
    """

    case_id: uuid.UUID
    seq: int = Field(ge=2)
    action: str = Field(max_length=40)
    status: str = Field(max_length=32)
    previous_status: str = Field(max_length=32)
    actor_id: str = Field(max_length=64)
    actor_role: str = Field(max_length=32)
    at: datetime
    jurisdiction_code: str = Field(pattern=r"^[0-9]{4,18}$")
    category: str
    source: Source
    department: str | None = None
    handler: str | None = None
    note: str = Field(default="", max_length=2000)
    rating: int | None = Field(default=None, ge=1, le=5)
    rework: bool = False
    auto: bool = Field(default=False, description="taken by the system (e.g. auto-evaluated)")


# --- petitions RPC -----------------------------------------------------------------------


class ReportStatusResponse(Payload):
    report_id: uuid.UUID
    state: Literal["pending", "case_created", "linked_duplicate"]
    case_id: uuid.UUID | None = None
    case_status: str | None = None


@rpc_contract("petitions", "get_report_status", ReportStatusResponse)
class ReportStatusRequest(Payload):
    report_id: uuid.UUID


class CaseActor(Payload):
    """Who acts (the gateway's ``Principal.actor()``), as timelines record it."""

    id: str = Field(min_length=1, max_length=64)
    role: str = Field(max_length=32)
    name: str = Field(default="", max_length=100)
    # what object access is decided on (yiwang.access): the account's unit code, and the
    # department of a department handler
    jurisdiction_code: str = Field(default="", pattern=r"^[0-9]{0,18}$")
    department: str | None = Field(default=None, max_length=64)


class CaseView(Payload):
    """One case as petitions sees it: the snapshot, what may happen next, the timeline."""

    case_id: uuid.UUID
    version: int
    status: str
    source: str
    category: str
    title: str
    description: str
    sla_class: str
    grid_code: str
    jurisdiction_code: str
    level: str
    public: bool
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    media: list[str] = Field(default_factory=list)
    external_ref: str | None = None
    created_at: datetime
    accepted_at: datetime | None = None
    due_at: datetime | None = None
    department: str | None = None
    assignee_id: str | None = None
    handled_at: datetime | None = None
    feedback: str | None = None
    closed_at: datetime | None = None
    rework_count: int = 0
    ratings: list[dict[str, Any]] = Field(default_factory=list)
    auto_evaluated: bool = False
    info_request: dict[str, Any] | None = None
    supporter_count: int = 0
    parent_id: str | None = None
    child_ids: list[str] = Field(default_factory=list)
    forwarded_to: str | None = None
    reject_reason: str | None = None
    merged_into: str | None = None
    reporter: dict[str, Any] = Field(default_factory=dict)
    contact_erased: bool = False
    allowed_actions: list[str] = Field(default_factory=list)
    timeline: list[dict[str, Any]] = Field(default_factory=list)


@rpc_contract("petitions", "case_action", CaseView)
class CaseActionRequest(Payload):
    """Apply one lifecycle action (accept, reject, dispatch, start, handle, verify,
    fail_verification, close, rate, request_info, provide_info, forward, send_back,
    reassign, conclude_review, review_rework, supervise) with optimistic concurrency."""

    case_id: uuid.UUID
    action: str = Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$")
    actor: CaseActor
    expected_version: int = Field(ge=1)
    fields: dict[str, Any] = Field(default_factory=dict)
    jurisdiction_prefix: str = Field(default="", pattern=r"^[0-9]{0,18}$")


@rpc_contract("petitions", "get_case", CaseView)
class GetCaseRequest(Payload):
    """Staff see the full timeline (contact masked unless ``unmask``); a citizen viewer
    (``viewer_role='citizen'``) sees their own case's public timeline only."""

    case_id: uuid.UUID
    unmask: bool = False
    viewer_id: str | None = Field(default=None, max_length=64)
    viewer_role: str | None = Field(default=None, max_length=32)
    viewer_department: str | None = Field(default=None, max_length=64)
    jurisdiction_prefix: str = Field(default="", pattern=r"^[0-9]{0,18}$")


class CaseSummary(Payload):
    case_id: uuid.UUID
    version: int
    status: str
    category: str
    title: str
    source: str
    relation: str
    supporter_count: int
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None = None
    can_rate: bool = False


class CaseSummaryList(Payload):
    items: list[CaseSummary]
    total: int
    page: int
    page_size: int


@rpc_contract("petitions", "list_my_cases", CaseSummaryList)
class ListMyCasesRequest(Payload):
    account_id: str = Field(min_length=1, max_length=64)
    page: int = Field(default=1, ge=1, le=10000)
    page_size: int = Field(default=20, ge=1, le=100)


class GeoJsonFeatureCollection(Payload):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[dict[str, Any]]


@rpc_contract("petitions", "public_map", GeoJsonFeatureCollection)
class PublicMapRequest(Payload):
    prefix: str = Field(default="", pattern=r"^[0-9]{0,18}$")
    category: str | None = Field(default=None, max_length=64)
    include_closed: bool = True
    limit: int = Field(default=1000, ge=1, le=5000)


class CategoryOut(Payload):
    code: str
    name_zh: str
    name_en: str
    department: str
    sla_class: str
    handling_level: str
    public: bool
    citizen_selectable: bool
    attributes: list[dict[str, Any]] = Field(default_factory=list)
    description_en: str = ""
    description_zh: str = ""
    keywords: list[str] = Field(default_factory=list)
    active: bool = True
    group: bool = False


class CategoryList(Payload):
    items: list[CategoryOut]
    sla_classes: list[dict[str, Any]] = Field(default_factory=list)


@rpc_contract("petitions", "list_categories", CategoryList)
class ListCategoriesRequest(Payload):
    include_inactive: bool = False


@rpc_contract("petitions", "get_category", CategoryOut)
class GetCategoryRequest(Payload):
    code: str = Field(min_length=1, max_length=130)


@rpc_contract("petitions", "put_category", CategoryOut)
class PutCategoryRequest(Payload):
    """Create or replace a category (its parent must exist; the code never changes)."""

    actor: CaseActor
    category: dict[str, Any]


@rpc_contract("petitions", "deactivate_category", CategoryOut)
class DeactivateCategoryRequest(Payload):
    actor: CaseActor
    code: str = Field(min_length=1, max_length=130)


class HotlineTicket(Payload):
    hotline: str = Field(max_length=10)
    ticket_no: str = Field(max_length=60)
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=2000)
    grid_code: str | None = Field(default=None, max_length=18)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, max_length=200)
    caller_name: str | None = Field(default=None, max_length=50)
    caller_phone: str | None = Field(default=None, max_length=20)
    received_at: datetime | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)


class HotlineRowResult(Payload):
    index: int
    hotline: str
    ticket_no: str
    outcome: Literal["created", "duplicate", "refused"]
    case_id: uuid.UUID | None = None
    error: dict[str, Any] | None = None


class HotlineImportResponse(Payload):
    results: list[HotlineRowResult]
    created: int
    duplicate: int
    refused: int


@rpc_contract("petitions", "import_hotline", HotlineImportResponse)
class ImportHotlineRequest(Payload):
    """A batch of 12345/8890 tickets, keyed by (hotline, ticket no): idempotent."""

    actor: CaseActor
    tickets: list[HotlineTicket] = Field(min_length=1, max_length=1000)


@rpc_contract("petitions", "merge_cases", CaseView)
class MergeCasesRequest(Payload):
    """Staff merge ``case_id`` (the duplicate) into ``target_case_id``; answers the target."""

    actor: CaseActor
    case_id: uuid.UUID
    target_case_id: uuid.UUID
    expected_version: int = Field(ge=1)
    note: str = Field(default="", max_length=2000)


class DetachResponse(Payload):
    case: CaseView
    new_case_id: uuid.UUID


@rpc_contract("petitions", "detach_supporter", DetachResponse)
class DetachSupporterRequest(Payload):
    """Undo a wrong "me too" link: the supporter's report becomes a case of its own."""

    actor: CaseActor
    case_id: uuid.UUID
    supporter_id: str = Field(min_length=1, max_length=80)
    expected_version: int = Field(ge=1)
    note: str = Field(default="", max_length=2000)


class SplitPart(Payload):
    category: str = Field(min_length=1, max_length=64)
    department: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=2000)


@rpc_contract("petitions", "split_case", CaseView)
class SplitCaseRequest(Payload):
    """Split a case into child cases for several departments (each opened as accepted)."""

    actor: CaseActor
    case_id: uuid.UUID
    expected_version: int = Field(ge=1)
    parts: list[SplitPart] = Field(min_length=2, max_length=10)
    note: str = Field(default="", max_length=2000)


class SweepResponse(Payload):
    auto_evaluated: int = 0
    info_expired: int = 0
    contacts_erased: int = 0
    notifications_sent: int = 0


@rpc_contract("petitions", "run_sweeps", SweepResponse)
class RunSweepsRequest(Payload):
    """Run the housekeeping sweeps now (the timer runs them every minute)."""


# --- Open311 GeoReport v2 (documents rendered by services.petitions.domain.open311) --------


class Open311Documents(Payload):
    """A list of Open311 documents (services, or service requests) as JSON-native dicts."""

    items: list[dict[str, Any]]


@rpc_contract("petitions", "open311_services", Open311Documents)
class Open311ServicesRequest(Payload):
    lang: str = Field(default="zh", pattern=r"^(zh|en)$")


class Open311Definition(Payload):
    service_code: str
    attributes: list[dict[str, Any]]


@rpc_contract("petitions", "open311_service_definition", Open311Definition)
class Open311DefinitionRequest(Payload):
    """404 ``invalid_service_code`` for a code that is not offered through Open311."""

    service_code: str = Field(min_length=1, max_length=130)
    lang: str = Field(default="zh", pattern=r"^(zh|en)$")


class Open311Submission(Payload):
    """A validated POST requests form (contact fields included: never echoed publicly)."""

    service_code: str
    lat: float | None = None
    lon: float | None = None
    address_string: str | None = None
    address_id: str | None = None
    description: str
    attributes: dict[str, Any] = Field(default_factory=dict)
    media_url: str | None = None
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    jurisdiction_id: str | None = None


@rpc_contract("petitions", "parse_open311_form", Open311Submission)
class ParseOpen311FormRequest(Payload):
    """Validate a form-encoded POST requests body against the catalogue (400 on refusal)."""

    fields: list[tuple[str, str]] = Field(max_length=500)
    jurisdiction_id: str | None = Field(default=None, max_length=64)


@rpc_contract("petitions", "query_open311", Open311Documents)
class QueryOpen311Request(Payload):
    """GET requests: ``params`` are the query's filters (service_request_id, service_code,
    start_date, end_date, status, jurisdiction_id); answers public cases of public
    categories as service requests, newest first, at most 1000, last 90 days by default."""

    params: dict[str, str] = Field(default_factory=dict)
    jurisdiction_id: str | None = Field(default=None, max_length=64)
    lang: str = Field(default="zh", pattern=r"^(zh|en)$")
    media_base: str = Field(default="", max_length=300)


# --- agency applications (微代办) ----------------------------------------------------------


class AgencyMaterial(Payload):
    code: str
    name_zh: str
    name_en: str


class AgencyItemOut(Payload):
    code: str
    name_zh: str
    name_en: str
    domain: str
    level: str
    department: str
    sla_class: str
    time_limit_working_days: int
    required: list[AgencyMaterial]
    optional: list[AgencyMaterial] = Field(default_factory=list)


class AgencyItemList(Payload):
    items: list[AgencyItemOut]


@rpc_contract("petitions", "agency_catalogue", AgencyItemList)
class AgencyCatalogueRequest(Payload):
    """The service items a community worker handles for residents (seed 002: 44 items)."""

    domain: str | None = Field(default=None, max_length=40)


class AgencyApplicationView(Payload):
    application_id: uuid.UUID
    version: int
    status: str
    item: AgencyItemOut
    community_code: str
    grid_code: str
    applicant_id: str
    materials: dict[str, list[str]] = Field(default_factory=dict)
    appointment_at: datetime | None = None
    created_at: datetime
    accepted_at: datetime | None = None
    due_at: datetime | None = None
    result: str | None = None
    closed_at: datetime | None = None
    on_time: bool | None = None
    returned_materials: list[str] = Field(default_factory=list)
    allowed_actions: list[str] = Field(default_factory=list)
    steps: list[dict[str, Any]] = Field(default_factory=list)


@rpc_contract("petitions", "agency_apply", AgencyApplicationView)
class AgencyApplyRequest(Payload):
    """A resident applies: every required material online, or an appointment (then the
    materials come along to the community office). Opens a case of source ``agency``."""

    actor: CaseActor
    item_code: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    community_code: str = Field(pattern=r"^[0-9]{12}$")
    grid_code: str = Field(
        pattern=r"^[0-9]{15}$", description="a grid of the community (the command centre's KPIs)"
    )
    materials: dict[str, list[str]] = Field(default_factory=dict)
    appointment_at: datetime | None = None
    application_id: uuid.UUID | None = Field(
        default=None, description="client-chosen id: a retried apply answers the same"
    )


@rpc_contract("petitions", "agency_action", AgencyApplicationView)
class AgencyActionRequest(Payload):
    """accept, return_materials (fields: materials, note), resubmit (fields: materials),
    handle (note), feed_back (result, attachments), close, reject (reason), withdraw."""

    application_id: uuid.UUID
    action: str = Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$")
    actor: CaseActor
    expected_version: int = Field(ge=1)
    fields: dict[str, Any] = Field(default_factory=dict)
    jurisdiction_prefix: str = Field(default="", pattern=r"^[0-9]{0,18}$")


@rpc_contract("petitions", "get_agency_application", AgencyApplicationView)
class GetAgencyApplicationRequest(Payload):
    application_id: uuid.UUID
    viewer_id: str = Field(min_length=1, max_length=64)
    viewer_role: str = Field(max_length=32)
    jurisdiction_prefix: str = Field(default="", pattern=r"^[0-9]{0,18}$")


class AgencyApplicationList(Payload):
    items: list[AgencyApplicationView]
    total: int
    page: int
    page_size: int


@rpc_contract("petitions", "list_agency_applications", AgencyApplicationList)
class ListAgencyApplicationsRequest(Payload):
    """A resident's own applications (``account_id``), or a unit's queue (``prefix``)."""

    account_id: str | None = Field(default=None, max_length=64)
    prefix: str = Field(default="", pattern=r"^[0-9]{0,18}$")
    status: str | None = Field(default=None, max_length=32)
    page: int = Field(default=1, ge=1, le=10000)
    page_size: int = Field(default=20, ge=1, le=100)


SUBSCRIPTIONS = [
    Subscription("gateway", "report.submitted", "petitions", "handle_report_submitted"),
    # from the command centre: routing decisions and escalations become case steps
    Subscription("command", "case.routed", "petitions", "handle_case_routed"),
    Subscription("command", "case.escalated", "petitions", "handle_case_escalated"),
    # other sources of cases
    Subscription("grids", "patrol.finding_reported", "petitions", "handle_patrol_finding"),
    Subscription("grids", "sensor.alert_raised", "petitions", "handle_sensor_alert"),
    Subscription(
        "volunteers", "volunteer_order.escalated", "petitions", "handle_volunteer_order_escalated"
    ),
    Subscription("enterprise", "demand.overdue", "petitions", "handle_demand_overdue"),
]
