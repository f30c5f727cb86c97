"""Bad input and abuse against the running system (issue 9, "Bad input and abuse").

Expired and forged tokens → 401; role escalation → 403; another jurisdiction's codes and
ids → 403/404; oversized bodies → 413; floods → 429 with Retry-After; script and SQL text
is stored and returned verbatim as JSON data (never interpreted). Every refusal is a
problem document that leaks nothing internal, and changes nothing.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
import redis

from tests.support.system import System  # noqa: F401 - the session fixture is in tests/conftest.py
from yiwang.config import Settings
from yiwang.keys import read_keyring

pytestmark = pytest.mark.e2e

PROBLEM = "application/problem+json"
NASTY = (
    "<script>alert('x')</script><img src=x onerror=alert(1)>"
    "'; DROP TABLE command.case_view; -- \" OR 1=1 -- %_\\ ${7*7} {{7*7}}"
)
OLD_DEFAULT_SECRET = "change-me-in-production-yiwang-demo-secret"
LEAKS = ("traceback", "sqlalchemy", "psycopg2", 'file "/', "secret")


def refused(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, f"{r.status_code} {r.text[:300]}"
    assert r.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["detail"] and body["detail_zh"]
    if code is not None:
        assert body["code"] == code, body
    low = r.text.lower()
    assert not any(leak in low for leak in LEAKS), r.text
    return body


def reset_limits(system: System) -> None:  # noqa: F811
    rds = redis.Redis.from_url(system.resources.redis_url)
    keys = list(rds.scan_iter(f"{system.resources.redis_prefix}gw:rl:*", count=1000))
    if keys:
        rds.delete(*keys)


def token_of(system: System, username: str) -> str:  # noqa: F811
    r = httpx.post(
        f"{system.base_url}/api/v1/auth/login",
        json={"username": username, "password": "yiwang-demo"},
        timeout=15,
    )
    r.raise_for_status()
    return str(r.json()["access_token"])


def find_account(c: httpx.Client, username: str) -> dict[str, Any] | None:
    for page in range(1, 50):
        r = c.get("/api/v1/admin/accounts", params={"page": page, "page_size": 200})
        assert r.headers["content-type"].startswith("application/json")
        items = r.json()["items"]
        for a in items:
            if a["username"] == username:
                return dict(a)
        if len(items) < 200:
            return None
    return None


def claims_of(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_expired_and_forged_tokens_are_401(system: System) -> None:  # noqa: F811
    reset_limits(system)
    good = token_of(system, "demo_citizen")
    claims = claims_of(good)
    header = jwt.get_unverified_header(good)
    token_keys = read_keyring(system.keys_file)["token"]  # this installation's own key
    secret = token_keys.keys[header["kid"]]
    now = datetime.now(UTC)
    escalated = {**claims, "role": "admin", "jurisdiction_code": ""}
    made_up = {**escalated, "sub": str(uuid.uuid4()), "unm": True}
    head, _, sig = good.split(".")
    kid = {"kid": header["kid"]}
    tokens = {
        "expired": jwt.encode(
            {**claims, "iat": now - timedelta(hours=2), "exp": now - timedelta(hours=1)},
            secret,
            algorithm=header["alg"],
            headers=kid,
        ),
        "forged_key": jwt.encode(escalated, "not-the-key", algorithm=header["alg"], headers=kid),
        # the default that used to be in yiwang/config.py, with and without a key id
        "old_default_secret": jwt.encode(
            made_up, OLD_DEFAULT_SECRET, algorithm=header["alg"], headers=kid
        ),
        "old_default_secret_no_kid": jwt.encode(made_up, OLD_DEFAULT_SECRET, algorithm="HS256"),
        # a genuine signature, but for an account that does not exist
        "made_up_account": jwt.encode(made_up, secret, algorithm=header["alg"], headers=kid),
        "tampered_payload": f"{head}.{b64(escalated)}.{sig}",
        "alg_none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(escalated)}.",
        "garbage": "not-a-token",
    }
    with httpx.Client(base_url=system.base_url, timeout=15) as c:
        for name, token in tokens.items():
            h = {"Authorization": f"Bearer {token}"}
            for method, url in (
                ("GET", "/api/v1/auth/me"),
                ("GET", "/api/v1/admin/accounts"),
                ("POST", "/api/v1/command/sweep"),
            ):
                r = c.request(method, url, headers=h)
                body = refused(r, 401)
                assert r.headers.get("www-authenticate", "").lower().startswith("bearer"), name
                assert "admin" not in json.dumps(body.get("errors") or {}), name
        r = c.get("/api/v1/admin/accounts", headers={"X-API-Key": "yw_forged_key_0000000000"})
        refused(r, 401)
        # the genuine token still works: nothing was revoked or changed by the attempts
        assert (
            c.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {good}"}).json()["role"]
            == "citizen"
        )


def test_role_escalation_is_403_and_changes_nothing(system: System) -> None:  # noqa: F811
    reset_limits(system)
    username = f"esc_{uuid.uuid4().hex[:10]}"
    admin_body = {
        "username": username,
        "password": "a-long-enough-password",
        "display_name": "提权",
        "role": "admin",
        "jurisdiction_code": "",
    }
    attempts: list[tuple[str, str, str, dict[str, Any] | None]] = [
        ("demo_citizen", "POST", "/api/v1/admin/accounts", admin_body),
        ("demo_citizen", "GET", "/api/v1/admin/accounts", None),
        ("demo_citizen", "POST", "/api/v1/command/sweep", None),
        ("demo_citizen", "PUT", "/api/v1/command/rules/escalate", {"department": "x"}),
        ("demo_citizen", "PUT", "/api/v1/categories/esc.test", {"name_zh": "提权"}),
        (
            "demo_volunteer",
            "POST",
            "/api/v1/admin/api-keys",
            {"name": "esc", "actions": ["*"], "jurisdiction_code": ""},
        ),
        ("demo_street", "POST", "/api/v1/admin/accounts", admin_body),
        ("demo_city", "POST", "/api/v1/command/rebuild", None),
        ("demo_grid", "GET", "/api/v1/grids/access-log", None),
    ]
    for user, method, url, body in attempts:
        with httpx.Client(
            base_url=system.base_url,
            timeout=15,
            headers={"Authorization": f"Bearer {token_of(system, user)}"},
        ) as c:
            r = c.request(method, url, json=body)
            refused(r, 403, "role_not_allowed")
    with httpx.Client(
        base_url=system.base_url,
        timeout=15,
        headers={"Authorization": f"Bearer {token_of(system, 'demo_admin')}"},
    ) as c:
        assert find_account(c, username) is None
        r = c.get("/api/v1/categories/esc.test")
        assert r.status_code == 404


def test_another_jurisdictions_codes_and_ids(system: System) -> None:  # noqa: F811
    reset_limits(system)
    street = {"Authorization": f"Bearer {token_of(system, 'demo_street')}"}  # 329901001
    with httpx.Client(base_url=system.base_url, timeout=15, headers=street) as c:
        for url, params in (
            ("/api/v1/command/cases", {"jurisdiction": "329901002"}),
            ("/api/v1/command/cases", {"jurisdiction": "3300"}),
            ("/api/v1/command/whistles/tally", {"jurisdiction": "329902"}),
            ("/api/v1/grids/residents", {"jurisdiction": "329901002"}),
            ("/api/v1/grids/key-places", {"jurisdiction": "329902"}),
            ("/api/v1/volunteers/registrations", {"jurisdiction": "329901002"}),
            ("/api/v1/grids/units/330001", {}),
        ):
            refused(c.get(url, params=params), 403, "outside_jurisdiction")
        r = c.post("/api/v1/grids/households", json={"code": "329901002001001001-1"})
        refused(r, 403, "outside_jurisdiction")
        # an unknown id is a plain 404 (no existence oracle beyond the caller's unit)
        refused(c.get(f"/api/v1/command/cases/{uuid.uuid4()}"), 404)
        refused(c.get(f"/api/v1/cases/{uuid.uuid4()}"), 404)

    # a real case of another street, by id: refused to this street's official
    city = {"Authorization": f"Bearer {token_of(system, 'demo_city')}"}
    with httpx.Client(base_url=system.base_url, timeout=15, headers=city) as c:
        items = c.get("/api/v1/command/cases", params={"page_size": 200}).json()["items"]
    elsewhere = [
        i
        for i in items
        if not (i["jurisdiction_code"] or "").startswith("329901001")
        and not (i["grid_code"] or "").startswith("329901001")
    ]
    if not elsewhere:
        pytest.skip("the demo has no case outside demo_street's street")
    case_id = elsewhere[0]["case_id"]
    with httpx.Client(base_url=system.base_url, timeout=15, headers=street) as c:
        for url in (f"/api/v1/command/cases/{case_id}", f"/api/v1/cases/{case_id}"):
            r = c.get(url)
            assert r.status_code in (403, 404), r.text
            refused(r, r.status_code)
        r = c.post(
            f"/api/v1/command/cases/{case_id}/escalate",
            json={"note": "越权", "expected_version": elsewhere[0]["version"]},
        )
        assert r.status_code in (403, 404, 409), r.text
        refused(r, r.status_code)


def test_oversized_bodies_are_413(system: System) -> None:  # noqa: F811
    reset_limits(system)
    big = b'{"description": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    h = {"Content-Type": "application/json"}
    with httpx.Client(base_url=system.base_url, timeout=30) as c:
        body = refused(c.post("/api/v1/reports", content=big, headers=h), 413, "payload_too_large")
        assert body["limit"] == 1024 * 1024

        def chunks() -> Any:  # no Content-Length: counted while streaming
            for _ in range(20):
                yield b"x" * (64 * 1024)

        r = c.post("/api/v1/reports", content=chunks(), headers=h)
        refused(r, 413)
        r = c.post("/api/v1/reports", content=big, headers={**h, "Idempotency-Key": "big-1"})
        refused(r, 413)


def test_script_and_sql_text_is_stored_and_returned_verbatim(system: System) -> None:  # noqa: F811
    reset_limits(system)
    city = {"Authorization": f"Bearer {token_of(system, 'demo_city')}"}
    with httpx.Client(base_url=system.base_url, timeout=15, headers=city) as c:
        before = c.get("/api/v1/command/cases", params={"page_size": 1}).json()["total"]
        name = "esc<script>'; DROP TABLE x;--"
        r = c.put(f"/api/v1/command/filters/{name}", json={"q": NASTY[:100], "status": "new"})
        assert r.status_code == 200, r.text
        saved = c.get("/api/v1/command/filters")
        assert saved.headers["content-type"].startswith("application/json")
        assert saved.headers.get("x-content-type-options") == "nosniff"
        mine = [f for f in saved.json()["items"] if f["name"] == name]
        assert mine and mine[0]["filters"]["q"] == NASTY[:100]
        # as a search text it is data too: a LIKE pattern, not SQL; the view is intact
        r = c.get("/api/v1/command/cases", params={"q": "' OR 1=1 --"})
        assert r.status_code == 200 and r.json()["total"] == 0
        assert c.get("/api/v1/command/cases", params={"page_size": 1}).json()["total"] >= before
        assert c.delete(f"/api/v1/command/filters/{name}").status_code == 200

    admin = {"Authorization": f"Bearer {token_of(system, 'demo_admin')}"}
    with httpx.Client(base_url=system.base_url, timeout=15, headers=admin) as c:
        username = f"xss_{uuid.uuid4().hex[:8]}"
        r = c.post(
            "/api/v1/admin/accounts",
            json={
                "username": username,
                "password": "a-long-enough-password",
                "display_name": NASTY[:64],
                "role": "citizen",
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["display_name"] == NASTY[:64]
        found = find_account(c, username)
        assert found is not None and found["display_name"] == NASTY[:64]


def test_floods_are_429_with_retry_after(system: System) -> None:  # noqa: F811
    reset_limits(system)
    limit = Settings().rate_limit_per_ip
    try:
        with httpx.Client(base_url=system.base_url, timeout=15) as c:
            # the limit is per fixed window: a flood that straddles a window's end is split
            # between two counters, so it is sent again once (it then starts a window afresh)
            for _ in range(2):
                reset_limits(system)
                window = Settings().rate_limit_window_s
                first_slot = int(time.time() // window)
                statuses = [c.get("/api/v1/categories").status_code for _ in range(limit + 5)]
                if 429 in statuses or int(time.time() // window) == first_slot:
                    break
            assert 429 in statuses and statuses[0] == 200
            r = c.get("/api/v1/categories")
            body = refused(r, 429, "rate_limited")
            assert int(r.headers["retry-after"]) >= 1 and body["retry_after"] >= 1
    finally:
        reset_limits(system)


def test_nul_characters_are_refused_not_a_server_error(system: System) -> None:  # noqa: F811
    reset_limits(system)
    citizen = {"Authorization": f"Bearer {token_of(system, 'demo_citizen')}"}
    with httpx.Client(base_url=system.base_url, timeout=15, headers=citizen) as c:
        r = c.post(
            "/api/v1/volunteers/wishes",
            json={
                "community_code": "329901001001",
                "beneficiary": "a\u0000b",
                "title": "t",
                "description": "d",
            },
        )
        refused(r, 422, "nul_character")
        refused(c.get("/api/v1/cases/mine", params={"x": "a\u0000"}), 422, "nul_character")
        # an escaped backslash followed by "u0000" is ordinary text
        r = c.post(
            "/api/v1/volunteers/wishes",
            json={
                "community_code": "329901001001",
                "beneficiary": "a\\u0000b",
                "title": "t",
                "description": "d",
            },
        )
        assert r.status_code != 422 or r.json()["code"] != "nul_character", r.text
