"""Every route of ``create_app()`` × every role × inside/outside the account's jurisdiction.

The expected answer comes from the merged POLICY table: anonymous → 401; a role the policy
does not list → 403 ``role_not_allowed`` (and no service is called); an allowed role naming
another unit → 403 ``outside_jurisdiction``; otherwise the route runs (services are recording
fakes). A route without ``require`` must be public: listed in PUBLIC here, declared in its
module's ``PUBLIC_ROUTES``, or taking ``optional_principal``.

Routes with a CASES entry get exact requests (bodies included). Every other protected route
is generated: path and ``jurisdiction`` query parameters that name units get a code inside
or outside the caller's unit (so a URL naming another unit must be refused with
``outside_jurisdiction``), other path parameters a fresh id, and no body; there only the
role and jurisdiction checks are asserted (the fake services may answer oddly).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.security import ALL_ROLES, Principal
from gateway.security.policy import (
    collect_public,
    iter_api_routes,
    route_actions,
    route_is_optional,
    route_modules,
)
from gateway.tests.conftest import token_for

pytestmark = pytest.mark.integration

PUBLIC = {
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/otp/request"),
    ("POST", "/api/v1/auth/otp/verify"),
    ("POST", "/api/v1/auth/refresh"),  # authenticated by the refresh token itself
    ("POST", "/api/v1/reports"),  # anonymous citizens may file (optional_principal)
    ("GET", "/api/v1/reports/{report_id}"),  # status by unguessable id, for anonymous filers
}

# Where each role is bound in the matrix (the demo city's chain; department in the city).
BOUND = {
    "admin": "",
    "leader": "3299",
    "city_staff": "3299",
    "district_staff": "329901",
    "street_staff": "329901001",
    "community_staff": "329901001001",
    "grid_worker": "329901001001001",
    "department_handler": "3299",
    "volunteer": "329901001001",
    "citizen": "3299",
    "enterprise_user": "329901",
    "institution_user": "3299",
    "system": "3299",
}
INSIDE = "329901001001001"  # inside every binding above
OUTSIDE = "330001001001001"  # another city


@dataclass(frozen=True)
class Case:
    """How to call a route with a unit code that is inside or outside the caller's unit."""

    build: Callable[[str], dict[str, Any]]  # code -> kwargs for client.request
    scoped: bool  # does the request name a unit (so 'outside' must be refused)?
    generic: bool = False  # generated from the route's parameters (no CASES entry)
    level: int = 18  # the broadest unit code the request names (generated cases)
    streaming: bool = False  # never completes when allowed (SSE): only refusals are sent


def at_level(code: str, n: int) -> str:
    return code[:n]


CASES: dict[tuple[str, str], Case] = {
    ("GET", "/api/v1/command/cases"): Case(
        lambda code: {"params": {"jurisdiction": code}}, scoped=True
    ),
    ("POST", "/api/v1/admin/accounts"): Case(
        lambda code: {
            "json": {
                "username": f"m{uuid.uuid4().hex[:12]}",
                "password": "long-enough-password",
                "display_name": "矩阵",
                "role": "street_staff",
                "jurisdiction_code": at_level(code, 9),
            }
        },
        scoped=True,
    ),
    ("GET", "/api/v1/admin/accounts"): Case(
        lambda code: {"params": {"jurisdiction": at_level(code, 6)}}, scoped=True
    ),
    ("POST", "/api/v1/admin/api-keys"): Case(
        lambda code: {
            "json": {
                "name": "matrix",
                "actions": ["auth.me"],
                "jurisdiction_code": at_level(code, 6),
            }
        },
        scoped=True,
    ),
    ("POST", "/api/v1/auth/logout"): Case(lambda code: {}, scoped=False),
    ("GET", "/api/v1/auth/me"): Case(lambda code: {}, scoped=False),
}

CODE_PARAMS = {
    "jurisdiction": 15,
    "jurisdiction_code": 15,
    "unit_code": 15,
    # "code" alone is ambiguous (category codes, unit codes): such routes need a CASES entry
    "grid_code": 15,
    "community_code": 12,
    "street_code": 9,
    "district_code": 6,
    "city_code": 4,
}


