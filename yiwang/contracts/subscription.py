"""A consumer's subscription to one producer's event type (listed in ``SUBSCRIPTIONS``).

It lives with the contracts, below ``yiwang.topology``: the topology reads every contract
module's ``SUBSCRIPTIONS`` to declare queues, and the contracts know nothing of the broker.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Subscription:
    source: str  # the producing service (its exchange is "<source>.events")
    event_type: str
    consumer: str  # consuming nameko service
    method: str

    @property
    def exchange(self) -> str:
        return f"{self.source}.events"

    @property
    def queue(self) -> str:
        # nameko's SERVICE_POOL queue naming: evt-{source}-{type}--{service}.{method}
        return f"evt-{self.source}-{self.event_type}--{self.consumer}.{self.method}"

    @property
    def consumer_id(self) -> str:
        return f"{self.consumer}.{self.method}"
