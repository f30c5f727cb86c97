"""The identity findings of the security review, each written as the attack: forged and
made-up-account tokens, tokens of changed accounts, key rotation, lockout of a stranger's
target, live streams after logout, X-Forwarded-For, slow clients, CORS. Each is refused
with the right 4xx and changes nothing. Against the session's real PostgreSQL and Redis;
the network ones against the gateway served by uvicorn as ``gateway.main`` serves it."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from gateway.network import server_config
from gateway.security import Principal
from gateway.security import credentials as cred
from gateway.security.seed import DEMO_PASSWORD, seed_demo_accounts
from gateway.tests.conftest import (
    FakePublisher,
    FakeRpc,
    gateway_client,
    settings_for,
    token_for,
)
from tests.support.resources import TestResources, free_port
from yiwang.db import make_engine
from yiwang.keys import Keyring, KeySet, ensure_keyring, read_keyring, write_keyring

pytestmark = pytest.mark.integration
CODES = ("3299", "329901", "329901001", "329901001001", "329901001001001")
OLD_DEFAULT_SECRET = "change-me-in-production-yiwang-demo-secret"


@pytest.fixture(scope="module")
def engine(resources):  # type: ignore[no-untyped-def]
    eng = make_engine(resources.database_url, pool_size=2)
    seed_demo_accounts(eng, *CODES)
    yield eng
    eng.dispose()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(c: Any, username: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
    r = c.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return dict(r.json())


def new_account(c: TestClient, admin: dict[str, str], role: str, code: str) -> tuple[str, str]:
    """A fresh account made through the admin API: (username, password)."""
    username, password = f"id_{uuid.uuid4().hex[:10]}", "a-long-enough-password"
    r = c.post(
        "/api/v1/admin/accounts",
        headers=admin,
        json={
            "username": username,
            "password": password,
            "display_name": "测试",
            "role": role,
            "jurisdiction_code": code,
        },
    )
    assert r.status_code == 201, r.text
    return username, password


def refused(r: httpx.Response, status: int, *codes: str) -> dict[str, Any]:
    assert r.status_code == status, f"{r.status_code} {r.text[:300]}"
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["detail"] and body["detail_zh"]
    if codes:
        assert body["code"] in codes, body
    return body


def account_count(c: TestClient, admin: dict[str, str]) -> int:
    return int(c.get("/api/v1/admin/accounts", headers=admin).json()["total"])


# -- 1. forged identity ---------------------------------------------------------------------


def test_token_signed_with_the_old_default_secret_is_401(client: TestClient, engine) -> None:  # type: ignore[no-untyped-def]
    admin = auth(login(client, "demo_admin")["access_token"])
    before = account_count(client, admin)
    now = datetime.now(UTC)
    claims = {
        "iss": "yiwang",
        "typ": "access",
        "sub": str(uuid.uuid4()),
        "role": "admin",
        "jur": "",
        "unm": True,
        "jti": uuid.uuid4().hex,
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + 900,
    }
    real_kid = jwt.get_unverified_header(login(client, "demo_city")["access_token"])["kid"]
    forged = [
        jwt.encode(claims, OLD_DEFAULT_SECRET, algorithm="HS256"),
        jwt.encode(claims, OLD_DEFAULT_SECRET, algorithm="HS256", headers={"kid": real_kid}),
        jwt.encode(claims, OLD_DEFAULT_SECRET, algorithm="HS256", headers={"kid": "k1"}),
    ]
    for token in forged:
        for method, url in (
            ("GET", "/api/v1/admin/accounts"),
            ("GET", "/api/v1/auth/me"),
            ("POST", "/api/v1/admin/accounts"),
        ):
            body = (
                {"username": "forged", "password": "x" * 12, "display_name": "x", "role": "admin"}
                if method == "POST"
                else None
            )
            refused(
                client.request(method, url, headers=auth(token), json=body), 401, "invalid_token"
            )
    assert account_count(client, admin) == before


def test_valid_signature_for_a_made_up_account_is_401(client: TestClient, engine) -> None:  # type: ignore[no-untyped-def]
    admin = auth(login(client, "demo_admin")["access_token"])
    before = account_count(client, admin)
    made_up = Principal(str(uuid.uuid4()), "admin", "伪造", "", can_unmask=True)
    settings = client.settings  # type: ignore[attr-defined]
    for version in ("", "0123456789abcdef"):  # with and without a version claim
        p = dataclasses.replace(made_up, account_version=version)
        token = token_for(settings, p, live=False)  # signed with this installation's key
        refused(
            client.get("/api/v1/admin/accounts", headers=auth(token)),
            401,
            "invalid_token",
            "account_changed",
        )
        r = client.post(
            "/api/v1/admin/accounts",
            headers=auth(token),
            json={
                "username": f"x{uuid.uuid4().hex[:8]}",
                "password": "x" * 12,
                "display_name": "x",
                "role": "admin",
            },
        )
        refused(r, 401)
    assert account_count(client, admin) == before


# -- tokens bound to live accounts ------------------------------------------------------------


def change_account(c: TestClient, account_id: str, **changes: Any) -> None:
    """An administrator's change, as the gateway makes it (store + version cache)."""
    from gateway.security.policy import Authenticator

    app = c.app
    res = app.state.resources  # type: ignore[attr-defined]

    async def change() -> None:
        auth_ = Authenticator(res.settings, res.engine, res.redis, app.state.keyring)  # type: ignore[attr-defined]
        await auth_.update_account(account_id, **changes)

    c.portal.call(change)  # type: ignore[union-attr]


