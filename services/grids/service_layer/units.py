"""Administrative tree commands and queries: one unit of work per command.

Mutations load the part of the tree they touch (the chain above, the subtree below),
let the domain ``AdminTree`` decide, then write the difference, bump the map version
and emit the events in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from services.grids.adapters import tables as t
from services.grids.domain.units import (
    AdminTree,
    Unit,
    UnitCreated,
    UnitMoved,
    UnitRenamed,
    UnitRetired,
    validate_code,
)
from services.grids.service_layer.common import bump_map_version, lock_tree
from yiwang.contracts.grids import UnitCreatedV1, UnitMovedV1, UnitRenamedV1, UnitRetiredV1
from yiwang.errors import NotFound, ValidationFailed
from yiwang.jurisdiction import Level, ancestry
from yiwang.uow import UnitOfWork

_COLS = (
    t.units.c.code,
    t.units.c.name,
    t.units.c.level,
    t.units.c.parent_code,
    t.units.c.retired,
    t.units.c.pinyin,
    t.units.c.geometry.is_not(None).label("has_b"),
)


def _out(r: Any) -> dict[str, Any]:
    return {
        "code": r.code,
        "name": r.name,
        "level": r.level,
        "parent_code": r.parent_code,
        "retired": r.retired,
        "pinyin": r.pinyin,
        "has_boundary": bool(r.has_b),
    }


def _not_found(code: str) -> NotFound:
    return NotFound(
        "unit_not_found", f"no unit with code '{code}'", f"区划编码“{code}”不存在", code_value=code
    )


# --- queries -----------------------------------------------------------------------------
def get_unit(uow: UnitOfWork, code: str) -> dict[str, Any]:
    with uow:
        row = uow.session.execute(sa.select(*_COLS).where(t.units.c.code == code)).first()
    if row is None:
        raise _not_found(code)
    return _out(row)


def children(uow: UnitOfWork, code: str, include_retired: bool = False) -> dict[str, Any]:
    q = sa.select(*_COLS).where(t.units.c.parent_code == code)
    if not include_retired:
        q = q.where(t.units.c.retired.is_(False))
    with uow:
        if (
            uow.session.execute(sa.select(t.units.c.code).where(t.units.c.code == code)).first()
            is None
        ):
            raise _not_found(code)
        rows = uow.session.execute(q.order_by(t.units.c.code)).all()
    return {"units": [_out(r) for r in rows]}


def chain(uow: UnitOfWork, code: str) -> dict[str, Any]:
    codes = ancestry(code)
    with uow:
        rows = uow.session.execute(sa.select(*_COLS).where(t.units.c.code.in_(codes))).all()
    found = {r.code: r for r in rows}
    if code not in found:
        raise _not_found(code)
    return {"units": [_out(found[c]) for c in codes if c in found]}


def search(tree: AdminTree, query: str, within: str = "", limit: int = 20) -> dict[str, Any]:
    """Search the in-memory tree (Chinese substring, or pinyin initials incl. polyphones)."""
    found = tree.search(query, limit=limit, within=within or None)
    return {
        "units": [
            {
                "code": u.code,
                "name": u.name,
                "level": str(u.level),
                "parent_code": u.parent_code,
                "retired": u.retired,
                "pinyin": u.pinyin_initials,
                "has_boundary": True,
            }
            for u in found
        ]
    }


def load_tree(
    uow: UnitOfWork, codes: Iterable[str] | None = None, subtree_of: Iterable[str] = ()
) -> AdminTree:
    """The whole tree, or just ``codes`` plus the subtrees of ``subtree_of``."""
    q = sa.select(
        t.units.c.code,
        t.units.c.name,
        t.units.c.level,
        t.units.c.parent_code,
        t.units.c.retired,
        t.units.c.pinyin,
        t.units.c.pinyin_variants,
    )
    if codes is not None:
        cond: list[sa.ColumnElement[bool]] = [t.units.c.code.in_(list(codes))]
        cond += [t.units.c.code.startswith(s, autoescape=True) for s in subtree_of]
        q = q.where(sa.or_(*cond))
    # Streamed: only a chunk of rows is alive at a time (a whole city's rows at once would
    # leave the heap fragmented around the long-lived units).
    rows = uow.session.execute(q.execution_options(yield_per=2000))
    return AdminTree.from_units(
        Unit(
            r.code,
            r.name,
            Level(r.level),
            r.parent_code,
            r.retired,
            r.pinyin,
            r.pinyin_variants,
        )
        for r in rows
    )


# --- commands ----------------------------------------------------------------------------
def _no_buildings(code: str) -> None:
    if validate_code(code) == Level.BUILDING:
        raise ValidationFailed(
            "use_add_building",
            "buildings are added with add_building",
            "楼栋请通过“新增楼栋”登记",
            code_value=code,
        )


def create_unit(
    uow: UnitOfWork, code: str, name: str, level: str | None, now: datetime
) -> dict[str, Any]:
    _no_buildings(code)
    with uow:
        lock_tree(uow)
        tree = load_tree(uow, ancestry(code))
        tree.create(code, name, level)
        _apply(uow, tree, now)
        uow.commit()
    return get_unit(uow, code)


def rename_unit(uow: UnitOfWork, code: str, name: str, now: datetime) -> dict[str, Any]:
    with uow:
        lock_tree(uow)
        tree = load_tree(uow, ancestry(code))
        tree.rename(code, name)
        _apply(uow, tree, now)
        uow.commit()
    return get_unit(uow, code)


def retire_unit(uow: UnitOfWork, code: str, now: datetime) -> dict[str, Any]:
    with uow:
        lock_tree(uow)
        tree = load_tree(uow, ancestry(code), subtree_of=[code])
        tree.retire(code)
        _apply(uow, tree, now)
        uow.commit()
    return get_unit(uow, code)


def move_unit(
    uow: UnitOfWork, code: str, new_parent: str, new_segment: str | None, now: datetime
) -> dict[str, Any]:
    """Move a unit (and re-code its subtree, people and places included) under a new parent.

    Boundaries move with their codes but are not re-validated against the new parent:
    import the corrected boundaries afterwards.
    """
    _no_buildings(code)
    with uow:
        lock_tree(uow)
        segment = (
            new_segment
            if new_segment is not None
            else code[len(code) - (3 if len(code) > 6 else 2) :]
        )
        wanted = set(ancestry(code)) | set(ancestry(new_parent)) | {new_parent + segment}
        tree = load_tree(uow, wanted, subtree_of=[code])
        mapping = tree.move(code, new_parent, new_segment)
        new_code = mapping.get(code, code)
        if mapping:
            _recode_everything(uow, code, new_code, new_parent)
        _apply(uow, tree, now)
        uow.commit()
    return {"old_code": code, "new_code": new_code, "mapping": mapping}


_RECODE: tuple[tuple[sa.Table, tuple[str, ...]], ...] = (
    (t.buildings, ("code", "grid_code")),
    (t.households, ("code", "building_code", "grid_code")),
    (t.residents, ("household_code", "registered_community")),
    (t.key_places, ("grid_code",)),
    (t.party_orgs, ("unit_code",)),
    (t.assignments, ("grid_code",)),
    (t.water_meters, ("household_code",)),
    (t.emergency_devices, ("household_code",)),
)


def _recode_everything(uow: UnitOfWork, old: str, new: str, new_parent: str) -> None:
    n = len(old)
    s = uow.session

    def swap(col: sa.ColumnElement[Any]) -> Any:
        return sa.literal(new) + sa.func.substr(col, n + 1)

    u = t.units
    s.execute(sa.update(u).where(u.c.code.startswith(old)).values(code=swap(u.c.code)))
    s.execute(
        sa.update(u)
        .where(u.c.parent_code.startswith(old))
        .values(parent_code=swap(u.c.parent_code))
    )
    s.execute(sa.update(u).where(u.c.code == new).values(parent_code=new_parent))
    for table, cols in _RECODE:
        for col in cols:
            c = table.c[col]
            s.execute(sa.update(table).where(c.startswith(old)).values({col: swap(c)}))


def _apply(uow: UnitOfWork, tree: AdminTree, now: datetime) -> None:
    """Write the tree's pending events as row changes + outbox events."""
    s = uow.session
    for ev in tree.pull_events():
        if isinstance(ev, UnitCreated):
            unit = tree.get(ev.code)
            s.execute(
                t.units.insert().values(
                    code=unit.code,
                    name=unit.name,
                    level=str(unit.level),
                    parent_code=unit.parent_code,
                    pinyin=unit.pinyin_initials[:100],
                    pinyin_variants=unit.pinyin_variants,
                    updated_at=now,
                )
            )
            uow.emit(
                UnitCreatedV1(
                    code=ev.code, name=ev.name, level=ev.level, parent_code=ev.parent_code, at=now
                ),
                jurisdiction_code=ev.code,
            )
        elif isinstance(ev, UnitRenamed):
            unit = tree.get(ev.code)
            s.execute(
                sa.update(t.units)
                .where(t.units.c.code == ev.code)
                .values(
                    name=unit.name,
                    pinyin=unit.pinyin_initials[:100],
                    pinyin_variants=unit.pinyin_variants,
                    updated_at=now,
                )
            )
            uow.emit(
                UnitRenamedV1(code=ev.code, old_name=ev.old_name, new_name=ev.new_name, at=now),
                jurisdiction_code=ev.code,
            )
        elif isinstance(ev, UnitRetired):
            s.execute(
                sa.update(t.units)
                .where(t.units.c.code == ev.code)
                .values(retired=True, updated_at=now)
            )
            uow.emit(UnitRetiredV1(code=ev.code, at=now), jurisdiction_code=ev.code)
        elif isinstance(ev, UnitMoved):
            uow.emit(
                UnitMovedV1(old_code=ev.old_code, new_code=ev.new_code, mapping=ev.mapping, at=now),
                jurisdiction_code=ev.new_code,
            )
    bump_map_version(uow, now, boundary=True)  # names and codes are cached in the map too
