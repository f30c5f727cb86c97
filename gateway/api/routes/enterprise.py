"""Enterprise platforms (一企一网) in three editions, all through the enterprise service.

- enterprise edition (``enterprise_user``): register, file and rate demands, matching
  policies and financing products, financing/tech needs, job postings;
- government edition (district staff, leaders, department handlers): verify accounts,
  route and answer demands, policies and their reach, key-project approvals and progress;
- institution edition (``institution_user``): products, responses to financing needs,
  research capabilities and tech needs.

Accounts act for the enterprise/institution the gateway binds them to
(``Principal.enterprise_id`` / ``institution_id``), else the one they registered.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel

from gateway.api.bodies import body_of
from gateway.api.params import Jurisdiction
from gateway.deps import RpcDep
from gateway.security import STAFF_ROLES, Principal, require
from yiwang.contracts.enterprise import (
    AddDemandNoteRequest,
    AddEnterpriseUserRequest,
    ApplyJobRequest,
    AssignDemandRequest,
    CapabilityList,
    CapabilityOut,
    CreateProjectRequest,
    DecideApplicationRequest,
    DemandList,
    DemandOut,
    EligibilityList,
    EnterpriseList,
    EnterpriseOut,
    FileDemandRequest,
    FinancingMatchList,
    FinancingNeedList,
    FinancingNeedOut,
    HireCountsOut,
    InstitutionList,
    InstitutionOut,
    JobList,
    JobOut,
    PolicyList,
    PolicyOut,
    PolicyReachOut,
    PostFinancingNeedRequest,
    PostJobRequest,
    PostTechNeedRequest,
    ProductList,
    ProductOut,
    ProjectList,
    ProjectOut,
    PublishCapabilityRequest,
    PublishPolicyRequest,
    PublishProductRequest,
    RateDemandRequest,
    RecordFinancingOutcomeRequest,
    RegisterEnterpriseRequest,
    RegisterInstitutionRequest,
    RespondFinancingRequest,
    ResponsibilityList,
    ResponsibilityOut,
    ReviewEnterpriseRequest,
    SetResponsibilityRequest,
    SweepResult,
    TechNeedList,
    TechNeedOut,
)
from yiwang.errors import Forbidden

router = APIRouter(prefix="/api/v1/enterprise", tags=["enterprise"])

GOV = {"district_staff", "city_staff", "street_staff", "leader", "department_handler", "admin"}
EVERYONE = {
    *STAFF_ROLES,
    "citizen",
    "department_handler",
    "leader",
    "volunteer",
    "enterprise_user",
    "institution_user",
    "admin",
}

POLICY = {
    # enterprise edition
    "enterprise.register": {"enterprise_user"},
    "enterprise.own.read": {"enterprise_user"},
    "enterprise.own.manage": {"enterprise_user"},
    "enterprise.demand.file": {"enterprise_user"},
    "enterprise.demand.rate": {"enterprise_user"},
    "enterprise.demand.read": {"enterprise_user", *GOV},
    "enterprise.policy.match": {"enterprise_user"},
    "enterprise.financing.request": {"enterprise_user"},
    "enterprise.financing.read": {"enterprise_user", "institution_user", *GOV},
    "enterprise.jobs.post": {"enterprise_user"},
    "enterprise.jobs.read": EVERYONE,
    "enterprise.jobs.apply": {"citizen", "volunteer", "enterprise_user"},
    "enterprise.tech.request": {"enterprise_user"},
    "enterprise.tech.read": {"enterprise_user", "institution_user", *GOV},
    "enterprise.catalogue.read": {"enterprise_user", "institution_user", *GOV},
    # government edition
    "enterprise.accounts.read": GOV,
    "enterprise.accounts.verify": {"district_staff", "admin"},
    "enterprise.routing.manage": {"district_staff", "leader", "admin"},
    "enterprise.demand.list": GOV,
    "enterprise.demand.assign": {"district_staff", "leader", "admin"},
    "enterprise.demand.handle": {"leader", "department_handler", "district_staff"},
    "enterprise.policy.publish": {"district_staff", "city_staff", "leader", "admin"},
    "enterprise.policy.reach": GOV,
    "enterprise.policy.read": EVERYONE,
    "enterprise.project.manage": {"district_staff", "leader", "admin"},
    "enterprise.project.approve": {"department_handler"},
    "enterprise.project.read": GOV,
    "enterprise.stats.read": GOV,
    "enterprise.sweeps.run": {"admin"},
    # institution edition
    "enterprise.institution.register": {"institution_user"},
    "enterprise.institution.read": {"institution_user"},
    "enterprise.products.manage": {"institution_user"},
    "enterprise.capabilities.manage": {"institution_user"},
}

SVC = "enterprise"
Id = Annotated[str, Path(min_length=1, max_length=64)]


def actor(who: Principal) -> dict[str, Any]:
    return {
        "id": who.account_id,
        "role": who.role,
        "name": who.display_name[:100],
        "jurisdiction_code": who.jurisdiction_code,
        "department": who.department,
        "enterprise_id": who.enterprise_id,
        "institution_id": who.institution_id,
    }


async def my_enterprise(who: Principal, rpc: Any) -> str:
    if who.enterprise_id:
        return who.enterprise_id
    mine = await rpc.call(SVC, "accounts_of_user", user_id=who.account_id)
    if not mine["enterprise_ids"]:
        raise Forbidden(
            "no_enterprise", "your account acts for no enterprise yet", "您的账号尚未关联企业"
        )
    return str(mine["enterprise_ids"][0])


async def my_institution(who: Principal, rpc: Any) -> str:
    if who.institution_id:
        return who.institution_id
    mine = await rpc.call(SVC, "accounts_of_user", user_id=who.account_id)
    if not mine["institution_ids"]:
        raise Forbidden(
            "no_institution", "your account acts for no institution yet", "您的账号尚未关联机构"
        )
    return str(mine["institution_ids"][0])


M = TypeVar("M", bound=BaseModel)


def created(response: Response, url: str, body: M) -> M:
    response.status_code = 201
    response.headers["Location"] = url
    return body


# === enterprise edition ================================================================


EnterpriseIn = body_of(
    RegisterEnterpriseRequest,
    "EnterpriseIn",
    exclude={"enterprise_id"},
    examples=[
        {
            "uscc": "91329901MA0ABCDE6Q",
            "name": "安平市平湖精密机械有限公司",
            "industry": "manufacturing",
            "address": "安平市平湖区兴业路88号",
            "grid_code": "329901001001001",
            "size": "small",
            "established_on": "2016-05-18",
            "tags": ["high_tech"],
        }
    ],
)


@router.post(
    "/enterprises", status_code=201, summary="Register an enterprise (USCC checked), pending review"
)
async def register_enterprise(
    body: EnterpriseIn,
    rpc: RpcDep,
    response: Response,
    who: Annotated[Principal, Depends(require("enterprise.register"))],
) -> EnterpriseOut:
    ent = await rpc.call_typed(SVC, "register_enterprise", actor=actor(who), **body.model_dump())
    return created(response, f"/api/v1/enterprise/enterprises/{ent.enterprise_id}", ent)


@router.get("/me", summary="The enterprise this account acts for")
async def my_enterprise_view(
    rpc: RpcDep, who: Annotated[Principal, Depends(require("enterprise.own.read"))]
) -> EnterpriseOut:
    return await rpc.call_typed(SVC, "get_enterprise", enterprise_id=await my_enterprise(who, rpc))


UserIn = body_of(
    AddEnterpriseUserRequest,
    "UserIn",
    exclude={"enterprise_id"},
    examples=[{"user_id": "acc-enterprise-1-002", "role": "member"}],
)


@router.post("/me/users", summary="Add a user to my enterprise (admins)")
async def add_user(
    body: UserIn, rpc: RpcDep, who: Annotated[Principal, Depends(require("enterprise.own.manage"))]
) -> EnterpriseOut:
    return await rpc.call_typed(
        SVC,
        "add_enterprise_user",
        actor=actor(who),
        enterprise_id=await my_enterprise(who, rpc),
        **body.model_dump(),
    )


DemandIn = body_of(
    FileDemandRequest,
    "DemandIn",
    exclude={"enterprise_id", "demand_id"},
    examples=[
        {
            "category": "power_supply",
            "title": "新厂房申请增容",
            "description": "新厂房下月投产，现有变压器容量不足，需要增容到800千伏安",
            "urgency": "urgent",
            "attachments": [],
        }
    ],
)


@router.post("/demands", status_code=201, summary="File a problem demand to the district's leaders")
async def file_demand(
    body: DemandIn,
    rpc: RpcDep,
    response: Response,
    who: Annotated[Principal, Depends(require("enterprise.demand.file"))],
) -> DemandOut:
    d = await rpc.call_typed(
        SVC,
        "file_demand",
        actor=actor(who),
        enterprise_id=await my_enterprise(who, rpc),
        **body.model_dump(),
    )
    return created(response, f"/api/v1/enterprise/demands/{d.demand_id}", d)


@router.get("/demands/mine", summary="My enterprise's demands")
async def my_demands(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.demand.file"))],
    status: Annotated[
        str | None,
        Query(
            max_length=16,
            description="Only demands in this status (诉求状态): filed, assigned, in_progress, "
            "answered, closed",
            examples=["in_progress"],
        ),
    ] = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> DemandList:
    return await rpc.call_typed(
        SVC,
        "list_demands",
        enterprise_id=await my_enterprise(who, rpc),
        status=status,
        page=page,
        page_size=page_size,
    )


NoteIn = body_of(
    AddDemandNoteRequest,
    "NoteIn",
    exclude={"demand_id"},
    examples=[{"text": "已联系供电所，周三上午现场勘查", "attachments": [], "expected_version": 2}],
)


@router.post("/demands/{demand_id}/notes", summary="Add information to my demand")
async def add_note(
    demand_id: Id,
    body: NoteIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.demand.file"))],
) -> DemandOut:
    return await rpc.call_typed(
        SVC, "add_demand_note", actor=actor(who), demand_id=demand_id, **body.model_dump()
    )


RatingIn = body_of(
    RateDemandRequest,
    "RatingIn",
    exclude={"demand_id"},
    examples=[{"score": 5, "comment": "响应及时，问题已解决", "expected_version": 4}],
)


@router.post(
    "/demands/{demand_id}/rating",
    summary="Rate the answer: 3–5 closes, 1–2 sends it back for rework",
)
async def rate_demand(
    demand_id: Id,
    body: RatingIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.demand.rate"))],
) -> DemandOut:
    return await rpc.call_typed(
        SVC, "rate_demand", actor=actor(who), demand_id=demand_id, **body.model_dump()
    )


@router.get("/policies/mine", summary="Policies my enterprise is eligible for, with reasons")
async def my_policies(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.policy.match"))],
    include_ineligible: bool = False,
) -> EligibilityList:
    return await rpc.call_typed(
        SVC,
        "policies_for_enterprise",
        enterprise_id=await my_enterprise(who, rpc),
        include_ineligible=include_ineligible,
    )


FinancingNeedIn = body_of(
    PostFinancingNeedRequest,
    "FinancingNeedIn",
    exclude={"enterprise_id", "need_id"},
    examples=[
        {
            "amount": 500000,
            "term_months": 12,
            "purpose": "采购原材料，补充流动资金",
            "industry": "manufacturing",
        }
    ],
)


async def own_account_scope(who: Principal, rpc: Any) -> dict[str, str]:
    """Enterprise and institution users see their own account's items; officials see all."""
    if who.role == "enterprise_user":
        return {"enterprise_id": await my_enterprise(who, rpc)}
    if who.role == "institution_user":
        return {"institution_id": await my_institution(who, rpc)}
    return {}


