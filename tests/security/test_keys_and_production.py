"""No secret in the source: each installation generates its own keyring (0600, outside git);
rotation keeps old keys; production mode refuses to start with a demo configuration; logs
never carry a full phone or ID number, nor (outside the demo) a one-time code."""

from __future__ import annotations

import io
import json
import logging
import os
import stat
import threading
import uuid
from typing import Any

import pytest
import structlog
from typer.testing import CliRunner

from gateway.security.seed import seed_demo_accounts
from tests.support.resources import TestResources
from yiwang.config import Settings
from yiwang.db import make_engine
from yiwang.keys import (
    Keyring,
    KeySet,
    ensure_keyring,
    load_keyring,
    read_keyring,
    write_keyring,
)
from yiwang.production import StartupRefused, checked_keyring, problems

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_no_secret_default_in_the_settings() -> None:
    assert not hasattr(Settings(), "secret_key")
    source = open(os.path.join(REPO, "yiwang", "config.py"), encoding="utf-8").read()
    assert "change-me-in-production" not in source


def test_each_installation_generates_its_own_keys(tmp_path: Any) -> None:
    a, b = str(tmp_path / "a" / "keys.json"), str(tmp_path / "b" / "keys.json")
    ka, kb = ensure_keyring(a), ensure_keyring(b)
    assert stat.S_IMODE(os.stat(a).st_mode) == 0o600
    for purpose in ("token", "pii", "pii_index", "qr"):
        assert len(ka[purpose].current_key) >= 32
        assert ka[purpose].current_key != kb[purpose].current_key
    assert len({ka[p].current_key for p in ("token", "pii", "pii_index", "qr")}) == 4
    assert ensure_keyring(a).to_config() == ka.to_config()  # kept, never regenerated


