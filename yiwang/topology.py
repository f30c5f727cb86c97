"""The broker topology: every event subscription, its queue and their arguments.

Queues are quorum queues (durable, replicated where a cluster exists) with a delivery
limit, so a message that crashes its consumer process again and again is dead-lettered
by the broker instead of looping forever. Each consumer queue has a dead-letter queue
(``<queue>.dlq``) and retry queues (``<queue>.retry.<ms>``) whose TTL sends a message back
to the consumer queue after the delay. The same arguments are used by the nameko
entrypoint (``yiwang.nameko.events``) and by ``declare_topology`` (runner, gateway), so
the declarations always agree and a queue exists before its first message is published.
"""

from __future__ import annotations

from typing import Any

from yiwang.contracts import command, enterprise, gateway, grids, petitions, volunteers
from yiwang.contracts.subscription import Subscription

RPC_EXCHANGE = "nameko-rpc"
DEAD_LETTER_EXCHANGE = "yiwang.dlx"
RETRY_EXCHANGE = "yiwang.retry"
DELIVERY_LIMIT = 20


def consumer_queue_arguments(queue: str) -> dict[str, Any]:
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": DELIVERY_LIMIT,
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
        "x-dead-letter-routing-key": queue,
    }


def retry_queue_name(queue: str, delay_ms: int) -> str:
    return f"{queue}.retry.{delay_ms}"


def dlq_name(queue: str) -> str:
    return f"{queue}.dlq"


def all_subscriptions() -> list[Subscription]:
    """Every subscription, collected from each contract module's ``SUBSCRIPTIONS``."""
    subs: list[Subscription] = []
    for module in (gateway, petitions, grids, command, volunteers, enterprise):
        subs.extend(getattr(module, "SUBSCRIPTIONS", []))
    return subs


def subscriptions_for(consumer: str) -> list[Subscription]:
    return [s for s in all_subscriptions() if s.consumer == consumer]


def find_subscription(source: str, event_type: str, consumer: str, method: str) -> Subscription:
    """The subscription for an entrypoint (listed ones are pre-declared by the runner)."""
    for s in all_subscriptions():
        if (s.source, s.event_type, s.consumer, s.method) == (source, event_type, consumer, method):
            return s
    return Subscription(source, event_type, consumer, method)


def declare_topology(channel: Any, retry_delays_ms: tuple[int, ...] = (1000, 5000, 30000)) -> None:
    """Declare every exchange and queue with a pika ``BlockingChannel`` (idempotent)."""
    channel.exchange_declare(RPC_EXCHANGE, exchange_type="topic", durable=True)
    for sub in all_subscriptions():
        declare_subscription(channel, sub, retry_delays_ms)


def declare_subscription(
    channel: Any, sub: Subscription, retry_delays_ms: tuple[int, ...] | list[int]
) -> None:
    """Declare one subscription's exchange, queue, dead-letter and retry queues."""
    channel.exchange_declare(DEAD_LETTER_EXCHANGE, exchange_type="direct", durable=True)
    channel.exchange_declare(RETRY_EXCHANGE, exchange_type="direct", durable=True)
    channel.exchange_declare(sub.exchange, exchange_type="topic", durable=True)
    channel.queue_declare(sub.queue, durable=True, arguments=consumer_queue_arguments(sub.queue))
    channel.queue_bind(sub.queue, sub.exchange, routing_key=sub.event_type)
    dlq = dlq_name(sub.queue)
    channel.queue_declare(dlq, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(dlq, DEAD_LETTER_EXCHANGE, routing_key=sub.queue)
    for delay in retry_delays_ms:
        rq = retry_queue_name(sub.queue, delay)
        channel.queue_declare(
            rq,
            durable=True,
            arguments={
                "x-message-ttl": delay,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": sub.queue,
            },
        )
        channel.queue_bind(rq, RETRY_EXCHANGE, routing_key=rq)
