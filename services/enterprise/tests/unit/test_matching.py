from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.enterprise.domain.financing import (
    FinancingProduct,
    explain_match,
    match_need,
    match_product,
    post_need,
)
from services.enterprise.domain.policies import (
    Policy,
    check_eligibility,
    policies_for,
    policy_reach,
)
from services.enterprise.domain.talent import count_hires, post_job
from services.enterprise.domain.techsupport import Capability, match_capabilities, post_tech_need
from yiwang.errors import Conflict, Forbidden, NotFound, ValidationFailed

from .conftest import MONDAY_10, Factory


def _bank_setup(make: Factory):  # type: ignore[no-untyped-def]
    bank = make.institution("bank")
    uid = f"iu{make.n}"
    cheap = FinancingProduct.create(
        product_id="P1",
        institution=bank,
        name="科创贷",
        min_amount=100_000,
        max_amount=5_000_000,
        min_term_months=6,
        max_term_months=36,
        sectors=["Manufacturing"],
        annual_rate_pct="3.45",
    )
    wide = FinancingProduct.create(
        product_id="P2",
        institution=bank,
        name="普惠贷",
        min_amount=10_000,
        max_amount=1_000_000,
        min_term_months=1,
        max_term_months=12,
        annual_rate_pct="4.2",
    )
    return bank, uid, {"P1": cheap, "P2": wide}


def test_financing_matching_is_explained(make: Factory) -> None:
    ent = make.enterprise()
    _, _, cat = _bank_setup(make)
    need = post_need(
        need_id="N1",
        enterprise=ent,
        user_id="u1",
        amount="800000",
        term_months=24,
        purpose="设备更新",
        now=MONDAY_10,
    )
    assert [m.product_id for m in match_need(need, cat.values())] == ["P1"]
    why = explain_match(need, cat, "P2")
    assert not why.matched
    assert {r.rule: r.ok for r in why.reasons} == {
        "amount": True,
        "term": False,
        "sector": True,
        "active": True,
    }
    assert "24" in next(r.message_zh for r in why.reasons if r.rule == "term")
    with pytest.raises(NotFound) as exc:
        explain_match(need, cat, "P404")
    assert exc.value.code == "unknown_product" and exc.value.status == 404


def test_financing_respond_and_outcome(make: Factory) -> None:
    ent = make.enterprise()
    bank, uid, cat = _bank_setup(make)
    other_bank = make.institution("bank")
    need = post_need(
        need_id="N1",
        enterprise=ent,
        user_id="u1",
        amount=500_000,
        term_months=12,
        purpose="流动资金",
        now=MONDAY_10,
    )
    with pytest.raises(NotFound):
        need.respond(
            catalogue=cat,
            product_id="nope",
            institution=bank,
            user_id=uid,
            response="offer",
            now=MONDAY_10,
        )
    with pytest.raises(Forbidden):
        need.respond(
            catalogue=cat,
            product_id="P1",
            institution=other_bank,
            user_id=f"iu{make.n}",
            response="interested",
            now=MONDAY_10,
        )
    with pytest.raises(Conflict):
        need.record_outcome(catalogue=cat, product_id="P1", granted_amount=1, now=MONDAY_10)
    with pytest.raises(ValidationFailed):
        need.respond(
            catalogue=cat,
            product_id="P1",
            institution=bank,
            user_id=uid,
            response="offer",
            offer_amount=9_000_000,
            now=MONDAY_10,
        )
    assert need.responses == {}
    need.respond(
        catalogue=cat,
        product_id="P1",
        institution=bank,
        user_id=uid,
        response="offer",
        offer_amount=400_000,
        now=MONDAY_10,
    )
    with pytest.raises(ValidationFailed):
        need.record_outcome(catalogue=cat, product_id="P1", granted_amount=400_001, now=MONDAY_10)
    ev = need.record_outcome(catalogue=cat, product_id="P1", granted_amount="400000", now=MONDAY_10)
    assert ev.granted_amount == Decimal(400000) and need.status == "granted"
    assert ev.to_dict()["granted_amount"] == "400000"


def test_only_verified_banks_publish_products(make: Factory) -> None:
    pending = make.institution("bank", verified=False)
    research = make.institution("research_institute")
    for inst in (pending, research):
        with pytest.raises(Forbidden):
            FinancingProduct.create(
                product_id="X",
                institution=inst,
                name="x",
                min_amount=1,
                max_amount=2,
                min_term_months=1,
                max_term_months=2,
                annual_rate_pct="3",
            )


@settings(max_examples=150, deadline=None)
@given(amount=st.integers(1, 10_000_000), term=st.integers(1, 120))
def test_match_iff_every_rule_holds(amount: int, term: int) -> None:
    make = Factory()
    ent = make.enterprise()
    _, _, cat = _bank_setup(make)
    need = post_need(
        need_id="N",
        enterprise=ent,
        user_id="u1",
        amount=amount,
        term_months=term,
        purpose="p",
        now=MONDAY_10,
    )
    for p in cat.values():
        m = match_product(need, p)
        expected = (
            p.min_amount <= amount <= p.max_amount
            and p.min_term_months <= term <= p.max_term_months
        )
        assert m.matched == expected == all(r.ok for r in m.reasons)