def test_disabled_account_token_is_refused(client: TestClient, engine) -> None:  # type: ignore[no-untyped-def]
    admin = auth(login(client, "demo_admin")["access_token"])
    username, password = new_account(client, admin, "street_staff", "329901001")
    s = login(client, username, password)
    token = s["access_token"]
    assert client.get("/api/v1/auth/me", headers=auth(token)).status_code == 200
    change_account(client, s["account"]["account_id"], active=False)
    refused(client.get("/api/v1/auth/me", headers=auth(token)), 401, "account_changed")
    refused(client.get("/api/v1/command/cases", headers=auth(token)), 401, "account_changed")
    # nor can it be refreshed or signed in again
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": s["refresh_token"]})
    refused(r, 401)
    refused(
        client.post("/api/v1/auth/login", json={"username": username, "password": password}), 401
    )


def test_role_and_jurisdiction_change_take_effect(client: TestClient, engine) -> None:  # type: ignore[no-untyped-def]
    admin = auth(login(client, "demo_admin")["access_token"])
    username, password = new_account(client, admin, "city_staff", "3299")
    s = login(client, username, password)
    token = s["access_token"]
    assert client.get("/api/v1/command/cases", headers=auth(token)).status_code == 200
    change_account(client, s["account"]["account_id"], role="citizen", jurisdiction_code="")
    refused(client.get("/api/v1/command/cases", headers=auth(token)), 401, "account_changed")
    fresh = login(client, username, password)
    assert fresh["account"]["role"] == "citizen"
    refused(
        client.get("/api/v1/command/cases", headers=auth(fresh["access_token"])),
        403,
        "role_not_allowed",
    )


def test_password_change_refuses_earlier_tokens(client: TestClient, engine) -> None:  # type: ignore[no-untyped-def]
    admin = auth(login(client, "demo_admin")["access_token"])
    username, password = new_account(client, admin, "street_staff", "329901001")
    s = login(client, username, password)
    change_account(
        client, s["account"]["account_id"], password_hash=cred.hash_password("the-new-password")
    )
    refused(client.get("/api/v1/auth/me", headers=auth(s["access_token"])), 401, "account_changed")
    # the refresh token of the old password's sign-in ends too
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": s["refresh_token"]})
    refused(r, 401, "account_changed")
    login(client, username, "the-new-password")


