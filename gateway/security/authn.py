"""Authentication flows on storage + Redis: password and one-time-code login, refresh
rotation with reuse detection, logout (denylist), bearer and API-key authentication.

A bearer token is bound to the live account: it carries the account's version
(``store.account_version``), which is checked against Redis in the same round trip as the
revocation list; a disabled account, a changed role or unit, or a new password refuses
the account's earlier tokens. The version is cached ``auth_account_cache_s`` seconds (a
miss reads the account once), and dropped at once by ``account_changed``.

Wrong passwords are counted per (account, client): a stranger's guesses slow down only
that stranger (delays of 1 s, 2 s, 4 s … after ``auth_login_max_failures``), never lock
the account for its owner; failures for one account from many clients are alerted."""

from __future__ import annotations

import asyncio
import hmac
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.engine import Engine

from gateway.security import credentials as cred
from gateway.security import store
from gateway.security.principal import Principal, Unauthenticated
from yiwang.clock import Clock, SystemClock
from yiwang.config import Settings
from yiwang.errors import DomainError
from yiwang.keys import Keyring
from yiwang.logging import get_logger

log = get_logger(__name__)


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"


def bad_credentials() -> Unauthenticated:
    return Unauthenticated(
        "invalid_credentials", "Wrong username or password.", "用户名或密码错误。"
    )


def keys(settings: Settings) -> _Keys:
    return _Keys(settings.redis_prefix + "gw:")


@dataclass(frozen=True)
class _Keys:
    base: str

    def deny_jti(self, jti: str) -> str:
        return f"{self.base}deny:jti:{jti}"

    def deny_family(self, fam: str) -> str:
        return f"{self.base}deny:fam:{fam}"

    def otp(self, phone: str) -> str:
        return f"{self.base}otp:{phone}"

    def otp_cooldown(self, phone: str) -> str:
        return f"{self.base}otp:cool:{phone}"

    def login_failures(self, username: str, client: str) -> str:
        return f"{self.base}login:fail:{username}:{client}"

    def login_lock(self, username: str, client: str) -> str:
        return f"{self.base}login:lock:{username}:{client}"

    def login_clients(self, username: str) -> str:
        return f"{self.base}login:clients:{username}"

    def login_alerted(self, username: str) -> str:
        return f"{self.base}login:alerted:{username}"

    def account(self, account_id: str) -> str:
        return f"{self.base}acct:{account_id}"

    def family_version(self, family_id: str) -> str:
        return f"{self.base}fam:ver:{family_id}"


def account_changed_error() -> Unauthenticated:
    return Unauthenticated(
        "account_changed",
        "Your account changed or was disabled; sign in again.",
        "账号信息已变更或已停用，请重新登录。",
    )


@dataclass
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    principal: Principal

    def as_dict(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            "refresh_expires_in": self.refresh_expires_in,
            "account": self.principal.as_dict(),
        }


