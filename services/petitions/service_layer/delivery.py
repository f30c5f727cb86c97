"""The delivery core: every queued message reaches its channel once, or is dead-lettered
with the reason.

Messages are rows of ``notifications`` written in the same transaction as the change they
tell about (``common.queue_notifications``, :func:`queue_message`). A delivery run:

1. **claims** due rows (``pending`` whose ``next_attempt_at`` has come, or ``sending``
   whose lease expired — a sender that died mid-batch) with ``FOR UPDATE SKIP LOCKED``,
   marks them ``sending`` with a lease and counts the attempt, and commits;
2. for each message decides (opted out → ``suppressed``; quiet hours of a non-urgent
   message → back to ``pending`` until they end; over the channel's rate → back to
   ``pending`` for the next window) or sends it through its channel;
3. **records each outcome in its own transaction** right after the provider answered:
   ``sent`` (provider id kept), a transient failure → ``pending`` again after
   :func:`backoff` (dead after ``max_attempts``), a permanent one → ``dead`` with the reason
   and a ``notification.dead_lettered`` event through the outbox. The update is guarded
   by the attempt number the run claimed, so a run whose lease was taken over cannot
   overwrite the newer attempt.

A crash anywhere leaves the unfinished messages ``sending``; the next run after the lease
takes them again with the same idempotency key (``Message-ID``, SMS ``OutId``, push
``Topic``). The one window in which a message can go out twice is between a provider's
acceptance and the commit of step 3 (a few milliseconds); receivers that honour the key
(e-mail ``Message-ID``, a push service's ``Topic``) collapse that duplicate.
"""

from __future__ import annotations

import time as _time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from types import SimpleNamespace
from typing import Any, Protocol
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.petitions.adapters.channels import (
    ChannelSender,
    LogChannel,
    Outgoing,
    SubscriptionGone,
)
from services.petitions.adapters.tables import (
    contact_preferences,
    notifications,
    opt_outs,
    push_subscriptions,
)
from services.petitions.domain.hotline import CHANNEL as HOTLINE_CHANNEL
from services.petitions.domain.reach import (
    DELIVERY_CHANNELS,
    ChannelDown,
    DeliveryFailure,
    PermanentFailure,
    Preferences,
    TransientFailure,
    backoff,
    opt_out_token,
    quiet_until,
    read_opt_out_token,
)
from yiwang.contracts import reach as rc
from yiwang.errors import NotFound, ValidationFailed
from yiwang.logging import get_logger
from yiwang.uow import UnitOfWork

log = get_logger(__name__)
N = notifications
EARLIER = notifications.alias("earlier")
#: channels the delivery core sends through: people's, and the hotline systems'
SENT_CHANNELS = (*DELIVERY_CHANNELS, HOTLINE_CHANNEL)
REDACTED = "[redacted]"
_ASYNC_COMMIT = sa.text("SET LOCAL synchronous_commit TO off")
UowFactory = Callable[[], UnitOfWork]


class RateLimiter(Protocol):
    def take(self, channel: str, now: datetime) -> datetime | None:
        """None if a message may go now, else when to try again."""


class NoRateLimit:
    def take(self, channel: str, now: datetime) -> datetime | None:
        return None


class WindowRateLimit:
    """At most ``per_s[channel]`` messages per second (of wall-clock time) per channel,
    counted in one place for every process: Redis (``INCR`` of a per-second key) when a
    client is given, else this process's memory."""

    def __init__(self, per_s: Mapping[str, int], redis: Any = None, prefix: str = "") -> None:
        self.per_s = dict(per_s)
        self.redis = redis
        self.prefix = prefix
        self.counts: Counter[tuple[str, int]] = Counter()
        self.clock: Callable[[], float] = _time.time

    def take(self, channel: str, now: datetime) -> datetime | None:
        limit = self.per_s.get(channel)
        if not limit:
            return None
        second = int(self.clock())
        if self.redis is not None:
            key = f"{self.prefix}reach:rate:{channel}:{second}"
            try:
                pipe = self.redis.pipeline()
                pipe.incr(key)
                pipe.expire(key, 5)
                used = int(pipe.execute()[0])
            except Exception as e:  # noqa: BLE001 - Redis down: fall back to this process
                log.warning("reach_rate_limit_redis", error=str(e))
                self.counts[(channel, second)] += 1
                used = self.counts[(channel, second)]
        else:
            if len(self.counts) > 64:
                self.counts = Counter({k: v for k, v in self.counts.items() if k[1] >= second})
            self.counts[(channel, second)] += 1
            used = self.counts[(channel, second)]
        if used <= limit:
            return None
        return now + timedelta(seconds=second + 1 - self.clock())  # the next window


