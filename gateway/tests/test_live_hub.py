"""The SSE fan-out hub: jurisdiction/department filtering (prefix index), one encoding per
message, bounded client buffers, and the change feed to the read cache."""

from __future__ import annotations

import asyncio
import json
import random

from gateway.live import CLIENT_QUEUE, LiveHub, Subscriber, frame


def _ids(sub: Subscriber) -> list[str]:
    out = []
    for chunk in sub.frames:
        assert chunk.startswith(b"event: case\ndata: ") and chunk.endswith(b"\n\n")
        out.append(json.loads(chunk[len(b"event: case\ndata: ") :])["case_id"])
    return out


def test_changes_reach_only_subscribers_whose_jurisdiction_they_fall_in() -> None:
    hub = LiveHub(redis=None, channel="x")  # type: ignore[arg-type]
    street = Subscriber(prefix="329901001")
    other = Subscriber(prefix="329902")
    dept = Subscriber(prefix="", department="water")
    everywhere = Subscriber(prefix="")
    for s in (street, other, dept, everywhere):
        hub.add(s)
    assert hub.publish_local({"case_id": "a", "jurisdiction_code": "329901001001001"}) == 2
    hub.publish_local({"case_id": "b", "jurisdiction_code": "329902003", "department": "water"})
    hub.publish_local({"case_id": "c", "jurisdiction_code": None})
    assert _ids(street) == ["a"]
    assert _ids(other) == ["b"]
    assert _ids(dept) == ["b"]
    assert _ids(everywhere) == ["a", "b", "c"]
    hub.remove(street)
    hub.remove(street)  # twice is harmless
    assert hub.subscribers == 3
    hub.publish_local({"case_id": "d", "jurisdiction_code": "329901001001001"})
    assert _ids(street) == ["a"]


def test_the_prefix_index_delivers_exactly_what_filtering_every_client_would() -> None:
    rng = random.Random(7)
    hub = LiveHub(redis=None, channel="x")  # type: ignore[arg-type]
    codes = [
        "",
        "3299",
        "329901",
        "329902",
        "329901001",
        "329901002",
        "329901001001",
        "329901001001001",
        "329902003004005",
        "3300",
    ]
    subs = [
        Subscriber(
            prefix=rng.choice(codes), department=rng.choice([None, None, "water", "transport"])
        )
        for _ in range(300)
    ]
    for s in subs:
        hub.add(s)
    changes = [
        {
            "case_id": str(i),
            "jurisdiction_code": rng.choice(codes[1:] + [None]),
            "department": rng.choice([None, "water", "transport"]),
        }
        for i in range(200)
    ]
    for c in changes:
        hub.publish_local(c)
    for s in subs:
        assert _ids(s) == [c["case_id"] for c in changes if s.wants(c)]


def test_a_change_is_encoded_once_for_all_clients() -> None:
    hub = LiveHub(redis=None, channel="x")  # type: ignore[arg-type]
    subs = [Subscriber(prefix="3299") for _ in range(5)]
    for s in subs:
        hub.add(s)
    hub.publish_local({"case_id": "a", "jurisdiction_code": "32990100", "title": "路灯不亮"})
    first = subs[0].frames[0]
    assert all(s.frames[0] is first for s in subs)
    assert first == frame({"case_id": "a", "jurisdiction_code": "32990100", "title": "路灯不亮"})
    assert "路灯不亮".encode() in first


def test_every_change_is_reported_to_the_read_cache_even_without_clients() -> None:
    seen: list[str | None] = []
    hub = LiveHub(redis=None, channel="x", on_change=seen.append)  # type: ignore[arg-type]
    hub.publish_local({"case_id": "a", "jurisdiction_code": "329901001001001"})
    hub.publish_local({"case_id": "b"})
    assert seen == ["329901001001001", None]


def test_a_slow_client_loses_its_oldest_updates_not_the_gateways_memory() -> None:
    sub = Subscriber(prefix="")
    for i in range(CLIENT_QUEUE + 10):
        sub.offer(frame({"case_id": str(i), "jurisdiction_code": "3299"}))
    assert len(sub.frames) == CLIENT_QUEUE
    assert sub.dropped == 10
    assert _ids(sub)[0] == "10"


def test_stream_emits_server_sent_events_and_a_dropped_notice() -> None:
    async def run() -> list[bytes]:
        hub = LiveHub(redis=None, channel="x")  # type: ignore[arg-type]
        hub.start = lambda: None  # type: ignore[method-assign]
        sub = Subscriber(prefix="3299")
        sub.dropped = 2
        sub.offer(frame({"case_id": "c1", "jurisdiction_code": "3299010"}))
        gen = hub.stream(sub, heartbeat_s=0.05)
        out = [await gen.__anext__() for _ in range(3)]
        assert hub.subscribers == 1
        # a client that fell behind gets everything pending in one chunk, as soon as it comes
        nxt = asyncio.ensure_future(gen.__anext__())
        await asyncio.sleep(0.01)
        hub.publish_local({"case_id": "c2", "jurisdiction_code": "3299011"})
        hub.publish_local({"case_id": "c3", "jurisdiction_code": "3299012"})
        out.append(await asyncio.wait_for(nxt, 0.04))
        await gen.aclose()
        assert hub.subscribers == 0
        return out

    out = asyncio.run(run())
    assert out[0].startswith(b"retry:")
    assert out[1].startswith(b"event: dropped\ndata: 2\n\nevent: case\ndata: {")
    assert b'"c1"' in out[1]
    assert out[2] == b": keep-alive\n\n"
    assert out[3].count(b"event: case") == 2 and b'"c2"' in out[3] and b'"c3"' in out[3]
