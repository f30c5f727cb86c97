"""Housekeeping run by the service's timer (clock injected): auto-evaluation after 7 days,
expired information requests, contact erasure after retention, and delivery of the status
notifications queued by the case transactions (pluggable sender; SSE through Redis)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa

from services.petitions.adapters import repository as repo
from services.petitions.adapters.channels import LogChannel, Outgoing
from services.petitions.adapters.tables import notifications
from services.petitions.domain.case import (
    CONTACT_RETENTION_DAYS,
    RATING_WINDOW,
    Case,
    auto_evaluate_if_due,
    erase_contact_if_due,
    expire_info_if_due,
)
from services.petitions.service_layer import delivery
from services.petitions.service_layer.common import persist
from yiwang.errors import DomainError
from yiwang.logging import get_logger
from yiwang.uow import UnitOfWork

log = get_logger(__name__)
SSE_MAX_ATTEMPTS = 5  # a live feed entry is worth a few retries, not the delivery core's


Message = Outgoing  # (channel, account_id, address, text, case_id, …)


class Sender(Protocol):
    def send(self, message: Message) -> Any: ...


LogSender = LogChannel  # the demo sender: every message to the log


Publish = Callable[[str, str], Any]  # (channel, message) -> Redis PUBLISH


def _sweep(
    uow_factory: Callable[[], UnitOfWork],
    column: str,
    before: datetime,
    now: datetime,
    step: Callable[[Case], bool],
) -> int:
    with uow_factory() as uow:
        ids = repo.due_ids(uow.session, column, before)
    done = 0
    for case_id in ids:
        try:
            with uow_factory() as uow:
                case = repo.load(uow.session, case_id, for_update=True)
                v = case.version
                if step(case):
                    persist(uow, case, v, now)
                    uow.commit()
                    done += 1
        except DomainError as e:  # changed meanwhile: the next sweep looks again
            log.info("sweep_skipped", case_id=str(case_id), code=e.code)
    return done


def auto_evaluate(
    uow_factory: Callable[[], UnitOfWork], now: datetime, window: timedelta = RATING_WINDOW
) -> int:
    return _sweep(
        uow_factory, "closed_at", now - window, now, lambda c: auto_evaluate_if_due(c, now, window)
    )


def expire_info_requests(uow_factory: Callable[[], UnitOfWork], now: datetime) -> int:
    return _sweep(uow_factory, "info_deadline", now, now, lambda c: expire_info_if_due(c, now))


def erase_contacts(
    uow_factory: Callable[[], UnitOfWork],
    now: datetime,
    retention_days: int = CONTACT_RETENTION_DAYS,
) -> int:
    return _sweep(
        uow_factory,
        "ended_at",
        now - timedelta(days=retention_days),
        now,
        lambda c: erase_contact_if_due(c, now, retention_days),
    )


def deliver_notifications(
    uow_factory: Callable[[], UnitOfWork],
    sender: Sender,
    publish: Publish | None,
    prefix: str,
    now: datetime,
    limit: int = 500,
    courier: delivery.Courier | None = None,
) -> int:
    """Publish pending SSE feed entries to ``<prefix>case:<case_id>``, then run the delivery
    core (``delivery.deliver_pending``) over e-mail, SMS and push messages through
    ``courier`` (by default every channel through ``sender``). Returns how many went out."""
    n = notifications
    sent = 0
    with uow_factory() as uow:
        rows = uow.session.execute(
            sa.select(n.c.id, n.c.channel, n.c.case_id, n.c.payload, n.c.attempts)
            .where(n.c.sent_at.is_(None), n.c.channel.in_(("case", "sse")))
            .order_by(n.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        done: list[int] = []
        for r in rows:
            if r.channel == "case" and publish is not None:
                try:
                    publish(
                        f"{prefix}case:{r.case_id}",
                        json.dumps(r.payload, ensure_ascii=False, default=str),
                    )
                except Exception as exc:  # noqa: BLE001 - Redis down: next time, a few times
                    give_up = r.attempts + 1 >= SSE_MAX_ATTEMPTS
                    log.warning("sse_publish_failed", id=r.id, error=str(exc), give_up=give_up)
                    uow.session.execute(
                        n.update()
                        .where(n.c.id == r.id)
                        .values(
                            attempts=r.attempts + 1,
                            sent_at=now if give_up else None,
                            status="dead" if give_up else "pending",
                            last_error=str(exc)[:500],
                        )
                    )
                    continue
            # "sse" messages for account holders travel with the case feed entry
            done.append(r.id)
        if done:  # one statement for every entry that went out
            uow.session.execute(
                n.update()
                .where(n.c.id.in_(done))
                .values(sent_at=now, status="sent", attempts=n.c.attempts + 1)
            )
        uow.commit()
    sent += len(done)
    if courier is None:
        courier = delivery.Courier(fallback=sender)  # type: ignore[arg-type]
    counts = delivery.deliver_pending(uow_factory, courier, now)
    return sent + counts.get("sent", 0)


def run_all(
    uow_factory: Callable[[], UnitOfWork],
    now: datetime,
    sender: Sender,
    publish: Publish | None,
    prefix: str,
    courier: delivery.Courier | None = None,
) -> dict[str, int]:
    return {
        "auto_evaluated": auto_evaluate(uow_factory, now),
        "info_expired": expire_info_requests(uow_factory, now),
        "contacts_erased": erase_contacts(uow_factory, now),
        "notifications_sent": deliver_notifications(
            uow_factory, sender, publish, prefix, now, courier=courier
        ),
    }
