"""The gateway's HTTP server settings against network abuse.

* ``X-Forwarded-For`` is believed only from the proxies in ``forwarded_allow_ips`` (none by
  default: the peer address is the client, whatever headers say);
* a client must send its request head within ``http_header_timeout_s`` (slow-header
  connections are closed), and each body chunk within ``http_body_timeout_s`` (408).
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from gateway.problems import problem
from yiwang.config import Settings
from yiwang.logging import get_logger

log = get_logger(__name__)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request head (first request and
    every keep-alive one): a connection still without a complete head is closed."""

    header_timeout_s: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm_head_timer()

    def _awaiting_head(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_timeout)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.is_closing():
            self._disarm_head_timer()
        elif self._awaiting_head():
            self._arm_head_timer()  # part of a head (or of the next request) arrived
        else:
            self._disarm_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._disarm_head_timer()  # keep-alive idle time is uvicorn's timeout_keep_alive

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self._awaiting_head() and not self.transport.is_closing():
            client = f"{self.client[0]}" if self.client else "unknown"
            log.warning("slow_request_head_closed", client=client, after_s=self.header_timeout_s)
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)


def guarded_protocol(header_timeout_s: float) -> type[GuardedH11Protocol]:
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"header_timeout_s": header_timeout_s})


class BodyTimeout(Exception):
    pass


class BodyReadTimeout:
    """ASGI layer: while the request body is incomplete, each chunk must arrive within
    ``timeout_s``; otherwise the request is answered 408 (or dropped if answering began)."""

    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.timeout_s <= 0:
            await self.app(scope, receive, send)
            return
        body_done = timed_out = started = False

        async def timed_receive() -> Message:
            nonlocal body_done, timed_out
            if body_done:
                return await receive()  # e.g. a streaming response waiting for disconnect
            try:
                async with asyncio.timeout(self.timeout_s):
                    message = await receive()
            except TimeoutError:
                timed_out = True
                raise BodyTimeout from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if timed_out and not started:
                return  # the app's answer to a body that never came is replaced below
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, timed_receive, tracking_send)
        except BodyTimeout:
            pass
        if timed_out:
            client = scope.get("client")
            log.warning("slow_request_body", client=client[0] if client else "unknown")
            if not started:
                response = problem(
                    408,
                    "request_timeout",
                    "The request body arrived too slowly.",
                    "请求内容发送过慢，连接已超时。",
                    headers={"Connection": "close"},
                )
                await response(scope, receive, send)


def server_config(app: Any, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """The uvicorn configuration of the gateway (``gateway.main.main``)."""
    trusted = settings.forwarded_allow_ips.strip()
    kwargs: dict[str, Any] = dict(
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_level="warning",
        access_log=False,
        http=guarded_protocol(settings.http_header_timeout_s),
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or "",
        server_header=False,
        # idle keep-alive connections outlive a client pool's (httpx: 5 s), so the server
        # never closes one just as a client sends on it (a reset, not an answer)
        timeout_keep_alive=settings.gateway_keep_alive_s,
    )
    kwargs.update(overrides)
    return uvicorn.Config(app, **kwargs)
