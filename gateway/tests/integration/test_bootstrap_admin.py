"""The first administrator of a deployment: created from an environment variable, signs in,
idempotent on re-runs, never turns another role into an administrator."""

from __future__ import annotations

import uuid

import pytest

from gateway.security import credentials as cred
from gateway.security import store
from gateway.security.bootstrap_admin import main
from gateway.tests.conftest import gateway_client
from yiwang.db import make_engine

pytestmark = pytest.mark.integration


def test_first_admin_is_created_signs_in_and_reruns_change_nothing(
    resources, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("YIWANG_DATABASE_URL", resources.database_url)
    name = f"root_{uuid.uuid4().hex[:8]}"
    password = "a-long-operator-secret-1"
    assert main(["--username", name], {"YIWANG_ADMIN_PASSWORD": password}) == 0
    assert "created" in capsys.readouterr().out
    engine = make_engine(resources.database_url, pool_size=1)
    try:
        row = store.find_account(engine, username=name)
        assert row.role == "admin" and row.jurisdiction_code == "" and row.active
        assert row.password_hash != password and cred.verify_password(row.password_hash, password)
        # a re-run (the Job on the next deployment) keeps the password the admin may have changed
        assert main(["--username", name], {"YIWANG_ADMIN_PASSWORD": "another-password-2"}) == 0
        assert "exists" in capsys.readouterr().out
        again = store.find_account(engine, username=name)
        assert again.password_hash == row.password_hash
        assert (
            main(
                ["--username", name, "--reset-password"],
                {"YIWANG_ADMIN_PASSWORD": "another-password-2"},
            )
            == 0
        )
        reset = store.find_account(engine, username=name)
        assert cred.verify_password(reset.password_hash, "another-password-2")
    finally:
        engine.dispose()
    with gateway_client(resources) as c:
        r = c.post("/api/v1/auth/login", json={"username": name, "password": "another-password-2"})
        assert r.status_code == 200, r.text
        me = c.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
        )
        assert me.json()["role"] == "admin"


def test_refuses_a_missing_or_short_password_and_a_non_admin_name(resources, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("YIWANG_DATABASE_URL", resources.database_url)
    name = f"root_{uuid.uuid4().hex[:8]}"
    assert main(["--username", name], {}) == 2
    assert main(["--username", name], {"YIWANG_ADMIN_PASSWORD": "short"}) == 2
    engine = make_engine(resources.database_url, pool_size=1)
    try:
        assert store.find_account(engine, username=name) is None
        store.create_account(
            engine, username=name, display_name="市民", role="citizen", jurisdiction_code="3299"
        )
        assert (
            main(
                ["--username", name, "--reset-password"],
                {"YIWANG_ADMIN_PASSWORD": "a-long-operator-secret-1"},
            )
            == 3
        )
        assert store.find_account(engine, username=name).role == "citizen"
    finally:
        engine.dispose()