class Authenticator:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        redis: Redis,
        keyring: Keyring,
        clock: Clock | None = None,
        send_code: Callable[[str, str], Awaitable[None]] | None = None,
    ) -> None:
        self.send_code = send_code  # SMS sender of one-time codes (gateway/reach.py)
        self.settings = settings
        self.engine = engine
        self.redis = redis
        self.keyring = keyring
        self.clock = clock or SystemClock()
        self.keys = keys(settings)

    def now(self) -> datetime:
        return self.clock.now()

    # -- issuing -------------------------------------------------------------------------

    async def _issue(self, row: Any, family_id: uuid.UUID) -> TokenPair:
        s = self.settings
        now = self.now()
        principal = store.principal_from_account(row)
        version = store.account_version(row)
        access = cred.issue_access_token(
            self.keyring["token"], principal, str(family_id), now, s.auth_access_ttl_s, version
        )
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(self.keys.account(principal.account_id), version, ex=s.auth_account_cache_s)
        # the refresh family remembers the version too: a changed account re-signs in
        pipe.set(self.keys.family_version(str(family_id)), version, ex=s.auth_refresh_ttl_s)
        await pipe.execute()
        refresh = cred.new_refresh_token()
        await asyncio.to_thread(
            store.store_refresh_token,
            self.engine,
            token_hash=cred.sha256_hex(refresh),
            account_id=uuid.UUID(principal.account_id),
            family_id=family_id,
            now=now,
            ttl_s=s.auth_refresh_ttl_s,
        )
        return TokenPair(
            access.token, s.auth_access_ttl_s, refresh, s.auth_refresh_ttl_s, principal
        )

    async def issue_for(self, account_row: Any) -> TokenPair:
        return await self._issue(account_row, uuid.uuid4())

    # -- account changes -----------------------------------------------------------------------

    async def account_changed(self, account_id: str) -> None:
        """Forget the cached version: the account's earlier tokens are checked against the
        database on their next use (and refused when the account changed)."""
        await self.redis.delete(self.keys.account(str(account_id)))

    async def update_account(self, account_id: str, **changes: Any) -> Any | None:
        """Change an account (role, unit, active, password hash …) and make its earlier
        tokens re-checked at once."""
        row = await asyncio.to_thread(store.update_account, self.engine, account_id, **changes)
        await self.account_changed(account_id)
        return row

    async def _account_version(self, account_id: str) -> str:
        row = await asyncio.to_thread(store.find_account, self.engine, account_id=account_id)
        version = store.account_version(row)
        await self.redis.set(
            self.keys.account(account_id), version, ex=self.settings.auth_account_cache_s
        )
        return version

    # -- password login ----------------------------------------------------------------------

    async def login(self, username: str, password: str, client: str = "unknown") -> TokenPair:
        name = username.lower()
        lock_key = self.keys.login_lock(name, client)
        locked_ms = int(await self.redis.pttl(lock_key))
        if locked_ms > 0:
            raise TooManyAttempts(
                "too_many_attempts",
                "Too many failed logins from here; try later.",
                "登录失败次数过多，请稍后再试。",
                retry_after=max(math.ceil(locked_ms / 1000), 1),
            )
        row = await asyncio.to_thread(store.find_account, self.engine, username=username)
        ok = await asyncio.to_thread(
            cred.verify_password, row.password_hash if row is not None else None, password
        )
        if not ok or row is None or not row.active:
            await self._failed_login(name, client)
            raise bad_credentials()
        await self.redis.delete(self.keys.login_failures(name, client))
        if cred.needs_rehash(row.password_hash):
            await asyncio.to_thread(
                store.set_password_hash, self.engine, row.id, cred.hash_password(password)
            )
            row = await asyncio.to_thread(store.find_account, self.engine, account_id=str(row.id))
            if row is None:
                raise bad_credentials()
        return await self.issue_for(row)

    async def _failed_login(self, name: str, client: str) -> None:
        """Count a wrong password against (account, client); past the threshold that client
        waits 1 s, 2 s, 4 s … (capped); many clients failing for one account is alerted."""
        s = self.settings
        window = s.auth_login_lockout_s
        fail_key, clients_key = (
            self.keys.login_failures(name, client),
            self.keys.login_clients(name),
        )
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(fail_key)
        pipe.expire(fail_key, window)
        pipe.pfadd(clients_key, client)
        pipe.expire(clients_key, window)
        pipe.pfcount(clients_key)
        failures, _, _, _, clients = await pipe.execute()
        over = int(failures) - s.auth_login_max_failures
        if over >= 0:
            delay = min(2 ** min(over, 30), window)
            await self.redis.set(self.keys.login_lock(name, client), "1", ex=max(delay, 1))
        if int(clients) >= s.auth_login_alert_clients and await self.redis.set(
            self.keys.login_alerted(name), "1", ex=window, nx=True
        ):
            log.warning(
                "login_failure_burst",
                alert=True,
                username=name,
                clients=int(clients),
                window_s=window,
            )

    # -- one-time code login -------------------------------------------------------------

    async def request_otp(self, phone: str) -> dict[str, int]:
        """Send (in the demo: log) a 6-digit code. Answers the same for unknown phones."""
        s = self.settings
        cool = self.keys.otp_cooldown(phone)
        if not await self.redis.set(cool, "1", ex=s.otp_resend_s, nx=True):
            ttl = max(int(await self.redis.ttl(cool)), 1)
            raise TooManyAttempts(
                "otp_too_soon",
                "A code was sent recently; wait to resend.",
                "验证码已发送，请稍后再试。",
                retry_after=ttl,
            )
        code = cred.new_otp_code()
        key = self.keys.otp(phone)
        pipe = self.redis.pipeline()
        pipe.delete(key)
        pipe.hset(key, mapping={"h": self._otp_hash(phone, code), "n": 0})
        pipe.expire(key, s.otp_ttl_s)
        await pipe.execute()
        if self.send_code is not None:
            try:
                await self.send_code(phone, code)
            except Exception:
                await self.redis.delete(cool)  # not sent: the person may ask again at once
                raise
        if s.otp_log_codes and s.env == "demo":  # production refuses to start with it on
            log.warning(
                "otp_code_demo",
                phone=phone,
                code=code,
                note="demo only: a real deployment sends an SMS",
            )
        return {"expires_in": s.otp_ttl_s, "resend_in": s.otp_resend_s}

    def _otp_hash(self, phone: str, code: str) -> str:
        return cred.keyed_hash(self.keyring["pii_index"].current_key, "otp", phone, code)

    async def verify_otp(self, phone: str, code: str) -> TokenPair:
        s = self.settings
        key = self.keys.otp(phone)
        attempts = await self.redis.hincrby(key, "n", 1)
        stored = await self.redis.hget(key, "h")
        if stored is None:
            await self.redis.delete(key)
            raise Unauthenticated(
                "otp_invalid", "The code is wrong or has expired.", "验证码错误或已过期。"
            )
        if attempts > s.otp_max_attempts:
            await self.redis.delete(key)
            raise TooManyAttempts(
                "otp_attempts_exceeded",
                "Too many wrong codes; request a new one.",
                "验证码错误次数过多，请重新获取。",
                retry_after=1,
            )
        expected = stored.decode() if isinstance(stored, bytes) else str(stored)
        if not hmac.compare_digest(expected, self._otp_hash(phone, code)):
            raise Unauthenticated(
                "otp_invalid", "The code is wrong or has expired.", "验证码错误或已过期。"
            )
        await self.redis.delete(key)
        row = await asyncio.to_thread(store.find_account, self.engine, phone=phone)
        if row is None:
            if not s.otp_auto_register:
                raise Unauthenticated(
                    "otp_invalid", "The code is wrong or has expired.", "验证码错误或已过期。"
                )
            row = await asyncio.to_thread(
                store.create_account,
                self.engine,
                phone=phone,
                role="citizen",
                display_name=f"市民{phone[-4:]}",
                jurisdiction_code="",
            )
        if not row.active:
            raise bad_credentials()
        return await self.issue_for(row)

    # -- refresh and logout ------------------------------------------------------------------

    async def refresh(self, refresh_token: str) -> TokenPair:
        now = self.now()
        outcome = await asyncio.to_thread(
            store.use_refresh_token, self.engine, cred.sha256_hex(refresh_token), now
        )
        if outcome.status == "reused" and outcome.family_id is not None:
            await self._deny_family(str(outcome.family_id))
            log.warning(
                "refresh_token_reuse",
                account_id=str(outcome.account_id),
                family_id=str(outcome.family_id),
            )
        if outcome.status != "ok" or outcome.account_id is None or outcome.family_id is None:
            raise Unauthenticated(
                "invalid_refresh_token",
                "The refresh token is invalid.",
                "刷新凭证无效，请重新登录。",
            )
        row = await asyncio.to_thread(
            store.find_account, self.engine, account_id=str(outcome.account_id)
        )
        if row is None or not row.active:
            raise Unauthenticated(
                "invalid_refresh_token",
                "The refresh token is invalid.",
                "刷新凭证无效，请重新登录。",
            )
        issued_for = await self.redis.get(self.keys.family_version(str(outcome.family_id)))
        if issued_for is not None and (
            issued_for.decode() if isinstance(issued_for, bytes) else str(issued_for)
        ) != store.account_version(row):
            # role, unit or password changed since sign-in: the whole family ends
            await self._deny_family(str(outcome.family_id))
            await asyncio.to_thread(store.revoke_family, self.engine, outcome.family_id, now)
            raise account_changed_error()
        return await self._issue(row, outcome.family_id)

    async def _deny_family(self, family_id: str) -> None:
        await self.redis.set(
            self.keys.deny_family(family_id), "1", ex=self.settings.auth_access_ttl_s + 60
        )

    async def logout(self, principal: Principal) -> None:
        """Revoke the access token (jti denylist) and its whole refresh family."""
        if principal.token_id:
            await self.redis.set(
                self.keys.deny_jti(principal.token_id), "1", ex=self.settings.auth_access_ttl_s + 60
            )
        if principal.family_id:
            await self._deny_family(principal.family_id)
            try:
                fam = uuid.UUID(principal.family_id)
            except ValueError:
                return
            await asyncio.to_thread(store.revoke_family, self.engine, fam, self.now())

    # -- per-request authentication ------------------------------------------------------

    async def from_bearer(self, token: str) -> Principal:
        """The token's principal, when its signature, expiry, revocation and account version
        all hold (one Redis round trip; the database only on a cache miss)."""
        principal = cred.decode_access_token(self.keyring["token"], token, self.now())
        check = [self.keys.deny_jti(principal.token_id or "")]
        if principal.family_id:
            check.append(self.keys.deny_family(principal.family_id))
        pipe = self.redis.pipeline(transaction=False)
        pipe.exists(*check)
        pipe.get(self.keys.account(principal.account_id))
        denied, cached = await pipe.execute()
        if denied:
            raise cred.invalid_token("token_revoked")
        if cached is None:
            version = await self._account_version(principal.account_id)
        else:
            version = cached.decode() if isinstance(cached, bytes) else str(cached)
        if version == store.NO_ACCOUNT:
            raise account_changed_error() if principal.account_version else cred.invalid_token()
        if not principal.account_version or not hmac.compare_digest(
            version, principal.account_version
        ):
            raise account_changed_error()
        return principal

    async def from_api_key(self, api_key: str) -> Principal:
        row = await asyncio.to_thread(store.find_api_key, self.engine, cred.sha256_hex(api_key))
        if row is None:
            raise Unauthenticated("invalid_api_key", "The API key is invalid.", "API 密钥无效。")
        return store.principal_from_api_key(row)
