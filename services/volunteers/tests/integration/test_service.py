"""The nameko class end to end over its contracts (worker_factory, real database)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from nameko.testing.services import worker_factory

from services.volunteers.service import VolunteersService
from services.volunteers.tests.integration.helpers import COMMUNITY, KEYS, PLACE, STAFF, T0
from yiwang.clock import FakeClock
from yiwang.nameko.rpc import RemoteDomainError

pytestmark = pytest.mark.integration


def test_rpc_loop_and_timer_sweep(make_uow) -> None:  # type: ignore[no-untyped-def]
    svc = worker_factory(VolunteersService, uow=make_uow, qr_keys=KEYS)
    clock = FakeClock(T0)
    svc.clock = clock
    staff = STAFF.model_dump()
    o = svc.place_order(
        resident_id="r-svc",
        community_code=COMMUNITY,
        category="chat",
        description="陪聊",
        window_start=(T0 + timedelta(hours=1)).isoformat(),
        window_end=(T0 + timedelta(hours=3)).isoformat(),
        lat=PLACE[0],
        lon=PLACE[1],
    )
    assert o["status"] == "ordered"
    svc.publish_order(staff=staff, order_id=o["order_id"])
    with pytest.raises(RemoteDomainError) as e:
        svc.claim_order(order_id=o["order_id"], claimant_kind="volunteer", claimant_id="nobody")
    assert json.loads(e.value.args[0])["code"] == "registration_not_found"
    with pytest.raises(RemoteDomainError) as e:
        svc.rate_order(order_id=o["order_id"], resident_id="r-svc", stars=9)
    assert json.loads(e.value.args[0])["code"] == "invalid_request"
    clock.advance(hours=3)
    assert svc.sweep_deadlines().get("escalate", 0) >= 1
    got = svc.get_order(order_id=o["order_id"])
    assert got["status"] == "escalated"