@router.post(
    "/financing/needs",
    status_code=201,
    summary="Publish a financing need; returns matching products",
)
async def post_financing_need(
    body: FinancingNeedIn,
    rpc: RpcDep,
    response: Response,
    who: Annotated[Principal, Depends(require("enterprise.financing.request"))],
) -> FinancingNeedOut:
    n = await rpc.call_typed(
        SVC,
        "post_financing_need",
        actor=actor(who),
        enterprise_id=await my_enterprise(who, rpc),
        **body.model_dump(),
    )
    return created(response, f"/api/v1/enterprise/financing/needs/{n.need_id}", n)


@router.get(
    "/financing/needs",
    summary="Financing needs: my enterprise's, those matching my products, or all (gov)",
)
async def list_financing_needs(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.financing.read"))],
    status: Literal["open", "granted", "withdrawn"] | None = None,
) -> FinancingNeedList:
    kw: dict[str, Any] = {"status": status, **await own_account_scope(who, rpc)}
    return await rpc.call_typed(SVC, "list_financing_needs", **kw)


@router.get(
    "/financing/needs/{need_id}/matches",
    summary="Products for a need, every rule explained (one product: ?product_id=)",
)
async def financing_matches(
    need_id: Id,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.financing.read"))],
    product_id: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Check this one product only (its rules explained even if unmatched)",
            examples=["demo-product-1"],
        ),
    ] = None,
    only_matched: bool = True,
) -> FinancingMatchList:
    return await rpc.call_typed(
        SVC, "match_financing", need_id=need_id, product_id=product_id, only_matched=only_matched
    )


