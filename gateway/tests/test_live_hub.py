"""The SSE fan-out hub: jurisdiction/department filtering and bounded client queues."""

from __future__ import annotations

import asyncio

from gateway.live import CLIENT_QUEUE, LiveHub, Subscriber


def test_changes_reach_only_subscribers_whose_jurisdiction_they_fall_in() -> None:
    hub = LiveHub(redis=None, channel="x")  # type: ignore[arg-type]
    street = Subscriber(prefix="329901001")
    other = Subscriber(prefix="329902")
    dept = Subscriber(prefix="", department="water")
    hub.subscribers |= {street, other, dept}
    hub.publish_local({"case_id": "a", "jurisdiction_code": "329901001001001"})
    hub.publish_local({"case_id": "b", "jurisdiction_code": "329902003", "department": "water"})
    assert [street.queue.get_nowait()["case_id"]] == ["a"] and street.queue.empty()
    assert other.queue.get_nowait()["case_id"] == "b"
    assert dept.queue.get_nowait()["case_id"] == "b" and dept.queue.empty()


def test_a_slow_client_loses_its_oldest_updates_not_the_gateways_memory() -> None:
    sub = Subscriber(prefix="")
    for i in range(CLIENT_QUEUE + 10):
        sub.offer({"case_id": str(i), "jurisdiction_code": "3299"})
    assert sub.queue.qsize() == CLIENT_QUEUE
    assert sub.dropped == 10
    assert sub.queue.get_nowait()["case_id"] == "10"


def test_stream_emits_server_sent_events_and_a_dropped_notice() -> None:
    async def run() -> list[str]:
        hub = LiveHub(redis=None, channel="x")  # type: ignore[arg-type]
        hub._ensure_running = lambda: None  # type: ignore[method-assign]
        sub = Subscriber(prefix="3299")
        sub.dropped = 2
        sub.offer({"case_id": "c1", "jurisdiction_code": "3299010"})
        gen = hub.stream(sub, heartbeat_s=0.05)
        out = [await gen.__anext__() for _ in range(4)]
        await gen.aclose()
        assert sub not in hub.subscribers
        return out

    out = asyncio.run(run())
    assert out[0].startswith("retry:")
    assert out[1] == "event: dropped\ndata: 2\n\n"
    assert out[2].startswith("event: case\ndata: {") and '"c1"' in out[2]
    assert out[3] == ": keep-alive\n\n"
