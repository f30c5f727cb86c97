"""Who may upload and how much (Redis): signed-in callers, or anonymous citizens holding a
short-lived upload token; a daily quota per account (or, for anonymous uploads, per client
address).

- ``issue_token(ip)``: a random token good for ``max_files`` uploads within
  ``media_upload_token_ttl_s`` (the citizen page fetches one with its report form); at most
  ``media_upload_tokens_per_ip_hour`` per address and hour (429 ``rate_limited``).
- ``admit(principal, token, ip)``: the quota identity of an upload; anonymous without a
  valid token: 401 ``upload_token_required`` / ``invalid_upload_token``; a token used up:
  429 ``upload_token_used_up``.
- ``charge(identity, size)``: counts a file and its bytes against the day's quota (429
  ``media_quota_exceeded`` beyond it); ``refund`` gives them back when the upload is refused
  afterwards (a pixel bomb, an unreadable image).

Only token hashes are stored. Keys expire on their own.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from typing import Any

from gateway.security import Principal
from yiwang.config import Settings
from yiwang.errors import DomainError

# remaining uses, or -2 for an unknown/expired token, -1 for one used up
_SPEND = """
local v = redis.call('GET', KEYS[1])
if not v then return -2 end
if tonumber(v) <= 0 then return -1 end
return redis.call('DECR', KEYS[1])
"""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UploadGate:
    def __init__(
        self, redis: Any, settings: Settings, max_files: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.redis = redis
        self.s = settings
        self.max_files = max_files
        self.clock = clock
        self.prefix = f"{settings.redis_prefix}gw:media:"

    async def issue_token(self, ip: str) -> dict[str, Any]:
        slot = int(self.clock() // 3600)
        key = f"{self.prefix}tokreq:{ip}:{slot}"
        pipe = self.redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, 3601)
        count = int((await pipe.execute())[0])
        if count > self.s.media_upload_tokens_per_ip_hour:
            raise DomainError(
                "rate_limited",
                "Too many upload tokens from this address; try again later.",
                "本地址申请上传凭证过于频繁，请稍后再试。",
                status=429,
            )
        token = "up_" + secrets.token_urlsafe(24)
        ttl = self.s.media_upload_token_ttl_s
        await self.redis.set(f"{self.prefix}tok:{_hash(token)}", self.max_files, ex=ttl)
        return {"upload_token": token, "expires_in": ttl, "max_files": self.max_files}

    async def admit(self, who: Principal | None, token: str | None, ip: str) -> str:
        if who is not None:
            return f"acct:{who.account_id}"
        if not token:
            raise DomainError(
                "upload_token_required",
                "Sign in, or send the upload token of your report form (X-Upload-Token).",
                "请登录，或提供上报表单的上传凭证（X-Upload-Token）。",
                status=401,
            )
        left = int(await self.redis.eval(_SPEND, 1, f"{self.prefix}tok:{_hash(token)}"))
        if left == -2:
            raise DomainError(
                "invalid_upload_token",
                "The upload token is unknown or expired.",
                "上传凭证无效或已过期。",
                status=401,
            )
        if left == -1:
            raise DomainError(
                "upload_token_used_up",
                f"This upload token has been used for {self.max_files} files already.",
                f"该上传凭证已用于{self.max_files}个文件。",
                status=429,
            )
        return f"ip:{ip}"

    def _quota_key(self, identity: str) -> str:
        return f"{self.prefix}quota:{identity}:{int(self.clock() // 86400)}"

    async def charge(self, identity: str, size: int) -> None:
        key = self._quota_key(identity)
        pipe = self.redis.pipeline()
        pipe.hincrby(key, "files", 1)
        pipe.hincrby(key, "bytes", size)
        pipe.expire(key, 2 * 86400)
        files, used, _ = await pipe.execute()
        if int(files) > self.s.media_quota_files_per_day or (
            int(used) > self.s.media_quota_bytes_per_day
        ):
            await self.refund(identity, size)
            raise DomainError(
                "media_quota_exceeded",
                f"Today's upload quota is used up ({self.s.media_quota_files_per_day} files, "
                f"{self.s.media_quota_bytes_per_day // (1024 * 1024)} MB).",
                f"今日上传额度已用完（{self.s.media_quota_files_per_day}个文件，"
                f"{self.s.media_quota_bytes_per_day // (1024 * 1024)}MB）。",
                status=429,
                max_files=self.s.media_quota_files_per_day,
                max_bytes=self.s.media_quota_bytes_per_day,
            )

    async def refund(self, identity: str, size: int) -> None:
        key = self._quota_key(identity)
        pipe = self.redis.pipeline()
        pipe.hincrby(key, "files", -1)
        pipe.hincrby(key, "bytes", -size)
        await pipe.execute()