@dataclass
class DeliveryConfig:
    max_attempts: int = 8
    backoff_base_s: float = 5.0
    backoff_max_s: float = 3600.0
    hotline_backoff_max_s: float = 600.0
    lease_s: float = 120.0
    batch: int = 200
    public_url: str = "http://127.0.0.1:8000"
    # opt-out link keys (kid -> key, derived from the keyring's ``qr`` keys) and the current
    opt_out_keys: Mapping[str, bytes] = field(default_factory=lambda: {"dev": b"dev" * 11})
    opt_out_kid: str = "dev"


@dataclass
class Courier:
    """The channels, the rate limiter and the rules of one process (composition root)."""

    channels: Mapping[str, ChannelSender] = field(default_factory=dict)
    fallback: ChannelSender = field(default_factory=LogChannel)
    limiter: RateLimiter = field(default_factory=NoRateLimit)
    cfg: DeliveryConfig = field(default_factory=DeliveryConfig)

    def channel(self, name: str) -> ChannelSender:
        return self.channels.get(name, self.fallback)


def message_key(row: Any) -> str:
    base = row.idempotency_key or f"yw-n{row.id}"
    return f"{base}-r{row.resends}" if row.resends else base


def opt_out_url(cfg: DeliveryConfig, channel: str, address: str) -> str:
    key = cfg.opt_out_keys[cfg.opt_out_kid]
    q = urlencode(
        {"channel": channel, "token": opt_out_token(key, cfg.opt_out_kid, channel, address)}
    )
    return f"{cfg.public_url.rstrip('/')}/api/v1/reach/opt-out?{q}"


@dataclass
class _Claimed:
    row: Any
    prefs: Preferences | None
    opted_out: bool
    subscriptions: list[Any]


def _due(t: Any, now: datetime) -> Any:
    """Rows of ``t`` a delivery run may take now."""
    return sa.or_(
        sa.and_(
            t.c.status == "pending",
            sa.or_(t.c.next_attempt_at.is_(None), t.c.next_attempt_at <= now),
        ),
        sa.and_(t.c.status == "sending", t.c.lease_until < now),
    )


