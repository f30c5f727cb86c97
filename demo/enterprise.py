"""Demo data for the enterprise platforms, through the service layer (idempotent).

``python -m demo.enterprise [--district 329901] [--grid 329901001001001]``

Creates verified enterprises (``demo-enterprise-1`` is the one the gateway's demo account
``demo_enterprise`` acts for), two banks (``demo-institution-1`` for ``demo_institution``)
and a research institute with products and capabilities, demand routing, three policies,
and the seed's 23 key projects started over the last 30 days with some steps approved.
Everything already present is left as it is.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from services.enterprise.adapters.repository import (
    CAPABILITIES,
    ENTERPRISES,
    INSTITUTIONS,
    POLICIES,
    PRODUCTS,
    PROJECTS,
    Repository,
)
from services.enterprise.domain.projects import STANDARD_PROCEDURE, KeyProject, create_project
from services.enterprise.domain.uscc import uscc_generator
from services.enterprise.service_layer import (
    accounts,
    demands,
    financing,
    policies,
    projects,
    techsupport,
)
from yiwang.clock import Clock, SystemClock, require_aware
from yiwang.contracts import enterprise as c
from yiwang.uow import UnitOfWork

ENTERPRISES_DEMO = [
    (
        "demo-enterprise-1",
        "云州精密机械制造有限公司",
        "manufacturing",
        "medium",
        ["high_tech"],
        2012,
    ),
    ("demo-enterprise-2", "云州石化新材料股份有限公司", "chemicals", "large", [], 2004),
    ("demo-enterprise-3", "云州智慧物流有限公司", "logistics", "small", [], 2019),
    (
        "demo-enterprise-4",
        "云州芯光电子科技有限公司",
        "electronics",
        "micro",
        ["high_tech", "专精特新"],
        2021,
    ),
]
INSTITUTIONS_DEMO = [
    ("demo-institution-1", "bank", "云州农商银行"),
    ("demo-institution-2", "bank", "中国工商银行云州分行"),
    ("demo-institution-3", "research_institute", "云州化工新材料研究院"),
]
PRODUCTS_DEMO = [
    (
        "demo-product-1",
        "demo-institution-1",
        "科创贷",
        100_000,
        5_000_000,
        6,
        36,
        ["manufacturing", "electronics"],
        "3.85",
    ),
    ("demo-product-2", "demo-institution-1", "订单贷", 50_000, 1_000_000, 3, 12, [], "4.35"),
    (
        "demo-product-3",
        "demo-institution-2",
        "固定资产贷款",
        1_000_000,
        50_000_000,
        12,
        120,
        ["chemicals", "manufacturing"],
        "3.65",
    ),
]
CAPABILITIES_DEMO = [
    ("demo-capability-1", "催化剂研发与评价", ["催化剂", "石化", "新材料"]),
    ("demo-capability-2", "工业废水处理工艺", ["废水", "环保", "石化"]),
]


KEY_PROJECT_COUNT = 23  # seed 004
_KINDS = (
    "智能制造产业园",
    "石化新材料",
    "物流中心",
    "数据中心",
    "商业综合体",
    "医药研发基地",
    "新能源装备",
)


def demo_key_projects(
    *,
    district_code: str,
    leader_id: str,
    start: datetime,
    seed: int = 4,
    count: int = KEY_PROJECT_COUNT,
) -> list[KeyProject]:
    """``count`` planned projects (start them with ``KeyProject.start``), reproducible per seed."""
    require_aware(start)
    rng = random.Random(seed)
    projects = []
    for i in range(count):
        name = f"重点项目{i + 1:02d}：{rng.choice(_KINDS)}"
        projects.append(
            create_project(
                project_id=f"KP{i + 1:03d}",
                name=name,
                district_code=district_code,
                leader_id=leader_id,
                steps=STANDARD_PROCEDURE,
            )
        )
    return projects


def demo_start_times(
    start: datetime, count: int = KEY_PROJECT_COUNT, seed: int = 4
) -> list[datetime]:
    """Staggered procedure start times over the 30 days after ``start``."""
    rng = random.Random(seed)
    return [
        start + timedelta(days=rng.randint(0, 29), hours=rng.randint(0, 8)) for _ in range(count)
    ]


def _system(district: str) -> c.Actor:
    return c.Actor(
        id="demo-seed", role="district_staff", name="演示数据", jurisdiction_code=district
    )


def _missing(uow: Callable[[], UnitOfWork], repo: Repository[Any], id_: str) -> bool:
    u = uow()
    with u:
        return not repo.exists(u.session, id_)


def seed(
    uow: Callable[[], UnitOfWork],
    clock: Clock,
    *,
    district: str = "329901",
    grid: str = "329901001001001",
    seed: int = 4,
) -> dict[str, int]:
    now = clock.now()
    staff = _system(district)
    codes = uscc_generator(seed=seed, division_code=district)
    created: dict[str, int] = {
        k: 0
        for k in ("enterprises", "institutions", "products", "capabilities", "policies", "projects")
    }

    for ent_id, name, industry, size, tags, year in ENTERPRISES_DEMO:
        uscc = next(codes)
        if not _missing(uow, ENTERPRISES, ent_id):
            continue
        accounts.register_enterprise(
            uow(),
            c.RegisterEnterpriseRequest(
                actor=c.Actor(id=f"{ent_id}-admin", role="enterprise_user"),
                enterprise_id=ent_id,
                uscc=uscc,
                name=name,
                industry=industry,
                address=f"{name[:2]}经济开发区",
                grid_code=grid,
                size=size,  # type: ignore[arg-type]
                tags=tags,
                established_on=date(year, 6, 1),
            ),
            now,
        )  # type: ignore[arg-type]
        accounts.review_enterprise(
            uow(),
            c.ReviewEnterpriseRequest(actor=staff, enterprise_id=ent_id, decision="verify"),
            now,
        )
        created["enterprises"] += 1

    for inst_id, kind, name in INSTITUTIONS_DEMO:
        uscc = next(codes)
        if not _missing(uow, INSTITUTIONS, inst_id):
            continue
        accounts.register_institution(
            uow(),
            c.RegisterInstitutionRequest(
                actor=c.Actor(id=f"{inst_id}-admin", role="institution_user"),
                institution_id=inst_id,
                kind=kind,  # type: ignore[arg-type]
                name=name,
                uscc=uscc,
                district_code=district,
            ),
            now,
        )  # type: ignore[arg-type]
        accounts.review_institution(
            uow(),
            c.ReviewInstitutionRequest(actor=staff, institution_id=inst_id, decision="verify"),
            now,
        )
        created["institutions"] += 1

    for pid, inst_id, name, lo, hi, tlo, thi, sectors, rate in PRODUCTS_DEMO:
        if _missing(uow, PRODUCTS, pid):
            financing.publish_product(
                uow(),
                c.PublishProductRequest(
                    actor=c.Actor(id=f"{inst_id}-admin", role="institution_user"),
                    institution_id=inst_id,
                    product_id=pid,
                    name=name,
                    min_amount=Decimal(lo),
                    max_amount=Decimal(hi),
                    min_term_months=tlo,
                    max_term_months=thi,
                    sectors=sectors,
                    annual_rate_pct=Decimal(rate),
                ),
                now,
            )
            created["products"] += 1

    for cap_id, name, tags in CAPABILITIES_DEMO:
        if _missing(uow, CAPABILITIES, cap_id):
            techsupport.publish_capability(
                uow(),
                c.PublishCapabilityRequest(
                    actor=c.Actor(id="demo-institution-3-admin", role="institution_user"),
                    institution_id="demo-institution-3",
                    capability_id=cap_id,
                    name=name,
                    tags=tags,
                ),
                now,
            )
            created["capabilities"] += 1

    for category, leader, department in (
        ("*", f"leader-{district}", "industry_info"),
        ("land", f"leader-{district}", "natural_resources"),
        ("financing", f"leader-{district}", "finance"),
    ):
        demands.set_responsibility(
            uow(),
            c.SetResponsibilityRequest(
                actor=staff,
                district_code=district,
                category=category,
                leader_id=leader,
                department=department,
            ),
            now,
        )

    for pol in (
        dict(
            policy_id="demo-policy-1",
            title="高新技术企业认定奖励",
            summary="首次认定的高新技术企业一次性奖励30万元。",
            required_tags=["high_tech"],
        ),
        dict(
            policy_id="demo-policy-2",
            title="中小微企业贷款贴息",
            summary="中小微企业流动资金贷款按LPR的30%贴息。",
            sizes=["micro", "small", "medium"],
        ),
        dict(
            policy_id="demo-policy-3",
            title="制造业技改补助",
            summary="成立满三年的制造业企业技改投资按10%补助。",
            industries=["manufacturing"],
            min_years_established=3,
            district_codes=[district],
        ),
    ):
        if _missing(uow, POLICIES, str(pol["policy_id"])):
            policies.publish_policy(uow(), c.PublishPolicyRequest(actor=staff, **pol), now)  # type: ignore[arg-type]
            created["policies"] += 1

    start = now - timedelta(days=30)
    rng = random.Random(seed)
    plans = demo_key_projects(
        district_code=district, leader_id=f"leader-{district}", start=start, seed=seed
    )
    for plan, started in zip(plans, demo_start_times(start, len(plans), seed), strict=True):
        if not _missing(uow, PROJECTS, plan.project_id):
            continue
        projects.create_project(
            uow(),
            c.CreateProjectRequest(
                actor=staff,
                project_id=plan.project_id,
                name=plan.name,
                district_code=district,
                leader_id=plan.leader_id,
            ),
            now,
        )
        p = projects.start_project(
            uow(), c.StartProjectRequest(actor=staff, project_id=plan.project_id), started
        )
        at = started
        for step in p["steps"][: rng.randint(0, len(p["steps"]) - 1)]:
            at = at + timedelta(days=step["working_days"] * rng.uniform(0.3, 1.4))
            if at >= now:
                break
            dept = c.Actor(
                id=f"{step['department']}-demo",
                role="department_handler",
                jurisdiction_code=district,
                department=step["department"],
            )
            projects.approve_step(
                uow(),
                c.ApproveStepRequest(
                    actor=dept, project_id=plan.project_id, step_index=step["index"]
                ),
                at,
            )
        created["projects"] += 1
    return created


def main(argv: list[str]) -> int:
    from yiwang.config import Settings
    from yiwang.db import make_engine
    from yiwang.uow import uow_factory

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--district", default="329901")
    parser.add_argument("--grid", default="329901001001001")
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args(argv)
    engine = make_engine(Settings().database_url, pool_size=2)
    try:
        factory = uow_factory(engine, producer="enterprise", schema="enterprise")
        created = seed(
            factory, SystemClock(), district=args.district, grid=args.grid, seed=args.seed
        )
    finally:
        engine.dispose()
    print("enterprise demo:", ", ".join(f"{k} +{v}" for k, v in created.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
