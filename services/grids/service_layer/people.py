"""People and places: grid workers, buildings, households, residents (both ways), tags,
key places, party organisations; personal data encrypted at rest, masked on the way out.

Reads of personal data are masked unless the request sets ``unmask`` *and* the gateway
passed ``can_unmask=True`` (its permission check); an unmasked read writes one access-log
row per person in the same transaction as the read.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.grids.adapters import tables as t
from services.grids.adapters.crypto import PiiCipher
from services.grids.domain.people import (
    PARTY_ORG_LEVEL,
    KeyPlaceKind,
    PartyOrgKind,
    ResidentTag,
    WorkerRole,
    mask_id_number,
    mask_phone,
    validate_id_number,
    validate_phone,
)
from services.grids.domain.units import split_household_code, validate_code
from services.grids.service_layer.common import bump_map_version
from yiwang.contracts.grids import WorkerAssignedV1, WorkerRoleName, WorkerUnassignedV1
from yiwang.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yiwang.jurisdiction import Level
from yiwang.uow import UnitOfWork

_ZH = {
    "worker": "网格员",
    "building": "楼栋",
    "household": "住户",
    "resident": "居民",
    "grid": "网格",
    "unit": "区划",
    "key_place": "重点场所",
}


def missing(what: str, key: str) -> NotFound:
    return NotFound(
        f"{what}_not_found", f"no {what} '{key}'", f"{_ZH.get(what, what)}“{key}”不存在", key=key
    )


@dataclass(frozen=True)
class ReadAccess:
    """Who reads personal data, and whether clear values were asked for and permitted."""

    unmask: bool = False
    can_unmask: bool = False
    actor: dict[str, Any] | None = None
    purpose: str = ""

    def check(self) -> bool:
        if self.unmask and not self.can_unmask:
            raise Forbidden(
                "unmask_not_permitted",
                "Your role may not see unmasked personal data.",
                "您的角色无权查看未脱敏的个人信息。",
            )
        return self.unmask


def _log_access(
    uow: UnitOfWork,
    access: ReadAccess,
    kind: str,
    ids: Sequence[str],
    fields: list[str],
    now: datetime,
) -> None:
    if not ids:
        return
    actor = access.actor or {}
    uow.session.execute(
        t.access_log.insert(),
        [
            {
                "at": now,
                "actor_id": str(actor.get("id", "unknown"))[:64],
                "actor_role": str(actor.get("role", "unknown"))[:32],
                "actor_name": str(actor.get("name", ""))[:64],
                "subject_kind": kind,
                "subject_id": i,
                "fields": fields,
                "purpose": access.purpose[:200],
            }
            for i in ids
        ],
    )


# --- encryption helpers --------------------------------------------------------------------
def protect(
    pii: PiiCipher, value: str | None, field: str, mask: Any = mask_phone
) -> tuple[bytes | None, str | None, str | None]:
    """(ciphertext, keyed hash, masked form) of a value; all None when absent."""
    if not value:
        return None, None, None
    return pii.encrypt(value, field), pii.lookup_hash(value, field), mask(value)


# --- workers -----------------------------------------------------------------------------
def _worker_row(uow: UnitOfWork, worker_id: str, lock: bool = False) -> Any:
    q = sa.select(t.workers).where(
        sa.or_(t.workers.c.worker_id == worker_id, t.workers.c.account_id == worker_id)
    )
    if lock:
        q = q.with_for_update()
    row = uow.session.execute(q).first()
    if row is None:
        raise missing("worker", worker_id)
    return row


def _worker_out(uow: UnitOfWork, row: Any) -> dict[str, Any]:
    grids = uow.session.execute(
        sa.select(t.assignments.c.grid_code, t.assignments.c.role)
        .where(t.assignments.c.worker_id == row.worker_id)
        .order_by(t.assignments.c.grid_code)
    ).all()
    return {
        "worker_id": row.worker_id,
        "name": row.name,
        "phone": row.phone,
        "status": row.status,
        "account_id": row.account_id,
        "grids": {g.grid_code: g.role for g in grids},
    }


def resolve_worker(uow: UnitOfWork, worker_id: str) -> dict[str, Any]:
    """A worker (by worker id or linked account id) with their grids; inside a uow."""
    return _worker_out(uow, _worker_row(uow, worker_id))


def get_worker(uow: UnitOfWork, worker_id: str) -> dict[str, Any]:
    with uow:
        return resolve_worker(uow, worker_id)


def list_workers(uow: UnitOfWork, prefix: str, limit: int) -> dict[str, Any]:
    with uow:
        ids = (
            uow.session.execute(
                sa.select(t.assignments.c.worker_id)
                .distinct()
                .where(t.assignments.c.grid_code.startswith(prefix, autoescape=True))
                .order_by(t.assignments.c.worker_id)
                .limit(limit)
            )
            .scalars()
            .all()
        )
        rows = uow.session.execute(
            sa.select(t.workers)
            .where(t.workers.c.worker_id.in_(ids))
            .order_by(t.workers.c.worker_id)
        ).all()
        return {"workers": [_worker_out(uow, r) for r in rows]}


def add_worker(
    uow: UnitOfWork,
    worker_id: str,
    name: str,
    phone: str,
    status: str,
    account_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    phone = validate_phone(phone)
    with uow:
        stmt = (
            pg_insert(t.workers)
            .values(
                worker_id=worker_id,
                name=name.strip(),
                phone=phone,
                status=status,
                account_id=account_id,
                updated_at=now,
            )
            .on_conflict_do_nothing()
        )
        if uow.session.execute(stmt).rowcount == 0:  # type: ignore[attr-defined]
            raise Conflict(
                "worker_exists", f"worker '{worker_id}' exists (or account linked)", "网格员已存在"
            )
        out = resolve_worker(uow, worker_id)
        uow.commit()
    return out


def _require_grid(uow: UnitOfWork, grid_code: str) -> None:
    validate_code(grid_code, Level.GRID)
    row = uow.session.execute(
        sa.select(t.units.c.retired).where(t.units.c.code == grid_code)
    ).first()
    if row is None or row.retired:
        raise missing("grid", grid_code)


def assign_worker(
    uow: UnitOfWork, worker_id: str, grid_code: str, role: str, now: datetime
) -> dict[str, Any]:
    role = WorkerRole(role).value
    with uow:
        w = _worker_row(uow, worker_id, lock=True)
        _require_grid(uow, grid_code)
        if role == WorkerRole.LEADER:
            other = uow.session.execute(
                sa.select(t.assignments.c.worker_id)
                .where(
                    t.assignments.c.grid_code == grid_code,
                    t.assignments.c.role == "leader",
                    t.assignments.c.worker_id != w.worker_id,
                )
                .with_for_update()
            ).first()
            if other is not None:
                raise Conflict(
                    "grid_has_leader",
                    f"grid {grid_code} already has leader {other.worker_id}",
                    f"网格{grid_code}已有网格长",
                    leader=other.worker_id,
                )
        stmt = pg_insert(t.assignments).values(
            worker_id=w.worker_id, grid_code=grid_code, role=role, assigned_at=now
        )
        uow.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[t.assignments.c.worker_id, t.assignments.c.grid_code],
                set_={"role": stmt.excluded.role, "assigned_at": stmt.excluded.assigned_at},
            )
        )
        bump_map_version(uow, now, roster=True)
        uow.emit(
            WorkerAssignedV1(
                worker_id=w.worker_id,
                name=w.name,
                grid_code=grid_code,
                role=cast(WorkerRoleName, role),
                at=now,
            ),
            jurisdiction_code=grid_code,
        )
        out = resolve_worker(uow, w.worker_id)
        uow.commit()
    return out


def unassign_worker(
    uow: UnitOfWork, worker_id: str, grid_code: str, now: datetime
) -> dict[str, Any]:
    with uow:
        w = _worker_row(uow, worker_id, lock=True)
        res = uow.session.execute(
            sa.delete(t.assignments).where(
                t.assignments.c.worker_id == w.worker_id, t.assignments.c.grid_code == grid_code
            )
        )
        if res.rowcount:  # type: ignore[attr-defined]
            bump_map_version(uow, now, roster=True)
            uow.emit(
                WorkerUnassignedV1(worker_id=w.worker_id, grid_code=grid_code, at=now),
                jurisdiction_code=grid_code,
            )
        out = resolve_worker(uow, w.worker_id)
        uow.commit()
    return out


def set_worker_status(
    uow: UnitOfWork, worker_id: str, status: str, now: datetime
) -> dict[str, Any]:
    with uow:
        w = _worker_row(uow, worker_id, lock=True)
        uow.session.execute(
            sa.update(t.workers)
            .where(t.workers.c.worker_id == w.worker_id)
            .values(status=status, updated_at=now)
        )
        bump_map_version(uow, now, roster=True)
        out = resolve_worker(uow, w.worker_id)
        uow.commit()
    return out


# --- buildings and households --------------------------------------------------------------
def _building_out(r: Any) -> dict[str, Any]:
    return {
        "code": r.code,
        "grid_code": r.grid_code,
        "name": r.name,
        "address": r.address,
        "lat": r.lat,
        "lon": r.lon,
        "households_represented": r.households_represented,
    }


def add_building(
    uow: UnitOfWork,
    code: str,
    address: str,
    name: str,
    lat: float | None,
    lon: float | None,
    households_represented: int,
) -> dict[str, Any]:
    validate_code(code, Level.BUILDING)
    if not address.strip():
        raise ValidationFailed("address_required", "a building needs an address", "楼栋须填写地址")
    with uow:
        _require_grid(uow, code[:15])
        stmt = (
            pg_insert(t.buildings)
            .values(
                code=code,
                grid_code=code[:15],
                name=name,
                address=address.strip(),
                lat=lat,
                lon=lon,
                households_represented=households_represented,
            )
            .on_conflict_do_nothing()
        )
        if uow.session.execute(stmt).rowcount == 0:  # type: ignore[attr-defined]
            raise Conflict("building_exists", f"building '{code}' exists", "楼栋已存在")
        row = uow.session.execute(sa.select(t.buildings).where(t.buildings.c.code == code)).one()
        uow.commit()
    return _building_out(row)


def list_buildings(uow: UnitOfWork, grid_code: str) -> dict[str, Any]:
    with uow:
        rows = uow.session.execute(
            sa.select(t.buildings)
            .where(t.buildings.c.grid_code == grid_code)
            .order_by(t.buildings.c.code)
        ).all()
    return {"buildings": [_building_out(r) for r in rows]}


def _household_out(pii: PiiCipher, r: Any, clear: bool) -> dict[str, Any]:
    phone = r.contact_phone_masked
    if clear and r.contact_phone_enc is not None:
        phone = pii.decrypt(r.contact_phone_enc, "household.contact_phone")
    return {
        "code": r.code,
        "building_code": r.building_code,
        "grid_code": r.grid_code,
        "contact_phone": phone,
        "party_member_household": r.party_member_household,
        "unmasked": clear,
    }


def add_household(
    uow: UnitOfWork,
    pii: PiiCipher,
    code: str,
    contact_phone: str | None,
    party_member_household: bool,
) -> dict[str, Any]:
    building, room = split_household_code(code)
    phone = validate_phone(contact_phone) if contact_phone else None
    enc, h, masked = protect(pii, phone, "household.contact_phone")
    with uow:
        if (
            uow.session.execute(
                sa.select(t.buildings.c.code).where(t.buildings.c.code == building)
            ).first()
            is None
        ):
            raise missing("building", building)
        stmt = (
            pg_insert(t.households)
            .values(
                code=code,
                building_code=building,
                grid_code=building[:15],
                contact_phone_enc=enc,
                contact_phone_hash=h,
                contact_phone_masked=masked,
                party_member_household=party_member_household,
            )
            .on_conflict_do_nothing()
        )
        if uow.session.execute(stmt).rowcount == 0:  # type: ignore[attr-defined]
            raise Conflict("household_exists", f"household '{code}' exists", "住户已存在")
        row = uow.session.execute(sa.select(t.households).where(t.households.c.code == code)).one()
        uow.commit()
    return _household_out(pii, row, False)


# --- residents -----------------------------------------------------------------------------
_CLEAR_FIELDS = ["id_number", "phone", "family_contact"]


def _tags_of(uow: UnitOfWork, ids: Iterable[str]) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = defaultdict(list)
    id_list = list(ids)
    if id_list:
        for r in uow.session.execute(
            sa.select(t.resident_tags.c.resident_id, t.resident_tags.c.tag)
            .where(t.resident_tags.c.resident_id.in_(id_list))
            .order_by(t.resident_tags.c.tag)
        ):
            tags[r.resident_id].append(r.tag)
    return tags


def _resident_outs(
    uow: UnitOfWork, pii: PiiCipher, rows: Sequence[Any], access: ReadAccess, now: datetime
) -> list[dict[str, Any]]:
    clear = access.check()
    tags = _tags_of(uow, (r.resident_id for r in rows))
    out = []
    for r in rows:
        living = r.household_code[:12]
        item = {
            "resident_id": r.resident_id,
            "name": r.name,
            "household_code": r.household_code,
            "registered_community": r.registered_community,
            "living_community": living,
            "relocated": r.registered_community != living,
            "id_number": r.id_number_masked,
            "phone": r.phone_masked,
            "family_contact": r.family_contact_masked,
            "tags": tags.get(r.resident_id, []),
            "party_member": r.party_member,
            "unmasked": clear,
        }
        if clear:
            item["id_number"] = pii.decrypt(r.id_number_enc, "resident.id_number")
            if r.phone_enc is not None:
                item["phone"] = pii.decrypt(r.phone_enc, "resident.phone")
            if r.family_contact_enc is not None:
                item["family_contact"] = pii.decrypt(
                    r.family_contact_enc, "resident.family_contact"
                )
        out.append(item)
    if clear:
        _log_access(uow, access, "resident", [r.resident_id for r in rows], _CLEAR_FIELDS, now)
    return out


def resident_values(
    pii: PiiCipher,
    *,
    resident_id: str,
    name: str,
    id_number: str,
    household_code: str,
    phone: str | None,
    registered_community: str | None,
    party_member: bool,
    family_contact: str | None,
) -> dict[str, Any]:
    """Validated, encrypted row values for one resident (used one by one and in bulk)."""
    idn = validate_id_number(id_number)
    split_household_code(household_code)
    registered = registered_community or household_code[:12]
    validate_code(registered, Level.COMMUNITY)
    ph = validate_phone(phone) if phone else None
    fam = validate_phone(family_contact) if family_contact else None
    if not name.strip():
        raise ValidationFailed("name_required", "a resident needs a name", "须填写居民姓名")
    enc_id = pii.encrypt(idn, "resident.id_number")
    p_enc, p_hash, p_mask = protect(pii, ph, "resident.phone")
    f_enc, _, f_mask = protect(pii, fam, "resident.family_contact")
    return {
        "resident_id": resident_id,
        "name": name.strip(),
        "household_code": household_code,
        "registered_community": registered,
        "id_number_enc": enc_id,
        "id_number_hash": pii.lookup_hash(idn, "resident.id_number"),
        "id_number_masked": mask_id_number(idn),
        "phone_enc": p_enc,
        "phone_hash": p_hash,
        "phone_masked": p_mask,
        "family_contact_enc": f_enc,
        "family_contact_masked": f_mask,
        "party_member": party_member,
        "birth_year": int(idn[6:10]),
    }


def _tags(values: Iterable[str]) -> list[str]:
    try:
        return sorted({ResidentTag(v).value for v in values})
    except ValueError:
        raise ValidationFailed(
            "unknown_tag",
            f"unknown tag among {list(values)}",
            "未知的人员标签",
            known=[t.value for t in ResidentTag],
        ) from None


def add_resident(
    uow: UnitOfWork,
    pii: PiiCipher,
    *,
    resident_id: str | None,
    name: str,
    id_number: str,
    household_code: str,
    phone: str | None,
    tags: list[str],
    registered_community: str | None,
    party_member: bool,
    family_contact: str | None,
    now: datetime,
) -> dict[str, Any]:
    rid = resident_id or f"R{uuid.uuid4().hex[:16]}"
    values = resident_values(
        pii,
        resident_id=rid,
        name=name,
        id_number=id_number,
        household_code=household_code,
        phone=phone,
        registered_community=registered_community,
        party_member=party_member,
        family_contact=family_contact,
    )
    tag_list = _tags(tags)
    with uow:
        if (
            uow.session.execute(
                sa.select(t.households.c.code).where(t.households.c.code == household_code)
            ).first()
            is None
        ):
            raise missing("household", household_code)
        if (
            uow.session.execute(
                sa.select(t.units.c.code).where(t.units.c.code == values["registered_community"])
            ).first()
            is None
        ):
            raise missing("unit", values["registered_community"])
        dup = uow.session.execute(
            sa.select(t.residents.c.resident_id).where(
                t.residents.c.id_number_hash == values["id_number_hash"]
            )
        ).first()
        if dup is not None:
            raise Conflict(
                "id_number_registered",
                "a resident with this ID number is already registered",
                "该身份证号已登记",
                resident_id=dup.resident_id,
            )
        stmt = pg_insert(t.residents).values(**values).on_conflict_do_nothing()
        if uow.session.execute(stmt).rowcount == 0:  # type: ignore[attr-defined]
            raise Conflict("resident_exists", "resident exists", "居民已存在")
        if tag_list:
            uow.session.execute(
                t.resident_tags.insert(), [{"resident_id": rid, "tag": x} for x in tag_list]
            )
        row = uow.session.execute(
            sa.select(t.residents).where(t.residents.c.resident_id == rid)
        ).one()
        out = _resident_outs(uow, pii, [row], ReadAccess(), now)[0]
        uow.commit()
    return out


def _resident_row(uow: UnitOfWork, resident_id: str) -> Any:
    row = uow.session.execute(
        sa.select(t.residents).where(t.residents.c.resident_id == resident_id)
    ).first()
    if row is None:
        raise missing("resident", resident_id)
    return row


def get_resident(
    uow: UnitOfWork, pii: PiiCipher, resident_id: str, access: ReadAccess, now: datetime
) -> dict[str, Any]:
    with uow:
        out = _resident_outs(uow, pii, [_resident_row(uow, resident_id)], access, now)[0]
        uow.commit()
    return out


def find_residents(
    uow: UnitOfWork,
    pii: PiiCipher,
    id_number: str | None,
    phone: str | None,
    access: ReadAccess,
    now: datetime,
) -> dict[str, Any]:
    q = sa.select(t.residents)
    if id_number:
        q = q.where(
            t.residents.c.id_number_hash
            == pii.lookup_hash(validate_id_number(id_number), "resident.id_number")
        )
    elif phone:
        q = q.where(
            t.residents.c.phone_hash == pii.lookup_hash(validate_phone(phone), "resident.phone")
        )
    else:
        raise ValidationFailed(
            "lookup_key_required", "give an ID number or a phone", "请提供身份证号或电话"
        )
    with uow:
        rows = uow.session.execute(q.order_by(t.residents.c.resident_id).limit(50)).all()
        out = _resident_outs(uow, pii, rows, access, now)
        uow.commit()
    return {"total": len(out), "residents": out}


def _page(
    uow: UnitOfWork,
    pii: PiiCipher,
    q: Any,
    page: int,
    page_size: int,
    access: ReadAccess,
    now: datetime,
) -> dict[str, Any]:
    access.check()
    with uow:
        total = uow.session.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar()
        rows = uow.session.execute(
            q.order_by(t.residents.c.resident_id).offset((page - 1) * page_size).limit(page_size)
        ).all()
        out = _resident_outs(uow, pii, rows, access, now)
        uow.commit()
    return {"total": int(total or 0), "residents": out}


def list_residents(
    uow: UnitOfWork,
    pii: PiiCipher,
    prefix: str,
    tag: str | None,
    page: int,
    page_size: int,
    access: ReadAccess,
    now: datetime,
) -> dict[str, Any]:
    q = sa.select(t.residents).where(
        t.residents.c.household_code.startswith(prefix, autoescape=True)
    )
    if tag:
        tag = _tags([tag])[0]
        q = q.where(
            t.residents.c.resident_id.in_(
                sa.select(t.resident_tags.c.resident_id).where(t.resident_tags.c.tag == tag)
            )
        )
    return _page(uow, pii, q, page, page_size, access, now)


def served_by(
    uow: UnitOfWork,
    pii: PiiCipher,
    community_code: str,
    relocated_only: bool,
    page: int,
    page_size: int,
    access: ReadAccess,
    now: datetime,
) -> dict[str, Any]:
    """Residents registered with a community wherever they live (relocated ones included)."""
    q = sa.select(t.residents).where(t.residents.c.registered_community == community_code)
    if relocated_only:
        q = q.where(~t.residents.c.household_code.startswith(community_code))
    return _page(uow, pii, q, page, page_size, access, now)


def _house_people(
    uow: UnitOfWork, pii: PiiCipher, household_code: str, access: ReadAccess, now: datetime
) -> dict[str, Any]:
    h = uow.session.execute(
        sa.select(t.households).where(t.households.c.code == household_code)
    ).first()
    if h is None:
        raise missing("household", household_code)
    b = uow.session.execute(
        sa.select(t.buildings).where(t.buildings.c.code == h.building_code)
    ).one()
    rows = uow.session.execute(
        sa.select(t.residents)
        .where(t.residents.c.household_code == household_code)
        .order_by(t.residents.c.resident_id)
    ).all()
    clear = access.check()
    people = _resident_outs(uow, pii, rows, access, now)
    if clear and h.contact_phone_enc is not None:
        _log_access(uow, access, "household", [h.code], ["contact_phone"], now)
    return {
        "household": _household_out(pii, h, clear),
        "building": _building_out(b),
        "residents": people,
    }


def people_in_household(
    uow: UnitOfWork, pii: PiiCipher, household_code: str, access: ReadAccess, now: datetime
) -> dict[str, Any]:
    """以房找人."""
    with uow:
        out = _house_people(uow, pii, household_code, access, now)
        uow.commit()
    return out


def house_of_resident(
    uow: UnitOfWork, pii: PiiCipher, resident_id: str, access: ReadAccess, now: datetime
) -> dict[str, Any]:
    """以人找房: the resident's household and building, with everyone living there."""
    with uow:
        row = _resident_row(uow, resident_id)
        out = _house_people(uow, pii, row.household_code, access, now)
        uow.commit()
    return out


