"""Reach: how a message gets to a person — channels, preferences, quiet hours, retries.

Pure rules used by the delivery core (``service_layer/delivery.py``):

- a person's :class:`Preferences` (channels in order, addresses, quiet hours in the
  business time zone) decide which channels an account holder's message takes
  (:func:`apply_preferences`), and when a non-urgent message may go out
  (:func:`quiet_until`);
- :func:`backoff` spaces the attempts after a transient failure;
- a channel adapter reports failures as :class:`TransientFailure` (try again later) or
  :class:`PermanentFailure` (dead-letter at once, with the reason);
- :func:`opt_out_token` signs the e-mail opt-out link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from yiwang.errors import ValidationFailed

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")
#: channels a message can be delivered through (``sse`` travels with the case feed)
DELIVERY_CHANNELS = ("email", "sms", "push")
PREFERABLE = frozenset(DELIVERY_CHANNELS)


class DeliveryFailure(Exception):
    """A channel could not deliver a message; ``reason`` is kept with the message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:500]


class TransientFailure(DeliveryFailure):
    """Try again later (provider 5xx, throttled, connection refused, SMTP 4xx)."""


class ChannelDown(TransientFailure):
    """The channel itself is unreachable (connection refused, timeout, login refused): the
    run's other messages for it wait too instead of each waiting for the same timeout."""


class PermanentFailure(DeliveryFailure):
    """Never going to work as it is (recipient refused, invalid number): dead-letter."""


@dataclass(frozen=True, slots=True)
class Preferences:
    """One person's choices. ``channels`` in order of preference; an empty tuple means
    "no status messages" (the live page still updates). Quiet hours are local times in
    the business time zone; ``quiet_start > quiet_end`` spans midnight."""

    channels: tuple[str, ...] = ()
    email: str | None = None
    phone: str | None = None
    quiet_start: time | None = None
    quiet_end: time | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.channels) - PREFERABLE)
        if unknown:
            raise ValidationFailed(
                "unknown_channel",
                f"unknown channels {unknown}; allowed: {sorted(PREFERABLE)}",
                f"未知的渠道{unknown}；可选：{sorted(PREFERABLE)}",
            )
        if len(set(self.channels)) != len(self.channels):
            raise ValidationFailed("duplicate_channel", "a channel is listed twice", "渠道重复")
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValidationFailed(
                "quiet_hours_incomplete",
                "quiet hours need both a start and an end",
                "免打扰时段需要开始和结束时间",
            )
        if "email" in self.channels and not self.email:
            raise ValidationFailed(
                "email_required", "e-mail chosen without an address", "选择了邮件但没有邮箱地址"
            )
        if "sms" in self.channels and not self.phone:
            raise ValidationFailed(
                "phone_required", "SMS chosen without a phone number", "选择了短信但没有手机号"
            )


def quiet_until(prefs: Preferences | None, now: datetime, *, urgent: bool) -> datetime | None:
    """When a message may go out if ``now`` falls in the person's quiet hours (else None).
    Urgent messages ignore quiet hours."""
    if urgent or prefs is None or prefs.quiet_start is None or prefs.quiet_end is None:
        return None
    start, end = prefs.quiet_start, prefs.quiet_end
    if start == end:
        return None
    local = now.astimezone(BUSINESS_TZ)
    t = local.timetz().replace(tzinfo=None)
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return None
    end_day = local.date()
    if start > end and t >= start:  # before midnight: the quiet hours end tomorrow
        end_day += timedelta(days=1)
    return datetime.combine(end_day, end, BUSINESS_TZ)


def backoff(attempts: int, *, base_s: float = 5.0, cap_s: float = 3600.0) -> timedelta:
    """Wait before attempt ``attempts + 1``: base, 2×base, 4×base … capped."""
    return timedelta(seconds=min(cap_s, base_s * (2 ** max(0, attempts - 1))))


@dataclass(frozen=True, slots=True)
class Planned:
    """A message planned for one person on one channel (what ``notifications`` holds)."""

    channel: str
    account_id: str | None
    address: str | None
    text: str
    extra: Mapping[str, object] = field(default_factory=dict)


