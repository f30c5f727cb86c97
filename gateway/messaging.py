"""Durable publishing of gateway events (e.g. ``report.submitted``) with publisher confirms.

The message is validated against its contract, published persistent and ``mandatory`` to
``gateway.events``; the call returns only after the broker confirmed it, so a 202 means the
report is in a durable queue even if the petitions service is down.
"""

from __future__ import annotations

import asyncio

import aio_pika
import pika
from aio_pika.exceptions import DeliveryError, PublishError
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from pydantic import BaseModel

from yiwang.contracts import Envelope, new_envelope
from yiwang.errors import Unavailable
from yiwang.topology import declare_topology
from yiwang.tracing import current_trace_context

_tracer = trace.get_tracer("yiwang.gateway")


class EventPublisher:
    exchange_name = "gateway.events"

    def __init__(self, amqp_uri: str, timeout_s: float = 5.0) -> None:
        self.amqp_uri = amqp_uri
        self.timeout_s = timeout_s
        self._conn: aio_pika.abc.AbstractRobustConnection | None = None
        self._exchange: aio_pika.abc.AbstractExchange | None = None

    async def connect(self, retry_delays_ms: tuple[int, ...] = (1000, 5000, 30000)) -> None:
        await asyncio.to_thread(self._declare_topology, retry_delays_ms)
        self._conn = await aio_pika.connect_robust(self.amqp_uri, timeout=self.timeout_s)
        channel = await self._conn.channel(publisher_confirms=True)
        self._exchange = await channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )

    def _declare_topology(self, retry_delays_ms: tuple[int, ...]) -> None:
        conn = pika.BlockingConnection(pika.URLParameters(self.amqp_uri))
        try:
            declare_topology(conn.channel(), retry_delays_ms)
        finally:
            conn.close()

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()

    async def publish(self, payload: BaseModel, jurisdiction_code: str = "") -> Envelope:
        """Publish and wait for the broker's confirm, inside a producer span (the event's
        trace context is this span's, so consumers are its children)."""
        name = f"publish {type(payload).__name__}"
        with _tracer.start_as_current_span(name, kind=SpanKind.PRODUCER):
            return await self._publish(payload, jurisdiction_code)

    async def _publish(self, payload: BaseModel, jurisdiction_code: str) -> Envelope:
        env = new_envelope(
            payload,
            producer="gateway",
            jurisdiction_code=jurisdiction_code,
            trace=current_trace_context(),
        )
        if self._exchange is None:
            raise self._unavailable("broker not connected")
        headers = {f"nameko.{k}": v for k, v in env.trace.items()}
        message = aio_pika.Message(
            env.model_dump_json().encode(),
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=str(env.id),
            type=env.type,
            headers=headers,
        )
        try:
            await asyncio.wait_for(
                self._exchange.publish(message, routing_key=env.type, mandatory=True),
                self.timeout_s,
            )
        except (DeliveryError, PublishError):
            raise self._unavailable("not confirmed by the broker") from None
        except (TimeoutError, aio_pika.exceptions.AMQPError, ConnectionError, RuntimeError):
            raise self._unavailable("broker unreachable") from None
        return env

    @staticmethod
    def _unavailable(why: str) -> Unavailable:
        return Unavailable(
            "intake_unavailable",
            f"Reports cannot be accepted right now ({why}); nothing was recorded, please retry.",
            f"暂时无法受理上报（{why}），本次未记录，请重试。",
        )
