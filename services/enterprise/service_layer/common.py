"""Helpers shared by the enterprise command handlers."""

from __future__ import annotations

import uuid
from typing import Any

from services.enterprise.domain.common import Official, Reason
from yiwang.contracts.enterprise import Actor
from yiwang.errors import Conflict, Forbidden

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
