"""An asyncio client for nameko's RPC wire protocol (no eventlet, no monkey-patching).

One AMQP connection and one reply queue per process; any number of concurrent calls
share them and overlap, matched by correlation id. Requests and responses are checked
against the contracts in ``yiwang.contracts.rpc``. A call that gets no reply within the
timeout raises ``Unavailable`` (the gateway answers 503); the request message carries
the same expiration, so a service that comes back later does not execute stale calls.

Wire format (nameko 2.x): publish to the ``nameko-rpc`` topic exchange with routing key
``<service>.<method>``, body ``{"args": [], "kwargs": {...}}``, ``reply_to`` = a routing key
bound to our reply queue on the same exchange, ``correlation_id``; context data travels in
``nameko.*`` headers. The reply body is ``{"result": ..., "error": null | {exc_type,
exc_path, exc_args, value}}``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from aio_pika.exceptions import DeliveryError, PublishError
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from pydantic import BaseModel, ValidationError

from yiwang.contracts.rpc import get_rpc_contract
from yiwang.errors import DomainError, Unavailable, ValidationFailed
from yiwang.topology import RPC_EXCHANGE
from yiwang.tracing import current_trace_context

_tracer = trace.get_tracer("yiwang.rpc")


class RemoteError(Exception):
    """A service failed with an unexpected error (not a DomainError)."""

    def __init__(self, exc_type: str, value: str) -> None:
        self.exc_type = exc_type
        self.value = value
        super().__init__(f"{exc_type}: {value}")


def service_unavailable(service: str, why: str) -> Unavailable:
    return Unavailable(
        "service_unavailable",
        f"The {service} service is not available right now ({why}); please retry shortly.",
        f"{service} 服务暂时不可用（{why}），请稍后重试。",
        service=service,
    )


class NamekoRpcClient:
    def __init__(
        self,
        amqp_uri: str,
        *,
        timeout_s: float = 5.0,
        caller: str = "gateway",
        max_pending: int = 2000,
    ) -> None:
        self.amqp_uri = amqp_uri
        self.max_pending = max_pending  # beyond: refuse at once (bounded memory, no pile-up)
        self.timeout_s = timeout_s
        self.caller = caller
        self._conn: aio_pika.abc.AbstractRobustConnection | None = None
        self._channel: aio_pika.abc.AbstractChannel | None = None
        self._exchange: aio_pika.abc.AbstractExchange | None = None
        self._routing_key = f"{caller}-{uuid.uuid4()}"
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def connect(self) -> None:
        self._conn = await aio_pika.connect_robust(self.amqp_uri, timeout=self.timeout_s)
        self._channel = await self._conn.channel(publisher_confirms=True)
        self._exchange = await self._channel.declare_exchange(
            RPC_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await self._channel.declare_queue(
            f"rpc.reply-{self._routing_key}", exclusive=True, auto_delete=True
        )
        await queue.bind(self._exchange, routing_key=self._routing_key)
        await queue.consume(self._on_reply, no_ack=True)

    async def close(self) -> None:
        for fut in self._pending.values():
            if not fut.done():
                fut.cancel()
        if self._conn is not None:
            await self._conn.close()

    @property
    def connected(self) -> bool:
        return self._conn is not None and not self._conn.is_closed

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        fut = self._pending.pop(message.correlation_id or "", None)
        if fut is not None and not fut.done():
            try:
                fut.set_result(json.loads(message.body))
            except ValueError as exc:
                fut.set_exception(RemoteError("MalformedReply", str(exc)))

    async def call(
        self, service: str, method: str, timeout_s: float | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """The reply as JSON-ready data (checked against the response contract)."""
        reply = await self.call_typed(service, method, timeout_s, **kwargs)
        return reply.model_dump(mode="json")

    async def call_typed(
        self, service: str, method: str, timeout_s: float | None = None, **kwargs: Any
    ) -> BaseModel:
        """The reply as an instance of the registered response model of service.method.

        The wire protocol is the same as :meth:`call`'s; a route returns this instance and
        declares the same model as its response model (``rpc_response(service, method)``).
        """
        contract = get_rpc_contract(service, method)
        try:
            request = contract.request.model_validate(kwargs)
        except ValidationError as exc:
            raise ValidationFailed(
                "invalid_request",
                f"invalid request for {service}.{method}",
                f"{service}.{method} 请求参数无效",
                errors=json.loads(exc.json(include_url=False, include_input=False)),
            ) from None
        reply = await self.call_raw(service, method, request.model_dump(mode="json"), timeout_s)
        return contract.response.model_validate(reply)

    async def call_raw(
        self, service: str, method: str, kwargs: dict[str, Any], timeout_s: float | None = None
    ) -> Any:
        """One call; a client span around it, so the callee's worker span is its child."""
        with _tracer.start_as_current_span(f"rpc {service}.{method}", kind=SpanKind.CLIENT):
            return await self._call_raw(service, method, kwargs, timeout_s)

    async def _call_raw(
        self, service: str, method: str, kwargs: dict[str, Any], timeout_s: float | None
    ) -> Any:
        if self._exchange is None:
            raise service_unavailable(service, "broker not connected")
        if len(self._pending) >= self.max_pending:
            raise service_unavailable(service, "too many calls in flight")
        timeout = timeout_s or self.timeout_s
        corr = str(uuid.uuid4())
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._pending[corr] = fut
        headers: dict[str, Any] = {"nameko.call_id_stack": [f"{self.caller}.{method}.{corr}"]}
        headers.update({f"nameko.{k}": v for k, v in current_trace_context().items()})
        body = json.dumps({"args": [], "kwargs": kwargs}, ensure_ascii=False).encode()
        try:
            await asyncio.wait_for(
                self._exchange.publish(
                    aio_pika.Message(
                        body,
                        content_type="application/json",
                        content_encoding="utf-8",
                        correlation_id=corr,
                        reply_to=self._routing_key,
                        headers=headers,
                        expiration=timeout,
                    ),
                    routing_key=f"{service}.{method}",
                    mandatory=True,
                ),
                timeout,
            )
        except (DeliveryError, PublishError):
            self._pending.pop(corr, None)
            raise service_unavailable(service, "no consumer") from None
        except (TimeoutError, aio_pika.exceptions.AMQPError, ConnectionError, RuntimeError):
            self._pending.pop(corr, None)
            raise service_unavailable(service, "broker unreachable") from None
        try:
            reply = await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            self._pending.pop(corr, None)
            raise service_unavailable(service, f"no reply within {timeout:g} s") from None
        error = reply.get("error")
        if error:
            if error.get("exc_type") == "RemoteDomainError":
                args = error.get("exc_args") or ["{}"]
                raise DomainError.from_dict(json.loads(args[0]))
            raise RemoteError(error.get("exc_type", "Error"), error.get("value", ""))
        return reply.get("result")
