"""``reliable_event_handler``: nameko's event_handler made safe for a city's cases.

Differences from nameko's default (which acks and drops an event whose handler fails,
and prefetches ``max_workers`` messages):
- the queue is the quorum queue declared in ``yiwang.topology`` (delivery limit, DLX);
- every message is checked against its contract before a worker is spawned; a message
  that is not JSON, too large, of unknown type/version or with an invalid payload is
  dead-lettered with the reason and acked — it never crashes a worker nor blocks the queue;
- a handler that raises is retried through delay queues (1 s, 5 s, 30 s by default), then
  dead-lettered with the error; if even that publish fails, the message is requeued;
- prefetch comes from ``EVENT_PREFETCH`` in the config, set deliberately (see README).
The handler receives ``(envelope, payload)`` and is itself idempotent (``UnitOfWork.claim_event``).

``batch=True`` (the hot paths: reports, case events) hands the handler a list of
``(envelope, payload)`` instead, to apply in one transaction (``yiwang.batch``). Batches form
naturally: while fewer than ``EVENT_BATCH_CONCURRENCY`` batches of this handler run, a
message starts a batch at once (no added latency when idle); otherwise messages wait and
the next batch takes up to ``EVENT_BATCH_MAX`` of them (bigger batches exactly when load
is high). The messages of a batch are acked only after it commits. A batch that raises is
rolled back and its events are re-run one by one, each with the retry / dead-letter path
above, so a poison event never takes its neighbours with it.
"""

from __future__ import annotations

import sys
from collections import deque
from typing import Any, NamedTuple

from kombu import Queue
from nameko.events import EventHandler, get_event_exchange
from nameko.messaging import QueueConsumer

from yiwang.contracts import ContractViolation, parse_envelope
from yiwang.logging import get_logger
from yiwang.metrics import DLQ_DEPTH
from yiwang.nameko.deadletter import Republisher
from yiwang.topology import (
    consumer_queue_arguments,
    dlq_name,
    find_subscription,
    retry_queue_name,
)

log = get_logger(__name__)


class Pending(NamedTuple):
    """A checked message waiting for (or inside) a batch."""

    envelope: Any
    payload: Any
    message: Any


class SafeQueueConsumer(QueueConsumer):
    """A queue consumer whose prefetch is configured and which dead-letters undecodable
    messages instead of letting kombu raise in the consumer loop."""

    @property
    def prefetch_count(self) -> int:
        return int(self.container.config.get("EVENT_PREFETCH", self.container.max_workers))

    def get_consumers(self, consumer_cls: Any, channel: Any) -> Any:
        consumers = super().get_consumers(consumer_cls, channel)
        for provider, consumer in list(self._consumers.items()):
            consumer.on_decode_error = _decode_error_handler(provider)
        return consumers


def _decode_error_handler(provider: ReliableEventHandler) -> Any:
    def on_decode_error(message: Any, exc: Exception) -> None:
        provider.reject_poison(message, "undecodable", repr(exc)[:500])

    return on_decode_error