def test_change_made_outside_the_api_takes_effect_within_the_cache_time(
    resources: TestResources, engine
) -> None:  # type: ignore[no-untyped-def]
    from gateway.security import store

    with gateway_client(resources, auth_account_cache_s=1) as c:
        admin = auth(login(c, "demo_admin")["access_token"])
        username, password = new_account(c, admin, "street_staff", "329901001")
        s = login(c, username, password)
        assert c.get("/api/v1/auth/me", headers=auth(s["access_token"])).status_code == 200
        store.update_account(engine, s["account"]["account_id"], active=False)  # SQL only
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            r = c.get("/api/v1/auth/me", headers=auth(s["access_token"]))
            if r.status_code == 401:
                break
            time.sleep(0.2)
        refused(r, 401, "account_changed")


# -- key rotation --------------------------------------------------------------------------------


def test_rotation_keeps_tokens_valid_and_signs_new_ones_with_the_new_key(
    resources: TestResources, engine, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "keys.json")
    ensure_keyring(path)
    old_kid = read_keyring(path)["token"].current
    with gateway_client(resources, keys_file=path) as c:
        before = login(c, "demo_street")
    assert jwt.get_unverified_header(before["access_token"])["kid"] == old_kid
    write_keyring(path, read_keyring(path).rotated("token"))  # `make rotate-keys`, restart
    new_kid = read_keyring(path)["token"].current
    assert new_kid != old_kid
    with gateway_client(resources, keys_file=path) as c:
        me = c.get("/api/v1/auth/me", headers=auth(before["access_token"]))
        assert me.status_code == 200 and me.json()["role"] == "street_staff"
        after = login(c, "demo_street")
        assert jwt.get_unverified_header(after["access_token"])["kid"] == new_kid
        r = c.post("/api/v1/auth/refresh", json={"refresh_token": before["refresh_token"]})
        assert r.status_code == 200, r.text
    # an installation without the new key does not accept what the new key signed
    only_old = Keyring(
        {
            **read_keyring(path).sets,
            "token": KeySet(old_kid, {old_kid: read_keyring(path)["token"].keys[old_kid]}),
        }
    )
    with pytest.raises(Exception) as e:
        cred.decode_access_token(only_old["token"], after["access_token"], datetime.now(UTC))
    assert getattr(e.value, "code", None) == "invalid_token"


# -- 8. login abuse ------------------------------------------------------------------------------


def test_strangers_wrong_passwords_do_not_lock_the_admin_out(
    resources: TestResources, engine
) -> None:  # type: ignore[no-untyped-def]
    from gateway.main import create_app

    settings = settings_for(resources, auth_login_max_failures=3, auth_login_alert_clients=3)
    app = create_app(settings)
    stranger = TestClient(app, raise_server_exceptions=False, client=("203.0.113.66", 4000))
    admin_pc = TestClient(app, raise_server_exceptions=False, client=("10.1.2.3", 5000))
    with stranger, admin_pc:
        evaluated, waits = 0, []
        while evaluated < 6:  # six wrong guesses, waiting out every delay
            r = stranger.post(
                "/api/v1/auth/login", json={"username": "demo_admin", "password": "guess"}
            )
            if r.status_code == 429:
                waits.append(int(r.headers["Retry-After"]))
                time.sleep(waits[-1])
                continue
            assert r.status_code == 401
            evaluated += 1
        assert waits == [1, 2, 4]  # growing delays after the third failure
        for _ in range(5):  # and a quick burst: 14 attempts in all from this client
            r = stranger.post(
                "/api/v1/auth/login", json={"username": "demo_admin", "password": "guess"}
            )
            refused(r, 429, "too_many_attempts")
            assert int(r.headers["Retry-After"]) >= 7
        # the stranger is held back even with the right password …
        r = stranger.post(
            "/api/v1/auth/login", json={"username": "demo_admin", "password": DEMO_PASSWORD}
        )
        refused(r, 429, "too_many_attempts")
        # … the administrator at their own computer is not
        ok = admin_pc.post(
            "/api/v1/auth/login", json={"username": "demo_admin", "password": DEMO_PASSWORD}
        )
        assert ok.status_code == 200, ok.text
        assert ok.json()["account"]["role"] == "admin"


