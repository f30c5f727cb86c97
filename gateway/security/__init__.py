"""The gateway's identity and authorization layer (see docs/CONVENTIONS.md,
"Gateway security interface").

``install(app)`` merges the route modules' POLICY tables, refuses to start when a route
requires an undeclared action, and registers the 401/429 problem handlers.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gateway import problems
from gateway.security.authn import Authenticator, TooManyAttempts
from gateway.security.policy import (
    Policy,
    PolicyError,
    collect_policy,
    optional_principal,
    remember,
    require,
    route_actions,
    route_is_optional,
    route_modules,
    verify_routes,
)
from gateway.security.principal import (
    ALL_ROLES,
    ROLES,
    STAFF_ROLES,
    SYSTEM_ROLE,
    Principal,
    Unauthenticated,
)
from gateway.security.privacy import mask_contact, mask_name, mask_phone, unmask

__all__ = [
    "ALL_ROLES",
    "ROLES",
    "STAFF_ROLES",
    "SYSTEM_ROLE",
    "Authenticator",
    "Policy",
    "PolicyError",
    "Principal",
    "TooManyAttempts",
    "Unauthenticated",
    "collect_policy",
    "install",
    "mask_contact",
    "mask_name",
    "mask_phone",
    "optional_principal",
    "remember",
    "require",
    "route_actions",
    "route_is_optional",
    "unmask",
]


def install(app: FastAPI, modules: Iterable[ModuleType] | None = None) -> Policy:
    """Call after every router is included (gateway.main.create_app)."""
    policy = Policy(collect_policy(route_modules() if modules is None else modules))
    verify_routes(app, policy)
    app.state.policy = policy

    @app.exception_handler(Unauthenticated)
    async def _unauthenticated(request: Request, exc: Unauthenticated) -> JSONResponse:
        return problems.problem(
            401, exc.code, exc.message_en, exc.message_zh, headers={"WWW-Authenticate": "Bearer"}
        )

    @app.exception_handler(TooManyAttempts)
    async def _too_many(request: Request, exc: TooManyAttempts) -> JSONResponse:
        retry = int(exc.details.get("retry_after") or 1)
        return problems.problem(
            429,
            exc.code,
            exc.message_en,
            exc.message_zh,
            headers={"Retry-After": str(retry)},
            retry_after=retry,
        )

    return policy
