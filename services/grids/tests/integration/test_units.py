"""Admin tree commands against the store: create, rename, move (re-coding the subtree and
everything hung on it), retire; events through the outbox; map version bumped."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from demo.city import DemoCity
from services.grids.service_layer import units
from services.grids.service_layer.common import map_versions
from services.grids.tests.integration.conftest import T0, outbox
from yiwang.contracts.grids import UnitMovedV1
from yiwang.errors import Conflict, NotFound, ValidationFailed
from yiwang.uow import UnitOfWork


def test_queries(city: DemoCity, factory: Callable[[], UnitOfWork]) -> None:
    grid = city.grid_codes[0]
    assert units.get_unit(factory(), grid)["name"] == city.names[grid]
    chain = units.chain(factory(), grid)["units"]
    assert [u["code"] for u in chain] == [grid[:4], grid[:6], grid[:9], grid[:12], grid]
    kids = units.children(factory(), grid[:12])["units"]
    assert grid in [u["code"] for u in kids]
    with factory() as uow:
        tree = units.load_tree(uow)
    street = grid[:9]
    hits = units.search(tree, units.get_unit(factory(), street)["pinyin"])["units"]
    assert street in [u["code"] for u in hits]
    with pytest.raises(NotFound):
        units.get_unit(factory(), "329999")


def test_create_rename_move_retire(
    city: DemoCity, factory: Callable[[], UnitOfWork], engine: Engine
) -> None:
    grid = city.grid_codes[-1]
    community = grid[:12]
    street = grid[:9]
    v0 = map_versions(factory())
    new_comm = street + "090"
    units.create_unit(factory(), new_comm, "新建社区", "community", T0)
    assert outbox(engine, "unit.created")[-1]["payload"]["code"] == new_comm
    assert map_versions(factory())[0] > v0[0]
    with pytest.raises(Conflict):
        units.create_unit(factory(), new_comm, "重复", None, T0)
    with pytest.raises(ValidationFailed):
        units.create_unit(factory(), street + "000", "零段", None, T0)
    with pytest.raises(NotFound):
        units.create_unit(factory(), "329988001", "无上级", None, T0)
    units.rename_unit(factory(), new_comm, "更名社区", T0)
    assert outbox(engine, "unit.renamed")[-1]["payload"]["new_name"] == "更名社区"

    # move a grid (with its buildings, households, residents) to the new community
    moved = units.move_unit(factory(), grid, new_comm, None, T0)
    new_grid = moved["new_code"]
    assert new_grid == new_comm + grid[12:]
    ev = UnitMovedV1.model_validate(outbox(engine, "unit.moved")[-1]["payload"])
    assert ev.mapping[grid] == new_grid
    with engine.connect() as conn:
        left = conn.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM grids.buildings WHERE code LIKE :o) + "
                "(SELECT count(*) FROM grids.households WHERE code LIKE :o) + "
                "(SELECT count(*) FROM grids.residents WHERE household_code LIKE :o)"
            ),
            {"o": grid + "%"},
        ).scalar_one()
        now_there = conn.execute(
            sa.text("SELECT count(*) FROM grids.buildings WHERE grid_code = :n"), {"n": new_grid}
        ).scalar_one()
    assert left == 0 and now_there == len([b for b in city.buildings if b.grid_code == grid])
    with pytest.raises(Conflict) as err:
        units.retire_unit(factory(), new_comm, T0)
    assert err.value.code == "unit_has_active_children"
    # and back again, then retire the empty community
    units.move_unit(factory(), new_grid, community, None, T0)
    assert units.get_unit(factory(), grid)["code"] == grid
    out = units.retire_unit(factory(), new_comm, T0)
    assert out["retired"]
    assert outbox(engine, "unit.retired")[-1]["payload"]["code"] == new_comm