def tag_resident(
    uow: UnitOfWork, pii: PiiCipher, resident_id: str, tags: list[str], now: datetime
) -> dict[str, Any]:
    tag_list = _tags(tags)
    with uow:
        _resident_row(uow, resident_id)
        uow.session.execute(
            sa.delete(t.resident_tags).where(t.resident_tags.c.resident_id == resident_id)
        )
        if tag_list:
            uow.session.execute(
                t.resident_tags.insert(), [{"resident_id": resident_id, "tag": x} for x in tag_list]
            )
        out = _resident_outs(uow, pii, [_resident_row(uow, resident_id)], ReadAccess(), now)[0]
        uow.commit()
    return out


def move_resident(
    uow: UnitOfWork, pii: PiiCipher, resident_id: str, household_code: str, now: datetime
) -> dict[str, Any]:
    """The resident moves house; the community they are registered with stays."""
    with uow:
        _resident_row(uow, resident_id)
        if (
            uow.session.execute(
                sa.select(t.households.c.code).where(t.households.c.code == household_code)
            ).first()
            is None
        ):
            raise missing("household", household_code)
        uow.session.execute(
            sa.update(t.residents)
            .where(t.residents.c.resident_id == resident_id)
            .values(household_code=household_code)
        )
        out = _resident_outs(uow, pii, [_resident_row(uow, resident_id)], ReadAccess(), now)[0]
        uow.commit()
    return out


