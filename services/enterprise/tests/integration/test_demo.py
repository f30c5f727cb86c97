"""The demo seeder: through the service layer, idempotent, 23 key projects."""

from __future__ import annotations

import pytest

from demo import enterprise as demo
from services.enterprise.service_layer import sweeps

from .conftest import DISTRICT, GRID, World

pytestmark = pytest.mark.integration


def test_demo_seed_is_idempotent_and_sweepable(world: World) -> None:
    first = demo.seed(world.uow, world.clock, district=DISTRICT, grid=GRID)
    assert first["projects"] == 23 and first["enterprises"] == 4
    outbox = world.count("outbox")
    again = demo.seed(world.uow, world.clock, district=DISTRICT, grid=GRID)
    assert set(again.values()) == {0}
    assert world.count("outbox") == outbox and world.count("key_projects") == 23
    result = sweeps.run_sweeps(world.uow, world.now)
    assert result["steps_warned"] + result["steps_late"] > 0
    assert sweeps.run_sweeps(world.uow, world.now)["steps_late"] == 0
