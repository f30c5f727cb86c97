"""Reach delivery benchmark: messages per second per channel through the delivery core,
beside the bare client's rate against the same local server in the same run.

    .venv/bin/python bench/reach_bench.py [--messages 300] [--rounds 2]

Creates a throwaway database (petitions schema), starts the tests' local servers (SMTP with
STARTTLS + AUTH, an Alibaba Cloud SendSms endpoint verifying signatures, a Web Push service
verifying VAPID and decrypting), then per channel:
- bare: the plain client sends N messages back to back (smtplib on one session; httpx
  posting signed SendSms requests; pywebpush.webpush with one requests session);
- ours: N messages queued as ``notifications`` rows, delivered by ``deliver_pending`` runs
  (claim with lease, send, one committed outcome per message) until none is left.
Rate limits are off (they would measure themselves). Prints one line per channel.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import sqlalchemy as sa

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import write_result  # noqa: E402
from services.petitions.adapters.channels import (  # noqa: E402
    AliyunSmsChannel,
    AliyunSmsConfig,
    LogChannel,
    Outgoing,
    SmtpChannel,
    SmtpConfig,
    WebPushChannel,
    WebPushConfig,
)
from services.petitions.adapters.tables import notifications  # noqa: E402
from services.petitions.service_layer import delivery  # noqa: E402
from services.petitions.tests.integration.reach_servers import (  # noqa: E402
    AliyunSmsServer,
    PushServer,
    SmtpServer,
    vapid_keys,
)
from yiwang.contracts import reach as rc  # noqa: E402
from yiwang.db import drop_database, ensure_database, make_engine  # noqa: E402
from yiwang.migrate import upgrade  # noqa: E402
from yiwang.uow import uow_factory  # noqa: E402

PG = os.environ.get("YIWANG_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432")
NOW = datetime(2030, 1, 7, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def queue_rows(engine: Any, channel: str, n: int, address: Any, account: str | None = None) -> None:
    rows = [
        {
            "channel": channel,
            "account_id": account,
            "address": address(i),
            "text": f"您反映的问题已受理（{i}）",
            "payload": {},
            "created_at": NOW,
            "next_attempt_at": NOW,
            "idempotency_key": f"bench-{uuid.uuid4()}",
        }
        for i in range(n)
    ]
    with engine.begin() as c:
        c.execute(notifications.insert(), rows)


def ours(engine: Any, factory: Any, courier: delivery.Courier) -> float:
    t = time.perf_counter()
    while delivery.deliver_pending(factory, courier, NOW):
        pass
    took = time.perf_counter() - t
    with engine.connect() as c:
        left = c.execute(
            sa.text("SELECT count(*) FROM petitions.notifications WHERE status <> 'sent'")
        ).scalar_one()
    assert left == 0, f"{left} messages not sent"
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    n = args.messages
    url = f"{PG}/bench_reach_{os.getpid()}"
    ensure_database(url)
    results: dict[str, Any] = {}
    try:
        upgrade(url, ["petitions"])
        engine = make_engine(url, pool_size=4)
        factory = uow_factory(engine, producer="petitions", schema="petitions")
        cfg = delivery.DeliveryConfig(batch=200, lease_s=600)
        priv, pub = vapid_keys()
        with SmtpServer() as smtp, AliyunSmsServer() as sms, PushServer(pub) as push:
            smtp_cfg = SmtpConfig(
                host="127.0.0.1",
                port=smtp.port,
                username=smtp.USER,
                password=smtp.PASSWORD,
                ssl_context=smtp.client_context(),
            )
            sms_cfg = AliyunSmsConfig(
                access_key_id=sms.KEY_ID,
                access_key_secret=sms.SECRET,
                sign_name="一网",
                template_code="SMS_1",
                endpoint=sms.url,
            )
            sub = push.subscribe("bench")
            delivery.register_push(
                factory(), rc.RegisterPushRequest(account_id="bench-1", **sub), NOW
            )
            push_cfg = WebPushConfig(vapid_private_key=priv, subject="mailto:ops@bench.example")

            def bare_email() -> None:
                ch = SmtpChannel(smtp_cfg)
                s = ch._session()
                for i in range(n):
                    msg = ch.message(
                        Outgoing("email", None, f"b{i}@example.org", "文本", key=f"b{i}")
                    )
                    s.send_message(msg)
                s.quit()

            def bare_sms() -> None:
                ch = AliyunSmsChannel(sms_cfg)
                with httpx.Client() as client:
                    for i in range(n):
                        p = ch.params(
                            Outgoing("sms", None, f"1390000{i:04d}", "文本", key=f"b{i}"),
                            nonce=uuid.uuid4().hex,
                            now=datetime.now(UTC),
                        )
                        assert client.post(sms.url, data=p).json()["Code"] == "OK"

            def bare_push() -> None:
                import requests
                from pywebpush import webpush

                session = requests.Session()
                for _i in range(n):
                    webpush(
                        {
                            "endpoint": sub["endpoint"],
                            "keys": {"p256dh": sub["p256dh"], "auth": sub["auth"]},
                        },
                        '{"body": "文本"}',
                        vapid_private_key=priv,
                        vapid_claims={"sub": "mailto:ops@bench.example"},
                        requests_session=session,
                    )

            def bare_log() -> None:
                ch = LogChannel()
                for i in range(n):
                    ch.send(Outgoing("sms", None, "13900000000", "文本", key=f"b{i}"))

            channels = {
                "email": (
                    bare_email,
                    lambda: {"email": SmtpChannel(smtp_cfg)},
                    lambda i: f"o{i}@example.org",
                    None,
                ),
                "sms": (
                    bare_sms,
                    lambda: {"sms": AliyunSmsChannel(sms_cfg)},
                    lambda i: f"1380000{i:04d}",
                    None,
                ),
                "push": (
                    bare_push,
                    lambda: {"push": WebPushChannel(push_cfg)},
                    lambda i: "bench-1",
                    "bench-1",
                ),
                "log": (bare_log, lambda: {"sms": LogChannel()}, lambda i: "13900000000", None),
            }
            for name, (bare, build, address, account) in channels.items():
                runs = []
                for _ in range(args.rounds):
                    t = time.perf_counter()
                    bare()
                    bare_s = time.perf_counter() - t
                    with engine.begin() as c:
                        c.execute(sa.text("TRUNCATE petitions.notifications, petitions.outbox"))
                    queue_rows(engine, "sms" if name == "log" else name, n, address, account)
                    ours_s = ours(engine, factory, delivery.Courier(channels=build(), cfg=cfg))
                    runs.append(
                        {"bare_per_s": round(n / bare_s, 1), "ours_per_s": round(n / ours_s, 1)}
                    )
                ours_med = statistics.median(r["ours_per_s"] for r in runs)
                bare_med = statistics.median(r["bare_per_s"] for r in runs)
                ratios = sorted(r["ours_per_s"] / r["bare_per_s"] for r in runs)
                results[name] = {
                    "runs": runs,
                    "ours_median": ours_med,
                    "bare_median": bare_med,
                    "ratio_median": round(statistics.median(ratios), 2),
                }
                print(
                    f"reach {name}: {ours_med} msg/s through the delivery core (median of "
                    f"{len(runs)}), bare client {bare_med} msg/s; ratio per run median "
                    f"{statistics.median(ratios):.2f} ({ratios[0]:.2f}–{ratios[-1]:.2f})",
                    flush=True,
                )
            assert smtp.insecure_or_anonymous == 0 and sms.rejected_signatures == 0
            assert push.rejected == 0
        engine.dispose()
    finally:
        drop_database(url)
    print(write_result("reach", {"messages": n, "results": results}))


if __name__ == "__main__":
    main()