# --- key places and party organisations ---------------------------------------------------
def _place_out(r: Any) -> dict[str, Any]:
    return {
        "place_id": r.place_id,
        "kind": r.kind,
        "name": r.name,
        "grid_code": r.grid_code,
        "lat": r.lat,
        "lon": r.lon,
    }


def add_key_place(
    uow: UnitOfWork, place_id: str, kind: str, name: str, lat: float, lon: float, grid_code: str
) -> dict[str, Any]:
    try:
        kind = KeyPlaceKind(kind).value
    except ValueError:
        raise ValidationFailed(
            "unknown_place_kind",
            f"unknown key place kind '{kind}'",
            "未知的重点场所类型",
            known=[k.value for k in KeyPlaceKind],
        ) from None
    with uow:
        _require_grid(uow, grid_code)
        stmt = pg_insert(t.key_places).values(
            place_id=place_id, kind=kind, name=name, grid_code=grid_code, lat=lat, lon=lon
        )
        if uow.session.execute(stmt.on_conflict_do_nothing()).rowcount == 0:  # type: ignore[attr-defined]
            raise Conflict("key_place_exists", "key place exists", "重点场所已存在")
        uow.commit()
    return {
        "place_id": place_id,
        "kind": kind,
        "name": name,
        "grid_code": grid_code,
        "lat": lat,
        "lon": lon,
    }


