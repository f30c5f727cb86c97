"""The nameko methods themselves (without a broker): requests and responses checked against
their contracts, DomainErrors wrapped for the wire."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.enterprise.service import EnterpriseService
from yiwang.contracts.rpc import all_rpc_contracts
from yiwang.nameko.rpc import RemoteDomainError

from .conftest import DISTRICT, GRID, STAFF, World, owner

pytestmark = pytest.mark.integration


class Stub:
    def __init__(self, world: World) -> None:
        self.uow = world.uow
        self.clock = world.clock
        self.name = "enterprise"

    def __getattr__(self, method: str) -> Any:
        fn = getattr(EnterpriseService, method)
        return lambda **kw: fn(self, **json.loads(json.dumps(kw, default=str)))


def test_every_contract_has_a_method() -> None:
    methods = {c.method for c in all_rpc_contracts() if c.service == "enterprise"}
    assert all(callable(getattr(EnterpriseService, m, None)) for m in methods)


def test_flow_through_service_methods(world: World) -> None:
    svc = Stub(world)
    staff = STAFF.model_dump()
    me = owner().model_dump()
    ent = svc.register_enterprise(
        actor=me,
        uscc=next(world.codes),
        name="云州精工",
        industry="manufacturing",
        address="一号路",
        grid_code=GRID,
        size="small",
    )
    svc.review_enterprise(actor=staff, enterprise_id=ent["enterprise_id"], decision="verify")
    svc.set_responsibility(
        actor=staff,
        district_code=DISTRICT,
        category="*",
        leader_id="leader-1",
        department="industry_info",
    )
    d = svc.file_demand(
        actor=me, enterprise_id=ent["enterprise_id"], category="land", description="用地指标不足"
    )
    d = svc.assign_demand(actor=staff, demand_id=d["demand_id"])
    assert d["status"] == "assigned"
    listed = svc.list_demands(jurisdiction_prefix=DISTRICT)
    assert listed["total"] == 1
    p = svc.create_project(
        actor=staff, name="数据中心", district_code=DISTRICT, leader_id="leader-1"
    )
    assert len(p["steps"]) == 7
    svc.start_project(actor=staff, project_id=p["project_id"])
    assert svc.list_projects(jurisdiction_prefix=DISTRICT)["total"] == 1
    assert svc.run_sweeps()["demands_overdue"] == 0
    assert svc.policies_for_enterprise(enterprise_id=ent["enterprise_id"])["items"] == []
    assert svc.accounts_of_user(user_id=me["id"])["enterprise_ids"] == [ent["enterprise_id"]]

    with pytest.raises(RemoteDomainError) as err:
        svc.approve_step(actor=staff, project_id=p["project_id"], step_index=3)
    assert json.loads(err.value.args[0])["code"] == "step_out_of_order"
    with pytest.raises(RemoteDomainError) as err:
        svc.register_enterprise(
            actor=me,
            uscc="91329901MA0000000X",
            name="x",
            industry="x",
            address="x",
            grid_code=GRID,
            size="small",
        )
    assert json.loads(err.value.args[0])["code"].startswith("uscc_")
