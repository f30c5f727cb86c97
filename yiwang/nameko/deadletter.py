"""Publishing to retry and dead-letter queues from inside a nameko process (pika, confirms)."""

from __future__ import annotations

import threading
from typing import Any

import pika

from yiwang.contracts.subscription import Subscription
from yiwang.metrics import DEAD_LETTERS, RETRIES
from yiwang.topology import DEAD_LETTER_EXCHANGE, RETRY_EXCHANGE, declare_subscription


class Republisher:
    """One confirmed pika channel per process for retries and dead letters."""

    def __init__(self, amqp_uri: str) -> None:
        self.amqp_uri = amqp_uri
        self._lock = threading.Lock()
        self._conn: pika.BlockingConnection | None = None
        self._ch: Any = None

    def _channel(self) -> Any:
        if self._ch is None or not self._ch.is_open:
            params = pika.URLParameters(self.amqp_uri)
            params.heartbeat = 30
            self._conn = pika.BlockingConnection(params)
            self._ch = self._conn.channel()
            self._ch.confirm_delivery()
        return self._ch

    def declare(self, sub: Subscription, retry_delays_ms: list[int]) -> None:
        """Declare the subscription's queues (same arguments as the runner's topology)."""
        with self._lock:
            declare_subscription(self._channel(), sub, retry_delays_ms)

    def _publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        headers: dict[str, Any],
        content_type: str | None,
    ) -> None:
        with self._lock:
            try:
                self._channel().basic_publish(
                    exchange=exchange,
                    routing_key=routing_key,
                    body=body,
                    properties=pika.BasicProperties(
                        content_type=content_type,
                        delivery_mode=2,
                        headers=headers,
                    ),
                    mandatory=True,
                )
            except Exception:
                self._ch = None
                raise

    def dead_letter(
        self,
        queue: str,
        body: bytes,
        headers: dict[str, Any],
        reason: str,
        error: str,
        content_type: str | None = None,
    ) -> None:
        h = dict(headers)
        h.update(
            {"x-yiwang-reason": reason, "x-yiwang-error": error[:2000], "x-yiwang-queue": queue}
        )
        self._publish(DEAD_LETTER_EXCHANGE, queue, body, h, content_type)
        DEAD_LETTERS.labels(queue, reason).inc()  # counted once the broker confirmed it

    def retry(
        self,
        retry_queue: str,
        body: bytes,
        headers: dict[str, Any],
        attempt: int,
        error: str,
        content_type: str | None = None,
    ) -> None:
        h = dict(headers)
        h.update({"x-yiwang-attempt": attempt, "x-yiwang-last-error": error[:1000]})
        self._publish(RETRY_EXCHANGE, retry_queue, body, h, content_type)
        RETRIES.labels(retry_queue.split(".retry.")[0]).inc()

    def close(self) -> None:
        try:
            if self._conn is not None and self._conn.is_open:
                self._conn.close()
        except Exception:  # noqa: BLE001
            pass