class ReliableEventHandler(EventHandler):
    queue_consumer = SafeQueueConsumer()

    def __init__(
        self, source_service: str, event_type: str, *, batch: bool = False, **kwargs: Any
    ) -> None:
        kwargs.setdefault("requeue_on_error", False)
        super().__init__(source_service, event_type, **kwargs)
        self._republisher: Republisher | None = None
        self.batched = batch
        self._waiting: deque[Pending] = deque()  # arrived, not yet in a batch
        self._solo: deque[Pending] = deque()  # from a failed batch: re-run one by one
        self._batches_running = 0

    def setup(self) -> None:
        sub = find_subscription(
            self.source_service, self.event_type, self.container.service_name, self.method_name
        )
        self.subscription = sub
        cfg = self.container.config
        self.max_attempts = int(cfg.get("EVENT_MAX_ATTEMPTS", 4))
        self.retry_delays = [int(x) for x in cfg.get("EVENT_RETRY_DELAYS_MS", [1000, 5000, 30000])]
        self.batch_max = max(1, int(cfg.get("EVENT_BATCH_MAX", 50)))
        self.batch_concurrency = max(1, int(cfg.get("EVENT_BATCH_CONCURRENCY", 2)))
        exchange = get_event_exchange(self.source_service, cfg)
        self.queue = Queue(
            sub.queue,
            exchange=exchange,
            routing_key=self.event_type,
            durable=True,
            auto_delete=False,
            exclusive=False,
            queue_arguments=consumer_queue_arguments(sub.queue),
        )
        self._republisher = Republisher(cfg["AMQP_URI"])
        self._republisher.declare(sub, self.retry_delays)
        DLQ_DEPTH.add(cfg["AMQP_URI"], dlq_name(sub.queue))  # its depth, read when scraped
        self.queue_consumer.register_provider(self)

    def stop(self) -> None:
        super().stop()
        if getattr(self, "subscription", None) is not None:
            DLQ_DEPTH.remove(dlq_name(self.subscription.queue))
        if self._republisher is not None:
            self._republisher.close()

    # -- consuming ------------------------------------------------------------------------
    def handle_message(self, body: Any, message: Any) -> None:
        try:
            envelope, payload = parse_envelope(message.body)
        except ContractViolation as exc:
            self.reject_poison(message, exc.reason, exc.detail)
            return
        if self.batched:
            self._waiting.append(Pending(envelope, payload, message))
            self._start_batches()
            return
        try:
            self.container.spawn_worker(
                self,
                (envelope, payload),
                {},
                context_data=self._context(message, envelope),
                handle_result=self._on_result(message),
            )
        except Exception:  # ContainerBeingKilled and friends: give the message back
            self.queue_consumer.requeue_message(message)

    def _context(self, message: Any, envelope: Any) -> dict[str, Any]:
        """The worker's context: the message's nameko headers, the event's trace context."""
        context_data: dict[str, Any] = self.unpack_message_headers(message)
        context_data.setdefault("traceparent", envelope.trace.get("traceparent", ""))
        return context_data

    # -- batches --------------------------------------------------------------------------
    def _start_batches(self) -> None:
        """Start batches while a slot is free (green threads: no yield until the spawn)."""
        while self._batches_running < self.batch_concurrency and (self._solo or self._waiting):
            if self._solo:
                items = [self._solo.popleft()]
            else:
                n = min(self.batch_max, len(self._waiting))
                items = [self._waiting.popleft() for _ in range(n)]
            self._batches_running += 1
            self._spawn_batch(items)

    def _spawn_batch(self, items: list[Pending]) -> None:
        first = items[0]  # a batch's worker span continues its first event's trace
        try:
            self.container.spawn_worker(
                self,
                ([(p.envelope, p.payload) for p in items],),
                {},
                context_data=self._context(first.message, first.envelope),
                handle_result=self._on_batch_result(items),
            )
        except Exception:  # ContainerBeingKilled and friends: give the messages back
            self._batches_running -= 1
            for p in items:
                self.queue_consumer.requeue_message(p.message)

    def _on_batch_result(self, items: list[Pending]) -> Any:
        def handle_result(worker_ctx: Any, result: Any = None, exc_info: Any = None) -> Any:
            if exc_info is None:
                for p in items:
                    self.queue_consumer.ack_message(p.message)
            elif len(items) == 1:
                self._retry_or_dead_letter(items[0].message, exc_info)
            else:
                log.warning(
                    "event_batch_failed_rerun_one_by_one",
                    queue=self.subscription.queue,
                    size=len(items),
                    error=f"{exc_info[0].__name__}: {exc_info[1]}"[:300],
                )
                self._solo.extend(items)
            self._batches_running -= 1
            # start the next batches from a fresh green thread: this worker still holds its
            # pool slot, and spawning from here could wait on a full pool forever
            self.container.spawn_managed_thread(self._start_batches, identifier="event-batches")
            return result, exc_info

        return handle_result

    def _on_result(self, message: Any) -> Any:
        def handle_result(worker_ctx: Any, result: Any = None, exc_info: Any = None) -> Any:
            if exc_info is None:
                self.queue_consumer.ack_message(message)
            else:
                self._retry_or_dead_letter(message, exc_info)
            return result, exc_info

        return handle_result

    def _retry_or_dead_letter(self, message: Any, exc_info: Any) -> None:
        headers = dict(message.headers or {})
        attempt = int(headers.get("x-yiwang-attempt", 1))
        error = f"{exc_info[0].__name__}: {exc_info[1]}"
        transient = is_transient(exc_info[1])
        assert self._republisher is not None
        try:
            if (transient or attempt < self.max_attempts) and self.retry_delays:
                # an outage (database, broker, another service) is not the message's fault:
                # retry at the longest delay for as long as it lasts, never dead-letter
                delay = self.retry_delays[min(attempt - 1, len(self.retry_delays) - 1)]
                self._republisher.retry(
                    retry_queue_name(self.subscription.queue, delay),
                    message.body,
                    headers,
                    attempt if transient and attempt >= self.max_attempts else attempt + 1,
                    error,
                    message.content_type,
                )
                log.warning(
                    "event_retry_scheduled",
                    queue=self.subscription.queue,
                    attempt=attempt,
                    delay_ms=delay,
                    error=error[:300],
                )
            else:
                self._republisher.dead_letter(
                    self.subscription.queue,
                    message.body,
                    headers,
                    "handler_failed",
                    error,
                    message.content_type,
                )
                log.error(
                    "event_dead_lettered",
                    queue=self.subscription.queue,
                    attempts=attempt,
                    error=error[:300],
                )
        except Exception as exc:  # noqa: BLE001 - broker trouble: keep the message
            log.error("event_retry_publish_failed", error=str(exc)[:300])
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)

    def reject_poison(self, message: Any, reason: str, detail: str) -> None:
        assert self._republisher is not None
        try:
            body = message.body if isinstance(message.body, bytes) else str(message.body).encode()
            self._republisher.dead_letter(
                self.subscription.queue,
                body,
                dict(message.headers or {}),
                reason,
                detail,
                message.content_type,
            )
        except Exception as exc:  # noqa: BLE001
            log.error("poison_dead_letter_failed", error=str(exc)[:300], exc_info=sys.exc_info())
            self.queue_consumer.requeue_message(message)
            return
        log.warning(
            "poison_message_dead_lettered",
            queue=self.subscription.queue,
            reason=reason,
            detail=detail[:300],
        )
        self.queue_consumer.ack_message(message)


def is_transient(exc: BaseException) -> bool:
    """An infrastructure outage rather than a fault of the message itself."""
    import sqlalchemy.exc as sa_exc

    from yiwang.errors import Unavailable

    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, Unavailable | ConnectionError | TimeoutError | OSError):
        return True
    name = type(exc).__name__
    return name in {"AMQPConnectionError", "StreamLostError", "RpcTimeout", "UnknownService"}


reliable_event_handler = ReliableEventHandler.decorator
