from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from services.enterprise.domain.accounts import (
    Enterprise,
    Institution,
    register_enterprise,
    register_institution,
)
from services.enterprise.domain.common import Official
from services.enterprise.domain.uscc import uscc_generator
from yiwang.clock import SHANGHAI, FakeClock

DISTRICT = "211103"
GRID = "211103001001001"
MONDAY_10 = datetime(2026, 1, 5, 10, 0, tzinfo=SHANGHAI)


class Factory:
    def __init__(self) -> None:
        self.codes = uscc_generator(seed=7)
        self.n = 0
        self.staff = Official("staff-1", DISTRICT)

    def enterprise(self, *, verified: bool = True, **kw: Any) -> Enterprise:
        self.n += 1
        args: dict[str, Any] = dict(
            enterprise_id=f"E{self.n}",
            uscc=next(self.codes),
            name=f"企业{self.n}",
            industry="manufacturing",
            address="兴隆台区某路1号",
            grid_code=GRID,
            size="small",
            admin_user_id=f"u{self.n}",
            now=MONDAY_10,
        )
        args.update(kw)
        ent, _ = register_enterprise(**args)
        if verified:
            ent.verify(self.staff, MONDAY_10)
        return ent

    def institution(self, kind: str, *, verified: bool = True) -> Institution:
        self.n += 1
        inst, _ = register_institution(
            institution_id=f"I{self.n}",
            kind=kind,
            name=f"机构{self.n}",
            uscc=next(self.codes),
            district_code=DISTRICT,
            admin_user_id=f"iu{self.n}",
            now=MONDAY_10,
        )
        if verified:
            inst.verify(self.staff, MONDAY_10)
        return inst


@pytest.fixture
def make() -> Factory:
    return Factory()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_10)
