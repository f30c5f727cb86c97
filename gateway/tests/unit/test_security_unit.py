"""Principal, policy merging and startup checks, credentials — no servers needed."""

from __future__ import annotations

import types
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
import pytest
from fastapi import APIRouter, Depends, FastAPI
from hypothesis import given
from hypothesis import strategies as st

from gateway.security import PolicyError, Principal, collect_policy, install, require
from gateway.security import credentials as cred
from gateway.security.policy import Policy, key_allows
from gateway.security.privacy import mask_contact, mask_name, mask_phone
from yiwang.errors import Forbidden
from yiwang.keys import Keyring, KeySet

SECRET = b"unit-test-secret-key-long-enough-for-hs256"
KEYS = KeySet("k1", {"k1": SECRET})
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def street() -> Principal:
    return Principal("a1", "street_staff", "钱", "329901001")


def test_check_jurisdiction_prefix_rule() -> None:
    p = street()
    p.check_jurisdiction("329901001")
    p.check_jurisdiction("329901001001001")
    for code in ("329901002", "3299", "", None):
        with pytest.raises(Forbidden) as e:
            p.check_jurisdiction(code)
        assert e.value.code == "outside_jurisdiction"
    Principal("adm", "admin").check_jurisdiction("330001")  # "" = everywhere


def test_jurisdiction_prefix_narrows() -> None:
    p = street()
    assert p.jurisdiction_prefix() == "329901001"
    assert p.jurisdiction_prefix("3299") == "329901001"  # broader request narrowed
    assert p.jurisdiction_prefix("329901001005") == "329901001005"
    with pytest.raises(Forbidden):
        p.jurisdiction_prefix("329902")
    assert Principal("adm", "admin").jurisdiction_prefix("3300") == "3300"


codes = st.text(alphabet="0123", min_size=0, max_size=8)


@given(mine=codes, requested=codes)
def test_jurisdiction_prefix_never_widens(mine: str, requested: str) -> None:
    p = Principal("x", "city_staff", jurisdiction_code=mine)
    try:
        got = p.jurisdiction_prefix(requested)
    except Forbidden:
        assert not requested.startswith(mine) and not mine.startswith(requested)
        return
    assert got.startswith(mine)
    assert got.startswith(requested) or mine.startswith(requested)


def test_actor() -> None:
    assert street().actor() == {"id": "a1", "role": "street_staff", "name": "钱"}


def test_policy_roles_and_api_keys() -> None:
    policy = Policy({"x.read": frozenset({"leader"}), "x.write": frozenset({"admin"})})
    assert policy.allows(Principal("1", "leader"), "x.read")
    assert not policy.allows(Principal("1", "leader"), "x.write")
    assert not policy.allows(Principal("1", "leader"), "unknown.action")
    key = Principal("k", "system", via="api_key", actions=frozenset({"x.*"}))
    assert policy.allows(key, "x.read") and policy.allows(key, "x.write")
    narrow = Principal("k", "system", via="api_key", actions=frozenset({"x.read"}))
    assert policy.allows(narrow, "x.read") and not policy.allows(narrow, "x.write")
    with pytest.raises(Forbidden) as e:
        policy.check(narrow, "x.write")
    assert e.value.code == "role_not_allowed"
    assert key_allows(["*"], "a.b") and not key_allows(["xy.*"], "x.read")


def test_collect_policy_rejects_unknown_roles_and_conflicts() -> None:
    a = types.ModuleType("a")
    a.POLICY = {"t.read": {"leader"}}  # type: ignore[attr-defined]
    b = types.ModuleType("b")
    b.POLICY = {"t.read": {"leader", "citizen"}}  # type: ignore[attr-defined]
    c = types.ModuleType("c")
    c.POLICY = {"t.other": {"superuser"}}  # type: ignore[attr-defined]
    assert collect_policy([a, a]) == {"t.read": frozenset({"leader"})}
    with pytest.raises(PolicyError, match="declared differently"):
        collect_policy([a, b])
    with pytest.raises(PolicyError, match="unknown roles"):
        collect_policy([c])


def test_undeclared_action_fails_at_startup() -> None:
    router = APIRouter()

    @router.get("/x")
    async def x(who: Annotated[Principal, Depends(require("nobody.declared"))]) -> None:
        return None

    app = FastAPI()
    app.include_router(router)
    mod = types.ModuleType("m")
    mod.POLICY = {"something.else": {"admin"}}  # type: ignore[attr-defined]
    with pytest.raises(PolicyError, match="nobody.declared"):
        install(app, [mod])
    mod.POLICY["nobody.declared"] = {"admin"}  # type: ignore[attr-defined]
    assert "nobody.declared" in install(app, [mod]).table


def test_real_app_policy_is_consistent() -> None:
    from gateway.main import create_app

    table = create_app().state.policy.table
    assert table["command.cases.read"] >= {"street_staff", "leader"}
    assert "citizen" not in table["command.cases.read"]
    assert table["account.create"] == {"admin"}


