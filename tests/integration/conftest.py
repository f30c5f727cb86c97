from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator

import pika
import pytest

from infra.processes import ProcSpec
from infra.supervisor import Supervisor
from tests.integration.probe import create_schema
from tests.support.resources import TestResources, free_port
from yiwang.dbroles import apply_roles

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def probe_service(resources: TestResources, var_dir: str) -> Iterator[Supervisor]:
    """The probe nameko service running in its own process, as the runner runs services."""
    create_schema(resources.database_url)
    apply_roles(resources.database_url, ["probe"])  # it connects as its own role, as services do
    spec = ProcSpec(
        "probe", ("python", "-m", "yiwang.nameko.run", "tests.integration.probe:ProbeService")
    )
    import sys

    spec = ProcSpec("probe", (sys.executable, *spec.argv[1:]))
    env = resources.env(
        PYTHONPATH=ROOT,
        YIWANG_EVENT_RETRY_DELAYS_MS="[100, 200]",
        YIWANG_EVENT_MAX_ATTEMPTS="3",
        YIWANG_SERVICE_MAX_WORKERS="10",
        YIWANG_METRICS_PORT=str(free_port()),  # tests/integration/test_metrics.py scrapes it
    )
    sup = Supervisor([spec], env=env, log_dir=os.path.join(var_dir, "log-probe"), cwd=ROOT)
    sup.start()
    try:
        wait_for_queue(resources.amqp_uri, "evt-probesrc-probe.happened--probe.on_probe", 60)
        yield sup
    finally:
        sup.stop()


def wait_for_queue(amqp_uri: str, queue: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        conn = pika.BlockingConnection(pika.URLParameters(amqp_uri))
        try:
            ch = conn.channel()
            ok = ch.queue_declare(queue, passive=True)
            if ok.method.consumer_count > 0:
                return
        except pika.exceptions.ChannelClosedByBroker:
            pass
        finally:
            if conn.is_open:
                conn.close()
        time.sleep(0.3)
    raise TimeoutError(f"queue {queue} has no consumer after {seconds} s")


def publish_raw(
    amqp_uri: str,
    exchange: str,
    routing_key: str,
    body: bytes,
    content_type: str = "application/json",
) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    try:
        ch = conn.channel()
        ch.confirm_delivery()
        ch.exchange_declare(exchange, exchange_type="topic", durable=True)
        ch.basic_publish(
            exchange,
            routing_key,
            body,
            pika.BasicProperties(content_type=content_type, delivery_mode=2),
            mandatory=True,
        )
    finally:
        conn.close()


def drain_queue(amqp_uri: str, queue: str) -> list[tuple[dict, bytes]]:
    """Take every message from ``queue``: [(headers, body)]."""
    out: list[tuple[dict, bytes]] = []
    conn = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    try:
        ch = conn.channel()
        while True:
            method, props, body = ch.basic_get(queue, auto_ack=True)
            if method is None:
                return out
            out.append((dict(props.headers or {}), body))
    finally:
        conn.close()


def envelope_json(payload: object, producer: str = "probesrc") -> bytes:
    from yiwang.contracts import new_envelope

    env = new_envelope(payload, producer=producer)  # type: ignore[arg-type]
    return env.model_dump_json().encode()


def json_loads(b: bytes) -> dict:
    return json.loads(b)