OutcomeIn = body_of(
    RecordFinancingOutcomeRequest,
    "OutcomeIn",
    exclude={"enterprise_id", "need_id"},
    examples=[{"product_id": "prod-agri-bank-01", "granted_amount": 300000}],
)


@router.post("/financing/needs/{need_id}/outcome", summary="Record the loan granted")
async def financing_outcome(
    need_id: Id,
    body: OutcomeIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.financing.request"))],
) -> FinancingNeedOut:
    return await rpc.call_typed(
        SVC,
        "record_financing_outcome",
        actor=actor(who),
        enterprise_id=await my_enterprise(who, rpc),
        need_id=need_id,
        **body.model_dump(),
    )


@router.get("/financing/products", summary="Financing products on offer")
async def list_products(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.catalogue.read"))],
    institution_id: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Only the products of this financial institution (金融机构)",
            examples=["demo-institution-1"],
        ),
    ] = None,
) -> ProductList:
    return await rpc.call_typed(SVC, "list_products", institution_id=institution_id)


JobIn = body_of(
    PostJobRequest,
    "JobIn",
    exclude={"enterprise_id", "posting_id"},
    examples=[
        {"title": "数控车床操作工", "description": "两班倒，提供宿舍，有经验者优先", "headcount": 5}
    ],
)


