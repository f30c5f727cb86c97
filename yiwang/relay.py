"""The outbox relay: publishes committed outbox rows with publisher confirms.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` so several relays (one per service
process) never publish the same row concurrently; a row is marked published only after
the broker confirmed it. A relay killed between the confirm and the mark publishes the
row again on its next run: consumers are idempotent (inbox), so it is applied once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pika
import sqlalchemy as sa
from pika.adapters.blocking_connection import BlockingChannel
from sqlalchemy.engine import Engine

from yiwang.db import outbox_table
from yiwang.logging import get_logger

log = get_logger(__name__)


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
        self._channel: BlockingChannel | None = None
        self._declared: set[str] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._after_publish = after_publish  # test hook: simulate a crash before marking
        self.published_total = 0

    # -- broker -------------------------------------------------------------------------
    def _channel_or_connect(self) -> BlockingChannel:
        if self._channel is None or not self._channel.is_open:
            params = pika.URLParameters(self.amqp_uri)
            params.heartbeat = 30
            params.blocked_connection_timeout = 30
            self._conn = pika.BlockingConnection(params)
            ch = self._conn.channel()
            ch.confirm_delivery()
            self._channel = ch
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
            for row in rows:
                if row.exchange not in self._declared:
                    ch.exchange_declare(row.exchange, exchange_type="topic", durable=True)
                    self._declared.add(row.exchange)
                headers: dict[str, Any] = dict(row.headers or {})
                ch.basic_publish(
                    exchange=row.exchange,
                    routing_key=row.routing_key,
                    body=row.body.encode("utf-8"),
                    properties=pika.BasicProperties(
                        content_type="application/json",
                        content_encoding="utf-8",
                        delivery_mode=2,
                        message_id=str(row.event_id),
                        type=row.routing_key,
                        headers=headers,
                    ),
                )  # raises on nack / unroutable-with-mandatory; confirms are synchronous
            seqs = [r.seq for r in rows]
            if self._after_publish is not None:
                self._after_publish(seqs)
            conn.execute(
                t.update()
                .where(t.c.seq.in_(seqs))
                .values(published_at=datetime.now(UTC), attempts=t.c.attempts + 1)
            )
        self.published_total += len(rows)
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
                self._wake.clear()
        self.close()
