"""Transactional outbox + relay + inbox against the real database and broker."""

from __future__ import annotations

import uuid
from urllib.parse import urlparse

import pika
import pytest
import sqlalchemy as sa

from tests.integration.probe import ProbeHappenedV1
from tests.support.tcpproxy import TcpProxy
from yiwang.db import make_engine, outbox_table, service_metadata
from yiwang.relay import OutboxRelay
from yiwang.uow import uow_factory

pytestmark = pytest.mark.integration
SCHEMA = "relaytest"


@pytest.fixture()
def env(resources):  # type: ignore[no-untyped-def]
    # a schema of its own: the probe service's relay (if running) must not take its rows
    engine = make_engine(resources.database_url, pool_size=2)
    with engine.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        service_metadata(SCHEMA).create_all(c)
        c.execute(sa.text(f"DELETE FROM {SCHEMA}.outbox"))
    conn = pika.BlockingConnection(pika.URLParameters(resources.amqp_uri))
    ch = conn.channel()
    ch.exchange_declare("relaytest.events", exchange_type="topic", durable=True)
    q = f"test-outbox-{uuid.uuid4().hex[:6]}"
    ch.queue_declare(q, auto_delete=True)
    ch.queue_bind(q, "relaytest.events", routing_key="probe.happened")
    yield engine, ch, q
    conn.close()
    engine.dispose()


def _received(ch, q: str) -> list[str]:  # type: ignore[no-untyped-def]
    ids = []
    while True:
        method, props, body = ch.basic_get(q, auto_ack=True)
        if method is None:
            return ids
        ids.append(props.message_id)


def _unpublished(engine) -> int:  # type: ignore[no-untyped-def]
    t = outbox_table(sa.MetaData(schema=SCHEMA))
    with engine.connect() as c:
        return int(
            c.execute(
                sa.select(sa.func.count()).select_from(t).where(t.c.published_at.is_(None))
            ).scalar_one()
        )


def test_rolled_back_unit_of_work_emits_nothing(env, resources) -> None:  # type: ignore[no-untyped-def]
    engine, ch, q = env
    uow = uow_factory(engine, producer=SCHEMA, schema=SCHEMA)()
    with uow:
        uow.emit(ProbeHappenedV1(n=1))  # no commit: rolled back
    assert _unpublished(engine) == 0


def test_committed_event_is_published_with_confirm_and_marked(env, resources) -> None:  # type: ignore[no-untyped-def]
    engine, ch, q = env
    uow = uow_factory(engine, producer=SCHEMA, schema=SCHEMA)()
    with uow:
        envelope = uow.emit(ProbeHappenedV1(n=2))
        uow.commit()
    relay = OutboxRelay(engine, SCHEMA, resources.amqp_uri)
    assert relay.drain() == 1
    relay.close()
    assert _received(ch, q) == [str(envelope.id)]
    assert _unpublished(engine) == 0


def test_relay_killed_between_publish_and_mark_republishes_and_inbox_applies_once(
    env, resources
) -> None:  # type: ignore[no-untyped-def]
    engine, ch, q = env
    factory = uow_factory(engine, producer=SCHEMA, schema=SCHEMA)
    with factory() as uow:
        envelope = uow.emit(ProbeHappenedV1(n=3))
        uow.commit()

    def crash(seqs: list[int]) -> None:
        raise SystemExit("killed after publish, before mark")

    dying = OutboxRelay(engine, SCHEMA, resources.amqp_uri, after_publish=crash)
    with pytest.raises(SystemExit):
        dying.run_once()
    dying.close()
    assert _unpublished(engine) == 1  # the mark never committed
    survivor = OutboxRelay(engine, SCHEMA, resources.amqp_uri)
    assert survivor.drain() == 1
    survivor.close()
    delivered = _received(ch, q)
    assert delivered == [str(envelope.id), str(envelope.id)]  # at least once...
    applied = []
    for _ in delivered:  # ...applied exactly once by an idempotent consumer
        with factory() as uow:
            applied.append(uow.claim_event("test.consumer", envelope.id, envelope.type))
            uow.commit()
    assert applied == [True, False]


def test_broker_down_request_still_commits_and_event_goes_out_when_it_returns(
    env, resources
) -> None:  # type: ignore[no-untyped-def]
    engine, ch, q = env
    target = urlparse(resources.amqp_uri)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5672)
    port = proxy.start()
    proxied = resources.amqp_uri.replace(f":{target.port}/", f":{port}/")
    relay = OutboxRelay(engine, SCHEMA, proxied)
    factory = uow_factory(engine, producer=SCHEMA, schema=SCHEMA)
    with factory() as uow:
        first = uow.emit(ProbeHappenedV1(n=4))
        uow.commit()
    assert relay.drain() == 1
    proxy.cut()  # the broker is unreachable now
    with factory() as uow:  # the request still commits: the event waits in the outbox
        second = uow.emit(ProbeHappenedV1(n=5))
        uow.commit()
    with pytest.raises(Exception):  # noqa: B017 - any connection error
        relay.run_once()
    relay.close()
    assert _unpublished(engine) == 1
    proxy.restore()
    assert relay.drain() == 1
    relay.close()
    proxy.cut()
    assert _received(ch, q) == [str(first.id), str(second.id)]


def test_two_relays_never_publish_the_same_row_concurrently(env, resources) -> None:  # type: ignore[no-untyped-def]
    engine, ch, q = env
    factory = uow_factory(engine, producer=SCHEMA, schema=SCHEMA)
    with factory() as uow:
        for i in range(50):
            uow.emit(ProbeHappenedV1(n=i))
        uow.commit()
    import threading

    relays = [OutboxRelay(engine, SCHEMA, resources.amqp_uri, batch_size=5) for _ in range(3)]
    threads = [threading.Thread(target=r.drain) for r in relays]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in relays:
        r.close()
    got = _received(ch, q)
    assert len(got) == 50 and len(set(got)) == 50
    assert sum(r.published_total for r in relays) == 50