def _claim(uow_factory: UowFactory, courier: Courier, now: datetime) -> list[_Claimed]:
    lease = now + timedelta(seconds=courier.cfg.lease_s)
    with uow_factory() as uow:
        s = uow.session
        rows = s.execute(
            sa.select(
                N.c.id,
                N.c.channel,
                N.c.account_id,
                N.c.address,
                N.c.text,
                N.c.case_id,
                N.c.urgent,
                N.c.attempts,
                N.c.resends,
                N.c.idempotency_key,
                N.c.payload,
            )
            .where(
                N.c.sent_at.is_(None),
                N.c.channel.in_(SENT_CHANNELS),
                _due(N, now),
                # a hotline system gets a case's changes in order: one waits while an
                # earlier one of the same case waits (for its retry, or in another run);
                # earlier ones that are due come first in this batch (see deliver_pending)
                sa.or_(
                    N.c.channel != HOTLINE_CHANNEL,
                    ~sa.exists().where(
                        EARLIER.c.case_id == N.c.case_id,
                        EARLIER.c.channel == HOTLINE_CHANNEL,
                        EARLIER.c.sent_at.is_(None),
                        EARLIER.c.id < N.c.id,
                        ~_due(EARLIER, now),
                    ),
                ),
            )
            .order_by(N.c.id)
            .limit(courier.cfg.batch)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return []
        ids = [r.id for r in rows]
        s.execute(
            N.update()
            .where(N.c.id.in_(ids))
            .values(status="sending", lease_until=lease, attempts=N.c.attempts + 1)
        )
        accounts = sorted({r.account_id for r in rows if r.account_id})
        prefs = load_preferences(s, accounts)
        addresses = {(r.channel, (r.address or "").lower()) for r in rows if r.address}
        opted = set()
        if addresses:
            opted = {
                (o.channel, o.address)
                for o in s.execute(
                    sa.select(opt_outs.c.channel, opt_outs.c.address).where(
                        sa.tuple_(opt_outs.c.channel, opt_outs.c.address).in_(sorted(addresses))
                    )
                )
            }
        pushers = sorted({r.account_id for r in rows if r.channel == "push" and r.account_id})
        subs: dict[str, list[Any]] = {}
        if pushers:
            for sub in s.execute(
                sa.select(push_subscriptions)
                .where(push_subscriptions.c.account_id.in_(pushers))
                .order_by(push_subscriptions.c.id)
            ):
                subs.setdefault(sub.account_id, []).append(sub)
        uow.commit()
    out = []
    for row in rows:
        # the row as claimed: ``attempts`` now includes this attempt (the outcome's guard)
        r: Any = SimpleNamespace(**{**row._asdict(), "attempts": row.attempts + 1})
        out.append(
            _Claimed(
                r,
                prefs.get(r.account_id) if r.account_id else None,
                (r.channel, (r.address or "").lower()) in opted,
                subs.get(r.account_id or "", []) if r.channel == "push" else [],
            )
        )
    return out


def load_preferences(s: Any, accounts: list[str]) -> dict[str, Preferences]:
    if not accounts:
        return {}
    cp = contact_preferences
    return {
        r.account_id: Preferences(tuple(r.channels), r.email, r.phone, r.quiet_start, r.quiet_end)
        for r in s.execute(sa.select(cp).where(cp.c.account_id.in_(accounts)))
    }


def load_staff(s: Any, kind: str, key: str) -> dict[str, Preferences]:
    """Staff who asked to be told when a case enters this department's or unit's queue."""
    cp = contact_preferences
    col = cp.c.department if kind == "department" else cp.c.jurisdiction_code
    return {
        r.account_id: Preferences(tuple(r.channels), r.email, r.phone, r.quiet_start, r.quiet_end)
        for r in s.execute(sa.select(cp).where(cp.c.staff_alerts, col == key))
    }


@dataclass
class Outcome:
    kind: str  # sent | retry | dead | deferred | suppressed
    reason: str | None = None
    provider_id: str | None = None
    at: datetime | None = None  # deferred/retry: next attempt
    push_done: list[int] | None = None
    gone: list[int] = field(default_factory=list)
    channel_down: bool = False


def _attempt(c: _Claimed, courier: Courier, now: datetime) -> Outcome:
    r = c.row
    if c.opted_out and not r.urgent:
        return Outcome("suppressed", reason="opted out")
    until = quiet_until(c.prefs, now, urgent=r.urgent)
    if until is not None:
        return Outcome("deferred", reason="quiet hours", at=until)
    again = courier.limiter.take(r.channel, now)
    if again is not None:
        return Outcome("deferred", reason="rate limit", at=again)
    key = message_key(r)
    base = Outgoing(
        channel=r.channel,
        account_id=r.account_id,
        address=r.address,
        text=r.text,
        case_id=str(r.case_id) if r.case_id else None,
        key=key,
        urgent=r.urgent,
        subject=(r.payload or {}).get("subject", ""),
        unsubscribe_url=opt_out_url(courier.cfg, "email", r.address)
        if r.channel == "email" and r.address
        else None,
    )
    sender = courier.channel(r.channel)
    try:
        if r.channel != "push":
            return Outcome("sent", provider_id=sender.send(base))
        return _push(c, sender, base, courier, now)
    except PermanentFailure as e:
        return Outcome("dead", reason=e.reason)
    except TransientFailure as e:
        o = _retry(r, courier, now, e.reason)
        o.channel_down = isinstance(e, ChannelDown)
        return o
    except Exception as e:  # noqa: BLE001 - an adapter's bug must not stop the batch
        log.exception("reach_sender_error", id=r.id, channel=r.channel)
        return _retry(r, courier, now, f"sender error: {e!r}"[:500])


def _push(
    c: _Claimed, sender: ChannelSender, base: Outgoing, courier: Courier, now: datetime
) -> Outcome:
    """One message to each of the account's subscriptions; the ones that got it are kept
    with the message so that a retry skips them."""
    done = list((c.row.payload or {}).get("push_done", []))
    gone: list[int] = []
    failure: DeliveryFailure | None = None
    for sub in c.subscriptions:
        if sub.id in done:
            continue
        msg = replace(
            base,
            address=sub.endpoint,
            push_keys={"p256dh": sub.p256dh, "auth": sub.auth},
            key=f"{base.key}-s{sub.id}",
        )
        try:
            sender.send(msg)
            done.append(sub.id)
        except SubscriptionGone:
            gone.append(sub.id)
        except TransientFailure as e:
            failure = e
        except PermanentFailure as e:
            failure = failure or e
    if failure is None:
        if not done:
            return Outcome("suppressed", reason="no push subscription", gone=gone)
        o = Outcome("sent")
    elif isinstance(failure, TransientFailure):
        o = _retry(c.row, courier, now, failure.reason)
    else:
        o = Outcome("dead", reason=failure.reason)
    o.push_done, o.gone = done, gone
    return o


def _retry(r: Any, courier: Courier, now: datetime, reason: str) -> Outcome:
    cfg = courier.cfg
    if r.channel == HOTLINE_CHANNEL:  # retried until the hotline system answers
        wait = backoff(r.attempts, base_s=cfg.backoff_base_s, cap_s=cfg.hotline_backoff_max_s)
        return Outcome("retry", reason=reason, at=now + wait)
    if r.attempts >= cfg.max_attempts:
        return Outcome("dead", reason=f"gave up after {r.attempts} attempts: {reason}")
    wait = backoff(r.attempts, base_s=cfg.backoff_base_s, cap_s=cfg.backoff_max_s)
    return Outcome("retry", reason=reason, at=now + wait)


def _record(uow_factory: UowFactory, c: _Claimed, o: Outcome, now: datetime) -> bool:
    r = c.row
    values: dict[str, Any] = {"lease_until": None}
    if o.kind == "sent":
        values.update(
            status="sent", sent_at=now, provider_id=(o.provider_id or None), last_error=None
        )
    elif o.kind in ("dead", "suppressed"):
        values.update(status=o.kind, sent_at=now, last_error=o.reason)
    else:  # retry | deferred
        values.update(status="pending", next_attempt_at=o.at, last_error=o.reason)
        if o.kind == "deferred":  # not an attempt: quiet hours or the channel's rate
            values["attempts"] = N.c.attempts - 1
    if o.kind in ("sent", "dead", "suppressed") and (r.payload or {}).get("sensitive"):
        values["text"] = REDACTED  # a sign-in code is of no use to anyone afterwards
    if o.push_done is not None:  # the row is ours while leased: no concurrent writer
        values["payload"] = {**(r.payload or {}), "push_done": o.push_done}
    with uow_factory() as uow:
        if o.kind != "dead":
            # Do not wait for the WAL flush (6 ms a message on this machine): if this
            # process dies the server still has the commit; only a crash of PostgreSQL
            # itself could forget the last fraction of a second of outcomes, and those
            # messages would be sent again (never lost). Dead letters wait (their event).
            uow.session.execute(_ASYNC_COMMIT)
        done = uow.session.execute(  # type: ignore[attr-defined]
            N.update()
            .where(N.c.id == r.id, N.c.status == "sending", N.c.attempts == r.attempts)
            .values(**values)
        ).rowcount
        if not done:  # the lease expired and another run took the message over
            log.warning("reach_lease_lost", id=r.id)
            return False
        if o.gone:
            uow.session.execute(
                push_subscriptions.delete().where(push_subscriptions.c.id.in_(o.gone))
            )
        if o.kind == "dead":
            uow.emit(
                rc.NotificationDeadLetteredV1(
                    notification_id=r.id,
                    channel=r.channel,
                    case_id=r.case_id,
                    account_id=r.account_id,
                    reason=o.reason or "",
                    attempts=r.attempts,
                    at=now,
                )
            )
        uow.commit()
    return True


def deliver_pending(uow_factory: UowFactory, courier: Courier, now: datetime) -> dict[str, int]:
    """One delivery run over due messages; returns counts per outcome."""
    claimed = _claim(uow_factory, courier, now)
    counts: Counter[str] = Counter()
    started = _time.monotonic()
    used: set[str] = set()
    blocked: dict[str, datetime] = {}  # channel -> over its rate until
    held: list[tuple[_Claimed, datetime]] = []
    stalled: dict[Any, datetime] = {}  # hotline case -> when its unanswered change is due
    try:
        for i, c in enumerate(claimed):
            if _time.monotonic() - started > courier.cfg.lease_s * 0.8:
                _release(uow_factory, claimed[i:])  # the rest would outlive the lease
                counts["released"] += len(claimed) - i
                break
            if c.row.channel in blocked:  # the channel's rate is used up: one update later
                held.append((c, blocked[c.row.channel]))
                continue
            if c.row.channel == HOTLINE_CHANNEL and c.row.case_id in stalled:
                held.append((c, stalled[c.row.case_id]))  # behind its case's earlier change
                continue
            used.add(c.row.channel)
            o = _attempt(c, courier, now)
            if o.kind == "deferred" and o.reason == "rate limit" and o.at is not None:
                blocked[c.row.channel] = o.at
            elif o.channel_down:  # the others wait a little, unattempted
                blocked[c.row.channel] = now + backoff(
                    1, base_s=courier.cfg.backoff_base_s, cap_s=courier.cfg.backoff_max_s
                )
            if c.row.channel == HOTLINE_CHANNEL and o.kind in ("retry", "deferred"):
                stalled[c.row.case_id] = o.at or now
            if _record(uow_factory, c, o, now):
                counts[o.kind] += 1
                if o.kind in ("dead", "retry"):
                    log.info(
                        "reach_not_delivered",
                        id=c.row.id,
                        channel=c.row.channel,
                        outcome=o.kind,
                        reason=o.reason,
                    )
        if held:
            _release(
                uow_factory,
                [c for c, _ in held],
                {c.row.id: at for c, at in held},
                reason="channel busy or down",
            )
            counts["deferred"] += len(held)
    finally:
        for name in used:
            try:
                courier.channel(name).close()
            except Exception:  # noqa: BLE001
                log.exception("reach_close_failed", channel=name)
    return dict(counts)


def _release(
    uow_factory: UowFactory,
    rest: list[_Claimed],
    until: Mapping[int, datetime] | None = None,
    reason: str = "",
) -> None:
    """Give claimed messages back unattempted (one transaction), due at ``until[id]``."""
    with uow_factory() as uow:
        for c in rest:
            values: dict[str, Any] = {
                "status": "pending",
                "lease_until": None,
                "attempts": N.c.attempts - 1,
            }
            if until and c.row.id in until:
                values.update(next_attempt_at=until[c.row.id], last_error=reason or None)
            uow.session.execute(
                N.update()
                .where(N.c.id == c.row.id, N.c.status == "sending", N.c.attempts == c.row.attempts)
                .values(**values)
            )
        uow.commit()


# --- queueing a message that is not about a case (e.g. a sign-in code) -------------------
def queue_message(uow: UnitOfWork, req: rc.QueueMessageRequest, now: datetime) -> dict[str, Any]:
    """Queue one message; the same ``idempotency_key`` again returns the first one."""
    with uow:
        row = uow.session.execute(
            pg_insert(N)
            .values(
                case_id=req.case_id,
                case_version=None,
                channel=req.channel,
                account_id=req.account_id,
                address=req.address,
                text=req.text,
                payload={
                    **({"subject": req.subject} if req.subject else {}),
                    **({"sensitive": True} if req.sensitive else {}),
                },
                created_at=now,
                urgent=req.urgent,
                idempotency_key=req.idempotency_key,
                next_attempt_at=now,
            )
            .on_conflict_do_nothing(constraint="uq_notifications_idempotency_key")
            .returning(N.c.id)
        ).first()
        if row is None:
            row = uow.session.execute(
                sa.select(N.c.id).where(N.c.idempotency_key == req.idempotency_key)
            ).one()
        uow.commit()
    return {"id": row.id, "status": "queued"}


# --- administration: delivery status, dead letters, resend -------------------------------
def _view(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "channel": r.channel,
        "case_id": str(r.case_id) if r.case_id else None,
        "account_id": r.account_id,
        "address": _mask(r.address),
        "status": r.status,
        "attempts": r.attempts,
        "resends": r.resends,
        "last_error": r.last_error,
        "created_at": r.created_at,
        "sent_at": r.sent_at,
        "next_attempt_at": r.next_attempt_at,
        "urgent": r.urgent,
        "text": REDACTED if (r.payload or {}).get("sensitive") else r.text,
    }


def _mask(address: str | None) -> str | None:
    if not address:
        return address
    if "@" in address:
        name, _, domain = address.partition("@")
        return f"{name[:1]}***@{domain}"
    if address.startswith("http"):
        return address[:40] + "…"
    return address[:3] + "****" + address[-4:] if len(address) >= 7 else "****"


def list_deliveries(uow: UnitOfWork, req: rc.ListDeliveriesRequest) -> dict[str, Any]:
    q = sa.select(N).where(N.c.channel.in_(SENT_CHANNELS))
    if req.status:
        q = q.where(N.c.status == req.status)
    if req.channel:
        q = q.where(N.c.channel == req.channel)
    if req.case_id:
        q = q.where(N.c.case_id == req.case_id)
    if req.before_id:
        q = q.where(N.c.id < req.before_id)
    with uow:
        rows = uow.session.execute(q.order_by(N.c.id.desc()).limit(req.limit)).all()
    items = [_view(r) for r in rows]
    return {"items": items, "next_before_id": items[-1]["id"] if len(items) == req.limit else None}


def resend(uow: UnitOfWork, req: rc.ResendRequest, now: datetime) -> dict[str, Any]:
    """A dead (or suppressed) message goes out again, with a fresh idempotency key."""
    with uow:
        row = uow.session.execute(
            sa.select(N).where(N.c.id == req.notification_id).with_for_update()
        ).first()
        if row is None or row.channel not in SENT_CHANNELS:
            raise NotFound("no_notification", "no such message", "消息不存在")
        if row.status not in ("dead", "suppressed"):
            raise ValidationFailed(
                "not_dead_letter",
                "only dead or suppressed messages can be sent again",
                "只能重发失败或被抑制的消息",
            )
        uow.session.execute(
            N.update()
            .where(N.c.id == row.id)
            .values(
                status="pending",
                sent_at=None,
                attempts=0,
                resends=N.c.resends + 1,
                next_attempt_at=now,
                lease_until=None,
                last_error=f"resent by {req.actor.id}: {row.last_error or ''}"[:500],
            )
        )
        uow.emit(
            rc.NotificationResentV1(
                notification_id=row.id, channel=row.channel, actor_id=req.actor.id, at=now
            )
        )
        uow.commit()
        row = uow.session.execute(sa.select(N).where(N.c.id == row.id)).one()
    return _view(row)


# --- preferences, push subscriptions, opt-out --------------------------------------------
def _prefs_view(account_id: str, p: Preferences | None, staff_alerts: bool) -> dict[str, Any]:
    p = p or Preferences()
    return {
        "account_id": account_id,
        "channels": list(p.channels),
        "email": p.email,
        "phone": p.phone,
        "quiet_start": p.quiet_start.strftime("%H:%M") if p.quiet_start else None,
        "quiet_end": p.quiet_end.strftime("%H:%M") if p.quiet_end else None,
        "staff_alerts": staff_alerts,
    }


def get_preferences(uow: UnitOfWork, account_id: str) -> dict[str, Any]:
    cp = contact_preferences
    with uow:
        alerts = uow.session.execute(
            sa.select(cp.c.staff_alerts).where(cp.c.account_id == account_id)
        ).scalar()
        prefs = load_preferences(uow.session, [account_id]).get(account_id)
    return _prefs_view(account_id, prefs, bool(alerts))


def put_preferences(
    uow: UnitOfWork, req: rc.PutPreferencesRequest, now: datetime
) -> dict[str, Any]:
    def hm(v: str | None) -> time | None:
        return time.fromisoformat(v) if v else None

    p = Preferences(
        tuple(req.channels), req.email, req.phone, hm(req.quiet_start), hm(req.quiet_end)
    )
    cp = contact_preferences
    if req.staff_alerts and not (req.department or req.jurisdiction_code):
        raise ValidationFailed(
            "not_staff",
            "only staff with a department or a unit get queue alerts",
            "只有部门或单位工作人员可以接收待办提醒",
        )
    values = {
        "channels": list(p.channels),
        "email": p.email,
        "phone": p.phone,
        "quiet_start": p.quiet_start,
        "quiet_end": p.quiet_end,
        "updated_at": now,
        "staff_alerts": req.staff_alerts,
        "department": req.department,
        "jurisdiction_code": req.jurisdiction_code,
    }
    with uow:
        uow.session.execute(
            pg_insert(cp)
            .values(account_id=req.account_id, **values)
            .on_conflict_do_update(index_elements=[cp.c.account_id], set_=values)
        )
        if p.email and "email" in p.channels:  # choosing e-mail again undoes an opt-out
            uow.session.execute(
                opt_outs.delete().where(
                    opt_outs.c.channel == "email", opt_outs.c.address == p.email.lower()
                )
            )
        uow.commit()
    return _prefs_view(req.account_id, p, req.staff_alerts)


def register_push(uow: UnitOfWork, req: rc.RegisterPushRequest, now: datetime) -> dict[str, Any]:
    ps = push_subscriptions
    values = {"account_id": req.account_id, "p256dh": req.p256dh, "auth": req.auth}
    with uow:
        row = uow.session.execute(
            pg_insert(ps)
            .values(endpoint=req.endpoint, created_at=now, **values)
            .on_conflict_do_update(index_elements=[ps.c.endpoint], set_=values)
            .returning(ps.c.id)
        ).one()
        uow.commit()
    return {"id": row.id, "endpoint": req.endpoint}


def unregister_push(uow: UnitOfWork, req: rc.UnregisterPushRequest) -> dict[str, Any]:
    ps = push_subscriptions
    with uow:
        n = uow.session.execute(
            ps.delete().where(  # type: ignore[attr-defined]
                ps.c.endpoint == req.endpoint, ps.c.account_id == req.account_id
            )
        ).rowcount
        uow.commit()
    return {"removed": n}


def opt_out(
    uow: UnitOfWork, req: rc.OptOutRequest, keys: Mapping[str, bytes], now: datetime
) -> dict[str, Any]:
    address = read_opt_out_token(keys, req.channel, req.token)
    with uow:
        uow.session.execute(
            pg_insert(opt_outs)
            .values(channel=req.channel, address=address, at=now)
            .on_conflict_do_nothing()
        )
        uow.commit()
    return {"channel": req.channel, "address": _mask(address), "opted_out": True}