@router.post("/jobs", status_code=201, summary="Post a job")
async def post_job(
    body: JobIn,
    rpc: RpcDep,
    response: Response,
    who: Annotated[Principal, Depends(require("enterprise.jobs.post"))],
) -> JobOut:
    j = await rpc.call_typed(
        SVC,
        "post_job",
        actor=actor(who),
        enterprise_id=await my_enterprise(who, rpc),
        **body.model_dump(),
    )
    return created(response, f"/api/v1/enterprise/jobs/{j.posting_id}", j)


@router.get("/jobs", summary="Open job postings (applications only for the posting enterprise)")
async def list_jobs(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.jobs.read"))],
    status: Literal["open", "closed"] | None = "open",
    mine: bool = False,
) -> JobList:
    if mine:
        if who.role != "enterprise_user":
            raise Forbidden("enterprise_only", "only enterprises have postings", "仅企业有岗位")
        return await rpc.call_typed(
            SVC,
            "list_jobs",
            enterprise_id=await my_enterprise(who, rpc),
            status=status,
            include_applications=True,
        )
    return await rpc.call_typed(SVC, "list_jobs", status=status)


ApplicationIn = body_of(
    ApplyJobRequest,
    "ApplicationIn",
    exclude={"posting_id"},
    examples=[{"candidate_name": "刘强", "contact": "13500002222"}],
)


@router.post("/jobs/{posting_id}/applications", summary="Apply for a job")
async def apply_job(
    posting_id: Id,
    body: ApplicationIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.jobs.apply"))],
) -> JobOut:
    return await rpc.call_typed(
        SVC, "apply_job", actor=actor(who), posting_id=posting_id, **body.model_dump()
    )


DecisionIn = body_of(
    DecideApplicationRequest, "DecisionIn", only={"decision"}, examples=[{"decision": "shortlist"}]
)


@router.post(
    "/jobs/{posting_id}/applications/{application_id}/decision",
    summary="Shortlist, reject or hire an applicant",
)
async def decide_application(
    posting_id: Id,
    application_id: Id,
    body: DecisionIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.jobs.post"))],
) -> JobOut:
    return await rpc.call_typed(
        SVC,
        "decide_application",
        actor=actor(who),
        enterprise_id=await my_enterprise(who, rpc),
        posting_id=posting_id,
        application_id=application_id,
        decision=body.decision,
    )


TechNeedIn = body_of(
    PostTechNeedRequest,
    "TechNeedIn",
    exclude={"enterprise_id", "need_id"},
    examples=[
        {
            "title": "焊接工艺自动化改造",
            "description": "希望与高校合作开发焊接机器人视觉定位",
            "tags": ["automation", "machine_vision"],
        }
    ],
)


