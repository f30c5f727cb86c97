"""One authorization layer: ``require(action)`` checks the caller's role against the POLICY
tables that route modules declare, merged once at app start.

Every ``POLICY`` maps ``action -> set of roles``. Service API keys (role ``system``) are
allowed exactly the actions listed on the key (``"area.*"`` grants every action under
``area.``). An action used in ``require()`` but declared in no POLICY is a startup error.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from fastapi import FastAPI, Request, Security
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from gateway.reach import otp_sender
from gateway.security.authn import Authenticator
from gateway.security.principal import ALL_ROLES, SYSTEM_ROLE, Principal, Unauthenticated
from yiwang.errors import Forbidden

ACTION_ATTR = "__yiwang_action__"
OPTIONAL_ATTR = "__yiwang_optional_principal__"
SCOPE_KEY = "yiwang"  # scope["yiwang"]: per-request security facts shared with middleware

bearer_scheme = HTTPBearer(
    auto_error=False, scheme_name="bearer", description="Access token from POST /api/v1/auth/login"
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="apiKey",
    description="Service API key (role system), e.g. Open311 clients",
)


class PolicyError(RuntimeError):
    """The POLICY tables or the routes using them are inconsistent (raised at startup)."""


def key_allows(granted: Iterable[str], action: str) -> bool:
    for g in granted:
        if g == action or g == "*":
            return True
        if g.endswith(".*") and action.startswith(g[:-1]):
            return True
    return False


@dataclass(frozen=True)
class Policy:
    table: Mapping[str, frozenset[str]]

    def allows(self, principal: Principal, action: str) -> bool:
        roles = self.table.get(action)
        if roles is None:
            return False
        if principal.role == SYSTEM_ROLE:
            return key_allows(principal.actions, action)
        return principal.role in roles

    def check(self, principal: Principal, action: str) -> None:
        if not self.allows(principal, action):
            raise Forbidden(
                "role_not_allowed",
                f"Your role may not perform '{action}'.",
                f"您的角色无权执行“{action}”。",
                action=action,
            )

    def matches_any(self, pattern: str) -> bool:
        return any(key_allows([pattern], a) for a in self.table)


def collect_policy(modules: Iterable[ModuleType]) -> dict[str, frozenset[str]]:
    merged: dict[str, frozenset[str]] = {}
    owner: dict[str, str] = {}
    for module in modules:
        table = getattr(module, "POLICY", None)
        if table is None:
            continue
        for action, roles in table.items():
            roles = frozenset(roles)
            unknown = roles - ALL_ROLES
            if unknown:
                raise PolicyError(
                    f"{module.__name__}: POLICY[{action!r}] names unknown roles {sorted(unknown)}"
                )
            if action in merged and merged[action] != roles:
                raise PolicyError(
                    f"action {action!r} declared differently in "
                    f"{owner[action]} and {module.__name__}"
                )
            merged[action] = roles
            owner[action] = module.__name__
    return merged


def collect_public(modules: Iterable[ModuleType]) -> set[tuple[str, str]]:
    """Routes a module declares open to anyone: ``PUBLIC_ROUTES = {"GET /api/v1/x/{id}"}``
    (for routes that neither ``require`` an action nor take ``optional_principal``)."""
    out: set[tuple[str, str]] = set()
    for module in modules:
        for entry in getattr(module, "PUBLIC_ROUTES", ()):
            method, _, path = entry.partition(" ")
            out.add((method.upper(), path.strip()))
    return out


def route_modules(package: str = "gateway.api.routes") -> list[ModuleType]:
    pkg = importlib.import_module(package)
    return [
        importlib.import_module(f"{package}.{m.name}")
        for m in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name)
    ]


def _walk_calls(dependant: Any) -> Iterable[Any]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _walk_calls(dep)


def route_actions(route: APIRoute) -> list[str]:
    """Actions a route requires (via ``require``), in dependency order."""
    return [
        getattr(c, ACTION_ATTR) for c in _walk_calls(route.dependant) if hasattr(c, ACTION_ATTR)
    ]


def route_is_optional(route: APIRoute) -> bool:
    return any(getattr(c, OPTIONAL_ATTR, False) for c in _walk_calls(route.dependant))


def iter_api_routes(app: FastAPI) -> Iterator[tuple[str, frozenset[str], APIRoute]]:
    """Every API route of the app as (full path, methods, route), included routers too."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI without included-router contexts: routes are flat
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield route.path, frozenset(route.methods), route
        return
    for ctx in iter_route_contexts(app.routes):
        orig = ctx.original_route
        if isinstance(orig, APIRoute):
            methods = getattr(ctx, "methods", None) or orig.methods
            yield ctx.path or orig.path, frozenset(methods), orig


def verify_routes(app: FastAPI, policy: Policy) -> None:
    for path, methods, route in iter_api_routes(app):
        for action in route_actions(route):
            if action not in policy.table:
                raise PolicyError(
                    f"{sorted(methods)} {path} requires {action!r}, which no POLICY declares"
                )


# -- dependencies ----------------------------------------------------------------------------


def _state(request: Request) -> dict[str, Any]:
    st: dict[str, Any] = request.scope.setdefault(SCOPE_KEY, {})
    return st


def remember(request: Request, principal: Principal) -> None:
    """Make the principal visible to the audit/idempotency middleware."""
    _state(request)["principal"] = principal


def authenticator(request: Request) -> Authenticator:
    res = request.app.state.resources
    send_code = otp_sender(res.rpc, res.settings.otp_ttl_s) if res.settings.otp_sms else None
    return Authenticator(
        res.settings,
        res.engine,
        res.redis,
        request.app.state.keyring,
        getattr(request.app.state, "clock", None),
        send_code=send_code,
    )


async def _authenticate(
    request: Request, bearer: HTTPAuthorizationCredentials | None, api_key: str | None
) -> Principal | None:
    cached = _state(request).get("principal")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    auth = authenticator(request)
    if bearer is not None and bearer.credentials:
        principal = await auth.from_bearer(bearer.credentials)
    elif api_key:
        principal = await auth.from_api_key(api_key)
    else:
        return None
    remember(request, principal)
    return principal


def require(action: str) -> Callable[..., Awaitable[Principal]]:
    """Dependency: authenticate and authorise ``action``; returns the ``Principal``."""

    async def dependency(
        request: Request,
        bearer: HTTPAuthorizationCredentials | None = Security(bearer_scheme),
        api_key: str | None = Security(api_key_scheme),
    ) -> Principal:
        principal = await _authenticate(request, bearer, api_key)
        if principal is None:
            raise Unauthenticated("unauthenticated", "Sign in to do this.", "请先登录。")
        policy: Policy = request.app.state.policy
        policy.check(principal, action)
        return principal

    setattr(dependency, ACTION_ATTR, action)
    dependency.__name__ = f"require_{action.replace('.', '_')}"
    return dependency


async def optional_principal(
    request: Request,
    bearer: HTTPAuthorizationCredentials | None = Security(bearer_scheme),
    api_key: str | None = Security(api_key_scheme),
) -> Principal | None:
    """Dependency for routes open to anonymous callers: the principal when credentials are
    sent (invalid credentials are still a 401), else None."""
    return await _authenticate(request, bearer, api_key)


setattr(optional_principal, OPTIONAL_ATTR, True)
