"""Credentials, pure: argon2id password hashes, HS256 access tokens, opaque secrets.

Access tokens are signed with the keyring's current ``token`` key; the JWT header names it
(``kid``), so a rotated-out key still verifies the tokens it signed and a token naming no
key of this installation is refused. Nothing here touches the network;
``gateway.security.authn`` combines it with storage.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gateway.security.principal import ROLES, Principal, Unauthenticated
from yiwang.keys import KeySet

ISSUER = "yiwang"
ALGORITHM = "HS256"
_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
_DUMMY_HASH = _hasher.hash("timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-ish time: an unknown account still costs one argon2 verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def keyed_hash(key: bytes, *parts: str) -> str:
    """HMAC-SHA256 for short secrets (one-time codes), so a Redis dump reveals nothing."""
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def new_refresh_token() -> str:
    return "rt_" + secrets.token_urlsafe(32)


def new_api_key() -> str:
    return "yw_" + secrets.token_urlsafe(32)


def new_otp_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


@dataclass(frozen=True)
class AccessToken:
    token: str
    jti: str
    expires_at: datetime


def issue_access_token(
    keys: KeySet,
    principal: Principal,
    family_id: str,
    now: datetime,
    ttl_s: int,
    account_version: str = "",
) -> AccessToken:
    jti = uuid.uuid4().hex
    exp = now + timedelta(seconds=ttl_s)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "typ": "access",
        "sub": principal.account_id,
        "role": principal.role,
        "name": principal.display_name,
        "jur": principal.jurisdiction_code,
        "dept": principal.department,
        "ent": principal.enterprise_id,
        "inst": principal.institution_id,
        "pid": principal.person_id,
        "unm": principal.can_unmask,
        "fam": family_id,
        "ver": account_version,
        "jti": jti,
        "iat": int(now.timestamp()),
        "exp": int(exp.timestamp()),
    }
    token = jwt.encode(claims, keys.current_key, algorithm=ALGORITHM, headers={"kid": keys.current})
    return AccessToken(token, jti, exp)


def invalid_token(reason: str = "invalid_token") -> Unauthenticated:
    if reason == "token_expired":
        return Unauthenticated("token_expired", "The access token has expired.", "登录已过期。")
    if reason == "token_revoked":
        return Unauthenticated("token_revoked", "The access token was revoked.", "登录已失效。")
    return Unauthenticated("invalid_token", "The access token is invalid.", "登录凭证无效。")


def _key_for(keys: KeySet, token: str) -> bytes | None:
    """The key the token's header names (None: unknown kid, no kid, malformed)."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        return None
    return keys.keys.get(kid) if isinstance(kid, str) else None


def decode_access_token(keys: KeySet, token: str, now: datetime) -> Principal:
    """Verify key id, signature, issuer, type and expiry (against ``now``); no revocation
    or account check (``Authenticator.from_bearer`` does those)."""
    key = _key_for(keys, token)
    if key is None:
        raise invalid_token()
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={
                "require": ["exp", "iat", "sub", "jti", "role"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise invalid_token() from exc
    if claims.get("typ") != "access" or claims.get("role") not in ROLES:
        raise invalid_token()
    try:
        exp = int(claims["exp"])
    except (TypeError, ValueError) as exc:
        raise invalid_token() from exc
    if now.timestamp() >= exp:
        raise invalid_token("token_expired")
    return Principal(
        account_id=str(claims["sub"]),
        role=str(claims["role"]),
        display_name=str(claims.get("name") or ""),
        jurisdiction_code=str(claims.get("jur") or ""),
        department=claims.get("dept"),
        enterprise_id=claims.get("ent"),
        institution_id=claims.get("inst"),
        person_id=claims.get("pid"),
        can_unmask=bool(claims.get("unm")),
        token_id=str(claims["jti"]),
        family_id=claims.get("fam"),
        account_version=str(claims.get("ver") or ""),
    )


def peek_subject(keys: KeySet, token: str) -> str | None:
    """The verified ``sub`` of a token, or None (for rate limiting; expiry ignored)."""
    key = _key_for(keys, token)
    if key is None:
        return None
    try:
        claims = jwt.decode(
            token, key, algorithms=[ALGORITHM], issuer=ISSUER, options={"verify_exp": False}
        )
    except jwt.PyJWTError:
        return None
    sub = claims.get("sub")
    return str(sub) if sub else None
