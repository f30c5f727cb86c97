"""Financing, talent, technical support and policy platforms through the service layer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.enterprise.service_layer import financing, policies, talent, techsupport
from yiwang.contracts.enterprise import (
    Actor,
    ApplyJobRequest,
    DecideApplicationRequest,
    EngageTechNeedRequest,
    HireCountsRequest,
    ListFinancingNeedsRequest,
    MatchFinancingRequest,
    PoliciesForEnterpriseRequest,
    PolicyReachRequest,
    PostFinancingNeedRequest,
    PostJobRequest,
    PostTechNeedRequest,
    PublishCapabilityRequest,
    PublishPolicyRequest,
    PublishProductRequest,
    RecordFinancingOutcomeRequest,
    RespondFinancingRequest,
)
from yiwang.errors import Forbidden, NotFound

from .conftest import DISTRICT, STAFF, World, owner

pytestmark = pytest.mark.integration
BANKER = Actor(id="banker-1", role="institution_user")
RESEARCHER = Actor(id="prof-1", role="institution_user")


def test_financing_match_offer_and_outcome(world: World) -> None:
    bank = world.institution("bank", BANKER.id)
    ent = world.enterprise()
    product = financing.publish_product(
        world.uow(),
        PublishProductRequest(
            actor=BANKER,
            institution_id=bank,
            product_id="FP-1",
            name="科创贷",
            min_amount=Decimal("100000"),
            max_amount=Decimal("5000000"),
            min_term_months=6,
            max_term_months=36,
            sectors=["manufacturing"],
            annual_rate_pct=Decimal("3.85"),
        ),
        world.now,
    )
    assert product["active"] is True
    need = financing.post_need(
        world.uow(),
        PostFinancingNeedRequest(
            actor=owner(),
            enterprise_id=ent,
            need_id="FN-1",
            amount=Decimal("2000000"),
            term_months=12,
            purpose="购置设备",
        ),
        world.now,
    )
    assert [m["product_id"] for m in need["matches"]] == ["FP-1"]
    with pytest.raises(NotFound) as err:
        financing.match_financing(
            world.uow(), MatchFinancingRequest(need_id="FN-1", product_id="FP-404")
        )
    assert err.value.code == "unknown_product"
    mine = financing.list_needs(world.uow(), ListFinancingNeedsRequest(institution_id=bank))
    assert [n["need_id"] for n in mine["items"]] == ["FN-1"]
    financing.respond(
        world.uow(),
        RespondFinancingRequest(
            actor=BANKER,
            institution_id=bank,
            need_id="FN-1",
            product_id="FP-1",
            response="offer",
            offer_amount=Decimal("1500000"),
        ),
        world.now,
    )
    done = financing.record_outcome(
        world.uow(),
        RecordFinancingOutcomeRequest(
            actor=owner(),
            enterprise_id=ent,
            need_id="FN-1",
            product_id="FP-1",
            granted_amount=Decimal("1500000"),
        ),
        world.now,
    )
    assert done["status"] == "granted"
    assert world.outbox_types().count("financing.granted") == 1


def test_jobs_and_hire_counts(world: World) -> None:
    ent = world.enterprise()
    job = talent.post_job(
        world.uow(),
        PostJobRequest(
            actor=owner(), enterprise_id=ent, title="焊工", description="持证", headcount=1
        ),
        world.now,
    )
    applied = talent.apply_job(
        world.uow(),
        ApplyJobRequest(
            actor=Actor(id="c-1", role="citizen"),
            posting_id=job["posting_id"],
            candidate_name="张三",
            contact="13800000000",
        ),
        world.now,
    )
    app_id = applied["applications"][0]["application_id"]
    with pytest.raises(Forbidden):
        talent.decide(
            world.uow(),
            DecideApplicationRequest(
                actor=owner("intruder"),
                enterprise_id=ent,
                posting_id=job["posting_id"],
                application_id=app_id,
                decision="shortlist",
            ),
            world.now,
        )
    for decision in ("shortlist", "hire"):
        out = talent.decide(
            world.uow(),
            DecideApplicationRequest(
                actor=owner(),
                enterprise_id=ent,
                posting_id=job["posting_id"],
                application_id=app_id,
                decision=decision,
            ),  # type: ignore[arg-type]
            world.now,
        )
    assert out["status"] == "closed" and out["hires"] == 1
    counts = talent.hire_counts(world.uow(), HireCountsRequest(jurisdiction_prefix=DISTRICT))
    assert counts == {"total": 1, "by_enterprise": {ent: 1}}


def test_tech_support_and_policies(world: World) -> None:
    lab = world.institution("research_institute", RESEARCHER.id)
    ent = world.enterprise(tags=["high_tech"], established_on=date(2015, 3, 1))
    techsupport.publish_capability(
        world.uow(),
        PublishCapabilityRequest(
            actor=RESEARCHER,
            institution_id=lab,
            capability_id="CAP-1",
            name="催化剂研发",
            tags=["催化剂", "石化"],
        ),
        world.now,
    )
    need = techsupport.post_need(
        world.uow(),
        PostTechNeedRequest(
            actor=owner(),
            enterprise_id=ent,
            need_id="TN-1",
            title="催化剂寿命短",
            description="石化装置催化剂寿命偏短",
        ),
        world.now,
    )
    assert need["matches"][0]["capability_id"] == "CAP-1"
    engaged = techsupport.engage(
        world.uow(),
        EngageTechNeedRequest(actor=RESEARCHER, institution_id=lab, need_id="TN-1"),
        world.now,
    )
    assert engaged["status"] == "engaged"

    policies.publish_policy(
        world.uow(),
        PublishPolicyRequest(
            actor=STAFF,
            policy_id="POL-1",
            title="高新技术企业奖励",
            summary="奖励",
            required_tags=["high_tech"],
            district_codes=[DISTRICT],
            min_years_established=3,
        ),
        world.now,
    )
    policies.publish_policy(
        world.uow(),
        PublishPolicyRequest(
            actor=STAFF, policy_id="POL-2", title="大型企业", summary="x", sizes=["large"]
        ),
        world.now,
    )
    with pytest.raises(Forbidden):
        policies.publish_policy(
            world.uow(), PublishPolicyRequest(actor=owner(), title="x", summary="y"), world.now
        )
    mine = policies.policies_for_enterprise(
        world.uow(), PoliciesForEnterpriseRequest(enterprise_id=ent), world.now
    )
    assert [i["policy"]["policy_id"] for i in mine["items"]] == ["POL-1"]
    reach = policies.policy_reach(world.uow(), PolicyReachRequest(policy_id="POL-2"), world.now)
    assert reach["enterprise_ids"] == [] and reach["missed_by_rule"] == {"size": 1}
