"""Reach: Web Push subscriptions, a person's notification preferences, the e-mail opt-out
link, and (administrators) delivery status and dead letters with a resend action.

The petitions service keeps all of it (``yiwang/contracts/reach.py``); these routes
authorise, validate and call it.
"""

from __future__ import annotations

import html
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from gateway.deps import ResourcesDep, RpcDep
from gateway.security import ROLES, STAFF_ROLES, Principal, require
from yiwang.contracts.reach import ListedChannel
from yiwang.errors import Forbidden

router = APIRouter(tags=["reach"])

SIGNED_IN = set(ROLES)
POLICY = {
    "reach.push.subscribe": SIGNED_IN,
    "reach.preferences": SIGNED_IN,
    "reach.deliveries.read": {"admin"},
    "reach.deliveries.resend": {"admin"},
}
PUBLIC_ROUTES = {
    "GET /api/v1/push/vapid-public-key",
    "GET /api/v1/reach/opt-out",
    "POST /api/v1/reach/opt-out",
}

B64URL = r"^[A-Za-z0-9_-]+=*$"


class PushKeys(BaseModel):
    model_config = ConfigDict(extra="forbid")
    p256dh: str = Field(min_length=40, max_length=200, pattern=B64URL)
    auth: str = Field(min_length=16, max_length=60, pattern=B64URL)


class PushSubscriptionIn(BaseModel):
    """The browser's ``PushSubscription.toJSON()``."""

    model_config = ConfigDict(
        extra="ignore",  # expirationTime and future fields
        json_schema_extra={
            "examples": [
                {
                    "endpoint": "https://fcm.googleapis.com/fcm/send/cXz3Ab9Lq0E",
                    "keys": {
                        "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
                        "auth": "tBHItJI5svbpez7KI4CCXg",
                    },
                }
            ]
        },
    )
    endpoint: str = Field(min_length=12, max_length=1000, pattern=r"^https://")
    keys: PushKeys


class PushSubscriptionOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"endpoint": "https://fcm.googleapis.com/fcm/send/cXz3Ab9Lq0E"}]
        }
    )
    endpoint: str = Field(min_length=12, max_length=1000)


class PreferencesIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "channels": ["push", "email"],
                    "email": "wang@example.org",
                    "quiet_start": "22:00",
                    "quiet_end": "07:00",
                }
            ]
        },
    )
    channels: list[Literal["email", "sms", "push"]] = Field(default_factory=list, max_length=3)
    email: str | None = Field(default=None, max_length=120, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, pattern=r"^1[3-9][0-9]{9}$")
    quiet_start: str | None = Field(default=None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    quiet_end: str | None = Field(default=None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    staff_alerts: bool = Field(
        default=False,
        description="staff: tell me when a case is dispatched to my department or escalated "
        "to my unit",
    )


@router.get("/api/v1/push/vapid-public-key", summary="The application server key for Web Push")
async def vapid_public_key(res: ResourcesDep) -> dict[str, Any]:
    key = res.settings.vapid_public_key
    return {"public_key": key or None, "enabled": bool(key)}


@router.post(
    "/api/v1/push/subscriptions",
    status_code=201,
    summary="Register this browser for Web Push notifications",
)
async def register_push(
    body: PushSubscriptionIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("reach.push.subscribe"))],
) -> dict[str, Any]:
    return await rpc.call(
        "petitions",
        "register_push_subscription",
        account_id=who.account_id,
        endpoint=body.endpoint,
        **body.keys.model_dump(),
    )


@router.post("/api/v1/push/subscriptions/remove", summary="Forget this browser's subscription")
async def unregister_push(
    body: PushSubscriptionOut,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("reach.push.subscribe"))],
) -> dict[str, Any]:
    return await rpc.call(
        "petitions",
        "unregister_push_subscription",
        account_id=who.account_id,
        endpoint=body.endpoint,
    )


