"""The shared messaging plumbing against the real broker and database."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
import sqlalchemy as sa

from tests.integration.conftest import drain_queue, envelope_json, publish_raw
from tests.integration.probe import ProbeHappenedV1, applied, attempts
from yiwang.contracts import new_envelope
from yiwang.errors import Unavailable
from yiwang.rpc_client import NamekoRpcClient
from yiwang.topology import dlq_name

pytestmark = pytest.mark.integration
QUEUE = "evt-probesrc-probe.happened--probe.on_probe"


def _applied_count(db_url: str, event_id: uuid.UUID) -> int:
    eng = sa.create_engine(db_url)
    with eng.connect() as c:
        n = c.execute(
            sa.select(sa.func.count()).select_from(applied).where(applied.c.event_id == event_id)
        ).scalar_one()
    eng.dispose()
    return int(n)


def _attempts(db_url: str, event_id: uuid.UUID) -> int:
    eng = sa.create_engine(db_url)
    with eng.connect() as c:
        n = c.execute(sa.select(attempts.c.count).where(attempts.c.event_id == event_id)).scalar()
    eng.dispose()
    return int(n or 0)


def _wait(pred, seconds: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False


def test_concurrent_rpc_workers_overlap_on_db_io(resources, probe_service) -> None:  # type: ignore[no-untyped-def]
    """Ten calls each running pg_sleep(0.5) overlap: psycopg2 is green under eventlet."""

    async def run() -> float:
        client = NamekoRpcClient(resources.amqp_uri, timeout_s=10)
        await client.connect()
        try:
            await client.call("probe", "sleep", seconds=0.01)  # warm up
            t0 = time.perf_counter()
            await asyncio.gather(*[client.call("probe", "sleep", seconds=0.5) for _ in range(10)])
            return time.perf_counter() - t0
        finally:
            await client.close()

    elapsed = asyncio.run(run())
    print(f"10 concurrent RPC calls each running pg_sleep(0.5): {elapsed:.2f} s")
    assert elapsed < 2.0, f"10 x pg_sleep(0.5) took {elapsed:.2f} s: workers are serialised"


def test_rpc_to_a_missing_service_fails_fast_with_503(resources) -> None:  # type: ignore[no-untyped-def]
    async def run() -> float:
        client = NamekoRpcClient(resources.amqp_uri, timeout_s=2)
        await client.connect()
        t0 = time.perf_counter()
        try:
            with pytest.raises(Unavailable) as err:  # nobody serves this name in any vhost
                await client.call_raw("nobody_serves_this", "health", {})
            assert err.value.status == 503
            return time.perf_counter() - t0
        finally:
            await client.close()

    assert asyncio.run(run()) < 3.0


def test_event_applied_once_when_delivered_twice(resources, probe_service) -> None:  # type: ignore[no-untyped-def]
    body = envelope_json(ProbeHappenedV1(n=1))
    event_id = uuid.UUID(json.loads(body)["id"])
    publish_raw(resources.amqp_uri, "probesrc.events", "probe.happened", body)
    publish_raw(resources.amqp_uri, "probesrc.events", "probe.happened", body)
    assert _wait(lambda: _attempts(resources.database_url, event_id) >= 2)
    assert _applied_count(resources.database_url, event_id) == 1


def test_failing_handler_is_retried_then_succeeds(resources, probe_service) -> None:  # type: ignore[no-untyped-def]
    body = envelope_json(ProbeHappenedV1(n=2, fail_times=2))
    event_id = uuid.UUID(json.loads(body)["id"])
    publish_raw(resources.amqp_uri, "probesrc.events", "probe.happened", body)
    assert _wait(lambda: _applied_count(resources.database_url, event_id) == 1)
    assert _attempts(resources.database_url, event_id) == 3


def test_handler_failing_every_time_is_dead_lettered_with_reason(resources, probe_service) -> None:  # type: ignore[no-untyped-def]
    body = envelope_json(ProbeHappenedV1(n=3, fail_times=99))
    event_id = uuid.UUID(json.loads(body)["id"])
    publish_raw(resources.amqp_uri, "probesrc.events", "probe.happened", body)
    found: list[tuple[dict, bytes]] = []

    def dead() -> bool:
        found.extend(m for m in drain_queue(resources.amqp_uri, dlq_name(QUEUE)))
        return any(json.loads(b).get("id") == str(event_id) for _, b in found if b.startswith(b"{"))

    assert _wait(dead, 20)
    headers = next(
        h for h, b in found if b.startswith(b"{") and json.loads(b)["id"] == str(event_id)
    )
    assert headers["x-yiwang-reason"] == "handler_failed"
    assert "probe failure" in headers["x-yiwang-error"]
    assert _attempts(resources.database_url, event_id) == 3  # max attempts, no more
    assert _applied_count(resources.database_url, event_id) == 0


def test_poison_messages_are_dead_lettered_and_do_not_block_the_queue(
    resources, probe_service
) -> None:  # type: ignore[no-untyped-def]
    good = envelope_json(ProbeHappenedV1(n=4))
    good_id = uuid.UUID(json.loads(good)["id"])
    wrong_version = json.loads(envelope_json(ProbeHappenedV1(n=5)))
    wrong_version["version"] = 9
    bad_payload = json.loads(envelope_json(ProbeHappenedV1(n=6)))
    bad_payload["payload"] = {"n": "not a number"}
    poisons = {
        b"this is not json": "undecodable",  # kombu cannot decode it as JSON
        json.dumps(wrong_version).encode(): "unsupported_version",
        json.dumps(bad_payload).encode(): "invalid_payload",
        b'{"x": "' + b"a" * 300_000 + b'"}': "message_too_large",
    }
    for body in poisons:
        publish_raw(resources.amqp_uri, "probesrc.events", "probe.happened", body)
    publish_raw(
        resources.amqp_uri,
        "probesrc.events",
        "probe.happened",
        b"\x00\x01",
        content_type="application/x-unknown",
    )
    publish_raw(resources.amqp_uri, "probesrc.events", "probe.happened", good)
    assert _wait(lambda: _applied_count(resources.database_url, good_id) == 1)
    reasons: list[str] = []
    assert _wait(
        lambda: (
            (
                reasons.extend(
                    h.get("x-yiwang-reason", "")
                    for h, _ in drain_queue(resources.amqp_uri, dlq_name(QUEUE))
                )
                or True
            )
            and {*poisons.values(), "undecodable"} <= set(reasons)
        ),
        15,
    ), reasons


def test_envelope_contract_refuses_unregistered_payload() -> None:
    from pydantic import BaseModel

    from yiwang.contracts import ContractViolation

    class Stray(BaseModel):
        a: int

    with pytest.raises(ContractViolation):
        new_envelope(Stray(a=1), producer="x")
