"""Contracts of the enterprise service (一企一网): events, RPC, subscriptions.

Demand events carry what the command centre needs to show a demand as a case of source
``enterprise`` (id, enterprise name, district code as jurisdiction, category, title,
urgency, deadline) and ``seq`` (per-demand event sequence) for ordering. Approval-step
warnings and lateness carry the project, step, owner department and due date.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from yiwang.contracts.base import Payload
from yiwang.contracts.envelope import event_contract
from yiwang.contracts.rpc import rpc_contract
from yiwang.contracts.subscription import Subscription

SERVICE = "enterprise"
Id = str
CODE = r"^[0-9]{0,18}$"

# --- events --------------------------------------------------------------------------


@event_contract("enterprise.registered", 1)
class EnterpriseRegisteredV1(Payload):
    enterprise_id: Id
    uscc: str
    name: str
    industry: str
    jurisdiction_code: str = Field(description="district code")
    grid_code: str
    registered_at: datetime


@event_contract("enterprise.verified", 1)
class EnterpriseVerifiedV1(Payload):
    enterprise_id: Id
    uscc: str
    name: str
    industry: str
    size: str
    jurisdiction_code: str = Field(description="district code")
    grid_code: str
    verified_by: str
    verified_at: datetime


@event_contract("institution.verified", 1)
class InstitutionVerifiedV1(Payload):
    institution_id: Id
    kind: str
    name: str
    jurisdiction_code: str
    verified_by: str
    verified_at: datetime


class DemandCase(Payload):
    """Fields every demand event carries (a demand is a case of source ``enterprise``)."""

    demand_id: Id
    seq: int = Field(ge=1, description="per-demand sequence of events, for ordering")
    source: Literal["enterprise"] = "enterprise"
    enterprise_id: Id
    enterprise_name: str
    jurisdiction_code: str = Field(description="the enterprise's district code")
    grid_code: str
    category: str
    title: str = Field(max_length=200)
    urgency: Literal["urgent", "normal", "complex"]
    status: str
    deadline: datetime | None = None
    leader_id: str | None = None
    department: str | None = None
    occurred_at: datetime


@event_contract("demand.filed", 1)
class DemandFiledV1(DemandCase):
    filed_by: str


@event_contract("demand.assigned", 1)
class DemandAssignedV1(DemandCase):
    rework: int = Field(ge=0, description="0 on first assignment, n on the n-th rework")


@event_contract("demand.answered", 1)
class DemandAnsweredV1(DemandCase):
    answered_by: str
    response_seconds: float
    within_sla: bool


@event_contract("demand.rated", 1)
class DemandRatedV1(DemandCase):
    score: int = Field(ge=1, le=5)
    satisfied: bool


@event_contract("demand.closed", 1)
class DemandClosedV1(DemandCase):
    score: int = Field(ge=1, le=5)


@event_contract("demand.overdue", 1)
class DemandOverdueV1(DemandCase):
    overdue_seconds: float


class ApprovalStepFields(Payload):
    project_id: Id
    project_name: str
    jurisdiction_code: str = Field(description="the project's district code")
    leader_id: str
    step_index: int = Field(ge=0)
    step_name: str
    department: str
    due_at: datetime
    occurred_at: datetime


@event_contract("approval_step.warned", 1)
class ApprovalStepWarnedV1(ApprovalStepFields):
    share_elapsed: float


@event_contract("approval_step.late", 1)
class ApprovalStepLateV1(ApprovalStepFields):
    late_seconds: float


@event_contract("approval_step.approved", 1)
class ApprovalStepApprovedV1(ApprovalStepFields):
    approved_by: str
    late: bool


@event_contract("key_project.approved", 1)
class KeyProjectApprovedV1(Payload):
    project_id: Id
    project_name: str
    jurisdiction_code: str
    late_steps: list[int]
    occurred_at: datetime


@event_contract("financing.granted", 1)
class FinancingGrantedV1(Payload):
    need_id: Id
    product_id: Id
    institution_id: Id
    enterprise_id: Id
    jurisdiction_code: str
    granted_amount: Decimal
    occurred_at: datetime


@event_contract("candidate.hired", 1)
class CandidateHiredV1(Payload):
    posting_id: Id
    application_id: Id
    enterprise_id: Id
    jurisdiction_code: str
    occurred_at: datetime


# --- RPC: shared models --------------------------------------------------------------


class Actor(Payload):
    """Who acts (from the gateway's Principal)."""

    id: str = Field(min_length=1, max_length=64)
    role: str = Field(min_length=1, max_length=32)
    name: str = Field(default="", max_length=100)
    jurisdiction_code: str = Field(default="", pattern=CODE)
    department: str | None = Field(default=None, max_length=64)
    enterprise_id: str | None = Field(default=None, max_length=64)
    institution_id: str | None = Field(default=None, max_length=64)


class Page(Payload):
    page: int = Field(default=1, ge=1, le=100000)
    page_size: int = Field(default=20, ge=1, le=200)


class ReasonOut(Payload):
    rule: str
    ok: bool
    message_en: str
    message_zh: str


class Ack(Payload):
    ok: bool = True
    count: int = 0


# --- accounts --------------------------------------------------------------------------


class EnterpriseOut(Payload):
    enterprise_id: Id
    uscc: str
    name: str
    industry: str
    address: str
    grid_code: str
    district_code: str
    size: str
    established_on: date | None = None
    tags: list[str] = Field(default_factory=list)
    status: str
    users: dict[str, str] = Field(default_factory=dict)
    verified_by: str | None = None
    verified_at: datetime | None = None
    rejection_reason: str | None = None
    registered_at: datetime | None = None
    version: int


class EnterpriseList(Payload):
    items: list[EnterpriseOut]
    total: int
    page: int
    page_size: int


class InstitutionOut(Payload):
    institution_id: Id
    kind: str
    name: str
    uscc: str
    district_code: str
    status: str
    users: dict[str, str] = Field(default_factory=dict)
    verified_by: str | None = None
    verified_at: datetime | None = None
    rejection_reason: str | None = None
    registered_at: datetime | None = None
    version: int


class InstitutionList(Payload):
    items: list[InstitutionOut]
    total: int


@rpc_contract(SERVICE, "register_enterprise", EnterpriseOut)
class RegisterEnterpriseRequest(Payload):
    actor: Actor
    enterprise_id: Id | None = Field(default=None, max_length=64)
    uscc: str = Field(min_length=1, max_length=40, examples=["91329901MA0ABCDE6Q"])
    name: str = Field(min_length=1, max_length=200)
    industry: str = Field(min_length=1, max_length=64)
    address: str = Field(min_length=1, max_length=300)
    grid_code: str = Field(pattern=r"^[0-9]{15}$")
    size: Literal["micro", "small", "medium", "large"]
    established_on: date | None = None
    tags: list[str] = Field(default_factory=list, max_length=30)


@rpc_contract(SERVICE, "register_institution", InstitutionOut)
class RegisterInstitutionRequest(Payload):
    actor: Actor
    institution_id: Id | None = Field(default=None, max_length=64)
    kind: Literal["bank", "research_institute", "recruiter", "other"]
    name: str = Field(min_length=1, max_length=200)
    uscc: str = Field(min_length=1, max_length=40)
    district_code: str = Field(pattern=r"^[0-9]{6}$")


@rpc_contract(SERVICE, "review_enterprise", EnterpriseOut)
class ReviewEnterpriseRequest(Payload):
    actor: Actor
    enterprise_id: Id
    decision: Literal["verify", "reject"]
    reason: str = Field(default="", max_length=500)


@rpc_contract(SERVICE, "review_institution", InstitutionOut)
class ReviewInstitutionRequest(Payload):
    actor: Actor
    institution_id: Id
    decision: Literal["verify", "reject"]
    reason: str = Field(default="", max_length=500)


@rpc_contract(SERVICE, "add_enterprise_user", EnterpriseOut)
class AddEnterpriseUserRequest(Payload):
    actor: Actor
    enterprise_id: Id
    user_id: str = Field(min_length=1, max_length=64)
    role: Literal["admin", "member"] = "member"


@rpc_contract(SERVICE, "get_enterprise", EnterpriseOut)
class GetEnterpriseRequest(Payload):
    enterprise_id: Id


@rpc_contract(SERVICE, "list_enterprises", EnterpriseList)
class ListEnterprisesRequest(Page):
    jurisdiction_prefix: str = Field(default="", pattern=CODE)
    status: Literal["pending", "verified", "rejected"] | None = None


@rpc_contract(SERVICE, "get_institution", InstitutionOut)
class GetInstitutionRequest(Payload):
    institution_id: Id


@rpc_contract(SERVICE, "list_institutions", InstitutionList)
class ListInstitutionsRequest(Payload):
    jurisdiction_prefix: str = Field(default="", pattern=CODE)
    kind: Literal["bank", "research_institute", "recruiter", "other"] | None = None
    status: Literal["pending", "verified", "rejected"] | None = None


class AccountsOfUser(Payload):
    enterprise_ids: list[Id]
    institution_ids: list[Id]


@rpc_contract(SERVICE, "accounts_of_user", AccountsOfUser)
class AccountsOfUserRequest(Payload):
    user_id: str = Field(min_length=1, max_length=64)


# --- demands ---------------------------------------------------------------------------


class ResponsibilityOut(Payload):
    district_code: str
    category: str
    leader_id: str
    department: str


class ResponsibilityList(Payload):
    items: list[ResponsibilityOut]


@rpc_contract(SERVICE, "set_responsibility", ResponsibilityOut)
class SetResponsibilityRequest(Payload):
    actor: Actor
    district_code: str = Field(pattern=r"^[0-9]{6}$")
    category: str = Field(min_length=1, max_length=64, description='"*" = any category')
    leader_id: str = Field(min_length=1, max_length=64)
    department: str = Field(min_length=1, max_length=64)


@rpc_contract(SERVICE, "list_responsibilities", ResponsibilityList)
class ListResponsibilitiesRequest(Payload):
    jurisdiction_prefix: str = Field(default="", pattern=CODE)


class DemandOut(Payload):
    demand_id: Id
    enterprise_id: Id
    enterprise_name: str
    filed_by: str
    district_code: str
    grid_code: str
    category: str
    title: str
    description: str
    urgency: str
    attachments: list[str]
    status: str
    leader_id: str | None = None
    department: str | None = None
    due_at: datetime | None = None
    overdue: bool = False
    rework_count: int = 0
    score: int | None = None
    ratings: list[int] = Field(default_factory=list)
    filed_at: datetime
    answered_at: datetime | None = None
    closed_at: datetime | None = None
    timeline: list[dict[str, Any]] = Field(default_factory=list)
    version: int


class DemandList(Payload):
    items: list[DemandOut]
    total: int
    page: int
    page_size: int


class _DemandCommand(Payload):
    actor: Actor
    demand_id: Id
    expected_version: int | None = Field(default=None, ge=1)


@rpc_contract(SERVICE, "file_demand", DemandOut)
class FileDemandRequest(Payload):
    actor: Actor
    enterprise_id: Id
    demand_id: Id | None = Field(default=None, max_length=64)
    category: str = Field(min_length=1, max_length=64, examples=["power_supply"])
    title: str | None = Field(default=None, max_length=200)
    description: str = Field(min_length=1, max_length=5000)
    urgency: Literal["urgent", "normal", "complex"] = "normal"
    attachments: list[str] = Field(default_factory=list, max_length=9)


@rpc_contract(SERVICE, "assign_demand", DemandOut)
class AssignDemandRequest(_DemandCommand):
    pass


@rpc_contract(SERVICE, "reply_demand", DemandOut)
class ReplyDemandRequest(_DemandCommand):
    text: str = Field(min_length=1, max_length=2000)
    attachments: list[str] = Field(default_factory=list, max_length=9)


@rpc_contract(SERVICE, "answer_demand", DemandOut)
class AnswerDemandRequest(_DemandCommand):
    text: str = Field(min_length=1, max_length=2000)
    attachments: list[str] = Field(default_factory=list, max_length=9)


@rpc_contract(SERVICE, "add_demand_note", DemandOut)
class AddDemandNoteRequest(_DemandCommand):
    text: str = Field(min_length=1, max_length=2000)
    attachments: list[str] = Field(default_factory=list, max_length=9)


@rpc_contract(SERVICE, "rate_demand", DemandOut)
class RateDemandRequest(_DemandCommand):
    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=500)


