"""Sign-in codes by SMS: the gateway queues them with the petitions service's delivery core
(``queue_message``: urgent, never shown to administrators, idempotent by key) instead of
writing them to the log. Used by ``gateway.security`` when ``YIWANG_OTP_SMS`` is set."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Awaitable, Callable
from typing import Any

CodeSender = Callable[[str, str], Awaitable[None]]


def otp_sender(rpc: Any, ttl_s: int) -> CodeSender:
    async def send(phone: str, code: str) -> None:
        # one key per code issued: a retried RPC queues the code once
        nonce = hashlib.sha256(f"{phone}|{code}|".encode() + os.urandom(16)).hexdigest()[:32]
        await rpc.call(
            "petitions",
            "queue_message",
            idempotency_key=f"otp-{nonce}",
            channel="sms",
            address=phone,
            urgent=True,
            sensitive=True,
            text=f"您的一网通办验证码是{code}，{max(ttl_s // 60, 1)}分钟内有效，请勿告诉他人。",
        )

    return send
