"""Helpers shared by the enterprise command handlers."""

from __future__ import annotations

import uuid
from typing import Any

from services.enterprise.adapters.repository import ENTERPRISES, INSTITUTIONS
from services.enterprise.domain.accounts import Enterprise, Institution, UserRole
from services.enterprise.domain.common import Official, Reason
from yiwang.contracts.enterprise import Actor
from yiwang.errors import Conflict, Forbidden
from yiwang.uow import UnitOfWork

GOVERNMENT_ROLES = frozenset(
    {"district_staff", "city_staff", "street_staff", "leader", "department_handler", "admin"}
)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def require_government(actor: Actor) -> None:
    if actor.role not in GOVERNMENT_ROLES:
        raise Forbidden(
            "government_only", "only government users may do this", "仅政府端用户可操作"
        )


def official(actor: Actor, target_code: str) -> Official:
    """The government user behind ``actor``; an unbound account (admin) acts everywhere."""
    require_government(actor)
    return Official(
        official_id=actor.id,
        jurisdiction_code=actor.jurisdiction_code or target_code,
        department=actor.department,
        is_leader=actor.role == "leader",
    )


def check_version(expected: int | None, actual: int, what: str = "record") -> None:
    if expected is not None and expected != actual:
        raise Conflict(
            "version_conflict",
            f"the {what} is at version {actual}, not {expected}; reload and retry",
            "数据已被他人修改，请刷新后重试",
            expected=expected,
            actual=actual,
        )


def reasons(items: tuple[Reason, ...]) -> list[dict[str, Any]]:
    return [
        {"rule": r.rule, "ok": r.ok, "message_en": r.message_en, "message_zh": r.message_zh}
        for r in items
    ]


def load_enterprise(uow: UnitOfWork, enterprise_id: str, actor: Actor) -> Enterprise:
    """The enterprise, with a gateway account bound to it (``Principal.enterprise_id``)
    acting as a member for this command (not stored)."""
    ent, _ = ENTERPRISES.get(uow.session, enterprise_id)
    if actor.enterprise_id == ent.enterprise_id and actor.id not in ent.users:
        ent.users[actor.id] = UserRole.MEMBER
    return ent


def load_institution(uow: UnitOfWork, institution_id: str, actor: Actor) -> Institution:
    inst, _ = INSTITUTIONS.get(uow.session, institution_id)
    if actor.institution_id == inst.institution_id and actor.id not in inst.users:
        inst.users[actor.id] = UserRole.MEMBER
    return inst