def generic_case(route: Any, path: str) -> Case:
    path_names: list[str] = []
    query_names: list[str] = []

    def walk(dep: Any) -> None:
        path_names.extend(f.alias or f.name for f in dep.path_params)
        query_names.extend(f.alias or f.name for f in dep.query_params)
        for sub in dep.dependencies:
            walk(sub)

    walk(route.dependant)
    path_names = list(dict.fromkeys(path_names))
    query_codes = [n for n in dict.fromkeys(query_names) if n in CODE_PARAMS]
    scoped = bool(query_codes) or any(n in CODE_PARAMS for n in path_names)
    fixed_ids = {n: str(uuid.uuid4()) for n in path_names if n not in CODE_PARAMS}

    def build(code: str) -> dict[str, Any]:
        url = path
        for n in path_names:
            value = at_level(code, CODE_PARAMS[n]) if n in CODE_PARAMS else fixed_ids[n]
            url = url.replace("{" + n + "}", value).replace("{" + n + ":path}", value)
        params = {n: at_level(code, CODE_PARAMS[n]) for n in query_codes}
        return {"url": url, "params": params}

    from starlette.responses import StreamingResponse

    rc = getattr(route.response_class, "value", route.response_class)
    streaming = isinstance(rc, type) and issubclass(rc, StreamingResponse)
    named = [CODE_PARAMS[n] for n in [*path_names, *query_codes] if n in CODE_PARAMS]
    return Case(
        build, scoped=scoped, generic=True, streaming=streaming, level=min(named, default=18)
    )


# Generated cases hold these roles to the outside check; for residents, volunteers, units and
# systems a route may legitimately show public data of other units (e.g. an order hall).
STRICT_OUTSIDE = {
    "grid_worker",
    "community_staff",
    "street_staff",
    "district_staff",
    "city_staff",
    "leader",
    "department_handler",
    "admin",
}

PRINCIPALS: list[tuple[str, str]] = [(role, BOUND[role]) for role in sorted(ALL_ROLES)]
PRINCIPALS.append(("admin", "329901"))  # an administrator bound to one district


def all_routes() -> list[tuple[str, str, list[str], bool, Any]]:
    from gateway.main import create_app

    out = []
    for path, methods, route in iter_api_routes(create_app()):
        for m in sorted(methods - {"HEAD", "OPTIONS"}):
            out.append((m, path, route_actions(route), route_is_optional(route), route))
    return out


ROUTES = all_routes()
PROTECTED = [(m, p, acts) for m, p, acts, _, _ in ROUTES if acts]
GENERIC = {
    (m, p): generic_case(r, p) for m, p, acts, _, r in ROUTES if acts and (m, p) not in CASES
}


def test_every_route_is_protected_or_explicitly_public() -> None:
    from gateway.main import create_app

    app = create_app()
    declared = collect_public(route_modules())
    starlette_paths = {("GET", r.path) for r in app.routes if getattr(r, "path", None)}
    undeclared = [
        f"{m} {p}"
        for m, p, acts, optional, _ in ROUTES
        if not acts and not optional and (m, p) not in PUBLIC | declared
    ]
    assert not undeclared, (
        "routes without require() that are not declared public (add them to the module's "
        "PUBLIC_ROUTES, or protect them): " + ", ".join(undeclared)
    )
    both = [f"{m} {p}" for m, p, acts, _, _ in ROUTES if acts and (m, p) in PUBLIC | declared]
    assert not both, "protected routes listed as public: " + ", ".join(both)
    assert set(CASES) <= {(m, p) for m, p, _ in PROTECTED}, "stale CASES entries"
    assert {("GET", "/openapi.json"), ("GET", "/docs")} <= starlette_paths


class _Quiet:
    """The fake services make some generated requests fail with 500; logging every
    traceback (rich rendering) would dominate the run, and 500s are not what is tested."""

    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: None


@pytest.fixture(scope="module", autouse=True)
def quiet_unexpected_errors() -> Any:
    import gateway.problems

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(gateway.problems, "log", _Quiet())
        yield


@pytest.fixture(scope="module")
def system_keys(client: TestClient) -> dict[str, str]:
    """One API key per protected action, granting exactly that action."""
    from gateway.security import credentials as cred
    from gateway.security import store

    engine = client.app.state.resources.engine  # type: ignore[attr-defined]
    keys: dict[str, str] = {}
    for _, _, acts in PROTECTED:
        for action in acts:
            key = cred.new_api_key()
            store.create_api_key(
                engine,
                key_hash=cred.sha256_hex(key),
                key_prefix=key[:10],
                name=f"matrix {action}",
                actions=[action],
                jurisdiction_code=BOUND["system"],
                created_by="matrix",
            )
            keys[action] = key
    return keys