def test_failures_from_many_clients_raise_an_alert(resources: TestResources, engine) -> None:  # type: ignore[no-untyped-def]
    from gateway.main import create_app

    settings = settings_for(resources, auth_login_alert_clients=3)
    app = create_app(settings)
    with capture_logs() as logs:
        for i in range(4):
            with TestClient(app, raise_server_exceptions=False, client=(f"198.51.100.{i}", 1)) as c:
                r = c.post("/api/v1/auth/login", json={"username": "demo_leader", "password": "x"})
                assert r.status_code == 401
    alerts = [e for e in logs if e["event"] == "login_failure_burst"]
    assert len(alerts) == 1 and alerts[0]["log_level"] == "warning"
    assert alerts[0]["username"] == "demo_leader" and alerts[0]["clients"] >= 3


# -- CORS ----------------------------------------------------------------------------------------


def test_cors_preflight_from_a_random_origin_gets_no_allow_origin(client: TestClient) -> None:
    pre = {
        "Origin": "https://evil.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    r = client.options("/api/v1/admin/accounts", headers=pre)
    assert "access-control-allow-origin" not in r.headers
    r = client.get("/api/v1/categories", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_origins_come_from_settings(resources: TestResources) -> None:
    with gateway_client(resources, cors_origins=["https://ops.city.example"]) as c:
        pre = {"Origin": "https://ops.city.example", "Access-Control-Request-Method": "GET"}
        r = c.options("/api/v1/categories", headers=pre)
        assert r.headers.get("access-control-allow-origin") == "https://ops.city.example"
        r = c.options("/api/v1/categories", headers={**pre, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers


# -- the gateway served by uvicorn (network findings, live streams) ------------------------------


@contextmanager
def served(resources: TestResources, **overrides: Any) -> Iterator[str]:
    """The gateway app under uvicorn, configured as ``gateway.main.main`` configures it."""
    from gateway.main import create_app

    settings = settings_for(resources, **overrides)
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(server_config(app, settings, host="127.0.0.1", port=port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    res = app.state.resources
    res.rpc, res.publisher = FakeRpc(), FakePublisher()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def read_until_end(r: httpx.Response, seconds: float) -> tuple[bytes, bool]:
    """Everything streamed until the server ends the stream (True) or ``seconds`` pass."""
    got = b""
    deadline = time.monotonic() + seconds
    try:
        for chunk in r.iter_bytes():
            got += chunk
            if time.monotonic() > deadline:
                return got, False
    except httpx.ReadTimeout:
        return got, False
    return got, True


def test_live_stream_ends_after_logout(resources: TestResources, engine) -> None:  # type: ignore[no-untyped-def]
    with served(resources, live_auth_recheck_s=0.3) as base:  # noqa: SIM117
        with httpx.Client(base_url=base, timeout=httpx.Timeout(5, read=3)) as c:
            token = login(c, "demo_street")["access_token"]
            with c.stream("GET", "/api/v1/live/cases", headers=auth(token)) as r:
                assert r.status_code == 200
                it = r.iter_bytes()
                assert next(it).startswith(b"retry:")
                assert c.post("/api/v1/auth/logout", headers=auth(token)).status_code == 204
                t0 = time.monotonic()
                rest = b"".join(it)  # returns only when the server ends the stream
                assert b"event: end" in rest and time.monotonic() - t0 < 3


def test_live_stream_ends_when_its_token_expires(resources: TestResources, engine) -> None:  # type: ignore[no-untyped-def]
    with served(resources, live_auth_recheck_s=0.3) as base:
        settings = settings_for(resources)
        p = Principal(str(uuid.uuid4()), "street_staff", "街道", "329901001")
        token = token_for(settings, p, ttl_s=1)
        with httpx.Client(base_url=base, timeout=httpx.Timeout(5, read=4)) as c:  # noqa: SIM117
            with c.stream("GET", "/api/v1/live/cases", headers=auth(token)) as r:
                assert r.status_code == 200
                got, ended = read_until_end(r, 4)
                assert ended and b"event: end" in got


def test_forwarded_for_from_an_untrusted_peer_is_ignored(resources: TestResources, engine) -> None:  # type: ignore[no-untyped-def]
    """A stranger rotating X-Forwarded-For cannot escape the per-client login delay."""
    with served(resources, auth_login_max_failures=2) as base:  # noqa: SIM117
        with httpx.Client(base_url=base, timeout=10) as c:
            guess = {"username": "demo_district", "password": "guess"}
            for i in range(2):
                r = c.post(
                    "/api/v1/auth/login", json=guess, headers={"X-Forwarded-For": f"192.0.2.{i}"}
                )
                assert r.status_code == 401
            r = c.post("/api/v1/auth/login", json=guess, headers={"X-Forwarded-For": "192.0.2.99"})
            refused(r, 429, "too_many_attempts")


def test_forwarded_for_from_a_trusted_proxy_is_used(resources: TestResources, engine) -> None:  # type: ignore[no-untyped-def]
    trusted = {"auth_login_max_failures": 2, "forwarded_allow_ips": "127.0.0.1"}
    with served(resources, **trusted) as base:  # noqa: SIM117
        with httpx.Client(base_url=base, timeout=10) as c:
            guess = {"username": "demo_community", "password": "guess"}
            for _ in range(2):
                r = c.post(
                    "/api/v1/auth/login", json=guess, headers={"X-Forwarded-For": "192.0.2.1"}
                )
                assert r.status_code == 401
            held = c.post(
                "/api/v1/auth/login", json=guess, headers={"X-Forwarded-For": "192.0.2.1"}
            )
            refused(held, 429)
            other = c.post(
                "/api/v1/auth/login",
                json={**guess, "password": DEMO_PASSWORD},
                headers={"X-Forwarded-For": "192.0.2.2"},
            )
            assert other.status_code == 200


def _connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def _closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes]:
    sock.settimeout(seconds)
    data = b""
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return True, data
            data += chunk
    except TimeoutError:
        return False, data
    except ConnectionResetError:
        return True, data


def test_slow_header_connection_is_closed(resources: TestResources) -> None:
    with served(resources, http_header_timeout_s=0.5) as base:
        slow = _connect(base)
        slow.sendall(b"GET /api/v1/categories HTTP/1.1\r\nHost: x\r\n")  # never finishes
        closed, data = _closed_within(slow, 3)
        assert closed and data == b""
        slow.close()
        silent = _connect(base)  # connects and sends nothing at all
        closed, data = _closed_within(silent, 3)
        assert closed and data == b""
        silent.close()
        # a normal client is served; its idle keep-alive then ends by uvicorn's own timeout
        ok = _connect(base)
        ok.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert ok.recv(4096).startswith(b"HTTP/1.1 200")
        ok.sendall(b"GET /health HTTP/1.1\r\nHo")  # a second request head, stalled
        closed, _ = _closed_within(ok, 3)
        assert closed
        ok.close()


def test_slow_body_is_408(resources: TestResources) -> None:
    with served(resources, http_body_timeout_s=0.5) as base:
        s = _connect(base)
        s.sendall(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
            b'\r\nContent-Length: 200\r\n\r\n{"username": '
        )
        closed, data = _closed_within(s, 4)
        assert data.startswith(b"HTTP/1.1 408"), data[:200]
        assert b"request_timeout" in data
        s.close()