def list_key_places(uow: UnitOfWork, prefix: str, kind: str | None, limit: int) -> dict[str, Any]:
    q = sa.select(t.key_places).where(t.key_places.c.grid_code.startswith(prefix, autoescape=True))
    if kind:
        q = q.where(t.key_places.c.kind == kind)
    with uow:
        rows = uow.session.execute(q.order_by(t.key_places.c.place_id).limit(limit)).all()
    return {"key_places": [_place_out(r) for r in rows]}


def add_party_org(
    uow: UnitOfWork, org_id: str, kind: str, unit_code: str, name: str, secretary: str
) -> dict[str, Any]:
    try:
        k = PartyOrgKind(kind)
    except ValueError:
        raise ValidationFailed(
            "unknown_party_org_kind",
            f"unknown kind '{kind}'",
            "未知的党组织类型",
            known=[x.value for x in PartyOrgKind],
        ) from None
    validate_code(unit_code, PARTY_ORG_LEVEL[k])
    with uow:
        table = t.buildings if len(unit_code) == 18 else t.units
        if (
            uow.session.execute(sa.select(table.c.code).where(table.c.code == unit_code)).first()
            is None
        ):
            raise missing("unit", unit_code)
        stmt = pg_insert(t.party_orgs).values(
            org_id=org_id, kind=k.value, unit_code=unit_code, name=name, secretary=secretary
        )
        if uow.session.execute(stmt.on_conflict_do_nothing()).rowcount == 0:  # type: ignore[attr-defined]
            raise Conflict("party_org_exists", "party organisation exists", "党组织已存在")
        uow.commit()
    return {
        "org_id": org_id,
        "kind": k.value,
        "unit_code": unit_code,
        "name": name,
        "secretary": secretary,
    }


