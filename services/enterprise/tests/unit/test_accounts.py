from __future__ import annotations

import pytest

from services.enterprise.domain.accounts import VerificationStatus, register_enterprise
from services.enterprise.domain.common import Official
from yiwang.errors import Conflict, Forbidden, ValidationFailed

from .conftest import MONDAY_10, Factory


def test_register_rejects_bad_uscc_and_grid() -> None:
    base = dict(
        enterprise_id="E",
        name="n",
        industry="i",
        address="a",
        size="small",
        admin_user_id="u",
        now=MONDAY_10,
    )
    with pytest.raises(ValidationFailed) as exc:
        register_enterprise(uscc="91110000600037341K", grid_code="211103001001001", **base)  # type: ignore[arg-type]
    assert exc.value.code == "uscc_checksum"
    with pytest.raises(ValidationFailed):
        register_enterprise(uscc="91110000600037341L", grid_code="211103001", **base)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed) as exc:
        register_enterprise(
            uscc="91110000600037341L", grid_code="211103001001001", **{**base, "size": "huge"}
        )  # type: ignore[arg-type]
    assert exc.value.code == "invalid_size"


def test_verification_by_district_staff_only(make: Factory) -> None:
    ent = make.enterprise(verified=False)
    with pytest.raises(Forbidden) as exc:
        ent.verify(Official("s", "211102"), MONDAY_10)
    assert exc.value.code == "outside_jurisdiction"
    ent.reject(Official("s", "211103"), "地址不符", MONDAY_10)
    assert ent.status is VerificationStatus.REJECTED
    with pytest.raises(Conflict):
        ent.verify(Official("s", "211103"), MONDAY_10)
    ent.resubmit("u1", address="兴隆台区新地址")
    ent.verify(Official("s", "211103001"), MONDAY_10)  # street staff inside the district
    assert ent.is_verified


def test_users_and_last_admin(make: Factory) -> None:
    ent = make.enterprise()
    ent.add_user("u1", "u-b", "member")
    with pytest.raises(Forbidden):
        ent.add_user("u-b", "u-c")
    with pytest.raises(Conflict):
        ent.remove_user("u1", "u1")
    ent.add_user("u1", "u-b", "admin")
    ent.remove_user("u-b", "u1")
    assert set(ent.users) == {"u-b"}
