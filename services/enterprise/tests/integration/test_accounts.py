"""Registration and verification against the real database."""

from __future__ import annotations

import pytest

from services.enterprise.service_layer import accounts, demands
from yiwang.contracts.enterprise import (
    AccountsOfUserRequest,
    FileDemandRequest,
    ListEnterprisesRequest,
    RegisterEnterpriseRequest,
)
from yiwang.errors import Conflict, Forbidden, ValidationFailed

from .conftest import GRID, World, owner

pytestmark = pytest.mark.integration


def _request(uscc: str, **kw: object) -> RegisterEnterpriseRequest:
    args: dict[str, object] = dict(
        actor=owner(),
        uscc=uscc,
        name="盘锦某化工有限公司",
        industry="chemicals",
        address="石化园区8号",
        grid_code=GRID,
        size="medium",
    )
    args.update(kw)
    return RegisterEnterpriseRequest(**args)  # type: ignore[arg-type]


def test_valid_uscc_registers_pending_enterprise_with_event(world: World) -> None:
    code = next(world.codes)
    spaced = f"{code[:6]} {code[6:12]}-{code[12:].lower()}"
    ent = accounts.register_enterprise(world.uow(), _request(spaced), world.now)
    assert ent["uscc"] == code and ent["status"] == "pending" and ent["version"] == 1
    assert ent["district_code"] == "329901" and ent["users"] == {"owner-1": "admin"}
    assert world.outbox_types() == ["enterprise.registered"]
    env = world.outbox()[0]
    assert env["jurisdiction_code"] == GRID and env["payload"]["uscc"] == code
    mine = accounts.accounts_of_user(world.uow(), AccountsOfUserRequest(user_id="owner-1"))
    assert mine["enterprise_ids"] == [ent["enterprise_id"]]


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda c: c[:17] + ("0" if c[17] != "0" else "1"), "uscc_checksum"),
        (lambda c: c[:17], "uscc_length"),
        (lambda c: "I" + c[1:], "uscc_charset"),
        (lambda c: c[:2] + "99" + c[4:], "uscc_admin_division"),
    ],
)
def test_invalid_uscc_is_refused_and_nothing_is_stored(world: World, mutate, code) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as err:
        accounts.register_enterprise(world.uow(), _request(mutate(next(world.codes))), world.now)
    assert err.value.code == code and err.value.status == 422
    assert world.count("enterprises") == 0 and world.count("outbox") == 0


def test_taken_uscc_is_a_conflict_and_changes_nothing(world: World) -> None:
    code = next(world.codes)
    accounts.register_enterprise(world.uow(), _request(code), world.now)
    with pytest.raises(Conflict) as err:
        accounts.register_enterprise(world.uow(), _request(code, name="另一家"), world.now)
    assert err.value.code == "uscc_taken"
    assert world.count("enterprises") == 1 and world.outbox_types() == ["enterprise.registered"]


def test_verification_emits_event_and_unverified_cannot_file(world: World) -> None:
    pending = world.enterprise(verified=False)
    with pytest.raises(Forbidden) as err:
        demands.file_demand(
            world.uow(),
            FileDemandRequest(
                actor=owner(), enterprise_id=pending, category="land", description="用地指标"
            ),
            world.now,
        )
    assert err.value.code == "enterprise_not_verified"
    assert world.count("demands") == 0
    verified = world.enterprise(user="owner-2")
    types = world.outbox_types()
    assert types.count("enterprise.verified") == 1
    verified_env = [e for e in world.outbox() if e["type"] == "enterprise.verified"][0]
    assert verified_env["payload"]["enterprise_id"] == verified
    page = accounts.list_enterprises(
        world.uow(), ListEnterprisesRequest(jurisdiction_prefix="329901", status="verified")
    )
    assert [e["enterprise_id"] for e in page["items"]] == [verified]