def test_tech_support_scores_tag_and_text_overlap(make: Factory) -> None:
    ent = make.enterprise()
    inst = make.institution("research_institute")
    caps = [
        Capability.create(
            capability_id="C1", institution=inst, name="催化", tags=["催化剂", "石化", "Process"]
        ),
        Capability.create(
            capability_id="C2", institution=inst, name="视觉", tags=["machine vision"]
        ),
        Capability.create(capability_id="C3", institution=inst, name="石化", tags=["石化"]),
    ]
    need = post_tech_need(
        need_id="T1",
        enterprise=ent,
        user_id="u1",
        title="裂解装置催化剂寿命短",
        description="希望优化工艺",
        tags=["process", "石化"],
        now=MONDAY_10,
    )
    ms = match_capabilities(need, caps)
    assert [m.capability_id for m in ms] == ["C1", "C3"]
    assert ms[0].score == 1.0 and ms[0].shared_tags == ("process", "催化剂", "石化")
    assert ms[1].score == pytest.approx(0.5)
    with pytest.raises(Forbidden):
        Capability.create(
            capability_id="C9", institution=make.institution("bank"), name="x", tags=["a"]
        )


def test_policies_both_ways(make: Factory) -> None:
    old_small = make.enterprise(size="small", established_on=date(2015, 3, 1), tags=["high_tech"])
    young = make.enterprise(size="small", established_on=date(2024, 6, 1), tags=["high_tech"])
    large = make.enterprise(size="large", established_on=date(2010, 1, 1))
    pending = make.enterprise(
        verified=False, size="small", established_on=date(2015, 1, 1), tags=["high_tech"]
    )
    policy = Policy.create(
        policy_id="PL1",
        title="高新技术中小企业补贴",
        summary="研发费用补贴",
        industries=["manufacturing"],
        sizes=["micro", "small", "medium"],
        district_codes=["211103"],
        min_years_established=3,
        required_tags=["High_Tech"],
        valid_until=date(2026, 12, 31),
    )
    elsewhere = Policy.create(
        policy_id="PL2", title="外区政策", summary="x", district_codes=["211102"]
    )
    on = date(2026, 1, 5)
    assert [e.policy_id for e in policies_for(old_small, [policy, elsewhere], on)] == ["PL1"]
    miss = check_eligibility(policy, large, on)
    assert set(miss.failed_rules) == {"size", "tags"}
    assert check_eligibility(policy, young, on).failed_rules == ("years_established",)
    reach = policy_reach(policy, [old_small, young, large, pending], on)
    assert reach.enterprise_ids == (old_small.enterprise_id,) and reach.examined == 3
    assert reach.missed_by_rule == {"years_established": 1, "size": 1, "tags": 1}
    assert not check_eligibility(policy, old_small, date(2027, 1, 1)).eligible
    with pytest.raises(ValidationFailed):
        Policy.create(policy_id="X", title="x", summary="x", sizes=["huge"])


def test_talent_pipeline_and_hire_counts(make: Factory) -> None:
    a, b = make.enterprise(), make.enterprise()
    job = post_job(
        posting_id="J1",
        enterprise=a,
        user_id="u1",
        title="工艺工程师",
        description="x",
        headcount=1,
        now=MONDAY_10,
    )
    job2 = post_job(
        posting_id="J2",
        enterprise=b,
        user_id="u2",
        title="焊工",
        description="x",
        headcount=5,
        now=MONDAY_10,
    )
    job.apply(
        application_id="A1", candidate_id="c1", candidate_name="张三", contact="139", now=MONDAY_10
    )
    job.apply(
        application_id="A2", candidate_id="c2", candidate_name="李四", contact="138", now=MONDAY_10
    )
    with pytest.raises(Conflict):
        job.apply(
            application_id="A3",
            candidate_id="c1",
            candidate_name="张三",
            contact="139",
            now=MONDAY_10,
        )
    with pytest.raises(Conflict):
        job.hire(a, "u1", "A1", MONDAY_10)  # must be shortlisted first
    with pytest.raises(Forbidden):
        job.shortlist(b, "u2", "A1", MONDAY_10)
    job.shortlist(a, "u1", "A1", MONDAY_10)
    job.shortlist(a, "u1", "A2", MONDAY_10)
    job.hire(a, "u1", "A1", MONDAY_10)
    assert job.status == "closed"
    with pytest.raises(Conflict):
        job.hire(a, "u1", "A2", MONDAY_10)
    job.reject(a, "u1", "A2", MONDAY_10)
    job2.apply(
        application_id="B1", candidate_id="c3", candidate_name="王五", contact="137", now=MONDAY_10
    )
    job2.shortlist(b, "u2", "B1", MONDAY_10)
    job2.hire(b, "u2", "B1", MONDAY_10)
    counts = count_hires([job, job2])
    assert counts.total == 2 and counts.by_enterprise == {a.enterprise_id: 1, b.enterprise_id: 1}
    with pytest.raises(Forbidden):
        post_job(
            posting_id="J3",
            enterprise=make.enterprise(verified=False),
            user_id=f"u{make.n}",
            title="x",
            description="x",
            headcount=1,
            now=MONDAY_10,
        )
