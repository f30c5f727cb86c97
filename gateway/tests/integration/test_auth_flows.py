"""Sign-in, one-time codes, refresh rotation and reuse, logout, API keys — against the real
PostgreSQL and Redis of the session."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from gateway.adapters.tables import audit_log, refresh_tokens
from gateway.security import Principal
from gateway.security import credentials as cred
from gateway.security.seed import DEMO_OPEN311_KEY, DEMO_PASSWORD, seed_demo_accounts
from gateway.tests.conftest import token_for
from yiwang.db import make_engine
from yiwang.keys import KeySet, load_keyring

pytestmark = pytest.mark.integration
CODES = ("3299", "329901", "329901001", "329901001001", "329901001001001")


@pytest.fixture(scope="module")
def engine(resources):  # type: ignore[no-untyped-def]
    eng = make_engine(resources.database_url, pool_size=2)
    seed_demo_accounts(eng, *CODES)
    yield eng
    eng.dispose()


def login(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> dict:  # type: ignore[type-arg]
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_seed_is_idempotent_and_covers_every_role(engine) -> None:  # type: ignore[no-untyped-def]
    from gateway.security import ROLES

    rows = seed_demo_accounts(engine, *CODES)
    assert {r["role"] for r in rows} == set(ROLES)
    again = seed_demo_accounts(engine, *CODES)
    assert [r["id"] for r in rows] == [r["id"] for r in again]


def test_password_login_and_me(client: TestClient, engine) -> None:  # type: ignore[no-untyped-def]
    body = login(client, "demo_street")
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    me = client.get("/api/v1/auth/me", headers=auth(body["access_token"])).json()
    assert me["role"] == "street_staff" and me["jurisdiction_code"] == "329901001"
    dept = login(client, "demo_dept")["account"]
    assert dept["department"] == "urban_management"


def test_wrong_password_is_401_without_leaking(client: TestClient, engine) -> None:  # type: ignore[no-untyped-def]
    for username in ("demo_leader", "no_such_user"):
        r = client.post("/api/v1/auth/login", json={"username": username, "password": "nope"})
        assert r.status_code == 401
        assert r.json()["code"] == "invalid_credentials"
        assert r.headers["content-type"].startswith("application/problem+json")


def test_login_lockout_after_repeated_failures(resources, engine) -> None:  # type: ignore[no-untyped-def]
    from gateway.tests.conftest import gateway_client

    with gateway_client(resources, auth_login_max_failures=3) as c:
        for _ in range(3):
            r = c.post("/api/v1/auth/login", json={"username": "demo_city", "password": "x"})
            assert r.status_code == 401
        r = c.post("/api/v1/auth/login", json={"username": "demo_city", "password": DEMO_PASSWORD})
        assert r.status_code == 429 and r.json()["code"] == "too_many_attempts"
        assert int(r.headers["Retry-After"]) >= 1


def test_otp_login_registers_citizen_and_limits_attempts(
    client: TestClient, engine, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(cred, "new_otp_code", lambda: "424242")
    phone = "139" + str(uuid.uuid4().int)[:8]
    r = client.post("/api/v1/auth/otp/request", json={"phone": phone})
    assert r.status_code == 202 and r.json()["expires_in"] == 300
    again = client.post("/api/v1/auth/otp/request", json={"phone": phone})
    assert again.status_code == 429 and "Retry-After" in again.headers
    bad = client.post("/api/v1/auth/otp/verify", json={"phone": phone, "code": "000000"})
    assert bad.status_code == 401 and bad.json()["code"] == "otp_invalid"
    ok = client.post("/api/v1/auth/otp/verify", json={"phone": phone, "code": "424242"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["account"]["role"] == "citizen"
    # the code is single-use
    reuse = client.post("/api/v1/auth/otp/verify", json={"phone": phone, "code": "424242"})
    assert reuse.status_code == 401
    # known phone → same account
    redis_key = f"{client.settings.redis_prefix}gw:otp:cool:13800000001"  # type: ignore[attr-defined]
    import redis as sync_redis

    sync_redis.Redis.from_url(client.settings.redis_url).delete(redis_key)  # type: ignore[attr-defined]
    client.post("/api/v1/auth/otp/request", json={"phone": "13800000001"})
    known = client.post("/api/v1/auth/otp/verify", json={"phone": "13800000001", "code": "424242"})
    assert known.json()["account"]["display_name"] == "王市民"


def test_otp_attempts_exhausted(client: TestClient, engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(cred, "new_otp_code", lambda: "111111")
    phone = "137" + str(uuid.uuid4().int)[:8]
    client.post("/api/v1/auth/otp/request", json={"phone": phone})
    for _ in range(5):
        r = client.post("/api/v1/auth/otp/verify", json={"phone": phone, "code": "222222"})
        assert r.status_code == 401
    r = client.post("/api/v1/auth/otp/verify", json={"phone": phone, "code": "111111"})
    assert r.status_code == 429 and r.json()["code"] == "otp_attempts_exceeded"
    r = client.post("/api/v1/auth/otp/verify", json={"phone": phone, "code": "111111"})
    assert r.status_code == 401  # the code is gone


def test_refresh_rotates_and_reuse_revokes_family(client: TestClient, engine) -> None:  # type: ignore[no-untyped-def]
    first = login(client, "demo_grid")
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/auth/me", headers=auth(second["access_token"])).status_code == 200
    with engine.connect() as conn:
        stored = conn.execute(sa.select(refresh_tokens.c.token_hash)).scalars().all()
    assert cred.sha256_hex(second["refresh_token"]) in stored
    assert second["refresh_token"] not in stored  # only hashes are kept
    # presenting the rotated (used) token again: refused, and the whole family revoked
    reuse = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401 and reuse.json()["code"] == "invalid_refresh_token"
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 401
    me = client.get("/api/v1/auth/me", headers=auth(second["access_token"]))
    assert me.status_code == 401 and me.json()["code"] == "token_revoked"
    # other sessions of the same account are untouched
    other = login(client, "demo_grid")
    assert client.get("/api/v1/auth/me", headers=auth(other["access_token"])).status_code == 200


def test_logout_revokes_access_and_refresh(client: TestClient, engine) -> None:  # type: ignore[no-untyped-def]
    s = login(client, "demo_volunteer")
    r = client.post("/api/v1/auth/logout", headers=auth(s["access_token"]))
    assert r.status_code == 204
    me = client.get("/api/v1/auth/me", headers=auth(s["access_token"]))
    assert me.status_code == 401 and me.json()["code"] == "token_revoked"
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": s["refresh_token"]})
    assert r.status_code == 401


def test_expired_and_forged_tokens(client: TestClient) -> None:
    settings = client.settings  # type: ignore[attr-defined]
    p = Principal(str(uuid.uuid4()), "leader", "x", "3299")
    expired = token_for(settings, p, ttl_s=-1)
    r = client.get("/api/v1/auth/me", headers=auth(expired))
    assert r.status_code == 401 and r.json()["code"] == "token_expired"
    assert r.headers["WWW-Authenticate"] == "Bearer"
    current = load_keyring(settings)["token"].current  # the right kid, the wrong key
    for secret in (
        b"someone-elses-secret-0123456789abcdef",
        b"change-me-in-production-yiwang-demo-secret",
    ):
        forged = cred.issue_access_token(
            KeySet(current, {current: secret}),
            p,
            "f",
            __import__("datetime").datetime.now(__import__("datetime").UTC),
            900,
        ).token
        r = client.get("/api/v1/auth/me", headers=auth(forged))
        assert r.status_code == 401 and r.json()["code"] == "invalid_token"
    r = client.get("/api/v1/auth/me")
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"
    assert "trace" not in r.text.lower() or "trace_id" in r.text


def test_admin_creates_accounts_and_api_keys(client: TestClient, engine) -> None:  # type: ignore[no-untyped-def]
    admin = auth(login(client, "demo_admin")["access_token"])
    uname = f"u{uuid.uuid4().hex[:10]}"
    r = client.post(
        "/api/v1/admin/accounts",
        headers=admin,
        json={
            "username": uname,
            "password": "long-enough-password",
            "display_name": "新干事",
            "role": "street_staff",
            "jurisdiction_code": "329901002",
        },
    )
    assert r.status_code == 201, r.text
    assert "password_hash" not in r.text
    dup = client.post(
        "/api/v1/admin/accounts",
        headers=admin,
        json={
            "username": uname,
            "password": "long-enough-password",
            "display_name": "x",
            "role": "street_staff",
            "jurisdiction_code": "329901002",
        },
    )
    assert dup.status_code == 409 and dup.json()["code"] == "account_exists"
    wrong_level = client.post(
        "/api/v1/admin/accounts",
        headers=admin,
        json={
            "username": uname + "b",
            "password": "long-enough-password",
            "display_name": "x",
            "role": "street_staff",
            "jurisdiction_code": "3299",
        },
    )
    assert wrong_level.status_code == 422
    assert login(client, uname, "long-enough-password")["account"]["role"] == "street_staff"
    page = client.get(
        "/api/v1/admin/accounts",
        headers=admin,
        params={"role": "street_staff", "jurisdiction": "329901"},
    ).json()
    assert uname in {a["username"] for a in page["items"]}
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(audit_log).where(
                audit_log.c.path == "/api/v1/admin/accounts", audit_log.c.status == 201
            )
        ).all()
    assert rows and rows[-1].actor == login(client, "demo_admin")["account"]["account_id"]

    r = client.post(
        "/api/v1/admin/api-keys",
        headers=admin,
        json={"name": "dashboard wall", "actions": ["auth.me"], "jurisdiction_code": "3299"},
    )
    assert r.status_code == 201, r.text
    key = r.json()["key"]
    me = client.get("/api/v1/auth/me", headers={"X-API-Key": key}).json()
    assert me["role"] == "system" and me["actions"] == ["auth.me"] and me["via"] == "api_key"
    denied = client.get("/api/v1/command/cases", headers={"X-API-Key": key})
    assert denied.status_code == 403 and denied.json()["code"] == "role_not_allowed"
    bad = client.post(
        "/api/v1/admin/api-keys", headers=admin, json={"name": "x", "actions": ["no.such.action"]}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_action"
    r = client.get("/api/v1/auth/me", headers={"X-API-Key": "yw_wrong"})
    assert r.status_code == 401 and r.json()["code"] == "invalid_api_key"


def test_demo_open311_key_authenticates(client: TestClient, engine) -> None:  # type: ignore[no-untyped-def]
    r = client.post(
        "/api/v1/reports",
        headers={"X-API-Key": DEMO_OPEN311_KEY},
        json={
            "category": "appearance.litter",
            "description": "路灯坏了",
            "lat": 32.05,
            "lon": 118.79,
        },
    )
    assert r.status_code == 202, r.text
    published = client.fake_publisher.published[-1]  # type: ignore[attr-defined]
    assert published.account_id is not None


def test_report_filing_anonymous_or_signed_in(client: TestClient, engine) -> None:  # type: ignore[no-untyped-def]
    body = {"category": "appearance.litter", "description": "垃圾堆积", "lat": 32.05, "lon": 118.79}
    r = client.post("/api/v1/reports", json=body)
    assert r.status_code == 202
    assert client.fake_publisher.published[-1].account_id is None  # type: ignore[attr-defined]
    citizen = login(client, "demo_citizen")
    r = client.post("/api/v1/reports", json=body, headers=auth(citizen["access_token"]))
    assert r.status_code == 202
    assert client.fake_publisher.published[-1].account_id == citizen["account"]["account_id"]  # type: ignore[attr-defined]
    r = client.post("/api/v1/reports", json=body, headers=auth("garbage"))
    assert r.status_code == 401  # bad credentials are not silently anonymous


def test_unmask_hook_logs_access(client: TestClient, engine) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from gateway.adapters.tables import unmask_log
    from gateway.security import unmask
    from yiwang.errors import Forbidden

    class Req:
        app = client.app

    allowed = Principal("acct-1", "community_staff", "孙", "329901001001", can_unmask=True)
    asyncio.run(
        unmask(
            Req(),
            allowed,
            subject_type="case",
            subject_id="c-1",  # type: ignore[arg-type]
            fields=["contact.phone"],
            reason="回访",
        )
    )
    with engine.connect() as conn:
        row = conn.execute(sa.select(unmask_log).where(unmask_log.c.subject_id == "c-1")).one()
    assert row.account_id == "acct-1" and row.fields == ["contact.phone"]
    with pytest.raises(Forbidden):
        asyncio.run(
            unmask(
                Req(),
                Principal("b", "street_staff", "", "329901001"),  # type: ignore[arg-type]
                subject_type="case",
                subject_id="c-2",
                fields=["contact.name"],
            )
        )