@router.post(
    "/tech-needs",
    status_code=201,
    summary="Publish a technical need; returns matching capabilities",
)
async def post_tech_need(
    body: TechNeedIn,
    rpc: RpcDep,
    response: Response,
    who: Annotated[Principal, Depends(require("enterprise.tech.request"))],
) -> TechNeedOut:
    n = await rpc.call_typed(
        SVC,
        "post_tech_need",
        actor=actor(who),
        enterprise_id=await my_enterprise(who, rpc),
        **body.model_dump(),
    )
    return created(response, f"/api/v1/enterprise/tech-needs/{n.need_id}", n)


@router.get(
    "/tech-needs",
    summary="Tech needs: my enterprise's, those matching my capabilities, or all (gov)",
)
async def list_tech_needs(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.tech.read"))],
    status: Literal["open", "engaged", "resolved"] | None = None,
) -> TechNeedList:
    kw: dict[str, Any] = {"status": status, **await own_account_scope(who, rpc)}
    return await rpc.call_typed(SVC, "list_tech_needs", **kw)


@router.post("/tech-needs/{need_id}/resolve", summary="Mark my tech need resolved")
async def resolve_tech_need(
    need_id: Id,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.tech.request"))],
) -> TechNeedOut:
    return await rpc.call_typed(
        SVC,
        "resolve_tech_need",
        actor=actor(who),
        enterprise_id=await my_enterprise(who, rpc),
        need_id=need_id,
    )


@router.get("/capabilities", summary="Research institutions' capabilities")
async def list_capabilities(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.catalogue.read"))],
    institution_id: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Only the capabilities of this research institution (科研机构)",
            examples=["demo-institution-3"],
        ),
    ] = None,
) -> CapabilityList:
    return await rpc.call_typed(SVC, "list_capabilities", institution_id=institution_id)


@router.get("/policies", summary="Published policies")
async def list_policies(
    rpc: RpcDep, who: Annotated[Principal, Depends(require("enterprise.policy.read"))]
) -> PolicyList:
    return await rpc.call_typed(SVC, "list_policies")


# === both: one demand ==================================================================


@router.get("/demands/{demand_id}", summary="One demand with its timeline")
async def get_demand(
    demand_id: Id,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.demand.read"))],
) -> DemandOut:
    d = await rpc.call_typed(SVC, "get_demand", demand_id=demand_id)
    if who.role == "enterprise_user":
        if d.enterprise_id != await my_enterprise(who, rpc):
            raise Forbidden(
                "not_own_demand", "this demand belongs to another enterprise", "该诉求属于其他企业"
            )
    else:
        who.check_jurisdiction(d.grid_code)
    return d


# === government edition ================================================================