def test_passwords_argon2id() -> None:
    h = cred.hash_password("correct horse")
    assert h.startswith("$argon2id$")
    assert cred.verify_password(h, "correct horse")
    assert not cred.verify_password(h, "wrong")
    assert not cred.verify_password(None, "timing-equaliser")
    assert not cred.verify_password("not-a-hash", "x")


def _token(**kw: object) -> str:
    return cred.issue_access_token(KEYS, street(), "fam", NOW, 900, "v1").token


def test_access_token_roundtrip_and_claims() -> None:
    tok = _token()
    p = cred.decode_access_token(KEYS, tok, NOW + timedelta(minutes=14))
    assert (p.account_id, p.role, p.jurisdiction_code, p.family_id, p.account_version) == (
        "a1",
        "street_staff",
        "329901001",
        "fam",
        "v1",
    )
    assert jwt.get_unverified_header(tok)["kid"] == "k1"
    claims = jwt.decode(
        tok, KEYS.current_key, algorithms=["HS256"], options={"verify_exp": False}, issuer="yiwang"
    )
    assert {"sub", "role", "jur", "dept", "ent", "jti", "exp", "iat"} <= set(claims)


def test_access_token_expiry() -> None:
    with pytest.raises(Exception) as e:
        cred.decode_access_token(KEYS, _token(), NOW + timedelta(minutes=15))
    assert getattr(e.value, "code", None) == "token_expired"


@pytest.mark.parametrize(
    "forge",
    [
        "wrong_secret",
        "old_default_secret",
        "no_kid",
        "unknown_kid",
        "alg_none",
        "role_escalation",
        "garbage",
        "refresh_as_access",
    ],
)
def test_forged_tokens_rejected(forge: str) -> None:
    claims = jwt.decode(
        _token(),
        KEYS.current_key,
        algorithms=["HS256"],
        options={"verify_exp": False},
        issuer="yiwang",
    )
    kid = {"kid": "k1"}
    if forge == "wrong_secret":
        tok = jwt.encode(claims, "another-secret-another-secret-123456", "HS256", kid)
    elif forge == "old_default_secret":  # the key that used to be in yiwang/config.py
        tok = jwt.encode(claims, "change-me-in-production-yiwang-demo-secret", "HS256", kid)
    elif forge == "no_kid":  # even the right key: a token must name its key
        tok = jwt.encode(claims, SECRET, algorithm="HS256")
    elif forge == "unknown_kid":
        tok = jwt.encode(claims, SECRET, "HS256", {"kid": "k9"})
    elif forge == "alg_none":
        tok = jwt.encode({**claims, "role": "admin"}, None, algorithm="none")  # type: ignore[arg-type]
    elif forge == "role_escalation":  # re-signed payload with a changed role, old signature
        head, _, sig = _token().split(".")
        body = jwt.utils.base64url_encode(
            jwt.api_jws.json.dumps({**claims, "role": "admin", "jur": ""}).encode()
        ).decode()
        tok = f"{head}.{body}.{sig}"
    elif forge == "refresh_as_access":
        tok = jwt.encode({**claims, "typ": "refresh"}, SECRET, "HS256", kid)
    else:
        tok = "not.a.token"
    with pytest.raises(Exception) as e:
        cred.decode_access_token(KEYS, tok, NOW)
    assert getattr(e.value, "code", None) == "invalid_token"
    assert getattr(e.value, "status", None) == 401


def test_rotation_keeps_old_tokens_valid_and_signs_with_the_new_key() -> None:
    ring = Keyring.generate(NOW)
    old = cred.issue_access_token(ring["token"], street(), "fam", NOW, 900, "v1").token
    rotated = ring.rotated("token", NOW + timedelta(seconds=1))
    assert rotated["token"].current != ring["token"].current
    assert len(rotated["token"].keys) == 2
    assert cred.decode_access_token(rotated["token"], old, NOW).account_id == "a1"
    new = cred.issue_access_token(rotated["token"], street(), "fam", NOW, 900, "v1").token
    assert jwt.get_unverified_header(new)["kid"] == rotated["token"].current
    with pytest.raises(Exception) as e:  # the old keyring does not know the new key
        cred.decode_access_token(ring["token"], new, NOW)
    assert getattr(e.value, "code", None) == "invalid_token"
    assert cred.peek_subject(rotated["token"], old) == "a1"


def test_masking() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("王小明") == "王**"
    assert mask_contact({"name": "王女士", "phone": "13812345678", "email": "ab@x.cn"}) == {
        "name": "王**",
        "phone": "138****5678",
        "email": "a***@x.cn",
    }
    assert mask_contact(None) is None


def test_otp_codes_are_six_digits() -> None:
    assert all(len(c) == 6 and c.isdigit() for c in (cred.new_otp_code() for _ in range(200)))
