"""Schemathesis against the running system's ``/openapi.json`` (issue 9, "Done when").

Every documented operation is called with generated data (positive, and a few negative
examples) signed in as every demo account of the README (one per role: administrator,
leader, city/district/street/community staff, grid worker, department handler, volunteer,
citizen, enterprise and institution user) and as an anonymous caller. Every answer must be:

- never a 5xx;
- a documented status code with a documented content type, its body matching the schema;
- on 4xx, an RFC 9457 problem (``application/problem+json``, ``code``, ``detail``,
  ``detail_zh``) — except Open311, whose errors are the GeoReport shapes (its own suite).

Bounded in time. Each operation gets its examples by what the policy lets the identity's
role do: where the role is refused (401/403 comes before any validation), one call checks
the refusal is a proper problem; where it is allowed, a few examples (``FUZZ_EXAMPLES`` /
``FUZZ_NEGATIVE`` for the broad roles admin and city staff, fewer for the others; env
``YIWANG_FUZZ_EXAMPLES`` / ``YIWANG_FUZZ_NARROW_EXAMPLES`` raise them). The whole run has a
time budget (``YIWANG_FUZZ_BUDGET_S``, shared among the identities in proportion to their
planned calls): past its share, an identity's remaining operations get one example each, so
every operation is still called as every identity. Each identity walks the operations in
its own (seeded) order, so the budget cuts short different operations for different roles.
Server-Sent Events and sign-out are skipped. The rate-limit counters are cleared as the run
goes (the limiter is tested in the gateway's own suite; here it would only turn the
fuzzing into 429s).
"""

from __future__ import annotations

import functools
import json
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import redis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.security import seed
from gateway.security.policy import collect_policy, iter_api_routes, route_actions, route_modules
from gateway.security.principal import ROLES
from tests.support.resources import TestResources
from tests.support.system import DEMO_PASSWORD, System, start_system

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

FUZZ_EXAMPLES = int(os.environ.get("YIWANG_FUZZ_EXAMPLES", "6"))
FUZZ_NEGATIVE = int(os.environ.get("YIWANG_FUZZ_NEGATIVE", "2"))
FUZZ_BUDGET_S = float(os.environ.get("YIWANG_FUZZ_BUDGET_S", "420"))  # the whole run
# the other roles, on the operations their role may perform
NARROW_EXAMPLES = int(os.environ.get("YIWANG_FUZZ_NARROW_EXAMPLES", "2"))
NARROW_NEGATIVE = int(os.environ.get("YIWANG_FUZZ_NARROW_NEGATIVE", "1"))
ANON_EXAMPLES = 2
BROAD_ROLES = {"admin", "city_staff"}  # FUZZ_EXAMPLES / FUZZ_NEGATIVE


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """A system of the fuzz's own: as administrator it writes whatever the API accepts
    (routing rules, categories, holidays, accounts…), which must not leak into the tests
    that run after it on the session's shared system."""
    from yiwang.migrate import upgrade

    res = TestResources.create("fuzz")
    try:
        upgrade(res.database_url)
        yield from start_system(res, str(tmp_path_factory.mktemp("fuzz-var")))
    finally:
        res.destroy()


def demo_roles() -> dict[str, str]:
    """username -> role of the demo accounts (one per role, as seeded for the README)."""
    accounts = seed.demo_accounts("3299", "329901", "329901001", "329901001001", "329901001001001")
    return {a["username"]: a["role"] for a in accounts}


IDENTITIES = [*demo_roles(), "anonymous"]


@functools.cache
def operation_roles() -> dict[tuple[str, str], frozenset[str] | None]:
    """(METHOD, path) -> roles the policy allows (every action the route requires), or None
    for operations that require no action (open to anyone)."""
    from gateway.main import create_app

    table = collect_policy(route_modules())
    out: dict[tuple[str, str], frozenset[str] | None] = {}
    for path, methods, route in iter_api_routes(create_app()):
        actions = route_actions(route)
        roles = None
        if actions:
            roles = frozenset.intersection(*(table[a] for a in actions))
        for method in methods:
            out[(method, path)] = roles
    return out


def examples_for(role: str | None, allowed: frozenset[str] | None) -> tuple[int, int]:
    """(positive, negative) examples for an operation called by ``role`` (None: anonymous).
    Where the role is refused (401/403 comes before any validation) one call checks the
    refusal is a proper problem; where it is allowed, the role's data is exercised."""
    if allowed is None:  # open to anyone
        return (ANON_EXAMPLES, 0) if role is None else (NARROW_EXAMPLES, NARROW_NEGATIVE)
    if role is None or role not in allowed:
        return (1, 0)
    if role in BROAD_ROLES:
        return (FUZZ_EXAMPLES, FUZZ_NEGATIVE)
    return (NARROW_EXAMPLES, NARROW_NEGATIVE)


SKIP_PREFIXES = ("/api/v1/live/",)  # Server-Sent Events: never complete
SKIP_OPERATIONS = {
    ("POST", "/api/v1/auth/logout"),  # would revoke the token the run is using
}
OWN_ERROR_FORMAT = ("/open311/",)  # GeoReport error shapes, tested in tests/open311
PROBLEM = "application/problem+json"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class Run:
    identity: str
    calls: int = 0
    operations: int = 0
    allowed: int = 0  # operations the identity's role may perform (or open ones)
    cut_short: int = 0  # operations called with one example only (past the time budget)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # operation -> first failure


