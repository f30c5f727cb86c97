"""API hygiene for every request, as one pure-ASGI middleware (``Hygiene``):

1. request body size limit (413; per path prefix, ``body_limit_prefixes``);
2. rate limits per client IP and per account in Redis, fixed window (429 + Retry-After);
3. idempotency keys on POST (``Idempotency-Key``): the first response (2xx and definitive
   4xx) is stored for 24 h under key + account and replayed; the same key with another
   body → 422 ``idempotency_key_reused``; while the first is running → 409;
4. audit log of every write (actor, method, path, status, trace id) in ``gateway.audit_log``.

Install it inside CORS (so 413/429 answers carry CORS headers) and inside tracing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.audit_writer import AuditWriter
from gateway.problems import problem
from gateway.security import credentials as cred
from gateway.security.policy import SCOPE_KEY
from yiwang.config import Settings
from yiwang.logging import get_logger
from yiwang.tracing import current_trace_id

log = get_logger(__name__)

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STORE_STATUSES = frozenset({400, 404, 410, 422})  # definitive refusals worth replaying
MAX_STORED_RESPONSE = 1024 * 1024
PENDING_TTL_S = 60
EXEMPT_PATHS = frozenset({"/live", "/ready", "/health", "/metrics"})


def body_limit_for(settings: Settings, path: str) -> int:
    best, limit = -1, settings.body_limit_bytes
    for prefix, n in settings.body_limit_prefixes.items():
        if path.startswith(prefix) and len(prefix) > best:
            best, limit = len(prefix), n
    return limit


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers") or ():
        if k == name:
            return v.decode("latin-1")
    return None


def too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"The request body exceeds {limit} bytes.")


class Hygiene:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._audit_writer: AuditWriter | None = None  # built on first use, per engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        res = getattr(scope["app"].state, "resources", None) if "app" in scope else None
        if res is None or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault(SCOPE_KEY, {})
        s = self.settings
        method = scope["method"]
        path = scope["path"]

        # 1. body size: declared length first, then counted while streaming.
        limit = body_limit_for(s, path)
        declared = header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._respond(
                scope,
                receive,
                send,
                problem(
                    413,
                    "payload_too_large",
                    f"The request body exceeds {limit} bytes.",
                    f"请求内容超过 {limit} 字节。",
                    limit=limit,
                ),
            )
            return
        receive = _limited(receive, limit)

        # 2. rate limits.
        identity = self._identity(scope)
        state["rate_identity"] = identity
        retry_after = await self._rate_limited(res.redis, client_ip(scope), identity)
        if retry_after:
            await self._respond(
                scope,
                receive,
                send,
                problem(
                    429,
                    "rate_limited",
                    "Too many requests; slow down.",
                    "请求过于频繁，请稍后再试。",
                    headers={"Retry-After": str(retry_after)},
                    retry_after=retry_after,
                ),
            )
            return

        # 3. idempotency (POST with a key), 4. audit (every write).
        capture = _Capture(send, nosniff=path.startswith(("/api/", "/open311/")))
        replayed = False
        try:
            idem_key = header(scope, b"idempotency-key") if method == "POST" else None
            if idem_key is not None:
                replayed = await self._idempotent(scope, receive, capture, res, idem_key, identity)
            else:
                await self.app(scope, receive, capture)
        finally:
            if method in WRITE_METHODS:
                await self._audit(res, state, scope, capture.status or 500, replayed)

    async def _respond(self, scope: Scope, receive: Receive, send: Send, response: Any) -> None:
        await response(scope, receive, send)
        if scope["method"] in WRITE_METHODS:
            res = scope["app"].state.resources
            await self._audit(res, scope.get(SCOPE_KEY, {}), scope, response.status_code, False)

    def _identity(self, scope: Scope) -> str | None:
        auth = header(scope, b"authorization")
        if auth and auth[:7].lower() == "bearer ":
            keyring = scope["app"].state.keyring
            sub = cred.peek_subject(keyring["token"], auth[7:].strip())
            return f"acct:{sub}" if sub else None
        key = header(scope, b"x-api-key")
        if key:
            return "key:" + cred.sha256_hex(key)[:24]
        return None

    async def _rate_limited(self, redis: Any, ip: str, identity: str | None) -> int:
        s = self.settings
        window = max(s.rate_limit_window_s, 1)
        now = time.time()
        slot = int(now // window)
        base = f"{s.redis_prefix}gw:rl:"
        checks = [(f"{base}ip:{ip}:{slot}", s.rate_limit_per_ip)]
        if identity:
            checks.append((f"{base}{identity}:{slot}", s.rate_limit_per_account))
        try:
            pipe = redis.pipeline()
            for key, _ in checks:
                pipe.incr(key)
                pipe.expire(key, window + 1)
            counts = (await pipe.execute())[0::2]
        except Exception as exc:  # noqa: BLE001 - fail open: limits must not take the API down
            log.warning("rate_limit_unavailable", error=type(exc).__name__)
            return 0
        if any(int(c) > lim for c, (_, lim) in zip(counts, checks, strict=True)):
            return max(int((slot + 1) * window - now + 0.999), 1)
        return 0

    async def _idempotent(
        self,
        scope: Scope,
        receive: Receive,
        capture: _Capture,
        res: Any,
        key: str,
        identity: str | None,
    ) -> bool:
        s = self.settings
        if not 1 <= len(key) <= 128 or not key.isprintable():
            await problem(
                422,
                "invalid_idempotency_key",
                "Idempotency-Key must be 1–128 printable characters.",
                "Idempotency-Key 须为 1–128 个可见字符。",
            )(scope, receive, capture)
            return False
        try:
            body = await _read_all(receive)
        except HTTPException as exc:
            await problem(exc.status_code, "payload_too_large", str(exc.detail), "请求内容过大。")(
                scope, receive, capture
            )
            return False
        scope_id = identity or f"anon:{client_ip(scope)}"
        fp = hashlib.sha256(
            b"\x1f".join(
                [
                    scope["method"].encode(),
                    scope["path"].encode(),
                    scope.get("query_string", b""),
                    body,
                ]
            )
        ).hexdigest()
        rkey = (
            f"{s.redis_prefix}gw:idem:{hashlib.sha256(scope_id.encode()).hexdigest()[:32]}:"
            f"{hashlib.sha256(key.encode()).hexdigest()}"
        )
        redis = res.redis
        pending = json.dumps({"state": "pending", "fp": fp})
        if not await redis.set(rkey, pending, ex=PENDING_TTL_S, nx=True):
            raw = await redis.get(rkey)
            stored = json.loads(raw) if raw else None
            if stored is None:  # expired between SET and GET: treat as new next time
                await problem(
                    409,
                    "idempotency_in_progress",
                    "A request with this Idempotency-Key is in progress.",
                    "相同幂等键的请求正在处理。",
                    headers={"Retry-After": "1"},
                )(scope, receive, capture)
                return False
            if stored["fp"] != fp:
                await problem(
                    422,
                    "idempotency_key_reused",
                    "This Idempotency-Key was used with a different request.",
                    "该幂等键已用于另一个不同的请求。",
                )(scope, receive, capture)
                return False
            if stored["state"] == "pending":
                await problem(
                    409,
                    "idempotency_in_progress",
                    "A request with this Idempotency-Key is in progress.",
                    "相同幂等键的请求正在处理。",
                    headers={"Retry-After": "1"},
                )(scope, receive, capture)
                return False
            await _replay(stored, capture)
            return True

        capture.keep_body = True
        try:
            await self.app(scope, _replaying(body, receive), capture)
        except BaseException:
            await redis.delete(rkey)
            raise
        status = capture.status or 500
        if (200 <= status < 300 or status in STORE_STATUSES) and not capture.overflow:
            keep = [
                [k.decode("latin-1"), v.decode("latin-1")]
                for k, v in capture.headers
                if k.lower() in (b"content-type", b"location")
            ]
            await redis.set(
                rkey,
                json.dumps(
                    {
                        "state": "done",
                        "fp": fp,
                        "status": status,
                        "headers": keep,
                        "body": base64.b64encode(bytes(capture.body)).decode(),
                    }
                ),
                ex=s.idempotency_ttl_s,
            )
        else:
            await redis.delete(rkey)
        return False

    async def _audit(
        self, res: Any, state: dict[str, Any], scope: Scope, status: int, replayed: bool
    ) -> None:
        principal = state.get("principal")
        actor = principal.audit_name() if principal is not None else "anonymous"
        detail: dict[str, Any] = {"ip": client_ip(scope)}
        if principal is not None:
            detail["role"] = principal.role
        if replayed:
            detail["idempotent_replay"] = True
        if self._audit_writer is None or self._audit_writer.engine is not res.engine:
            self._audit_writer = AuditWriter(res.engine)
        try:
            await self._audit_writer.write(
                actor=actor,
                method=scope["method"],
                path=scope["path"],
                status=status,
                trace_id=current_trace_id(),
                detail=detail,
            )
        except Exception:  # noqa: BLE001 - the response is already sent; log loudly
            log.exception("audit_write_failed", path=scope["path"], actor=actor)


class _Capture:
    """Wraps ``send``: passes everything through, remembering status/headers (and the body
    when asked, up to MAX_STORED_RESPONSE)."""

    def __init__(self, send: Send, nosniff: bool = False) -> None:
        self.send = send
        self.nosniff = nosniff  # API data is never to be sniffed into HTML or script
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()
        self.keep_body = False
        self.overflow = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            self.headers = list(message.get("headers") or [])
            if self.nosniff and not any(
                k.lower() == b"x-content-type-options" for k, _ in self.headers
            ):
                message = {
                    **message,
                    "headers": [*self.headers, (b"x-content-type-options", b"nosniff")],
                }
        elif message["type"] == "http.response.body" and self.keep_body and not self.overflow:
            self.body.extend(message.get("body", b""))
            if len(self.body) > MAX_STORED_RESPONSE:
                self.overflow = True
                self.body.clear()
        await self.send(message)


async def _replay(stored: dict[str, Any], send: Send) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in stored["headers"]]
    body = base64.b64decode(stored["body"])
    headers.append((b"content-length", str(len(body)).encode()))
    headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": stored["status"], "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _limited(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large(limit)
        return message

    return wrapped


async def _read_all(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    sent = False

    async def wrapped() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return wrapped


def install(app: Any, settings: Settings) -> None:
    """Add the hygiene middleware (call before adding CORS, so CORS wraps it)."""
    app.add_middleware(Hygiene, settings=settings)


__all__ = ["Hygiene", "install"]
