"""The raw broker baseline: bare pika publish-with-confirm + consume of a report-sized
message, on the same broker, in the same run as the figure it is compared with."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pika

from bench.common import summary_ms

REPORT_BODY = json.dumps(
    {
        "id": str(uuid.uuid4()),
        "type": "report.submitted",
        "version": 1,
        "occurred_at": "2026-11-23T00:00:00+00:00",
        "producer": "gateway",
        "jurisdiction_code": "329901005009007",
        "trace": {"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"},
        "payload": {
            "report_id": str(uuid.uuid4()),
            "source": "citizen",
            "category": "appearance.litter",
            "description": "小区门口垃圾堆积" * 8,
            "lat": 32.0,
            "lon": 118.8,
            "grid_code": "329901005009007",
            "submitted_at": "2026-11-23T00:00:00+00:00",
        },
    },
    ensure_ascii=False,
).encode()


def broker_baseline(amqp_uri: str, n: int = 5000) -> dict[str, float]:
    """Publish n messages with confirms on one connection while another consumes them."""
    queue = f"bench-baseline-{uuid.uuid4().hex[:8]}"
    sent_at: dict[int, float] = {}
    latencies: list[float] = []
    done = threading.Event()
    ready = threading.Event()

    def consume() -> None:
        conn = pika.BlockingConnection(pika.URLParameters(amqp_uri))
        ch = conn.channel()
        ch.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
        ch.basic_qos(prefetch_count=100)
        ready.set()

        def on_message(ch, method, props, body):  # type: ignore[no-untyped-def]
            latencies.append(time.perf_counter() - sent_at[int(props.message_id)])
            ch.basic_ack(method.delivery_tag)
            if len(latencies) >= n:
                ch.stop_consuming()

        ch.basic_consume(queue, on_message)
        ch.start_consuming()
        ch.queue_delete(queue)
        conn.close()
        done.set()

    t = threading.Thread(target=consume, daemon=True)
    t.start()
    ready.wait(10)
    conn = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    ch = conn.channel()
    ch.confirm_delivery()
    t0 = time.perf_counter()
    for i in range(n):
        sent_at[i] = time.perf_counter()
        ch.basic_publish(
            "",
            queue,
            REPORT_BODY,
            pika.BasicProperties(
                delivery_mode=2, message_id=str(i), content_type="application/json"
            ),
        )
    done.wait(120)
    elapsed = time.perf_counter() - t0
    conn.close()
    return {"rate_per_s": round(n / elapsed, 1), "n": n, **summary_ms(latencies)}
