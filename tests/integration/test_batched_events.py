"""The batched event entrypoint against the real broker and database: events applied in
one transaction per batch, each exactly once, and a poison event re-run alone and
dead-lettered without taking its batch's other events with it."""

from __future__ import annotations

import json
import time
import uuid

import pika
import sqlalchemy as sa

from tests.integration.conftest import drain_queue, envelope_json, wait_for_queue
from tests.integration.probe import ProbeBatchedV1
from yiwang.topology import dlq_name

QUEUE = "evt-probesrc-probe.batched--probe.on_batched"


def _publish_all(amqp_uri: str, bodies: list[bytes]) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    try:
        ch = conn.channel()
        ch.confirm_delivery()
        for b in bodies:
            ch.basic_publish(
                "probesrc.events",
                "probe.batched",
                b,
                pika.BasicProperties(content_type="application/json", delivery_mode=2),
                mandatory=True,
            )
    finally:
        conn.close()


def _rows(database_url: str) -> dict[uuid.UUID, tuple[int, int]]:
    eng = sa.create_engine(database_url)
    try:
        with eng.connect() as c:
            return {
                r[0]: (r[1], r[2])
                for r in c.execute(sa.text("SELECT event_id, n, batch_size FROM probe.batched"))
            }
    finally:
        eng.dispose()


def _wait(cond, seconds: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return False


def _send(
    amqp_uri: str, payloads: list[ProbeBatchedV1], twice: int | None = None
) -> list[uuid.UUID]:
    bodies = [envelope_json(p) for p in payloads]
    _publish_all(amqp_uri, bodies + ([bodies[twice]] if twice is not None else []))
    return [uuid.UUID(json.loads(b)["id"]) for b in bodies]


def _burst(first: int, count: int, poison: int | None = None) -> list[ProbeBatchedV1]:
    # the first two events hold both batch slots (concurrency 2) for 0.4 s, so the next
    # ones arrive while no slot is free and are taken together
    return [
        ProbeBatchedV1(n=first + i, sleep_s=0.4 if i < 2 else 0.0, poison=(i == poison))
        for i in range(count)
    ]


def test_events_arriving_together_are_applied_in_batches_each_once(
    resources, probe_service
) -> None:  # type: ignore[no-untyped-def]
    wait_for_queue(resources.amqp_uri, QUEUE, 60)
    ids = _send(resources.amqp_uri, _burst(0, 40), twice=5)
    assert _wait(lambda: set(ids) <= set(_rows(resources.database_url))), "not every event applied"
    rows = _rows(resources.database_url)
    assert sorted(rows[i][0] for i in ids) == list(range(40))  # once each (primary key)
    assert max(rows[i][1] for i in ids) >= 10, "events were not batched"


def test_a_poison_event_is_rerun_alone_and_dead_lettered_without_its_batch(
    resources, probe_service
) -> None:  # type: ignore[no-untyped-def]
    wait_for_queue(resources.amqp_uri, QUEUE, 60)
    ids = _send(resources.amqp_uri, _burst(100, 20, poison=7))
    good = {i for k, i in enumerate(ids) if k != 7}
    assert _wait(lambda: good <= set(_rows(resources.database_url))), "a good event was lost"
    rows = _rows(resources.database_url)
    assert ids[7] not in rows, "the poison event's effects were committed"
    assert rows[ids[8]][1] == 1, "the failed batch's events were not re-run one by one"

    dead: list[tuple[dict, bytes]] = []

    def dead_lettered() -> bool:
        dead.extend(drain_queue(resources.amqp_uri, dlq_name(QUEUE)))
        return any(json.loads(b)["id"] == str(ids[7]) for _, b in dead)

    assert _wait(dead_lettered, 20)
    headers = next(h for h, b in dead if json.loads(b)["id"] == str(ids[7]))
    assert headers["x-yiwang-reason"] == "handler_failed"
    assert "poison event 107" in headers["x-yiwang-error"]
    assert [json.loads(b)["id"] for _, b in dead] == [str(ids[7])], "a good event was dead-lettered"
