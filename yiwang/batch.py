"""Apply a batch of events in one unit of work (see ``UnitOfWork.batch``).

The batched event entrypoint (``reliable_event_handler(..., batch=True)``) hands a service
method a list of ``(envelope, payload)``; the method calls :func:`apply_batch` with the
service-layer function it would call for one event. Each event keeps its own trace span
(parented on the event's trace context) and its own savepoint; the batch commits once. If
any event raises, the whole batch rolls back and the entrypoint re-applies each event on
its own, so one bad event costs a retry of its batch, never a lost or doubled effect.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from yiwang.contracts import Envelope
from yiwang.tracing import event_span
from yiwang.uow import UnitOfWork

EventBatch = Sequence[tuple[Envelope, Any]]


def apply_batch(
    uow: UnitOfWork,
    events: EventBatch,
    apply: Callable[[UnitOfWork, Envelope, Any], object],
    *,
    span_name: str = "event",
    prepare: Callable[[UnitOfWork, EventBatch], object] | None = None,
) -> int:
    """Apply every event with ``apply(uow, envelope, payload)`` in one transaction.

    ``prepare(uow, events)`` runs first, inside the transaction: the place to take, in one
    sorted order, every lock the batch's events will take one by one (two batches taking
    the same locks in different orders would deadlock)."""
    with uow.batch():
        if prepare is not None:
            prepare(uow, events)
        for envelope, payload in events:
            with event_span(f"{span_name} {envelope.type}", envelope.trace):
                apply(uow, envelope, payload)
        uow.commit()
    return len(events)


def after_commit(uow: UnitOfWork, fn: Callable[..., Any]) -> Callable[..., None]:
    """``fn`` deferred until ``uow`` really commits (live pushes must not announce what a
    rolled-back batch never wrote)."""

    def deferred(*args: Any, **kwargs: Any) -> None:
        uow.after_commit(partial(fn, *args, **kwargs))

    return deferred