def problem_details(response: Any, label: str) -> str | None:
    """A 4xx must be a problem: our content type and the stable fields."""
    status = response.status_code
    if not 400 <= status < 500:
        return None
    values = response.headers.get("content-type") or [""]  # schemathesis: name -> [values]
    ctype = values[0] if isinstance(values, list) else str(values)
    if not ctype.startswith(PROBLEM):
        return f"{status} with content type {ctype!r}, not {PROBLEM}"
    try:
        body = json.loads(response.content)
    except ValueError:
        return f"{status} problem body is not JSON"
    missing = [k for k in ("code", "detail", "detail_zh") if not body.get(k)]
    if missing or body.get("status") != status:
        return f"{status} problem lacks {missing} or status mismatch: {body}"
    text = response.content.decode("utf-8", "replace").lower()
    for leak in ("traceback", "sqlalchemy", "psycopg2", 'file "/'):
        if leak in text:
            return f"{status} problem leaks internals ({leak}): {body}"
    return None


def sign_in(system: System, username: str) -> str:  # noqa: F811
    r = httpx.post(
        f"{system.base_url}/api/v1/auth/login",
        json={"username": username, "password": DEMO_PASSWORD},
        timeout=15,
    )
    r.raise_for_status()
    return str(r.json()["access_token"])


def planned_calls(identity: str) -> int:
    role = demo_roles().get(identity)
    return sum(sum(examples_for(role, allowed)) for allowed in operation_roles().values())


def budget_share(identity: str, total_s: float = FUZZ_BUDGET_S) -> float:
    """The identity's share of the run's time budget, by its planned calls."""
    return total_s * planned_calls(identity) / sum(planned_calls(i) for i in IDENTITIES)


def fuzz(system: System, identity: str, budget_s: float) -> Run:  # noqa: F811
    base = system.base_url
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    headers: dict[str, str] = {}
    if identity != "anonymous":
        headers["Authorization"] = f"Bearer {sign_in(system, identity)}"
    session = requests.Session()
    rds = redis.Redis.from_url(system.resources.redis_url)
    rl_pattern = f"{system.resources.redis_prefix}gw:rl:*"
    run = Run(identity)

    def reset_limits() -> None:
        keys = list(rds.scan_iter(rl_pattern, count=1000))
        if keys:
            rds.delete(*keys)

    def exercise(op: Any, mode: Any, n: int, label: str, own_errors: bool) -> None:
        @settings(
            max_examples=n,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=op.as_strategy(generation_mode=mode))
        def one(case: Any) -> None:
            if label in run.failures:
                return
            run.calls += 1
            if run.calls % 150 == 0:
                reset_limits()
            try:
                response = case.call(base_url=base, session=session, headers=headers, timeout=30)
            except requests.RequestException as exc:
                run.failures[label] = f"request failed: {exc!r}"
                return
            run.statuses[response.status_code] = run.statuses.get(response.status_code, 0) + 1
            if response.status_code == 429:  # the limiter fired between resets
                reset_limits()
                return
            try:
                case.validate_response(
                    response, checks=[not_a_server_error] if own_errors else CHECKS
                )
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis FailureGroup
                run.failures[label] = f"[{mode.value}] {str(exc)[:1500]}"
                return
            if not own_errors:
                bad = problem_details(response, label)
                if bad:
                    req = response.request
                    body = (req.body or b"")[:300]
                    run.failures[label] = f"[{mode.value}] {bad}\n  {req.method} {req.url} {body!r}"

        try:
            one()
        except Unsatisfiable:  # e.g. no negative input exists for this operation
            pass

    reset_limits()
    role = demo_roles().get(identity)
    access = operation_roles()
    operations = [result.ok() for result in schema.get_all_operations()]
    random.Random(identity).shuffle(operations)  # each identity its own order
    deadline = time.monotonic() + budget_s
    for op in operations:
        method, path = op.method.upper(), op.path
        if path.startswith(SKIP_PREFIXES) or (method, path) in SKIP_OPERATIONS:
            continue
        run.operations += 1
        label = f"{method} {path}"
        own_errors = path.startswith(OWN_ERROR_FORMAT)
        assert (method, path) in access, f"{label} is documented but not a route of the app"
        positive, negative = examples_for(role, access[(method, path)])
        run.allowed += positive > 1
        if time.monotonic() > deadline and positive > 1:
            positive, negative = 1, 0
            run.cut_short += 1
        for mode, n in (
            (schemathesis.GenerationMode.POSITIVE, positive),
            (schemathesis.GenerationMode.NEGATIVE, negative),
        ):
            if n > 0 and label not in run.failures:
                exercise(op, mode, n, label, own_errors)
    reset_limits()
    return run


@pytest.mark.parametrize("identity", IDENTITIES)
def test_openapi_fuzz(system: System, identity: str) -> None:  # noqa: F811
    started = time.monotonic()
    run = fuzz(system, identity, budget_share(identity))
    took = time.monotonic() - started
    print(  # the figures, for the report (pytest -s)
        f"\nfuzz {identity}: {run.operations} operations ({run.allowed} allowed, "
        f"{run.cut_short} cut short), "
        f"{run.calls} calls in {took:.1f} s, "
        f"statuses {dict(sorted(run.statuses.items()))}"
    )
    assert run.operations > 100, "the OpenAPI document lost its operations"
    assert run.allowed > 0, f"{identity} may perform no operation at all"
    assert not run.failures, f"{len(run.failures)} operations failed:\n\n" + "\n\n".join(
        f"== {label}\n{msg}" for label, msg in sorted(run.failures.items())
    )


def test_every_role_is_fuzzed() -> None:
    assert set(demo_roles().values()) == ROLES
    assert len(IDENTITIES) == len(ROLES) + 1  # and anonymous
