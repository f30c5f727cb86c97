"""Service processes' /metrics: entrypoint latency, dead letters, outbox backlog and age,
connection pools — scraped from the probe service process as Prometheus would."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import envelope_json, publish_raw
from tests.integration.probe import ProbeHappenedV1
from yiwang.db import outbox_table
from yiwang.metrics import METRIC_NAMES, OUTBOX, exposition
from yiwang.rpc_client import NamekoRpcClient

pytestmark = pytest.mark.integration


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (s.name, s.labels, s.value)
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    ]


def value(text: str, name: str, **labels: str) -> float | None:
    """The sum over every series of ``name`` with these labels (others, e.g. the queue, vary:
    the session's other tests dead-letter on other queues of the same process)."""
    found = [
        v
        for n, lab, v in samples(text)
        if n == name and all(lab.get(k) == w for k, w in labels.items())
    ]
    return sum(found) if found else None


def scrape(sup) -> str:  # type: ignore[no-untyped-def]
    port = sup.env["YIWANG_METRICS_PORT"]
    deadline = time.monotonic() + 30
    while True:
        try:
            r = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
            r.raise_for_status()
            return r.text
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_service_process_exposes_rpc_latency_dead_letters_outbox_and_pool(
    resources, probe_service
) -> None:  # type: ignore[no-untyped-def]
    async def calls() -> None:
        client = NamekoRpcClient(resources.amqp_uri, timeout_s=10)
        await client.connect()
        try:
            for _ in range(3):
                await client.call("probe", "sleep", seconds=0.01)
        finally:
            await client.close()

    before = scrape(probe_service)
    dead_before = value(before, "yiwang_dead_letters_total", reason="handler_failed") or 0.0
    asyncio.run(calls())
    publish_raw(
        resources.amqp_uri,
        "probesrc.events",
        "probe.happened",
        envelope_json(ProbeHappenedV1(n=77, fail_times=99)),
    )
    deadline = time.monotonic() + 20
    while True:
        text = scrape(probe_service)
        dead = value(text, "yiwang_dead_letters_total", reason="handler_failed") or 0.0
        if dead > dead_before or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert dead >= dead_before + 1  # (other tests of the session may dead-letter too)
    rpc = value(
        text,
        "yiwang_entrypoint_duration_seconds_count",
        service="probe",
        entrypoint="sleep",
        kind="rpc",
        outcome="ok",
    )
    assert rpc is not None and rpc >= 3
    failed = value(
        text,
        "yiwang_entrypoint_duration_seconds_count",
        service="probe",
        entrypoint="on_probe",
        kind="event",
        outcome="error",
    )
    assert failed is not None and failed >= 3  # every attempt of the failing handler
    assert value(text, "yiwang_outbox_backlog", schema="probe") == 0.0
    assert value(text, "yiwang_db_pool_connections", pool="probe", state="size") == 10.0
    assert (value(text, "yiwang_event_retries_total") or 0) >= 2
    # the broker's own count of the dead-letter queue (a passive declare when scraped)
    depth = value(
        text,
        "yiwang_dead_letter_queue_messages",
        queue="evt-probesrc-probe.happened--probe.on_probe.dlq",
    )
    assert depth is not None and depth >= 1


def test_a_service_process_answers_its_probes(probe_service) -> None:  # type: ignore[no-untyped-def]
    scrape(probe_service)  # the port is up
    base = f"http://127.0.0.1:{probe_service.env['YIWANG_METRICS_PORT']}"
    assert httpx.get(f"{base}/live", timeout=5).json() == {"status": "ok"}
    r = httpx.get(f"{base}/ready", timeout=5)
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "checks": {"database:probe": "ok"}}
    assert httpx.get(f"{base}/nothing", timeout=5).status_code == 404


def test_outbox_backlog_and_oldest_age_are_read_from_the_database(resources) -> None:  # type: ignore[no-untyped-def]
    schema = f"m{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(resources.database_url)
    table = outbox_table(sa.MetaData(schema=schema))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        table.create(conn)
        for age_s, published in ((120, False), (30, False), (600, True)):
            conn.execute(
                table.insert().values(
                    event_id=uuid.uuid4(),
                    exchange="x",
                    routing_key="k",
                    body="{}",
                    created_at=sa.func.now() - sa.text(f"interval '{age_s} seconds'"),
                    published_at=sa.func.now() if published else None,
                )
            )
    OUTBOX.add(schema, engine)
    try:
        text = exposition()[0].decode()
    finally:
        OUTBOX.remove(schema, engine)
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
    assert value(text, "yiwang_outbox_backlog", schema=schema) == 2.0
    age = value(text, "yiwang_outbox_oldest_age_seconds", schema=schema)
    assert age is not None and 119 <= age < 180
    assert value(exposition()[0].decode(), "yiwang_outbox_backlog", schema=schema) is None


def test_every_declared_metric_name_is_exposed() -> None:
    families = {fam.name for fam in text_string_to_metric_families(exposition()[0].decode())}
    # collectors without a source yield empty families, which the text format still names
    assert families >= METRIC_NAMES, METRIC_NAMES - families


def test_a_service_is_not_ready_while_its_database_is_unreachable() -> None:
    from yiwang.metrics import POOLS, wsgi_app

    dead = sa.create_engine(
        "postgresql+psycopg2://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1}
    )
    statuses: list[str] = []
    POOLS.add("dead", dead)
    try:
        body = wsgi_app({"PATH_INFO": "/ready"}, lambda status, headers: statuses.append(status))
    finally:
        POOLS.remove("dead", dead)
        dead.dispose()
    assert statuses == ["503 Service Unavailable"]
    assert b'"database:dead": "down: OperationalError"' in body[0]


def test_dead_letter_depth_skips_an_unreachable_broker_and_undeclared_queues(resources) -> None:  # type: ignore[no-untyped-def]
    from yiwang.metrics import DLQ_DEPTH

    missing = f"never-declared-{uuid.uuid4().hex[:6]}.dlq"
    DLQ_DEPTH.add("amqp://guest:guest@127.0.0.1:1/", "unreachable.dlq")
    DLQ_DEPTH.add(resources.amqp_uri, missing)
    try:
        text = exposition()[0].decode()
    finally:
        DLQ_DEPTH.remove("unreachable.dlq")
        DLQ_DEPTH.remove(missing)
    assert value(text, "yiwang_dead_letter_queue_messages", queue="unreachable.dlq") is None
    assert value(text, "yiwang_dead_letter_queue_messages", queue=missing) is None
