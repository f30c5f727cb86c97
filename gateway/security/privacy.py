"""Personal data is masked by default; unmasking is a permission (``can_unmask``) and every
unmasking is written to ``gateway.unmask_log``."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request

from gateway.security import store
from gateway.security.principal import Principal
from yiwang.errors import Forbidden
from yiwang.tracing import current_trace_id


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    return phone[:3] + "*" * max(len(phone) - 7, 1) + phone[-4:] if len(phone) >= 8 else "****"


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_email(email: str | None) -> str | None:
    if not email or "@" not in email:
        return email
    local, _, domain = email.partition("@")
    return (local[:1] or "*") + "***@" + domain


def mask_contact(contact: dict[str, Any] | None) -> dict[str, Any] | None:
    if not contact:
        return contact
    out = dict(contact)
    out["name"] = mask_name(out.get("name"))
    out["phone"] = mask_phone(out.get("phone"))
    out["email"] = mask_email(out.get("email"))
    return out


async def unmask(
    request: Request,
    principal: Principal,
    *,
    subject_type: str,
    subject_id: str,
    fields: list[str],
    reason: str | None = None,
) -> None:
    """The hook every route calls before returning unmasked personal data: Forbidden
    without the permission, else one access-log entry."""
    if not principal.can_unmask:
        raise Forbidden(
            "unmask_not_allowed",
            "You may not see unmasked personal data.",
            "您无权查看未脱敏的个人信息。",
        )
    res = request.app.state.resources
    await asyncio.to_thread(
        store.write_unmask,
        res.engine,
        principal=principal,
        subject_type=subject_type,
        subject_id=subject_id,
        fields=fields,
        reason=reason,
        trace_id=current_trace_id(),
    )
