"""Reach (notification delivery, kept by petitions): events and RPC contracts.

Events: ``notification.dead_lettered`` (a message could not be delivered: the reason),
``notification.resent`` (an administrator sent a dead letter again). RPCs: queue a message,
delivery status and dead letters, resend, a person's preferences, Web Push subscriptions,
the e-mail opt-out link.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from yiwang.contracts.base import Payload
from yiwang.contracts.envelope import event_contract
from yiwang.contracts.petitions import CaseActor
from yiwang.contracts.rpc import rpc_contract

DeliveryChannel = Literal["email", "sms", "push"]
#: what the administrators' delivery list shows: people's channels and the hotline systems'
ListedChannel = Literal["email", "sms", "push", "hotline"]
DeliveryStatus = Literal["pending", "sending", "sent", "dead", "suppressed"]
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


@event_contract("notification.dead_lettered", 1)
class NotificationDeadLetteredV1(Payload):
    notification_id: int
    channel: str
    case_id: uuid.UUID | None = None
    account_id: str | None = None
    reason: str = Field(max_length=600)
    attempts: int
    at: datetime


@event_contract("notification.resent", 1)
class NotificationResentV1(Payload):
    notification_id: int
    channel: str
    actor_id: str
    at: datetime


class QueuedMessage(Payload):
    id: int
    status: str


@rpc_contract("petitions", "queue_message", QueuedMessage)
class QueueMessageRequest(Payload):
    """A message not about a case's status (e.g. a sign-in code); idempotent by key."""

    idempotency_key: str = Field(min_length=8, max_length=120)
    channel: DeliveryChannel
    address: str | None = Field(default=None, max_length=120)
    account_id: str | None = Field(default=None, max_length=64)
    text: str = Field(min_length=1, max_length=500)
    subject: str | None = Field(default=None, max_length=120)
    urgent: bool = False
    sensitive: bool = False  # e.g. a code: its text is never listed and erased once final
    case_id: uuid.UUID | None = None


class DeliveryView(Payload):
    id: int
    channel: str
    case_id: str | None
    account_id: str | None
    address: str | None  # masked
    status: str
    attempts: int
    resends: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    urgent: bool
    text: str


class DeliveryList(Payload):
    items: list[DeliveryView]
    next_before_id: int | None = None


@rpc_contract("petitions", "list_deliveries", DeliveryList)
class ListDeliveriesRequest(Payload):
    status: DeliveryStatus | None = None
    channel: ListedChannel | None = None
    case_id: uuid.UUID | None = None
    before_id: int | None = None
    limit: int = Field(default=50, ge=1, le=500)


@rpc_contract("petitions", "resend_notification", DeliveryView)
class ResendRequest(Payload):
    notification_id: int
    actor: CaseActor


class PreferencesView(Payload):
    account_id: str
    channels: list[str]
    email: str | None
    phone: str | None
    quiet_start: str | None
    quiet_end: str | None
    staff_alerts: bool = False


@rpc_contract("petitions", "get_contact_preferences", PreferencesView)
class GetPreferencesRequest(Payload):
    account_id: str = Field(min_length=1, max_length=64)


@rpc_contract("petitions", "put_contact_preferences", PreferencesView)
class PutPreferencesRequest(Payload):
    account_id: str = Field(min_length=1, max_length=64)
    channels: list[DeliveryChannel] = Field(default_factory=list, max_length=3)
    email: str | None = Field(default=None, max_length=120, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, pattern=r"^1[3-9][0-9]{9}$")
    quiet_start: str | None = Field(default=None, pattern=HHMM)
    quiet_end: str | None = Field(default=None, pattern=HHMM)
    # staff: told when a case is dispatched to their department or escalated to their unit
    # (department and unit are the caller's own, set by the gateway from the sign-in)
    staff_alerts: bool = False
    department: str | None = Field(default=None, max_length=64)
    jurisdiction_code: str | None = Field(default=None, max_length=18)


class PushSubscriptionView(Payload):
    id: int
    endpoint: str


@rpc_contract("petitions", "register_push_subscription", PushSubscriptionView)
class RegisterPushRequest(Payload):
    account_id: str = Field(min_length=1, max_length=64)
    endpoint: str = Field(min_length=12, max_length=1000, pattern=r"^https?://")
    p256dh: str = Field(min_length=40, max_length=200, pattern=r"^[A-Za-z0-9_-]+=*$")
    auth: str = Field(min_length=16, max_length=60, pattern=r"^[A-Za-z0-9_-]+=*$")


class Removed(Payload):
    removed: int


@rpc_contract("petitions", "unregister_push_subscription", Removed)
class UnregisterPushRequest(Payload):
    account_id: str = Field(min_length=1, max_length=64)
    endpoint: str = Field(min_length=12, max_length=1000)


class OptOutView(Payload):
    channel: str
    address: str | None
    opted_out: bool


@rpc_contract("petitions", "opt_out", OptOutView)
class OptOutRequest(Payload):
    channel: Literal["email"] = "email"
    token: str = Field(min_length=10, max_length=400)