@router.get("/enterprises", summary="Enterprises in my jurisdiction (filter by status)")
async def list_enterprises(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.accounts.read"))],
    jurisdiction: Jurisdiction = "",
    status: Literal["pending", "verified", "rejected"] | None = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> EnterpriseList:
    return await rpc.call_typed(
        SVC,
        "list_enterprises",
        jurisdiction_prefix=who.jurisdiction_prefix(jurisdiction),
        status=status,
        page=page,
        page_size=page_size,
    )


@router.get("/enterprises/{enterprise_id}", summary="One enterprise")
async def get_enterprise(
    enterprise_id: Id,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.accounts.read"))],
) -> EnterpriseOut:
    ent = await rpc.call_typed(SVC, "get_enterprise", enterprise_id=enterprise_id)
    who.check_jurisdiction(ent.grid_code)
    return ent


ReviewIn = body_of(
    ReviewEnterpriseRequest,
    "ReviewIn",
    only={"decision", "reason"},
    examples=[{"decision": "verify", "reason": ""}],
)


@router.post("/enterprises/{enterprise_id}/review", summary="Verify or reject an enterprise")
async def review_enterprise(
    enterprise_id: Id,
    body: ReviewIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.accounts.verify"))],
) -> EnterpriseOut:
    return await rpc.call_typed(
        SVC, "review_enterprise", actor=actor(who), enterprise_id=enterprise_id, **body.model_dump()
    )


@router.get("/institutions", summary="Institutions (banks, research institutes, recruiters)")
async def list_institutions(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.accounts.read"))],
    jurisdiction: Jurisdiction = "",
    kind: Literal["bank", "research_institute", "recruiter", "other"] | None = None,
    status: Literal["pending", "verified", "rejected"] | None = None,
) -> InstitutionList:
    return await rpc.call_typed(
        SVC,
        "list_institutions",
        jurisdiction_prefix=who.jurisdiction_prefix(jurisdiction),
        kind=kind,
        status=status,
    )


@router.post("/institutions/{institution_id}/review", summary="Verify or reject an institution")
async def review_institution(
    institution_id: Id,
    body: ReviewIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.accounts.verify"))],
) -> InstitutionOut:
    return await rpc.call_typed(
        SVC,
        "review_institution",
        actor=actor(who),
        institution_id=institution_id,
        **body.model_dump(),
    )


ResponsibilityIn = body_of(
    SetResponsibilityRequest,
    "ResponsibilityIn",
    examples=[
        {
            "district_code": "329901",
            "category": "power_supply",
            "leader_id": "acc-leader-329901",
            "department": "development_reform",
        }
    ],
)


@router.put("/responsibilities", summary="Who answers a district's demands of a category")
async def set_responsibility(
    body: ResponsibilityIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.routing.manage"))],
) -> ResponsibilityOut:
    who.check_jurisdiction(body.district_code)
    return await rpc.call_typed(SVC, "set_responsibility", actor=actor(who), **body.model_dump())


@router.get("/responsibilities", summary="Demand routing table")
async def list_responsibilities(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.demand.list"))],
    jurisdiction: Jurisdiction = "",
) -> ResponsibilityList:
    return await rpc.call_typed(
        SVC, "list_responsibilities", jurisdiction_prefix=who.jurisdiction_prefix(jurisdiction)
    )


@router.get("/demands", summary="Demands in my jurisdiction (department handlers: theirs)")
async def list_demands(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.demand.list"))],
    jurisdiction: Jurisdiction = "",
    status: Literal["filed", "assigned", "in_progress", "answered", "closed"] | None = None,
    overdue: bool | None = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> DemandList:
    department = who.department if who.role == "department_handler" else None
    return await rpc.call_typed(
        SVC,
        "list_demands",
        jurisdiction_prefix=who.jurisdiction_prefix(jurisdiction),
        status=status,
        overdue=overdue,
        department=department,
        page=page,
        page_size=page_size,
    )


VersionIn = body_of(
    AssignDemandRequest, "VersionIn", only={"expected_version"}, examples=[{"expected_version": 3}]
)


@router.post(
    "/demands/{demand_id}/assignment",
    summary="Route to the responsible leader and department; starts the SLA",
)
async def assign_demand(
    demand_id: Id,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.demand.assign"))],
    body: VersionIn | None = None,
) -> DemandOut:
    return await rpc.call_typed(
        SVC,
        "assign_demand",
        actor=actor(who),
        demand_id=demand_id,
        expected_version=body.expected_version if body else None,
    )


@router.post("/demands/{demand_id}/replies", summary="A progress reply in the timeline")
async def reply_demand(
    demand_id: Id,
    body: NoteIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.demand.handle"))],
) -> DemandOut:
    return await rpc.call_typed(
        SVC, "reply_demand", actor=actor(who), demand_id=demand_id, **body.model_dump()
    )


@router.post("/demands/{demand_id}/answer", summary="The formal answer (stops the SLA clock)")
async def answer_demand(
    demand_id: Id,
    body: NoteIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.demand.handle"))],
) -> DemandOut:
    return await rpc.call_typed(
        SVC, "answer_demand", actor=actor(who), demand_id=demand_id, **body.model_dump()
    )


PolicyIn = body_of(
    PublishPolicyRequest,
    "PolicyIn",
    exclude={"policy_id"},
    examples=[
        {
            "title": "小微企业稳岗补贴",
            "summary": "上年度未裁员或裁员率低于5%的小微企业，按参保人数给予补贴",
            "industries": ["manufacturing"],
            "sizes": ["micro", "small"],
            "district_codes": ["329901"],
            "min_years_established": 1,
            "required_tags": [],
            "valid_from": "2026-01-01",
            "valid_until": "2026-12-31",
        }
    ],
)


@router.post("/policies", status_code=201, summary="Publish a policy with eligibility attributes")
async def publish_policy(
    body: PolicyIn,
    rpc: RpcDep,
    response: Response,
    who: Annotated[Principal, Depends(require("enterprise.policy.publish"))],
) -> PolicyOut:
    for code in body.district_codes:
        who.check_jurisdiction(code)
    p = await rpc.call_typed(SVC, "publish_policy", actor=actor(who), **body.model_dump())
    return created(response, f"/api/v1/enterprise/policies/{p.policy_id}", p)


@router.get(
    "/policies/{policy_id}/reach",
    summary="Which enterprises a policy reaches, and why the others miss it",
)
async def policy_reach(
    policy_id: Id,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.policy.reach"))],
    jurisdiction: Jurisdiction = "",
) -> PolicyReachOut:
    return await rpc.call_typed(
        SVC,
        "policy_reach",
        policy_id=policy_id,
        jurisdiction_prefix=who.jurisdiction_prefix(jurisdiction),
    )


ProjectIn = body_of(
    CreateProjectRequest,
    "ProjectIn",
    exclude={"project_id"},
    examples=[
        {
            "name": "平湖区智能装备产业园一期",
            "district_code": "329901",
            "leader_id": "acc-leader-329901",
            "steps": [{"name": "用地预审", "department": "natural_resources", "working_days": 10}],
            "warn_share": 0.8,
        }
    ],
)


@router.post("/projects", status_code=201, summary="A key project with its approval procedure")
async def create_project(
    body: ProjectIn,
    rpc: RpcDep,
    response: Response,
    who: Annotated[Principal, Depends(require("enterprise.project.manage"))],
) -> ProjectOut:
    who.check_jurisdiction(body.district_code)
    p = await rpc.call_typed(SVC, "create_project", actor=actor(who), **body.model_dump())
    return created(response, f"/api/v1/enterprise/projects/{p.project_id}", p)


@router.post("/projects/{project_id}/start", summary="Start the approval procedure")
async def start_project(
    project_id: Id,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.project.manage"))],
) -> ProjectOut:
    return await rpc.call_typed(SVC, "start_project", actor=actor(who), project_id=project_id)


@router.post(
    "/projects/{project_id}/steps/{step_index}/approval",
    summary="The owner department approves the current step (out of order → 409)",
)
async def approve_step(
    project_id: Id,
    step_index: Annotated[int, Path(ge=0, le=50)],
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.project.approve"))],
    body: VersionIn | None = None,
) -> ProjectOut:
    return await rpc.call_typed(
        SVC,
        "approve_step",
        actor=actor(who),
        project_id=project_id,
        step_index=step_index,
        expected_version=body.expected_version if body else None,
    )


@router.get("/projects", summary="Key projects' progress (leaders' view)")
async def list_projects(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.project.read"))],
    jurisdiction: Jurisdiction = "",
    status: Literal["planned", "in_approval", "approved"] | None = None,
    late_only: bool = False,
) -> ProjectList:
    department = who.department if who.role == "department_handler" else None
    return await rpc.call_typed(
        SVC,
        "list_projects",
        jurisdiction_prefix=who.jurisdiction_prefix(jurisdiction),
        status=status,
        department=department,
        late_only=late_only,
    )


@router.get("/projects/{project_id}", summary="One key project with steps and progress")
async def get_project(
    project_id: Id,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.project.read"))],
) -> ProjectOut:
    p = await rpc.call_typed(SVC, "get_project", project_id=project_id)
    who.check_jurisdiction(p.district_code)
    return p


@router.get("/stats/hires", summary="Hires through the talent platform")
async def hire_counts(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.stats.read"))],
    jurisdiction: Jurisdiction = "",
) -> HireCountsOut:
    return await rpc.call_typed(
        SVC, "hire_counts", jurisdiction_prefix=who.jurisdiction_prefix(jurisdiction)
    )


@router.post("/sweeps", summary="Run the overdue and approval-warning sweeps now")
async def run_sweeps(
    rpc: RpcDep, who: Annotated[Principal, Depends(require("enterprise.sweeps.run"))]
) -> SweepResult:
    return await rpc.call_typed(SVC, "run_sweeps")


# === institution edition ===============================================================


InstitutionIn = body_of(
    RegisterInstitutionRequest,
    "InstitutionIn",
    exclude={"institution_id"},
    examples=[
        {
            "kind": "bank",
            "name": "安平农商银行平湖支行",
            "uscc": "91329901MA0BANK01X",
            "district_code": "329901",
        }
    ],
)


@router.post(
    "/institutions", status_code=201, summary="Register a bank, research institute or recruiter"
)
async def register_institution(
    body: InstitutionIn,
    rpc: RpcDep,
    response: Response,
    who: Annotated[Principal, Depends(require("enterprise.institution.register"))],
) -> InstitutionOut:
    i = await rpc.call_typed(SVC, "register_institution", actor=actor(who), **body.model_dump())
    return created(response, f"/api/v1/enterprise/institutions/{i.institution_id}", i)


@router.get("/institutions/me", summary="The institution this account acts for")
async def my_institution_view(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.institution.read"))],
) -> InstitutionOut:
    return await rpc.call_typed(
        SVC, "get_institution", institution_id=await my_institution(who, rpc)
    )


ProductIn = body_of(
    PublishProductRequest,
    "ProductIn",
    exclude={"institution_id", "product_id"},
    examples=[
        {
            "name": "科创贷",
            "min_amount": 100000,
            "max_amount": 3000000,
            "min_term_months": 6,
            "max_term_months": 36,
            "sectors": ["manufacturing"],
            "annual_rate_pct": 3.85,
        }
    ],
)


@router.post("/financing/products", status_code=201, summary="Publish a financing product (banks)")
async def publish_product(
    body: ProductIn,
    rpc: RpcDep,
    response: Response,
    who: Annotated[Principal, Depends(require("enterprise.products.manage"))],
) -> ProductOut:
    p = await rpc.call_typed(
        SVC,
        "publish_product",
        actor=actor(who),
        institution_id=await my_institution(who, rpc),
        **body.model_dump(),
    )
    return created(response, f"/api/v1/enterprise/financing/products/{p.product_id}", p)


@router.delete("/financing/products/{product_id}", summary="Withdraw a product")
async def withdraw_product(
    product_id: Id,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.products.manage"))],
) -> ProductOut:
    return await rpc.call_typed(
        SVC,
        "withdraw_product",
        actor=actor(who),
        institution_id=await my_institution(who, rpc),
        product_id=product_id,
    )


FinancingResponseIn = body_of(
    RespondFinancingRequest,
    "FinancingResponseIn",
    exclude={"institution_id", "need_id"},
    examples=[
        {
            "product_id": "prod-agri-bank-01",
            "response": "offer",
            "offer_amount": 300000,
            "offer_rate_pct": 3.85,
            "note": "需提供近两年财务报表",
        }
    ],
)


@router.post(
    "/financing/needs/{need_id}/responses",
    summary="Respond to a financing need with one of my products",
)
async def respond_financing(
    need_id: Id,
    body: FinancingResponseIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.products.manage"))],
) -> FinancingNeedOut:
    return await rpc.call_typed(
        SVC,
        "respond_financing",
        actor=actor(who),
        institution_id=await my_institution(who, rpc),
        need_id=need_id,
        **body.model_dump(),
    )


CapabilityIn = body_of(
    PublishCapabilityRequest,
    "CapabilityIn",
    exclude={"institution_id", "capability_id"},
    examples=[
        {
            "name": "工业机器人视觉定位",
            "tags": ["machine_vision", "automation"],
            "description": "安平职业技术学院智能制造实验室",
        }
    ],
)


@router.post(
    "/capabilities", status_code=201, summary="Publish a research capability (research institutes)"
)
async def publish_capability(
    body: CapabilityIn,
    rpc: RpcDep,
    response: Response,
    who: Annotated[Principal, Depends(require("enterprise.capabilities.manage"))],
) -> CapabilityOut:
    c = await rpc.call_typed(
        SVC,
        "publish_capability",
        actor=actor(who),
        institution_id=await my_institution(who, rpc),
        **body.model_dump(),
    )
    return created(response, f"/api/v1/enterprise/capabilities/{c.capability_id}", c)


@router.post("/tech-needs/{need_id}/engagement", summary="Take a tech need on")
async def engage_tech_need(
    need_id: Id,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("enterprise.capabilities.manage"))],
) -> TechNeedOut:
    return await rpc.call_typed(
        SVC,
        "engage_tech_need",
        actor=actor(who),
        institution_id=await my_institution(who, rpc),
        need_id=need_id,
    )