@rpc_contract(SERVICE, "get_demand", DemandOut)
class GetDemandRequest(Payload):
    demand_id: Id


@rpc_contract(SERVICE, "list_demands", DemandList)
class ListDemandsRequest(Page):
    jurisdiction_prefix: str = Field(default="", pattern=CODE)
    enterprise_id: Id | None = None
    status: Literal["filed", "assigned", "in_progress", "answered", "closed"] | None = None
    department: str | None = Field(default=None, max_length=64)
    overdue: bool | None = None


class SweepResult(Payload):
    demands_overdue: int
    steps_warned: int
    steps_late: int
    at: datetime


@rpc_contract(SERVICE, "run_sweeps", SweepResult)
class RunSweepsRequest(Payload):
    """Run the overdue/approval sweeps now (the timer does this every minute)."""


# --- financing ---------------------------------------------------------------------------


class ProductOut(Payload):
    product_id: Id
    institution_id: Id
    name: str
    min_amount: Decimal
    max_amount: Decimal
    min_term_months: int
    max_term_months: int
    sectors: list[str]
    annual_rate_pct: Decimal
    active: bool
    version: int


class ProductList(Payload):
    items: list[ProductOut]


class FinancingMatchOut(Payload):
    product_id: Id
    institution_id: Id
    matched: bool
    annual_rate_pct: Decimal
    reasons: list[ReasonOut]


