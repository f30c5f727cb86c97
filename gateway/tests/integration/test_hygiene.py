"""Rate limits (429 + Retry-After), body size limits (413), idempotency keys, audit log."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from gateway.adapters.tables import accounts, audit_log
from gateway.security import Principal
from gateway.tests.conftest import gateway_client, token_for

pytestmark = pytest.mark.integration
REPORT = {"category": "appearance.litter", "description": "井盖缺失", "lat": 32.05, "lon": 118.79}


def admin_headers(client: TestClient) -> dict[str, str]:
    p = Principal(str(uuid.uuid4()), "admin", "管理员", "")
    return {"Authorization": f"Bearer {token_for(client.settings, p)}"}  # type: ignore[attr-defined]


def test_rate_limit_per_ip(resources) -> None:  # type: ignore[no-untyped-def]
    with gateway_client(resources, rate_limit_per_ip=5, rate_limit_window_s=60) as c:
        codes = [c.get("/api/v1/auth/me").status_code for _ in range(5)]
        assert codes == [401] * 5
        r = c.get("/api/v1/auth/me")
        assert r.status_code == 429
        assert r.json()["code"] == "rate_limited"
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        assert r.headers["content-type"].startswith("application/problem+json")
        assert c.get("/health").status_code == 200  # probes are never limited


def test_rate_limit_per_account(resources) -> None:  # type: ignore[no-untyped-def]
    with gateway_client(resources, rate_limit_per_account=3, rate_limit_per_ip=1000) as c:
        a = {
            "Authorization": "Bearer "
            + token_for(c.settings, Principal(str(uuid.uuid4()), "leader", "a", "3299"))
        }  # type: ignore[attr-defined]
        b = {
            "Authorization": "Bearer "
            + token_for(c.settings, Principal(str(uuid.uuid4()), "leader", "b", "3299"))
        }  # type: ignore[attr-defined]
        assert [c.get("/api/v1/auth/me", headers=a).status_code for _ in range(3)] == [200] * 3
        r = c.get("/api/v1/auth/me", headers=a)
        assert r.status_code == 429 and "Retry-After" in r.headers
        assert c.get("/api/v1/auth/me", headers=b).status_code == 200


@pytest.fixture(scope="module")
def small(resources) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with gateway_client(
        resources, body_limit_bytes=2048, body_limit_prefixes={"/api/v1/reports": 8192}
    ) as c:
        yield c


def test_body_limit_declared_length(small: TestClient) -> None:
    big = {"username": "x" * 3000, "password": "y"}
    r = small.post("/api/v1/auth/login", json=big)
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    # a larger limit for a configured prefix
    r = small.post("/api/v1/reports", json={**REPORT, "description": "长" * 1500})
    assert r.status_code == 202, r.text
    r = small.post("/api/v1/reports", json={**REPORT, "description": "长" * 3000})
    assert r.status_code == 413


def test_body_limit_streamed_without_length(small: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"username": "'
        for _ in range(10):
            yield b"x" * 512
        yield b'", "password": "p"}'

    before = len(small.fake_rpc.calls)  # type: ignore[attr-defined]
    r = small.post(
        "/api/v1/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "payload_too_large"
    assert len(small.fake_rpc.calls) == before  # type: ignore[attr-defined]


def test_idempotent_replay_creates_once(client: TestClient) -> None:
    h = {**admin_headers(client), "Idempotency-Key": str(uuid.uuid4())}
    uname = f"i{uuid.uuid4().hex[:10]}"
    body = {
        "username": uname,
        "password": "long-enough-password",
        "display_name": "幂等",
        "role": "community_staff",
        "jurisdiction_code": "329901001001",
    }
    first = client.post("/api/v1/admin/accounts", json=body, headers=h)
    assert first.status_code == 201, first.text
    second = client.post("/api/v1/admin/accounts", json=body, headers=h)
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    engine = client.app.state.resources.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        n = conn.execute(
            sa.select(sa.func.count()).select_from(accounts).where(accounts.c.username == uname)
        ).scalar_one()
        audit = conn.execute(
            sa.select(audit_log)
            .where(audit_log.c.path == "/api/v1/admin/accounts")
            .order_by(audit_log.c.id.desc())
            .limit(1)
        ).one()
    assert n == 1
    assert audit.detail.get("idempotent_replay") is True
    # same key, different body
    other = client.post(
        "/api/v1/admin/accounts", json={**body, "display_name": "另一个"}, headers=h
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    # the key is scoped to the account: another admin's same key is a fresh request
    h2 = {**admin_headers(client), "Idempotency-Key": h["Idempotency-Key"]}
    fresh = client.post(
        "/api/v1/admin/accounts", json={**body, "username": uname + "z"}, headers=h2
    )
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers


def test_idempotent_anonymous_report(client: TestClient) -> None:
    h = {"Idempotency-Key": str(uuid.uuid4())}
    before = len(client.fake_publisher.published)  # type: ignore[attr-defined]
    a = client.post("/api/v1/reports", json=REPORT, headers=h)
    b = client.post("/api/v1/reports", json=REPORT, headers=h)
    assert a.status_code == b.status_code == 202
    assert a.json()["report_id"] == b.json()["report_id"]
    assert b.headers["Location"] == a.headers["Location"]
    assert len(client.fake_publisher.published) == before + 1  # type: ignore[attr-defined]


def test_failed_requests_are_not_stored_for_replay(client: TestClient) -> None:
    h = {"Idempotency-Key": str(uuid.uuid4())}
    r = client.post("/api/v1/admin/accounts", json={}, headers=h)
    assert r.status_code == 401
    r = client.post("/api/v1/admin/accounts", json={}, headers={**h, **admin_headers(client)})
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"


def test_bad_idempotency_key(client: TestClient) -> None:
    r = client.post("/api/v1/reports", json=REPORT, headers={"Idempotency-Key": "x" * 200})
    assert r.status_code == 422 and r.json()["code"] == "invalid_idempotency_key"


def test_every_write_is_audited_with_actor(client: TestClient) -> None:
    engine = client.app.state.resources.engine  # type: ignore[attr-defined]
    p = Principal(str(uuid.uuid4()), "leader", "审计", "3299")
    h = {"Authorization": f"Bearer {token_for(client.settings, p)}"}  # type: ignore[attr-defined]
    client.post("/api/v1/reports", json=REPORT, headers=h)
    client.post("/api/v1/admin/accounts", json={}, headers=h)  # refused: still audited
    client.get("/api/v1/auth/me", headers=h)  # reads are not audited
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(audit_log).where(audit_log.c.actor == p.account_id).order_by(audit_log.c.id)
        ).all()
    assert [(r.method, r.path, r.status) for r in rows] == [
        ("POST", "/api/v1/reports", 202),
        ("POST", "/api/v1/admin/accounts", 403),
    ]
    assert rows[0].detail["role"] == "leader"
