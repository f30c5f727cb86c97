"""Housekeeping run by the service's timer (clock injected): auto-evaluation after 7 days,
expired information requests, contact erasure after retention, and delivery of the status
notifications queued by the case transactions (pluggable sender; SSE through Redis)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa

from services.petitions.adapters import repository as repo
from services.petitions.adapters.tables import notifications
from services.petitions.domain.case import (
    CONTACT_RETENTION_DAYS,
    RATING_WINDOW,
    Case,
    auto_evaluate_if_due,
    erase_contact_if_due,
    expire_info_if_due,
)
from services.petitions.service_layer.common import persist
from yiwang.errors import DomainError
from yiwang.logging import get_logger
from yiwang.uow import UnitOfWork

log = get_logger(__name__)
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Message:
    channel: str  # sms | email | sse
    account_id: str | None
    address: str | None
    text: str
    case_id: str


class Sender(Protocol):
    def send(self, message: Message) -> None: ...


class LogSender:
    """The demo sender: writes each SMS / e-mail to the log (and keeps the last ones)."""

    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> None:
        log.info(
            "notification",
            channel=message.channel,
            case_id=message.case_id,
            to=message.address or message.account_id,
            text=message.text,
        )
        self.sent.append(message)
        del self.sent[:-1000]


Publish = Callable[[str, str], Any]  # (channel, message) -> Redis PUBLISH


def _sweep(
    uow_factory: Callable[[], UnitOfWork], column: str, before: datetime, now: datetime,
    step: Callable[[Case], bool],
) -> int:  # fmt: skip
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


def auto_evaluate(uow_factory: Callable[[], UnitOfWork], now: datetime,
                  window: timedelta = RATING_WINDOW) -> int:  # fmt: skip
    return _sweep(uow_factory, "closed_at", now - window, now,
                  lambda c: auto_evaluate_if_due(c, now, window))  # fmt: skip


def expire_info_requests(uow_factory: Callable[[], UnitOfWork], now: datetime) -> int:
    return _sweep(uow_factory, "info_deadline", now, now, lambda c: expire_info_if_due(c, now))


def erase_contacts(uow_factory: Callable[[], UnitOfWork], now: datetime,
                   retention_days: int = CONTACT_RETENTION_DAYS) -> int:  # fmt: skip
    return _sweep(uow_factory, "ended_at", now - timedelta(days=retention_days), now,
                  lambda c: erase_contact_if_due(c, now, retention_days))  # fmt: skip


def deliver_notifications(
    uow_factory: Callable[[], UnitOfWork], sender: Sender, publish: Publish | None,
    prefix: str, now: datetime, limit: int = 500,
) -> int:  # fmt: skip
    """Send pending notifications (oldest first); a failed one is retried next time, up to
    ``MAX_ATTEMPTS``. SSE feed entries are published to ``<prefix>case:<case_id>``."""
    n = notifications
    sent = 0
    delivered: list[int] = []
    with uow_factory() as uow:
        rows = uow.session.execute(
            sa.select(n).where(n.c.sent_at.is_(None)).order_by(n.c.id).limit(limit)
            .with_for_update(skip_locked=True)
        ).all()  # fmt: skip
        for r in rows:
            try:
                if r.channel == "case":
                    if publish is not None:
                        publish(
                            f"{prefix}case:{r.case_id}",
                            json.dumps(r.payload, ensure_ascii=False, default=str),
                        )
                elif r.channel in ("sms", "email"):
                    sender.send(Message(r.channel, r.account_id, r.address, r.text,
                                        str(r.case_id)))  # fmt: skip
                # "sse" messages for account holders travel with the case feed entry
                delivered.append(r.id)
                sent += 1
            except Exception as exc:  # noqa: BLE001 - a sender failure must not stop the rest
                give_up = r.attempts + 1 >= MAX_ATTEMPTS
                log.warning("notification_failed", id=r.id, error=str(exc), give_up=give_up)
                uow.session.execute(
                    n.update().where(n.c.id == r.id)
                    .values(attempts=r.attempts + 1, sent_at=now if give_up else None)
                )  # fmt: skip
        if delivered:  # one statement for every message that went out
            uow.session.execute(
                n.update().where(n.c.id.in_(delivered))
                .values(sent_at=now, attempts=n.c.attempts + 1)
            )  # fmt: skip
        uow.commit()
    return sent


def run_all(
    uow_factory: Callable[[], UnitOfWork], now: datetime, sender: Sender,
    publish: Publish | None, prefix: str,
) -> dict[str, int]:  # fmt: skip
    return {
        "auto_evaluated": auto_evaluate(uow_factory, now),
        "info_expired": expire_info_requests(uow_factory, now),
        "contacts_erased": erase_contacts(uow_factory, now),
        "notifications_sent": deliver_notifications(uow_factory, sender, publish, prefix, now),
    }