class FinancingNeedOut(Payload):
    need_id: Id
    enterprise_id: Id
    amount: Decimal
    term_months: int
    purpose: str
    industry: str
    status: str
    created_at: datetime
    responses: list[dict[str, Any]] = Field(default_factory=list)
    granted_product_id: Id | None = None
    granted_amount: Decimal | None = None
    granted_at: datetime | None = None
    matches: list[FinancingMatchOut] = Field(default_factory=list)
    version: int


class FinancingNeedList(Payload):
    items: list[FinancingNeedOut]


class FinancingMatchList(Payload):
    need_id: Id
    items: list[FinancingMatchOut]


@rpc_contract(SERVICE, "publish_product", ProductOut)
class PublishProductRequest(Payload):
    actor: Actor
    institution_id: Id
    product_id: Id | None = Field(default=None, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    min_amount: Decimal = Field(gt=0)
    max_amount: Decimal = Field(gt=0)
    min_term_months: int = Field(ge=1, le=360)
    max_term_months: int = Field(ge=1, le=360)
    sectors: list[str] = Field(default_factory=list, max_length=50)
    annual_rate_pct: Decimal = Field(ge=0, le=36)


@rpc_contract(SERVICE, "withdraw_product", ProductOut)
class WithdrawProductRequest(Payload):
    actor: Actor
    institution_id: Id
    product_id: Id


@rpc_contract(SERVICE, "list_products", ProductList)
class ListProductsRequest(Payload):
    institution_id: Id | None = None
    active_only: bool = True


@rpc_contract(SERVICE, "post_financing_need", FinancingNeedOut)
class PostFinancingNeedRequest(Payload):
    actor: Actor
    enterprise_id: Id
    need_id: Id | None = Field(default=None, max_length=64)
    amount: Decimal = Field(gt=0, description="yuan")
    term_months: int = Field(ge=1, le=360)
    purpose: str = Field(min_length=1, max_length=1000)
    industry: str | None = Field(default=None, max_length=64)


@rpc_contract(SERVICE, "match_financing", FinancingMatchList)
class MatchFinancingRequest(Payload):
    need_id: Id
    product_id: Id | None = Field(default=None, description="explain one product (404 if unknown)")
    only_matched: bool = True


@rpc_contract(SERVICE, "list_financing_needs", FinancingNeedList)
class ListFinancingNeedsRequest(Payload):
    enterprise_id: Id | None = None
    institution_id: Id | None = Field(
        default=None, description="only needs matching one of this institution's products"
    )
    status: Literal["open", "granted", "withdrawn"] | None = None


@rpc_contract(SERVICE, "respond_financing", FinancingNeedOut)
class RespondFinancingRequest(Payload):
    actor: Actor
    institution_id: Id
    need_id: Id
    product_id: Id = Field(min_length=1, max_length=64)
    response: Literal["interested", "declined", "offer"]
    offer_amount: Decimal | None = Field(default=None, gt=0)
    offer_rate_pct: Decimal | None = Field(default=None, ge=0, le=36)
    note: str = Field(default="", max_length=500)


@rpc_contract(SERVICE, "record_financing_outcome", FinancingNeedOut)
class RecordFinancingOutcomeRequest(Payload):
    actor: Actor
    enterprise_id: Id
    need_id: Id
    product_id: Id = Field(min_length=1, max_length=64)
    granted_amount: Decimal = Field(gt=0)


# --- talent ------------------------------------------------------------------------------


class JobOut(Payload):
    posting_id: Id
    enterprise_id: Id
    title: str
    description: str
    headcount: int
    hires: int
    status: str
    posted_at: datetime
    applications: list[dict[str, Any]] = Field(default_factory=list)
    version: int


class JobList(Payload):
    items: list[JobOut]


@rpc_contract(SERVICE, "post_job", JobOut)
class PostJobRequest(Payload):
    actor: Actor
    enterprise_id: Id
    posting_id: Id | None = Field(default=None, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=5000)
    headcount: int = Field(ge=1, le=10000)


@rpc_contract(SERVICE, "list_jobs", JobList)
class ListJobsRequest(Payload):
    enterprise_id: Id | None = None
    status: Literal["open", "closed"] | None = None
    include_applications: bool = False


@rpc_contract(SERVICE, "apply_job", JobOut)
class ApplyJobRequest(Payload):
    actor: Actor
    posting_id: Id
    candidate_name: str = Field(min_length=1, max_length=100)
    contact: str = Field(min_length=1, max_length=200)


@rpc_contract(SERVICE, "decide_application", JobOut)
class DecideApplicationRequest(Payload):
    actor: Actor
    enterprise_id: Id
    posting_id: Id
    application_id: Id
    decision: Literal["shortlist", "reject", "hire"]


class HireCountsOut(Payload):
    total: int
    by_enterprise: dict[str, int]


@rpc_contract(SERVICE, "hire_counts", HireCountsOut)
class HireCountsRequest(Payload):
    jurisdiction_prefix: str = Field(default="", pattern=CODE)


# --- technical support -------------------------------------------------------------------


class CapabilityOut(Payload):
    capability_id: Id
    institution_id: Id
    name: str
    tags: list[str]
    description: str


class CapabilityList(Payload):
    items: list[CapabilityOut]


class TechMatchOut(Payload):
    capability_id: Id
    institution_id: Id
    score: float
    jaccard: float
    shared_tags: list[str]


class TechNeedOut(Payload):
    need_id: Id
    enterprise_id: Id
    title: str
    description: str
    tags: list[str]
    status: str
    created_at: datetime
    engaged_institution_id: Id | None = None
    matches: list[TechMatchOut] = Field(default_factory=list)
    version: int


class TechNeedList(Payload):
    items: list[TechNeedOut]


@rpc_contract(SERVICE, "publish_capability", CapabilityOut)
class PublishCapabilityRequest(Payload):
    actor: Actor
    institution_id: Id
    capability_id: Id | None = Field(default=None, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    tags: list[str] = Field(min_length=1, max_length=50)
    description: str = Field(default="", max_length=2000)


@rpc_contract(SERVICE, "list_capabilities", CapabilityList)
class ListCapabilitiesRequest(Payload):
    institution_id: Id | None = None


@rpc_contract(SERVICE, "post_tech_need", TechNeedOut)
class PostTechNeedRequest(Payload):
    actor: Actor
    enterprise_id: Id
    need_id: Id | None = Field(default=None, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=5000)
    tags: list[str] = Field(default_factory=list, max_length=30)


@rpc_contract(SERVICE, "list_tech_needs", TechNeedList)
class ListTechNeedsRequest(Payload):
    enterprise_id: Id | None = None
    institution_id: Id | None = Field(
        default=None, description="only needs matching this institution's capabilities"
    )
    status: Literal["open", "engaged", "resolved"] | None = None


@rpc_contract(SERVICE, "engage_tech_need", TechNeedOut)
class EngageTechNeedRequest(Payload):
    actor: Actor
    institution_id: Id
    need_id: Id


@rpc_contract(SERVICE, "resolve_tech_need", TechNeedOut)
class ResolveTechNeedRequest(Payload):
    actor: Actor
    enterprise_id: Id
    need_id: Id


# --- policies ----------------------------------------------------------------------------


class PolicyOut(Payload):
    policy_id: Id
    title: str
    summary: str
    industries: list[str]
    sizes: list[str]
    district_codes: list[str]
    min_years_established: int | None = None
    required_tags: list[str]
    valid_from: date | None = None
    valid_until: date | None = None


class PolicyList(Payload):
    items: list[PolicyOut]


class EligibilityOut(Payload):
    policy: PolicyOut
    eligible: bool
    reasons: list[ReasonOut]


class EligibilityList(Payload):
    enterprise_id: Id
    items: list[EligibilityOut]


class PolicyReachOut(Payload):
    policy_id: Id
    enterprise_ids: list[Id]
    examined: int
    missed_by_rule: dict[str, int]


@rpc_contract(SERVICE, "publish_policy", PolicyOut)
class PublishPolicyRequest(Payload):
    actor: Actor
    policy_id: Id | None = Field(default=None, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    summary: str = Field(min_length=1, max_length=5000)
    industries: list[str] = Field(default_factory=list, max_length=50)
    sizes: list[Literal["micro", "small", "medium", "large"]] = Field(default_factory=list)
    district_codes: list[str] = Field(default_factory=list, max_length=50)
    min_years_established: int | None = Field(default=None, ge=0, le=200)
    required_tags: list[str] = Field(default_factory=list, max_length=30)
    valid_from: date | None = None
    valid_until: date | None = None


@rpc_contract(SERVICE, "list_policies", PolicyList)
class ListPoliciesRequest(Payload):
    pass


@rpc_contract(SERVICE, "policies_for_enterprise", EligibilityList)
class PoliciesForEnterpriseRequest(Payload):
    enterprise_id: Id
    include_ineligible: bool = False


@rpc_contract(SERVICE, "policy_reach", PolicyReachOut)
class PolicyReachRequest(Payload):
    policy_id: Id
    jurisdiction_prefix: str = Field(default="", pattern=CODE)


# --- key projects ------------------------------------------------------------------------


class StepIn(Payload):
    name: str = Field(min_length=1, max_length=200)
    department: str = Field(min_length=1, max_length=64)
    working_days: float = Field(gt=0, le=365)


class ProjectOut(Payload):
    project_id: Id
    name: str
    district_code: str
    leader_id: str
    status: str
    warn_share: float
    steps: list[dict[str, Any]]
    progress: dict[str, Any]
    version: int


class ProjectList(Payload):
    items: list[ProjectOut]
    total: int


@rpc_contract(SERVICE, "create_project", ProjectOut)
class CreateProjectRequest(Payload):
    actor: Actor
    project_id: Id | None = Field(default=None, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    district_code: str = Field(pattern=r"^[0-9]{6}$")
    leader_id: str = Field(min_length=1, max_length=64)
    steps: list[StepIn] | None = Field(
        default=None, max_length=50, description="default: the standard compressed procedure"
    )
    warn_share: float = Field(default=0.8, gt=0, lt=1)


@rpc_contract(SERVICE, "start_project", ProjectOut)
class StartProjectRequest(Payload):
    actor: Actor
    project_id: Id


@rpc_contract(SERVICE, "approve_step", ProjectOut)
class ApproveStepRequest(Payload):
    actor: Actor
    project_id: Id
    step_index: int = Field(ge=0)
    expected_version: int | None = Field(default=None, ge=1)


@rpc_contract(SERVICE, "get_project", ProjectOut)
class GetProjectRequest(Payload):
    project_id: Id


@rpc_contract(SERVICE, "list_projects", ProjectList)
class ListProjectsRequest(Payload):
    jurisdiction_prefix: str = Field(default="", pattern=CODE)
    status: Literal["planned", "in_approval", "approved"] | None = None
    department: str | None = Field(default=None, max_length=64)
    late_only: bool = False


SUBSCRIPTIONS: list[Subscription] = []
