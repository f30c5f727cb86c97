"""Helpers shared by the grids command handlers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from services.grids.adapters.tables import map_state
from yiwang.uow import UnitOfWork


def bump_map_version(
    uow: UnitOfWork, now: datetime, *, boundary: bool = False, roster: bool = False
) -> None:
    """Tell every grids process (their periodic version check) to reload its map."""
    values: dict[str, Any] = {"updated_at": now}
    if boundary:
        values["boundary_version"] = map_state.c.boundary_version + 1
    if roster:
        values["roster_version"] = map_state.c.roster_version + 1
    uow.session.execute(sa.update(map_state).where(map_state.c.id == 1).values(**values))


def map_versions(uow: UnitOfWork) -> tuple[int, int]:
    with uow:
        row = uow.session.execute(
            sa.select(map_state.c.boundary_version, map_state.c.roster_version).where(
                map_state.c.id == 1
            )
        ).first()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def lock_tree(uow: UnitOfWork) -> None:
    """Serialise changes to the tree and its boundaries (one row lock)."""
    uow.session.execute(sa.select(map_state.c.id).where(map_state.c.id == 1).with_for_update())