def apply_preferences(
    planned: Iterable[Planned], prefs: Mapping[str, Preferences]
) -> list[Planned]:
    """Rewrite an account holder's SMS/e-mail messages to the channels they prefer.

    Messages of people without stored preferences (anonymous reporters, hotline callers,
    accounts that never chose) keep the channel of their report. The live feed (``sse``)
    is never removed. One text per person and channel: the first planned text wins.
    """
    out: list[Planned] = []
    seen: set[tuple[str | None, str]] = set()
    texts: dict[str, Planned] = {}
    for p in planned:
        pref = prefs.get(p.account_id) if p.account_id else None
        if pref is None or p.channel not in (*DELIVERY_CHANNELS, "sse"):
            out.append(p)
            continue
        if p.channel == "sse":
            out.append(p)
        texts.setdefault(p.account_id or "", p)
    for account_id, p in texts.items():
        pref = prefs[account_id]
        for ch in pref.channels:
            if (account_id, ch) in seen:
                continue
            seen.add((account_id, ch))
            addr = {"email": pref.email, "sms": pref.phone, "push": account_id}[ch]
            out.append(Planned(ch, account_id, addr, p.text, p.extra))
    return out


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def opt_out_key(qr_key: bytes) -> bytes:
    """The opt-out link key derived from a keyring ``qr`` key (signed links handed to
    people), separated from the QR codes' own use of it."""
    return hmac.new(qr_key, b"yiwang.reach.opt-out.v1", hashlib.sha256).digest()


def opt_out_token(key: bytes, kid: str, channel: str, address: str) -> str:
    """``<address b64>.<kid>.<signature>``: anyone holding the link may opt that address out;
    the key id lets links in old e-mails verify after a key rotation."""
    addr = address.strip().lower()
    sig = hmac.new(key, f"opt-out|{channel}|{addr}".encode(), hashlib.sha256).digest()[:18]
    return f"{_b64(addr.encode())}.{kid}.{_b64(sig)}"


def read_opt_out_token(keys: Mapping[str, bytes], channel: str, token: str) -> str:
    """The address a valid token names; ValidationFailed otherwise."""
    bad = ValidationFailed("invalid_opt_out_link", "this opt-out link is not valid", "退订链接无效")
    try:
        addr_part, rest = token.split(".", 1)
        kid, _sig = rest.rsplit(".", 1)
        address = _unb64(addr_part).decode()
    except (ValueError, UnicodeDecodeError):
        raise bad from None
    key = keys.get(kid)
    if key is None or not hmac.compare_digest(opt_out_token(key, kid, channel, address), token):
        raise bad
    return address


# --- staff: a case entering their queue ------------------------------------------------
@dataclass(frozen=True, slots=True)
class StaffQueue:
    """Whose queue a case step puts the case in: ``kind`` is ``department`` (dispatched or
    reassigned to it) or ``unit`` (escalated to that jurisdiction code)."""

    kind: str
    key: str
    urgent: bool


def staff_queue_of(action: str, data: Mapping[str, object]) -> StaffQueue | None:
    if action in ("dispatch", "reassign") and data.get("department"):
        return StaffQueue("department", str(data["department"]), urgent=False)
    if action == "escalate" and data.get("to"):
        return StaffQueue("unit", str(data["to"]), urgent=True)  # overdue: ignores quiet hours
    return None


STAFF_TEXT = {
    "department": "新的待办：“{title}”已派给本部门，请在{due_at}前办理。",
    "unit": "升级督办：“{title}”已升级至本级处理，请尽快办理。",
}


def plan_staff_alerts(
    queue: StaffQueue, title: str, due_at: str, staff: Mapping[str, Preferences]
) -> list[Planned]:
    """One message per staff member and preferred channel (none chosen: none sent)."""
    text = STAFF_TEXT[queue.kind].format(title=title, due_at=due_at or "时限")
    out = []
    for account_id, pref in sorted(staff.items()):
        for ch in pref.channels:
            addr = {"email": pref.email, "sms": pref.phone, "push": account_id}[ch]
            out.append(Planned(ch, account_id, addr, text, {"staff": queue.kind}))
    return out
