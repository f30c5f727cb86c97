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
from yiwang.errors import Forbidden

pytestmark = pytest.mark.integration

PUBLIC = {
    ("GET", "/live"),
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/metrics"),
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
    # code -> {(service, method): answer}: what the fake services answer, e.g. a record
    # located at ``code`` that the route must check after fetching it
    answers: Callable[[str], dict[tuple[str, str], Any]] | None = None


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


def case_at(code: str) -> Callable[..., dict[str, Any]]:
    """A fake ``get_case`` (petitions, command) of a case located at ``code``: refuses a
    ``jurisdiction_prefix`` that does not contain it, as the services do."""

    def get_case(**kw: Any) -> dict[str, Any]:
        prefix = kw.get("jurisdiction_prefix") or ""
        if not code.startswith(prefix):
            raise Forbidden("outside_jurisdiction", "outside", "不在管辖范围")
        row = {
            "case_id": kw["case_id"],
            "jurisdiction_code": code,
            "grid_code": code,
            "department": "urban_management",
        }
        return {"case": row, "timeline": [], "escalations": [], "supervisions": [], **row}

    return get_case


def download(**kw: Any) -> dict[str, Any]:
    return {"content_b64": "", "content_type": "text/csv", "filename": "x.csv", "rows": 0}


DAYS = {"day_from": "2026-01-01", "day_to": "2026-01-31"}
HOUSE = "001-1"  # a household code is its building's 18-digit code + "-" + the unit


def add(method: str, path: str, build: Callable[[str], dict[str, Any]], **kw: Any) -> None:
    CASES[(method, path)] = Case(build, scoped=kw.pop("scoped", True), **kw)


G = "/api/v1/grids"
for suffix in ("", "/children", "/chain"):  # a unit inside, or above (the caller's chain)
    add("GET", f"{G}/units/{{code}}{suffix}", lambda c, s=suffix: {"url": f"{G}/units/{c[:9]}{s}"})
add("POST", f"{G}/units", lambda c: {"json": {"code": c[:12], "name": "矩阵社区"}})
add(
    "PATCH",
    f"{G}/units/{{code}}",
    lambda c: {"url": f"{G}/units/{c[:12]}", "json": {"name": "新名"}},
)
add(
    "POST",
    f"{G}/units/{{code}}/move",
    lambda c: {"url": f"{G}/units/{c[:12]}/move", "json": {"new_parent": c[:9]}},
)
add("POST", f"{G}/units/{{code}}/retire", lambda c: {"url": f"{G}/units/{c[:12]}/retire"})
add(
    "POST",
    f"{G}/boundaries/import",
    lambda c: {
        "json": {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": {"code": c[:12]}, "geometry": None}],
        }
    },
)
WORKER = f"{G}/workers/w-matrix"
add(
    "GET",
    f"{G}/workers/{{worker_id}}",
    lambda c: {"url": WORKER},
    answers=lambda c: {("grids", "get_worker"): {"worker_id": "w", "grids": {c: "member"}}},
)
add(
    "PUT",
    f"{G}/workers/{{worker_id}}/status",
    lambda c: {"url": f"{WORKER}/status", "json": {"status": "on_leave"}},
    answers=lambda c: {("grids", "get_worker"): {"worker_id": "w", "grids": {c: "member"}}},
)
add(
    "POST",
    f"{G}/workers/{{worker_id}}/assignments",
    lambda c: {"url": f"{WORKER}/assignments", "json": {"grid_code": c}},
)
RESIDENT = f"{G}/residents/r-matrix"


def resident_at(c: str) -> dict[tuple[str, str], Any]:
    r = {"resident_id": "r", "household_code": c + HOUSE, "registered_community": None}
    return {
        ("grids", "get_resident"): r,
        ("grids", "house_of_resident"): {"household": {"code": c + HOUSE}},
    }


add("GET", f"{G}/residents/{{resident_id}}", lambda c: {"url": RESIDENT}, answers=resident_at)
add(
    "GET",
    f"{G}/residents/{{resident_id}}/house",
    lambda c: {"url": f"{RESIDENT}/house"},
    answers=resident_at,
)
add(
    "PUT",
    f"{G}/residents/{{resident_id}}/tags",
    lambda c: {"url": f"{RESIDENT}/tags", "json": {"tags": ["elderly"]}},
    answers=resident_at,
)
add(
    "POST",
    f"{G}/residents/{{resident_id}}/move",
    lambda c: {"url": f"{RESIDENT}/move", "json": {"household_code": c + "002-1"}},
    answers=resident_at,
)
add(
    "GET",
    f"{G}/households/{{household_code}}/people",
    lambda c: {"url": f"{G}/households/{c}{HOUSE}/people"},
)
add(
    "POST",
    f"{G}/residents",
    lambda c: {
        "json": {"name": "张三", "id_number": "110101199001011234", "household_code": c + HOUSE}
    },
)
add("POST", f"{G}/buildings", lambda c: {"json": {"code": c + "001", "address": "矩阵路1号"}})
add("POST", f"{G}/households", lambda c: {"json": {"code": c + HOUSE}})
add(
    "POST",
    f"{G}/key-places",
    lambda c: {
        "json": {
            "place_id": "p-matrix",
            "kind": "school",
            "name": "学校",
            "lat": 30.0,
            "lon": 120.0,
            "grid_code": c,
        }
    },
)
add("POST", f"{G}/patrols", lambda c: {"json": {"grid_code": c}})
add(
    "GET",
    f"{G}/patrols/{{patrol_id}}",
    lambda c: {"url": f"{G}/patrols/{uuid.uuid4()}"},
    answers=lambda c: {("grids", "get_patrol"): {"grid_code": c}},
)
add(
    "POST",
    f"{G}/sensors/devices",
    lambda c: {
        "json": {"kind": "water_meter", "device_id": "m-matrix", "household_code": c + HOUSE}
    },
)

CASE_URL = f"/api/v1/cases/{uuid.uuid4()}"
add(
    "POST",
    "/api/v1/cases/hotline-import",
    lambda c: {
        "json": {
            "tickets": [
                {
                    "hotline": "12345",
                    "ticket_no": "M-1",
                    "category": "sanitation",
                    "description": "垃圾",
                    "grid_code": c,
                }
            ]
        }
    },
)
for action, body in (
    ("merge", {"target_case_id": str(uuid.uuid4()), "expected_version": 1}),
    (
        "split",
        {
            "expected_version": 1,
            "parts": [
                {"category": "a", "department": "d1", "description": "x"},
                {"category": "b", "department": "d2", "description": "y"},
            ],
        },
    ),
):
    add(
        "POST",
        f"/api/v1/cases/{{case_id}}/{action}",
        lambda c, a=action, b=body: {"url": f"{CASE_URL}/{a}", "json": b},
        answers=lambda c: {("petitions", "get_case"): case_at(c)},
    )
add(
    "POST",
    "/api/v1/cases/{case_id}/supporters/{supporter_id}/detach",
    lambda c: {"url": f"{CASE_URL}/supporters/s1/detach", "json": {"expected_version": 1}},
    answers=lambda c: {("petitions", "get_case"): case_at(c)},
)

C = "/api/v1/command"
C_CASE = f"{C}/cases/{uuid.uuid4()}"
add(
    "GET",
    f"{C}/cases/{{case_id}}",
    lambda c: {"url": C_CASE},
    answers=lambda c: {("command", "get_case"): case_at(c)},
)
add(
    "GET",
    f"{C}/cases/{{case_id}}/audit",
    lambda c: {"url": f"{C_CASE}/audit"},
    answers=lambda c: {("command", "get_case"): case_at(c)},
)


def supervision_at(code: str) -> Callable[..., dict[str, Any]]:
    """A fake ``get_supervision`` of a case at ``code``: the command service decides object
    access from the ``viewer`` (yiwang.access) and refuses one outside its jurisdiction."""

    def get_supervision(**kw: Any) -> dict[str, Any]:
        mine = (kw.get("viewer") or {}).get("jurisdiction_code") or ""
        if not code.startswith(mine):
            raise Forbidden("outside_jurisdiction", "outside", "不在管辖范围")
        return {"case_id": str(uuid.uuid4())}

    return get_supervision


add(
    "GET",
    f"{C}/supervisions/{{supervision_id}}",
    lambda c: {"url": f"{C}/supervisions/{uuid.uuid4()}"},
    answers=lambda c: {("command", "get_supervision"): supervision_at(c)},
)
add(
    "POST",
    f"{C}/cases/{{case_id}}/whistle",
    lambda c: {
        "url": f"{C_CASE}/whistle",
        "json": {"caller_code": c[:12], "departments": ["urban_management"], "expected_version": 1},
    },
)
add(
    "GET",
    f"{C}/cases/export",
    lambda c: {"params": {"jurisdiction": c[:9]}},
    answers=lambda c: {("command", "export_cases"): download},
)
for kpi in ("kpis", "kpis/series"):
    add("GET", f"{C}/{kpi}", lambda c: {"params": {**DAYS, "jurisdiction": c[:9]}})
add(
    "GET",
    f"{C}/kpis/export",
    lambda c: {"params": {**DAYS, "jurisdiction": c[:9]}},
    answers=lambda c: {("command", "export_kpis"): download},
)
add("GET", f"{C}/whistles/tally", lambda c: {"params": {"jurisdiction": c[:9]}})
add("GET", f"{C}/alerts", lambda c: {"params": {"jurisdiction": c[:9]}})
add("GET", f"{C}/units/stats", lambda c: {"params": {**DAYS, "jurisdiction": c[:9]}})
CAL = f"{C}/calendar"  # the working-day calendar: city-wide data, read by staff, edited by admins
add("GET", CAL, lambda c: {}, scoped=False)
add("GET", f"{CAL}/{{year}}", lambda c: {"url": f"{CAL}/2026"}, scoped=False)
add(
    "PUT",
    f"{CAL}/{{year}}",
    lambda c: {
        "url": f"{CAL}/2026",
        "json": {
            "status": "published",
            "holidays": [{"day": "2026-10-01", "name": "国庆节"}],
            "makeup_workdays": [{"day": "2026-10-10"}],
            "expected_revision": 2,
        },
    },
    scoped=False,
)

E = "/api/v1/enterprise"
add(
    "PUT",
    f"{E}/responsibilities",
    lambda c: {
        "json": {"district_code": c[:6], "category": "*", "leader_id": "l1", "department": "d1"}
    },
)
add(
    "POST",
    f"{E}/policies",
    lambda c: {"json": {"title": "政策", "summary": "摘要", "district_codes": [c[:6]]}},
    answers=lambda c: {("enterprise", "publish_policy"): {"policy_id": "p1"}},
)
add(
    "POST",
    f"{E}/projects",
    lambda c: {"json": {"name": "项目", "district_code": c[:6], "leader_id": "l1"}},
    answers=lambda c: {("enterprise", "create_project"): {"project_id": "p1"}},
)
add(
    "GET",
    f"{E}/enterprises/{{enterprise_id}}",
    lambda c: {"url": f"{E}/enterprises/e-matrix"},
    answers=lambda c: {("enterprise", "get_enterprise"): {"grid_code": c}},
)

V = "/api/v1/volunteers"
add(
    "POST",
    f"{V}/teams",
    lambda c: {"json": {"community_code": c[:12], "name": "服务队", "leader_ids": ["p1"]}},
)
add(
    "POST",
    f"{V}/venues",
    lambda c: {
        "json": {
            "community_code": c[:12],
            "name": "活动室",
            "capacity": 20,
            "timetable": [{"weekday": 0, "opens": "08:00", "closes": "18:00"}],
        }
    },
)
add(
    "POST",
    f"{V}/points/adjust",
    lambda c: {
        "json": {
            "holder_kind": "person",
            "holder_id": "p1",
            "amount": 5,
            "reason": "更正",
            "community_code": c[:12],
        }
    },
)
add(
    "POST",
    f"{V}/orders",
    lambda c: {
        "json": {
            "community_code": c[:12],
            "category": "companionship",
            "description": "陪护",
            "window_start": "2026-12-01T09:00:00+08:00",
            "window_end": "2026-12-01T11:00:00+08:00",
            "lat": 30.0,
            "lon": 120.0,
        }
    },
)

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
        client.fake_rpc.answers = case.answers(code) if case.answers else {}  # type: ignore[attr-defined]
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


def test_department_handlers_see_their_departments_cases_only(client: TestClient) -> None:
    settings = client.settings  # type: ignore[attr-defined]
    p = Principal(str(uuid.uuid4()), "department_handler", "d", "3299", department="water")
    h = {"Authorization": f"Bearer {token_for(settings, p)}"}
    client.fake_rpc.answers = {}  # type: ignore[attr-defined]
    for asked in (None, "water", "urban_management"):
        params = {"department": asked} if asked else {}
        r = client.get("/api/v1/command/cases", params=params, headers=h)
        assert r.status_code == 200, r.text
        sent = client.fake_rpc.calls[-1][2]  # type: ignore[attr-defined]
        assert sent["department"] == "water" and sent["jurisdiction_prefix"] == "3299"
    # one case: the command service decides object access (yiwang.access) from the viewer
    # it is given (services/command/tests/integration/test_command_access.py)
    client.fake_rpc.answers = {("command", "get_case"): case_at("329901001001001")}  # type: ignore[attr-defined]
    r = client.get(f"/api/v1/command/cases/{uuid.uuid4()}", headers=h)
    sent = client.fake_rpc.calls[-1][2]  # type: ignore[attr-defined]
    assert sent["viewer"]["department"] == "water" and sent["viewer"]["role"] == p.role
    assert sent["viewer"]["jurisdiction_code"] == "3299"
    client.fake_rpc.answers = {}  # type: ignore[attr-defined]