@router.get("/api/v1/me/notification-preferences", summary="My channels and quiet hours")
async def get_preferences(
    rpc: RpcDep, who: Annotated[Principal, Depends(require("reach.preferences"))]
) -> dict[str, Any]:
    return await rpc.call("petitions", "get_contact_preferences", account_id=who.account_id)


@router.put(
    "/api/v1/me/notification-preferences",
    summary="Choose channels (in order) and quiet hours (urgent messages ignore them)",
)
async def put_preferences(
    body: PreferencesIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("reach.preferences"))],
) -> dict[str, Any]:
    staff = body.staff_alerts and who.role in STAFF_ROLES | {"department_handler", "leader"}
    if body.staff_alerts and not staff:
        raise Forbidden("not_staff", "queue alerts are for staff", "待办提醒仅限工作人员")
    return await rpc.call(
        "petitions",
        "put_contact_preferences",
        account_id=who.account_id,
        **body.model_dump(),
        department=who.department if staff else None,
        # a department handler's queue is the department, not the unit it is bound to
        jurisdiction_code=(who.jurisdiction_code or None)
        if staff and who.role != "department_handler"
        else None,
    )


Token = Annotated[
    str,
    Query(
        min_length=10,
        max_length=400,
        description="the signed opt-out token of the e-mail's link (names the person and its key)",
        examples=["k1.eyJwIjoiYWNjLTEyMyJ9.3q2-7wAbCdEf"],
    ),
]
BeforeId = Annotated[
    int | None,
    Query(
        ge=1,
        description="paging: only messages older than this id (the last page's next_before_id)",
        examples=[1200],
    ),
]


@router.get(
    "/api/v1/reach/opt-out",
    response_class=HTMLResponse,
    summary="The opt-out link of an e-mail: a page asking to confirm",
)
async def opt_out_page(token: Token, channel: Literal["email"] = "email") -> str:
    # a GET changes nothing: mail scanners and link previews fetch links (RFC 8058 §4)
    q = html.escape(urlencode({"channel": channel, "token": token}))
    return (
        "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>"
        "<title>退订邮件通知</title><form method=post action='/api/v1/reach/opt-out?"
        + q
        + "'><p>不再接收一网通办的邮件通知（紧急通知除外）？Stop these e-mails (urgent ones "
        "excepted)?</p><button type=submit>退订 / Unsubscribe</button></form>"
    )


@router.post(
    "/api/v1/reach/opt-out",
    summary="Opt out: the page's button, or a mail client's one-click POST (RFC 8058)",
)
async def opt_out(token: Token, rpc: RpcDep, channel: Literal["email"] = "email") -> dict[str, Any]:
    return await rpc.call("petitions", "opt_out", channel=channel, token=token)


@router.get(
    "/api/v1/admin/deliveries",
    summary="Delivery status per message; status=dead lists the dead letters",
)
async def list_deliveries(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("reach.deliveries.read"))],
    status: Literal["pending", "sending", "sent", "dead", "suppressed"] | None = None,
    channel: ListedChannel | None = None,
    before_id: BeforeId = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    return await rpc.call(
        "petitions",
        "list_deliveries",
        status=status,
        channel=channel,
        before_id=before_id,
        limit=limit,
    )


@router.get("/api/v1/admin/dead-letters", summary="Messages that could not be delivered")
async def list_dead_letters(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("reach.deliveries.read"))],
    channel: Literal["email", "sms", "push"] | None = None,
    before_id: BeforeId = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    return await rpc.call(
        "petitions",
        "list_deliveries",
        status="dead",
        channel=channel,
        before_id=before_id,
        limit=limit,
    )


@router.post(
    "/api/v1/admin/dead-letters/{notification_id}/resend",
    summary="Send a dead letter again (a fresh idempotency key)",
)
async def resend_dead_letter(
    notification_id: Annotated[int, Path(ge=1)],
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("reach.deliveries.resend"))],
) -> dict[str, Any]:
    return await rpc.call(
        "petitions", "resend_notification", notification_id=notification_id, actor=who.actor()
    )
