"""Gateway test fixtures: the session's isolated real servers, and apps built on them with
the services replaced by recording fakes (the security layer is what is under test)."""

from __future__ import annotations

import base64
import dataclasses
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.security import Principal
from gateway.security import credentials as cred
from tests.conftest import resources  # noqa: F401 - the session fixture, re-exported
from tests.support.contract_sample import TypedReplies
from tests.support.resources import TestResources
from yiwang.config import Settings
from yiwang.keys import ensure_keyring, load_keyring

GRID = "329901001001001"  # the demo city's first grid; every demo unit is its ancestor
OUTSIDE_GRID = "330001001001001"  # a grid in another city


class FakeRpc(TypedReplies):
    """Records calls; answers like the services would for the routes under test."""

    connected = True

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        # (service, method) -> an answer, or a callable(**kwargs) answering (or raising)
        self.answers: dict[tuple[str, str], Any] = {}

    async def call(self, service: str, method: str, **kwargs: Any) -> Any:
        self.calls.append((service, method, kwargs))
        if (service, method) in self.answers:
            answer = self.answers[(service, method)]
            return answer(**kwargs) if callable(answer) else answer
        if (service, method) == ("grids", "locate"):
            return {"inside": True, "grid_code": GRID}
        if (service, method) == ("grids", "locate_many_v2"):  # every point in the first grid
            n = len(base64.b64decode(kwargs["points"])) // 16
            return {"grids": [GRID], "index": [0] * n, "inside": n, "outside": 0}
        if method == "list_categories":  # the intake's catalogue check (gateway.catalogue)
            return {
                "items": [
                    {"code": "appearance.litter", "citizen_selectable": True, "attributes": []}
                ]
            }
        if method == "list_cases":
            return {
                "items": [],
                "total": 0,
                "page": kwargs.get("page", 1),
                "page_size": kwargs.get("page_size", 20),
            }
        if method == "get_report_status":
            return {"report_id": kwargs["report_id"], "status": "pending"}
        return {"status": "ok"}

    async def close(self) -> None:
        return None


class FakePublisher:
    def __init__(self) -> None:
        self.published: list[Any] = []

    async def publish(self, payload: Any, jurisdiction_code: str = "") -> None:
        self.published.append(payload)

    async def close(self) -> None:
        return None


_SESSION_KEYS: dict[str, str] = {}


def session_keys_file() -> str:
    """This session's own random keyring (nothing in the source signs anything)."""
    if "path" not in _SESSION_KEYS:
        path = os.path.join(tempfile.mkdtemp(prefix="yiwang-keys-"), "keys.json")
        ensure_keyring(path)
        _SESSION_KEYS["path"] = path
    return _SESSION_KEYS["path"]


def settings_for(res: TestResources, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "keys_file": session_keys_file(),
        "database_url": res.database_url,
        "amqp_uri": res.amqp_uri,
        "redis_url": res.redis_url,
        "redis_prefix": f"{res.redis_prefix}{uuid.uuid4().hex[:6]}:",
        "rpc_timeout_s": 2.0,
        "rate_limit_per_ip": 100_000,
        "rate_limit_per_account": 100_000,
        "otp_log_codes": False,
    }
    base.update(overrides)
    return Settings(**base)


@contextmanager
def gateway_client(res: TestResources, **overrides: Any) -> Iterator[TestClient]:
    from gateway.main import create_app

    settings = settings_for(res, **overrides)
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        real = app.state.resources
        rpc, publisher = FakeRpc(), FakePublisher()
        app.state.real_rpc = real.rpc
        real.rpc, real.publisher = rpc, publisher  # the lifespan closes its own copies
        client.fake_rpc = rpc  # type: ignore[attr-defined]
        client.fake_publisher = publisher  # type: ignore[attr-defined]
        client.settings = settings  # type: ignore[attr-defined]
        try:
            yield client
        finally:
            real.rpc = app.state.real_rpc


@pytest.fixture(scope="module")
def client(resources: TestResources) -> Iterator[TestClient]:  # noqa: F811
    with gateway_client(resources) as c:
        yield c


_ENGINES: dict[str, Any] = {}


def live_account(settings: Settings, principal: Principal) -> str:
    """Make ``principal`` a live account (created or updated by its id) and return its
    version: the gateway refuses tokens of made-up or changed accounts."""
    import redis
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    from gateway.adapters.tables import accounts
    from gateway.security import store
    from yiwang.db import make_engine

    engine = _ENGINES.get(settings.database_url)
    if engine is None:
        engine = _ENGINES[settings.database_url] = make_engine(settings.database_url, pool_size=1)
    values = {
        "display_name": principal.display_name or principal.role,
        "role": principal.role,
        "jurisdiction_code": principal.jurisdiction_code,
        "department": principal.department,
        "enterprise_id": principal.enterprise_id,
        "institution_id": principal.institution_id,
        "person_id": principal.person_id,
        "can_unmask": principal.can_unmask,
        "active": True,
    }
    ins = pg_insert(accounts).values(id=uuid.UUID(principal.account_id), **values)
    stmt = ins.on_conflict_do_update(
        index_elements=[accounts.c.id], set_={**values, "updated_at": sa.func.now()}
    ).returning(accounts)
    with engine.begin() as conn:
        row = conn.execute(stmt).one()
    r = redis.Redis.from_url(settings.redis_url)
    r.delete(f"{settings.redis_prefix}gw:acct:{principal.account_id}")
    r.close()
    return store.account_version(row)


def token_for(
    settings: Settings,
    principal: Principal,
    ttl_s: int = 900,
    family: str | None = None,
    *,
    live: bool = True,
) -> str:
    """A token for ``principal`` signed with the settings' keys, its account made live
    first (``live=False``: as is, e.g. a made-up account, which the gateway refuses)."""
    from datetime import UTC, datetime

    if live:
        try:
            uuid.UUID(principal.account_id)
        except ValueError:  # a readable test id ("v-d1"): the same account id every time
            principal = dataclasses.replace(
                principal, account_id=str(uuid.uuid5(uuid.NAMESPACE_URL, principal.account_id))
            )
    version = live_account(settings, principal) if live else principal.account_version or ""
    return cred.issue_access_token(
        load_keyring(settings)["token"],
        principal,
        family or str(uuid.uuid4()),
        datetime.now(UTC),
        ttl_s,
        version,
    ).token


@pytest.fixture(scope="module")
def bearer(client: TestClient) -> Callable[[Principal], dict[str, str]]:
    def make(principal: Principal) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(client.settings, principal)}"}  # type: ignore[attr-defined]

    return make
