"""The delivery core against real local servers: SMTP (STARTTLS + AUTH), an Alibaba Cloud
SMS endpoint that checks signatures, a Web Push service that decrypts; PostgreSQL for real."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from services.petitions.adapters.channels import (
    AliyunSmsChannel,
    AliyunSmsConfig,
    SmtpChannel,
    SmtpConfig,
    WebPushChannel,
    WebPushConfig,
)
from services.petitions.service_layer import delivery
from services.petitions.tests.integration.conftest import World
from services.petitions.tests.integration.reach_servers import (
    AliyunSmsServer,
    PushServer,
    SmtpServer,
    vapid_keys,
)
from tests.support.resources import TestResources
from yiwang.contracts import reach as rc
from yiwang.contracts.petitions import CaseActor

KEYS = {"qr-old": b"o" * 32, "qr-new": b"n" * 32}  # a rotation happened: both verify
ADMIN = CaseActor(id="admin-1", role="admin")


@pytest.fixture()
def rw(world: World) -> World:
    with world.engine.begin() as c:
        c.execute(
            sa.text(
                "TRUNCATE petitions.contact_preferences, petitions.push_subscriptions,"
                " petitions.opt_outs"
            )
        )
    return world


@pytest.fixture()
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture()
def sms() -> Iterator[AliyunSmsServer]:
    with AliyunSmsServer() as server:
        yield server


def smtp_channel(server: SmtpServer) -> SmtpChannel:
    return SmtpChannel(
        SmtpConfig(
            host="127.0.0.1",
            port=server.port,
            username=server.USER,
            password=server.PASSWORD,
            ssl_context=server.client_context(),
            timeout_s=5,
        )
    )


def sms_channel(server: AliyunSmsServer) -> AliyunSmsChannel:
    return AliyunSmsChannel(
        AliyunSmsConfig(
            access_key_id=server.KEY_ID,
            access_key_secret=server.SECRET,
            sign_name="一网",
            template_code="SMS_000001",
            endpoint=server.url,
            timeout_s=5,
        )
    )


def courier(**channels: Any) -> delivery.Courier:
    return delivery.Courier(
        channels=channels,
        cfg=delivery.DeliveryConfig(
            opt_out_keys=KEYS, opt_out_kid="qr-new", backoff_base_s=5, max_attempts=6, lease_s=60
        ),
    )


def queue(
    w: World, channel: str, address: str | None, text: str = "您的诉求有新进展", **kw: Any
) -> int:
    req = rc.QueueMessageRequest(
        idempotency_key=kw.pop("key", f"test-{uuid.uuid4()}"),
        channel=channel,
        address=address,
        text=text,
        **kw,
    )
    return int(delivery.queue_message(w.uow(), req, w.now)["id"])


def key(w: World, nid: int) -> str:
    return delivery.message_key(status(w, nid))


def status(w: World, nid: int) -> Any:
    with w.engine.connect() as c:
        return c.execute(
            sa.text("SELECT * FROM petitions.notifications WHERE id = :i"), {"i": nid}
        ).one()


def test_email_goes_over_starttls_with_auth_key_and_opt_out_link(
    rw: World, smtp: SmtpServer
) -> None:
    ids = [queue(rw, "email", f"p{i}@example.org", f"第{i}条") for i in range(3)]
    assert queue(rw, "email", "p0@example.org", key="same-key-1") == queue(
        rw, "email", "p0@example.org", key="same-key-1"
    )  # queueing is idempotent by key
    c = courier(email=smtp_channel(smtp))
    assert delivery.deliver_pending(rw.uow, c, rw.now) == {"sent": 4}
    assert smtp.insecure_or_anonymous == 0 and len(smtp.received) == 4
    first = next(m for m in smtp.received if m["To"] == "p0@example.org")
    assert first["Message-ID"] == f"<{key(rw, ids[0])}@yiwang.example>"
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = str(first["List-Unsubscribe"]).strip("<>")
    assert link in first.get_content() and "第0条" in first.get_content()
    assert all(status(rw, i).status == "sent" for i in ids)
    assert delivery.deliver_pending(rw.uow, c, rw.now) == {}  # nothing twice

    token = dict(p.split("=", 1) for p in link.split("?", 1)[1].split("&"))["token"]
    from urllib.parse import unquote

    delivery.opt_out(rw.uow(), rc.OptOutRequest(token=unquote(token)), KEYS, rw.now)
    muted = queue(rw, "email", "P0@example.org")  # case does not matter
    urgent = queue(rw, "email", "p0@example.org", urgent=True)
    assert delivery.deliver_pending(rw.uow, c, rw.now) == {"suppressed": 1, "sent": 1}
    assert status(rw, muted).status == "suppressed" and status(rw, urgent).status == "sent"
    with pytest.raises(Exception, match="invalid_opt_out_link|not valid"):
        delivery.opt_out(rw.uow(), rc.OptOutRequest(token=unquote(token)[:-2] + "AA"), KEYS, rw.now)


def test_refused_recipient_is_dead_lettered_with_reason_and_others_go(
    rw: World, smtp: SmtpServer
) -> None:
    smtp.refuse["nobody@example.org"] = "550 5.1.1 mailbox unavailable"
    ids = [
        queue(rw, "email", a)
        for a in ("a@example.org", "nobody@example.org", "b@example.org", "c@example.org")
    ]
    c = courier(email=smtp_channel(smtp))
    assert delivery.deliver_pending(rw.uow, c, rw.now) == {"sent": 3, "dead": 1}
    assert sorted(str(m["To"]) for m in smtp.received) == [
        "a@example.org",
        "b@example.org",
        "c@example.org",
    ]
    dead = delivery.list_deliveries(rw.uow(), rc.ListDeliveriesRequest(status="dead"))["items"]
    assert [d["id"] for d in dead] == [ids[1]]
    assert "550" in dead[0]["last_error"] and "mailbox unavailable" in dead[0]["last_error"]
    assert dead[0]["address"] == "n***@example.org"  # administrators see it masked
    events = [e for e in rw.outbox() if e["type"] == "notification.dead_lettered"]
    assert [e["payload"]["notification_id"] for e in events] == [ids[1]]

    del smtp.refuse["nobody@example.org"]  # the mailbox was fixed: an administrator resends
    view = delivery.resend(rw.uow(), rc.ResendRequest(notification_id=ids[1], actor=ADMIN), rw.now)
    assert view["status"] == "pending" and view["resends"] == 1
    assert delivery.deliver_pending(rw.uow, c, rw.now) == {"sent": 1}
    assert (
        smtp.keys()[key(rw, ids[1])] == 1
        and key(rw, ids[1]).endswith("-r1")
        and len(smtp.received) == 4
    )
    with pytest.raises(Exception, match="not_dead_letter|only dead"):
        delivery.resend(rw.uow(), rc.ResendRequest(notification_id=ids[1], actor=ADMIN), rw.now)


def test_sms_provider_answering_5xx_is_retried_with_backoff_until_it_answers(
    rw: World, sms: AliyunSmsServer
) -> None:
    sms.fail_first = 3
    nid = queue(rw, "sms", "13812345678", "您反映的问题已受理")
    c = courier(sms=sms_channel(sms))
    waits = []
    for _ in range(3):
        assert delivery.deliver_pending(rw.uow, c, rw.now) == {"retry": 1}
        row = status(rw, nid)
        assert row.status == "pending" and "503" in row.last_error
        waits.append(row.next_attempt_at - rw.now)
        assert delivery.deliver_pending(rw.uow, c, rw.now) == {}  # not before the backoff
        rw.clock.advance(seconds=waits[-1].total_seconds())
    assert waits == [timedelta(seconds=5), timedelta(seconds=10), timedelta(seconds=20)]
    assert delivery.deliver_pending(rw.uow, c, rw.now) == {"sent": 1}
    row = status(rw, nid)
    assert row.status == "sent" and row.attempts == 4 and row.provider_id == "1^0"
    assert sms.rejected_signatures == 0 and sms.requests == 4
    assert sms.keys() == {key(rw, nid): 1}
    got = sms.received[0]
    assert got["PhoneNumbers"] == "13812345678" and "已受理" in got["TemplateParam"]


def test_sms_gives_up_after_max_attempts_and_invalid_number_is_dead_at_once(
    rw: World, sms: AliyunSmsServer
) -> None:
    sms.bad_numbers.add("13900000000")
    bad = queue(rw, "sms", "13900000000")
    sms_c = sms_channel(sms)
    c = courier(sms=sms_c)
    assert delivery.deliver_pending(rw.uow, c, rw.now) == {"dead": 1}
    assert "isv.MOBILE_NUMBER_ILLEGAL" in status(rw, bad).last_error

    sms.fail_first = 100
    nid = queue(rw, "sms", "13812345678")
    for _ in range(6):
        delivery.deliver_pending(rw.uow, c, rw.now)
        rw.clock.advance(hours=2)
    row = status(rw, nid)
    assert row.status == "dead" and row.attempts == 6 and "gave up after 6" in row.last_error


def test_wrong_secret_is_refused_by_the_provider_and_dead_lettered(
    rw: World, sms: AliyunSmsServer
) -> None:
    c = courier(
        sms=AliyunSmsChannel(
            AliyunSmsConfig(
                access_key_id=sms.KEY_ID,
                access_key_secret="wrong",
                sign_name="一网",
                template_code="SMS_000001",
                endpoint=sms.url,
            )
        )
    )
    nid = queue(rw, "sms", "13812345678")
    assert delivery.deliver_pending(rw.uow, c, rw.now) == {"dead": 1}
    assert "SignatureDoesNotMatch" in status(rw, nid).last_error and sms.received == []


class Crash(BaseException):
    """Stands for the process dying: nothing in the delivery core catches it."""


def test_sender_crashing_mid_batch_delivers_every_message_exactly_once(
    rw: World, smtp: SmtpServer, sms: AliyunSmsServer
) -> None:
    ids = [queue(rw, "email", f"m{i}@example.org") for i in range(6)]
    ids += [queue(rw, "sms", f"1381234{i:04d}") for i in range(6)]
    real = smtp_channel(smtp)
    calls = {"n": 0}

    class Dying:
        def send(self, m: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == 4:
                raise Crash()
            return real.send(m)

        def close(self) -> None:
            real.close()

    with pytest.raises(Crash):
        delivery.deliver_pending(rw.uow, courier(email=Dying(), sms=sms_channel(sms)), rw.now)
    assert len(smtp.received) == 3 and sms.received == []
    c = courier(email=smtp_channel(smtp), sms=sms_channel(sms))
    assert delivery.deliver_pending(rw.uow, c, rw.now) == {}  # leased to the dead sender
    rw.clock.advance(seconds=61)  # the lease expires
    assert delivery.deliver_pending(rw.uow, c, rw.now) == {"sent": 9}
    assert smtp.keys() == {key(rw, i): 1 for i in ids[:6]}
    assert sms.keys() == {key(rw, i): 1 for i in ids[6:]}
    assert {status(rw, i).status for i in ids} == {"sent"}


def test_killed_sender_process_delivers_every_message_exactly_once(
    rw: World, smtp: SmtpServer, resources: TestResources
) -> None:
    ids = [queue(rw, "email", f"k{i}@example.org") for i in range(20)]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "services.petitions.tests.integration.reach_worker",
            resources.database_url,
            str(smtp.port),
            smtp.cert,
            rw.now.isoformat(),
        ],
        stdout=subprocess.PIPE,
        env={**os.environ, "YIWANG_LOG_LEVEL": "WARNING"},
    )
    try:

        def kill_at_eight(count: int) -> bool:
            if count == 8:  # SIGKILL while the 9th message is being received
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(10)
                return False
            return True

        smtp.on_data = kill_at_eight
        assert proc.wait(60) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    smtp.on_data = None
    assert len(smtp.received) == 8
    rows = [status(rw, i) for i in ids]
    assert sum(r.status == "sent" for r in rows) == 8
    assert all(r.status in ("sent", "sending") for r in rows)
    rw.clock.advance(seconds=61)
    assert delivery.deliver_pending(rw.uow, courier(email=smtp_channel(smtp)), rw.now) == {
        "sent": 12
    }
    assert smtp.keys() == {key(rw, i): 1 for i in ids}


def test_web_push_encrypted_per_rfc8291_with_vapid_and_gone_subscriptions_removed(
    rw: World,
) -> None:
    priv, pub = vapid_keys()
    with PushServer(pub) as push:
        phone, laptop, old = (
            push.subscribe("phone"),
            push.subscribe("laptop"),
            push.subscribe("old"),
        )
        push.gone.add("old")
        for sub in (phone, laptop, old):
            delivery.register_push(
                rw.uow(), rc.RegisterPushRequest(account_id="citizen-9", **sub), rw.now
            )
        delivery.register_push(
            rw.uow(), rc.RegisterPushRequest(account_id="citizen-9", **phone), rw.now
        )  # the same browser again: one subscription
        nid = queue(
            rw, "push", "citizen-9", "您反映的“路灯不亮”已办结", account_id="citizen-9", urgent=True
        )
        c = courier(
            push=WebPushChannel(
                WebPushConfig(vapid_private_key=priv, subject="mailto:ops@city.example")
            )
        )
        assert delivery.deliver_pending(rw.uow, c, rw.now) == {"sent": 1}
        assert push.rejected == 0
        assert sorted(p["subscription"] for p in push.received) == ["laptop", "phone"]
        assert {p["body"] for p in push.received} == {"您反映的“路灯不亮”已办结"}
        assert all(h["urgency"] == "high" and len(h["topic"]) == 32 for h in push.headers)
        assert rw.count("push_subscriptions") == 2  # the gone one was removed
        assert status(rw, nid).status == "sent"

        # one subscription failing transiently: the retry reaches only the one that missed it
        push.gone.clear()
        nid2 = queue(rw, "push", "citizen-9", "第二条", account_id="citizen-9")
        real_handle = push.handle
        fail = {"laptop": 1}

        def flaky(req: Any, body: bytes) -> Any:
            name = req.path.rsplit("/", 1)[-1]
            if fail.get(name):
                fail[name] -= 1
                return 502, {}, b""
            return real_handle(req, body)

        push.handle = flaky  # type: ignore[method-assign]
        assert delivery.deliver_pending(rw.uow, c, rw.now) == {"retry": 1}
        rw.clock.advance(seconds=5)
        assert delivery.deliver_pending(rw.uow, c, rw.now) == {"sent": 1}
        assert push.keys() == {f"{key(rw, n)}-s{i}": 1 for i in _sub_ids(rw) for n in (nid, nid2)}


def _sub_ids(w: World) -> list[int]:
    with w.engine.connect() as c:
        return [r[0] for r in c.execute(sa.text("SELECT id FROM petitions.push_subscriptions"))]


def test_quiet_hours_defer_non_urgent_messages_and_rate_limit_per_channel(
    rw: World, sms: AliyunSmsServer
) -> None:
    delivery.put_preferences(
        rw.uow(),
        rc.PutPreferencesRequest(
            account_id="night-owl",
            channels=["sms"],
            phone="13812345678",
            quiet_start="22:00",
            quiet_end="07:00",
        ),
        rw.now,
    )
    rw.clock.advance(hours=14)  # 23:00 in Shanghai
    calm = queue(rw, "sms", "13812345678", account_id="night-owl")
    urgent = queue(rw, "sms", "13812345678", account_id="night-owl", urgent=True)
    c = courier(sms=sms_channel(sms))
    assert delivery.deliver_pending(rw.uow, c, rw.now) == {"deferred": 1, "sent": 1}
    row = status(rw, calm)
    assert row.status == "pending" and row.attempts == 0
    assert row.next_attempt_at == rw.now + timedelta(hours=8)  # 07:00 local
    assert status(rw, urgent).status == "sent"
    rw.clock.advance(hours=8)
    assert delivery.deliver_pending(rw.uow, c, rw.now) == {"sent": 1}

    limiter = delivery.WindowRateLimit({"sms": 3})
    limiter.clock = lambda: 1_000_000.5
    c.limiter = limiter
    ids = [queue(rw, "sms", f"1391234{i:04d}") for i in range(5)]
    assert delivery.deliver_pending(rw.uow, c, rw.now) == {"sent": 3, "deferred": 2}
    assert [status(rw, i).status for i in ids] == ["sent"] * 3 + ["pending"] * 2
    limiter.clock = lambda: 1_000_001.5
    rw.clock.advance(seconds=2)
    assert delivery.deliver_pending(rw.uow, c, rw.now) == {"sent": 2}


def test_case_notifications_follow_the_persons_preferences(rw: World) -> None:
    delivery.put_preferences(
        rw.uow(),
        rc.PutPreferencesRequest(
            account_id="citizen-1", channels=["email", "push"], email="wang@example.org"
        ),
        rw.now,
    )
    case_id = rw.submit()  # reported with a phone, on the SSE channel
    with rw.engine.connect() as c:
        rows = c.execute(
            sa.text(
                "SELECT channel, address FROM petitions.notifications WHERE "
                "case_id = :c ORDER BY id"
            ),
            {"c": case_id},
        ).all()
    assert [tuple(r) for r in rows] == [
        ("case", None),
        ("sse", None),
        ("email", "wang@example.org"),
        ("push", "citizen-1"),
    ]
    assert delivery.get_preferences(rw.uow(), "citizen-1")["channels"] == ["email", "push"]


def test_lease_lost_to_another_run_does_not_overwrite_the_newer_attempt(
    rw: World, smtp: SmtpServer
) -> None:
    nid = queue(rw, "email", "slow@example.org")
    c = courier(email=smtp_channel(smtp))
    claimed = delivery._claim(rw.uow, c, rw.now)
    rw.clock.advance(seconds=61)
    assert delivery.deliver_pending(rw.uow, c, rw.now) == {"sent": 1}  # took it over
    late = delivery.Outcome("dead", reason="late answer")
    assert delivery._record(rw.uow, claimed[0], late, rw.now) is False
    assert status(rw, nid).status == "sent"


def test_service_timer_delivers_a_case_status_by_the_persons_preferred_channel(
    rw: World, smtp: SmtpServer
) -> None:
    from types import SimpleNamespace

    from nameko.testing.services import worker_factory

    from services.petitions.service import PetitionsService

    delivery.put_preferences(
        rw.uow(),
        rc.PutPreferencesRequest(
            account_id="citizen-1", channels=["email"], email="wang@example.org"
        ),
        rw.now,
    )
    published: list[tuple[str, str]] = []
    svc = worker_factory(
        PetitionsService,
        uow=rw.uow,
        reach=courier(email=smtp_channel(smtp)),
        redis=SimpleNamespace(publish=lambda ch, m: published.append((ch, m)), prefix="t:"),
    )
    svc.clock = rw.clock
    case_id = rw.submit()
    rw.act(case_id, "accept")
    assert svc.deliver_notifications() == 2 + 2 + 2  # per step: feed entry, sse, e-mail
    assert (
        sorted(str(m["Subject"]) for m in smtp.received) == ["一网通办：您反映的问题有新进展"] * 2
    )
    texts = [m.get_content() for m in smtp.received]
    assert any("已收到" in t for t in texts) and any("已受理" in t for t in texts)
    assert [ch for ch, _ in published] == [f"t:case:{case_id}"] * 2
    assert svc.deliver_notifications() == 0


def test_a_sensitive_message_is_never_listed_and_erased_once_sent(
    rw: World, sms: AliyunSmsServer
) -> None:
    nid = queue(rw, "sms", "13812345678", "验证码 735091", urgent=True, sensitive=True)
    items = delivery.list_deliveries(rw.uow(), rc.ListDeliveriesRequest())["items"]
    assert [i["text"] for i in items] == ["[redacted]"]
    assert delivery.deliver_pending(rw.uow, courier(sms=sms_channel(sms)), rw.now) == {"sent": 1}
    assert "735091" in sms.received[0]["TemplateParam"]
    assert status(rw, nid).text == "[redacted]"


def test_staff_are_told_when_a_case_enters_their_queue(rw: World, sms: AliyunSmsServer) -> None:
    from datetime import timedelta as td

    from services.petitions.service_layer import cases
    from services.petitions.tests.integration.conftest import GRID
    from yiwang.contracts import new_envelope
    from yiwang.contracts.command import CaseEscalatedV1, CaseRoutedV1

    def staff(account: str, phone: str, **where: Any) -> None:
        delivery.put_preferences(
            rw.uow(),
            rc.PutPreferencesRequest(
                account_id=account,
                channels=["sms"],
                phone=phone,
                staff_alerts=True,
                quiet_start="00:00",
                quiet_end="23:59",
                **where,
            ),
            rw.now,
        )

    staff("handler-1", "13700000001", department="urban_management")
    staff("handler-2", "13700000002", department="water")
    staff("street-1", "13700000003", jurisdiction_code=GRID[:9])
    with pytest.raises(Exception, match="not_staff|only staff"):
        staff("citizen-5", "13700000004")
    case_id = rw.submit()
    rw.act(case_id, "accept")
    routed = CaseRoutedV1(
        case_id=uuid.UUID(case_id),
        department="urban_management",
        rule_id="r1",
        at=rw.now + td(minutes=1),
    )
    assert cases.apply_case_routed(
        rw.uow(), new_envelope(routed, producer="command"), routed, rw.now
    )
    esc = CaseEscalatedV1(
        case_id=uuid.UUID(case_id),
        escalation_no=1,
        from_level="community",
        to_level="street",
        jurisdiction_code=GRID[:9],
        reason="overdue",
        deadline=rw.now + td(days=1),
        at=rw.now + td(minutes=2),
    )
    assert cases.apply_case_escalated(rw.uow(), new_envelope(esc, producer="command"), esc, rw.now)
    # every staff member is in quiet hours: only the (urgent) escalation goes out now
    c = courier(sms=sms_channel(sms))
    assert delivery.deliver_pending(rw.uow, c, rw.now) == {"sent": 1, "deferred": 1}
    got = {p["PhoneNumbers"]: p["TemplateParam"] for p in sms.received}
    assert set(got) == {"13700000003"} and "升级督办" in got["13700000003"]
    with rw.engine.connect() as conn:
        held = conn.execute(
            sa.text(
                "SELECT account_id, text FROM petitions.notifications "
                "WHERE status = 'pending' AND channel = 'sms'"
            )
        ).all()
    assert [r.account_id for r in held] == ["handler-1"] and "派给本部门" in held[0].text


def test_rate_limit_is_shared_through_redis_and_the_rest_is_held_in_one_update(
    rw: World, sms: AliyunSmsServer, resources: TestResources
) -> None:
    import redis

    client = redis.Redis.from_url(resources.redis_url)
    prefix = f"{resources.redis_prefix}{uuid.uuid4().hex[:6]}:"
    try:
        # two processes' limiters, one budget: 4 messages per second of wall-clock time
        first, second = (delivery.WindowRateLimit({"sms": 4}, client, prefix) for _ in range(2))
        for lim in (first, second):
            lim.clock = lambda: 2_000_000.25
        ids = [queue(rw, "sms", f"1371234{i:04d}") for i in range(10)]
        c = courier(sms=sms_channel(sms))
        c.cfg.batch = 3
        c.limiter = first
        assert delivery.deliver_pending(rw.uow, c, rw.now) == {"sent": 3}
        c.limiter = second
        c.cfg.batch = 10
        assert delivery.deliver_pending(rw.uow, c, rw.now) == {"sent": 1, "deferred": 6}
        rows = [status(rw, i) for i in ids]
        assert [r.status for r in rows].count("pending") == 6
        assert {r.attempts for r in rows if r.status == "pending"} == {0}
        assert {r.next_attempt_at for r in rows if r.status == "pending"} == {
            rw.now + timedelta(seconds=0.75)
        }
        for lim in (first, second):
            lim.clock = lambda: 2_000_001.25
        rw.clock.advance(seconds=2)
        assert delivery.deliver_pending(rw.uow, c, rw.now) == {"sent": 4, "deferred": 2}
        assert len(sms.received) == 8
    finally:
        for k in client.scan_iter(f"{prefix}*"):
            client.delete(k)
        client.close()


def test_an_unreachable_smtp_server_holds_the_channel_not_each_message(rw: World) -> None:
    server = SmtpServer()  # its port is chosen, nothing listens on it yet
    ids = [queue(rw, "email", f"d{i}@example.org") for i in range(5)]
    other = queue(rw, "sms", "13812345678")
    c = courier(email=smtp_channel(server))  # sms through the log sender
    assert delivery.deliver_pending(rw.uow, c, rw.now) == {"retry": 1, "deferred": 4, "sent": 1}
    rows = [status(rw, i) for i in ids]
    assert [r.attempts for r in rows] == [1, 0, 0, 0, 0]  # one connection refused, not five
    assert "smtp connect" in rows[0].last_error and status(rw, other).status == "sent"
    assert {r.next_attempt_at for r in rows} == {rw.now + timedelta(seconds=5)}
    with server:  # the server is up again
        assert delivery.deliver_pending(rw.uow, c, rw.now) == {}  # not before the backoff
        rw.clock.advance(seconds=5)
        assert delivery.deliver_pending(rw.uow, c, rw.now) == {"sent": 5}
        assert server.keys() == {key(rw, i): 1 for i in ids}


def test_tencent_sms_tc3_signed_retried_on_5xx_and_invalid_number_dead(rw: World) -> None:
    from services.petitions.adapters.channels import TencentSmsChannel, TencentSmsConfig
    from services.petitions.tests.integration.reach_servers import TencentSmsServer

    with TencentSmsServer() as tx:
        tx.fail_first = 2
        tx.bad_numbers.add("+8613900000000")
        ch = TencentSmsChannel(
            TencentSmsConfig(
                secret_id=tx.SECRET_ID,
                secret_key=tx.SECRET_KEY,
                sdk_app_id="1400000001",
                sign_name="一网",
                template_id="100001",
                endpoint=tx.url,
                timeout_s=5,
            )
        )
        good = queue(rw, "sms", "13812345678", "您反映的问题已受理")
        bad = queue(rw, "sms", "13900000000")
        c = courier(sms=ch)
        assert delivery.deliver_pending(rw.uow, c, rw.now) == {"retry": 2}
        rw.clock.advance(seconds=5)
        assert delivery.deliver_pending(rw.uow, c, rw.now) == {"sent": 1, "dead": 1}
        assert tx.rejected_signatures == 0 and tx.keys() == {key(rw, good): 1}
        assert tx.received[0]["PhoneNumberSet"] == ["+8613812345678"]
        assert tx.received[0]["TemplateParamSet"] == ["您反映的问题已受理"]
        assert status(rw, good).provider_id == "2640:1"
        assert "IncorrectPhoneNumber" in status(rw, bad).last_error
        wrong = TencentSmsChannel(
            TencentSmsConfig(
                secret_id=tx.SECRET_ID,
                secret_key="wrong",
                sdk_app_id="1400000001",
                sign_name="一网",
                template_id="100001",
                endpoint=tx.url,
            )
        )
        nid = queue(rw, "sms", "13812345679")
        assert delivery.deliver_pending(rw.uow, courier(sms=wrong), rw.now) == {"dead": 1}
        assert "AuthFailure.SignatureFailure" in status(rw, nid).last_error