def list_party_orgs(uow: UnitOfWork, prefix: str, limit: int) -> dict[str, Any]:
    with uow:
        rows = uow.session.execute(
            sa.select(t.party_orgs)
            .where(t.party_orgs.c.unit_code.startswith(prefix, autoescape=True))
            .order_by(
                sa.func.length(t.party_orgs.c.unit_code),
                t.party_orgs.c.unit_code,
                t.party_orgs.c.org_id,
            )
            .limit(limit)
        ).all()
    return {
        "party_orgs": [
            {
                "org_id": r.org_id,
                "kind": r.kind,
                "unit_code": r.unit_code,
                "name": r.name,
                "secretary": r.secretary,
            }
            for r in rows
        ]
    }


def access_log(
    uow: UnitOfWork,
    subject_id: str | None,
    actor_id: str | None,
    limit: int,
    prefix: str = "",
) -> dict[str, Any]:
    """Unmasked reads, newest first; ``prefix``: only reads of subjects inside that unit
    (a household's code starts with its grid's; a resident is where their household is)."""
    q = sa.select(t.access_log)
    if prefix:
        log = t.access_log
        residents_inside = sa.select(t.residents.c.resident_id).where(
            t.residents.c.household_code.startswith(prefix, autoescape=True)
        )
        q = q.where(
            sa.or_(
                sa.and_(
                    log.c.subject_kind == "household",
                    log.c.subject_id.startswith(prefix, autoescape=True),
                ),
                sa.and_(log.c.subject_kind == "resident", log.c.subject_id.in_(residents_inside)),
            )
        )
    if subject_id:
        q = q.where(t.access_log.c.subject_id == subject_id)
    if actor_id:
        q = q.where(t.access_log.c.actor_id == actor_id)
    with uow:
        rows = uow.session.execute(q.order_by(t.access_log.c.id.desc()).limit(limit)).all()
    return {
        "entries": [
            {
                "at": r.at,
                "actor_id": r.actor_id,
                "actor_role": r.actor_role,
                "actor_name": r.actor_name,
                "subject_kind": r.subject_kind,
                "subject_id": r.subject_id,
                "fields": list(r.fields),
                "purpose": r.purpose,
            }
            for r in rows
        ]
    }