def expected(
    role: str,
    bound: str,
    actions: list[str],
    case: Case,
    where: str,
    policy: Any,
    granted: set[str],
) -> tuple[int | None, str | None]:
    for action in actions:
        allowed = action in granted if role == "system" else role in policy.table[action]
        if not allowed:
            return 403, "role_not_allowed"
    strict = not case.generic or role in STRICT_OUTSIDE
    if case.scoped and where == "outside" and bound != "" and strict:
        return 403, "outside_jurisdiction"
    return None, None  # allowed: anything but 401/403


@pytest.mark.parametrize(
    ("method", "path", "actions"), PROTECTED, ids=[f"{m} {p}" for m, p, _ in PROTECTED]
)
def test_matrix(
    client: TestClient, system_keys: dict[str, str], method: str, path: str, actions: list[str]
) -> None:
    case = CASES.get((method, path)) or GENERIC[(method, path)]
    policy = client.app.state.policy  # type: ignore[attr-defined]
    settings = client.settings  # type: ignore[attr-defined]
    failures: list[str] = []

    def call(headers: dict[str, str], code: str) -> Any:
        kw = case.build(code)
        return client.request(method, kw.pop("url", path), headers=headers, **kw)

    anon = call({}, INSIDE)
    if anon.status_code != 401:
        failures.append(f"anonymous: {anon.status_code}")

    for role, bound in PRINCIPALS:
        for where, code in (("inside", INSIDE), ("outside", OUTSIDE)):
            if role == "system":
                action = actions[0]
                headers = {"X-API-Key": system_keys[action]}
                granted = {action}
            else:
                p = Principal(
                    str(uuid.uuid4()),
                    role,
                    f"{role}@{bound}",
                    bound,
                    department="urban_management" if role == "department_handler" else None,
                )
                headers = {"Authorization": f"Bearer {token_for(settings, p)}"}
                granted = set()
            want_status, want_code = expected(role, bound, actions, case, where, policy, granted)
            if want_status is None and case.streaming:
                continue
            before = len(client.fake_rpc.calls)  # type: ignore[attr-defined]
            r = call(headers, code)
            label = f"{role}@{bound or '*'} {where}"
            got = r.json().get("code") if r.status_code in (401, 403) else None
            if want_status is None and case.generic:
                refused_inside = (
                    got == "outside_jurisdiction"
                    and case.scoped  # else the fake services' data decided
                    and where == "inside"
                    and len(bound) <= case.level  # naming a unit above the caller's may be refused
                )
                if r.status_code == 401 or got == "role_not_allowed" or refused_inside:
                    failures.append(f"{label}: expected allowed, got {r.status_code} {got}")
            elif want_status is None:
                if r.status_code in (401, 403) or r.status_code >= 500:
                    failures.append(f"{label}: expected allowed, got {r.status_code} {r.text}")
                calls = client.fake_rpc.calls[before:]  # type: ignore[attr-defined]
                for _, _, kw in calls:
                    if "jurisdiction_prefix" in kw and not kw["jurisdiction_prefix"].startswith(
                        bound
                    ):
                        failures.append(f"{label}: RPC saw {kw['jurisdiction_prefix']!r}")
            elif case.generic and want_code == "outside_jurisdiction" and r.status_code == 422:
                pass  # the generated request is invalid: the handler's check never ran
            else:
                if (r.status_code, got) != (want_status, want_code):
                    failures.append(
                        f"{label}: expected {want_status} {want_code}, got {r.status_code} {got}"
                    )
                if want_code == "role_not_allowed" and len(client.fake_rpc.calls) != before:  # type: ignore[attr-defined]
                    failures.append(f"{label}: a refused request reached a service")
    assert not failures, "\n".join(failures)


def test_command_view_is_narrowed_to_the_callers_unit(client: TestClient) -> None:
    settings = client.settings  # type: ignore[attr-defined]
    p = Principal(str(uuid.uuid4()), "street_staff", "s", "329901001")
    h = {"Authorization": f"Bearer {token_for(settings, p)}"}
    for asked, sent in (("", "329901001"), ("3299", "329901001"), ("329901001005", "329901001005")):
        r = client.get("/api/v1/command/cases", params={"jurisdiction": asked}, headers=h)
        assert r.status_code == 200
        assert client.fake_rpc.calls[-1][2]["jurisdiction_prefix"] == sent  # type: ignore[attr-defined]
    r = client.get("/api/v1/command/cases", params={"jurisdiction": "329901002"}, headers=h)
    assert r.status_code == 403 and r.json()["code"] == "outside_jurisdiction"
