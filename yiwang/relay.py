"""The outbox relay: publishes committed outbox rows with publisher confirms.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` so several relays (one per service
process) never publish the same row concurrently; a row is marked published only after
the broker confirmed it. A relay killed between the confirm and the mark publishes the
row again on its next run: consumers are idempotent (inbox), so it is applied once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pika
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from yiwang.db import outbox_table
from yiwang.logging import get_logger
from yiwang.metrics import OUTBOX_PUBLISHED

log = get_logger(__name__)


class BatchConfirmChannel:
    """A pika channel in confirm mode that publishes a whole batch, then waits once for the
    broker's confirms (``BlockingChannel.basic_publish`` would wait per message)."""

    def __init__(self, conn: pika.BlockingConnection, timeout_s: float = 30.0) -> None:
        self.conn = conn
        self.timeout_s = timeout_s
        self.channel = conn.channel()
        self._impl = self.channel._impl
        self._next_tag = 1
        self._pending: set[int] = set()
        self._nacked: list[int] = []
        ready: list[bool] = []
        self._impl.confirm_delivery(self._on_confirm, callback=lambda _f: ready.append(True))
        while not ready:
            conn.process_data_events(time_limit=0.1)

    @property
    def is_open(self) -> bool:
        return bool(self.channel.is_open)

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        tags = (
            {t for t in self._pending if t <= method.delivery_tag}
            if method.multiple
            else {method.delivery_tag}
        )
        self._pending -= tags
        if isinstance(method, pika.spec.Basic.Nack):
            self._nacked.extend(tags)

    def exchange_declare(self, exchange: str) -> None:
        self.channel.exchange_declare(exchange, exchange_type="topic", durable=True)

    def publish_batch(self, messages: list[tuple[str, str, bytes, pika.BasicProperties]]) -> None:
        """Publish every message; return when all are confirmed, raise on nack/timeout."""
        self._nacked.clear()
        for exchange, routing_key, body, props in messages:
            self._impl.basic_publish(exchange, routing_key, body, props)
            self._pending.add(self._next_tag)
            self._next_tag += 1
        deadline = time.monotonic() + self.timeout_s
        while self._pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self._pending)} publishes not confirmed in time")
            self.conn.process_data_events(time_limit=0.01)
        if self._nacked:
            raise RuntimeError(f"broker refused {len(self._nacked)} publishes (nack)")


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        schema: str,
        amqp_uri: str,
        *,
        batch_size: int = 200,
        poll_interval_s: float = 0.2,
        after_publish: Callable[[list[int]], None] | None = None,
    ) -> None:
        self.engine = engine
        self.schema = schema
        self.amqp_uri = amqp_uri
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self._table = outbox_table(sa.MetaData(schema=schema))
        self._conn: pika.BlockingConnection | None = None
        self._channel: BatchConfirmChannel | None = None
        self._declared: set[str] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._after_publish = after_publish  # test hook: simulate a crash before marking
        self.published_total = 0

    # -- broker -------------------------------------------------------------------------
    def _channel_or_connect(self) -> BatchConfirmChannel:
        if self._channel is None or not self._channel.is_open:
            params = pika.URLParameters(self.amqp_uri)
            params.heartbeat = 30
            params.blocked_connection_timeout = 30
            self._conn = pika.BlockingConnection(params)
            self._channel = BatchConfirmChannel(self._conn)
            self._declared.clear()
        return self._channel

    def close(self) -> None:
        try:
            if self._conn is not None and self._conn.is_open:
                self._conn.close()
        except Exception:  # noqa: BLE001 - closing a dead connection
            pass
        self._conn = None
        self._channel = None

    # -- one pass -----------------------------------------------------------------------
    def run_once(self) -> int:
        """Publish one batch; returns how many rows were published and marked."""
        t = self._table
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.select(
                    t.c.seq, t.c.exchange, t.c.routing_key, t.c.body, t.c.headers, t.c.event_id
                )
                .where(t.c.published_at.is_(None))
                .order_by(t.c.seq)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            ch = self._channel_or_connect()
            batch = []
            for row in rows:
                if row.exchange not in self._declared:
                    ch.exchange_declare(row.exchange)
                    self._declared.add(row.exchange)
                headers: dict[str, Any] = dict(row.headers or {})
                props = pika.BasicProperties(
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                    message_id=str(row.event_id),
                    type=row.routing_key,
                    headers=headers,
                )
                batch.append((row.exchange, row.routing_key, row.body.encode("utf-8"), props))
            ch.publish_batch(batch)  # returns only when the broker confirmed every message
            seqs = [r.seq for r in rows]
            if self._after_publish is not None:
                self._after_publish(seqs)
            conn.execute(
                t.update()
                .where(t.c.seq.in_(seqs))
                .values(published_at=datetime.now(UTC), attempts=t.c.attempts + 1)
            )
        self.published_total += len(rows)
        OUTBOX_PUBLISHED.labels(self.schema).inc(len(rows))
        return len(rows)

    def drain(self) -> int:
        total = 0
        while True:
            n = self.run_once()
            total += n
            if n < self.batch_size:
                return total

    # -- loop ---------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def run_forever(self, sleep: Callable[[float], None] | None = None) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            self._wake.clear()  # a commit after this point wakes the wait below
            try:
                n = self.drain()
                backoff = 0.5
            except Exception as exc:  # noqa: BLE001 - broker/db outage: retry with backoff
                log.warning("outbox_relay_error", schema=self.schema, error=str(exc)[:300])
                self.close()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if n == 0:
                self._wake.wait(self.poll_interval_s)
        self.close()