def test_processes_starting_together_agree_on_one_keyring(tmp_path: Any) -> None:
    path = str(tmp_path / "keys.json")
    seen: list[dict[str, Any]] = []
    threads = [
        threading.Thread(target=lambda: seen.append(ensure_keyring(path).to_config()))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 8 and all(s == seen[0] for s in seen)


def test_rotate_command_adds_a_current_key_and_keeps_the_old(tmp_path: Any) -> None:
    from infra.keys import app

    path = str(tmp_path / "keys.json")
    env = {"YIWANG_KEYS_FILE": path}
    runner = CliRunner()
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    before = read_keyring(path)
    r = runner.invoke(app, ["rotate", "token"], env=env)
    assert r.exit_code == 0, r.output
    after = read_keyring(path)
    assert after["token"].current != before["token"].current
    assert before["token"].current in after["token"].keys
    assert after["pii"] == before["pii"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert runner.invoke(app, ["rotate", "pii_index"], env=env).exit_code != 0
    shown = runner.invoke(app, ["show"], env=env).output
    assert after["token"].current in shown and "(current)" in shown
    assert "=" not in shown.replace("==", "")  # key ids only, never key material


# -- production mode ---------------------------------------------------------------------------


def strong_keys(tmp_path: Any) -> str:
    path = str(tmp_path / "prod-keys.json")
    ensure_keyring(path)
    return path


def prod(tmp_path: Any, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "production",
        "keys_file": strong_keys(tmp_path),
        "otp_log_codes": False,
        "otp_auto_register": False,
    }
    values.update(overrides)
    return Settings(**values)


def refusal(settings: Settings) -> str:
    with pytest.raises(StartupRefused) as e:
        checked_keyring(settings)
    return " ".join(e.value.problems)


def test_production_accepts_a_sound_configuration(tmp_path: Any) -> None:
    s = prod(tmp_path)
    assert problems(s, load_keyring(s)) == []
    assert checked_keyring(s)["token"].current


def test_production_refuses_a_missing_keyring(tmp_path: Any) -> None:
    s = prod(tmp_path, keys_file=str(tmp_path / "nowhere" / "keys.json"))
    assert "no keyring" in refusal(s)
    assert not os.path.exists(tmp_path / "nowhere" / "keys.json")  # never generated there


def test_production_refuses_short_or_published_keys(tmp_path: Any) -> None:
    ring = read_keyring(strong_keys(tmp_path))
    short = str(tmp_path / "short.json")
    write_keyring(short, Keyring({**ring.sets, "token": KeySet("t", {"t": b"too-short"})}))
    assert "shorter than 32 bytes" in refusal(prod(tmp_path, keys_file=short))
    public = str(tmp_path / "public.json")
    old = b"change-me-in-production-yiwang-demo-secret"
    write_keyring(public, Keyring({**ring.sets, "pii": KeySet("p", {"p": old})}))
    assert "published default" in refusal(prod(tmp_path, keys_file=public))


def test_production_refuses_otp_logging_and_auto_register(tmp_path: Any) -> None:
    assert "OTP_LOG_CODES" in refusal(prod(tmp_path, otp_log_codes=True))
    assert "OTP_AUTO_REGISTER" in refusal(prod(tmp_path, otp_auto_register=True))


def test_the_demo_never_refuses(tmp_path: Any) -> None:
    s = Settings(keys_file=str(tmp_path / "keys.json"))  # the quick start's defaults
    assert s.env == "demo" and s.otp_log_codes and s.otp_auto_register
    assert checked_keyring(s)["token"].current  # generated on first use


def test_production_gateway_refuses_to_start(tmp_path: Any, resources: TestResources) -> None:
    from fastapi.testclient import TestClient

    from gateway.main import create_app

    with pytest.raises(StartupRefused):
        create_app(prod(tmp_path, otp_log_codes=True, database_url=resources.database_url))
    # demo accounts in the database: refused when the gateway starts
    engine = make_engine(resources.database_url, pool_size=1)
    try:
        seed_demo_accounts(engine, "3299", "329901", "329901001", "329901001001", "329901001001001")
    finally:
        engine.dispose()
    app = create_app(
        prod(
            tmp_path,
            database_url=resources.database_url,
            amqp_uri=resources.amqp_uri,
            redis_url=resources.redis_url,
        )
    )
    with pytest.raises(StartupRefused) as e, TestClient(app):
        pass
    assert "demo accounts" in str(e.value)


# -- logs ------------------------------------------------------------------------------------------


@pytest.fixture
def json_logs() -> Any:
    """The real logging setup, writing into a buffer; restored afterwards."""
    from yiwang.logging import setup_logging

    buf = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    setup_logging("test", "INFO", "json")
    root.handlers[0].stream = buf  # type: ignore[attr-defined]
    try:
        yield buf
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()


def test_phone_and_id_numbers_are_masked_in_every_log_line(json_logs: io.StringIO) -> None:
    log = structlog.get_logger("t")
    log.info(
        "resident 13800000001 registered",
        phone="13912345678",
        id_number="11010119900307123X",
        nested={"contact": ["+86 137 1234 5678"]},
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
    )
    logging.getLogger("stdlib").warning("callback to 15000000009 failed")
    lines = [json.loads(x) for x in json_logs.getvalue().splitlines()]
    text = json_logs.getvalue()
    for full in ("13800000001", "13912345678", "11010119900307123X", "1371234", "15000000009"):
        assert full not in text, text
    assert (
        lines[0]["phone"] == "139****5678"
        and lines[0]["event"] == "resident 138****0001 registered"
    )
    assert lines[0]["id_number"] == "110101********123X"
    assert lines[0]["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert "150****0009" in lines[1]["event"]


@pytest.mark.parametrize("log_codes", [True, False])
def test_otp_code_is_logged_only_in_the_demo_and_never_the_full_phone(
    json_logs: io.StringIO, resources: TestResources, log_codes: bool
) -> None:
    import asyncio

    from redis.asyncio import Redis

    from gateway.security import credentials as cred
    from gateway.security.authn import Authenticator

    settings = Settings(
        redis_url=resources.redis_url,
        otp_log_codes=log_codes,
        redis_prefix=f"{resources.redis_prefix}{uuid.uuid4().hex[:6]}:",
    )
    code_holder: dict[str, str] = {}

    async def run() -> None:
        redis = Redis.from_url(settings.redis_url)
        auth = Authenticator(settings, None, redis, Keyring.generate())  # type: ignore[arg-type]
        original = cred.new_otp_code
        cred.new_otp_code = lambda: code_holder.setdefault("c", original())  # type: ignore[assignment]
        try:
            await auth.request_otp("13800000001")
        finally:
            cred.new_otp_code = original  # type: ignore[assignment]
            await redis.aclose()

    asyncio.run(run())
    text = json_logs.getvalue()
    assert "13800000001" not in text
    assert (code_holder["c"] in text) is log_codes  # demo with logging on: the code, masked phone
