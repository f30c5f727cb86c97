"""Server-Sent Events for dashboards: changes of the dispatch view within the viewer's
jurisdiction (department handlers: cases dispatched to their department).

Browsers read it with ``fetch`` and a stream reader (so the Bearer token stays in a
header), or any SSE client that can send ``Authorization``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from gateway.api.params import Jurisdiction
from gateway.live import LiveHub, Subscriber
from gateway.security import STAFF_ROLES, Principal, Unauthenticated, require
from gateway.security.policy import authenticator

router = APIRouter(prefix="/api/v1/live", tags=["live"])

POLICY = {"live.cases": set(STAFF_ROLES) | {"leader"}}


def hub(request: Request) -> LiveHub:
    """The process's hub (built in ``gateway.main``'s lifespan; built here when an app was
    assembled without it)."""
    state = request.app.state
    if getattr(state, "live_hub", None) is None:
        res = state.resources
        cache = getattr(state, "read_cache", None)
        state.live_hub = LiveHub(
            res.redis,
            f"{res.settings.redis_prefix}live",
            on_change=cache.changed if cache is not None else None,
        )
    live: LiveHub = state.live_hub
    return live


@router.get(
    "/cases",
    summary="Live changes of cases in my jurisdiction (text/event-stream)",
    response_class=StreamingResponse,
)
async def live_cases(
    request: Request,
    who: Annotated[Principal, Depends(require("live.cases"))],
    jurisdiction: Jurisdiction = "",
) -> StreamingResponse:
    prefix = who.jurisdiction_prefix(jurisdiction)
    department = who.department if who.role == "department_handler" else None
    sub = Subscriber(prefix=prefix, department=department)
    still_valid = None
    auth_header = request.headers.get("authorization", "")
    if who.via == "token" and auth_header[:7].lower() == "bearer ":
        token, auth = auth_header[7:].strip(), authenticator(request)

        async def still_valid() -> bool:  # revoked, expired, account changed: the stream ends
            try:
                await auth.from_bearer(token)
            except Unauthenticated:
                return False
            return True

    settings = request.app.state.resources.settings
    return StreamingResponse(
        hub(request).stream(sub, still_valid=still_valid, recheck_s=settings.live_auth_recheck_s),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
