"""The shared nameko providers against the real Redis: what the services publish for SSE."""

from __future__ import annotations

import json
import socket
import time
from types import SimpleNamespace
from typing import Any

import pytest
import redis

from tests.support.resources import TestResources
from yiwang.clock import FakeClock, SystemClock
from yiwang.nameko.providers import ClockProvider, RedisPublisher

pytestmark = pytest.mark.integration


def _publisher(url: str | None, prefix: str) -> RedisPublisher:
    p = RedisPublisher()
    p.container = SimpleNamespace(config={"REDIS_URL": url, "REDIS_PREFIX": prefix})
    p.setup()
    return p


def _received(pubsub: Any, n: int, timeout_s: float = 5.0) -> list[str]:
    got: list[str] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < n and time.monotonic() < deadline:
        m = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if m is not None:
            got.append(m["data"].decode())
    return got


def test_publishes_json_batches_and_single_messages(resources: TestResources) -> None:
    p = _publisher(resources.redis_url, resources.redis_prefix)
    assert p.get_dependency(None) is p and p.prefix == resources.redis_prefix
    channel = f"{p.prefix}live"
    sub = redis.Redis.from_url(resources.redis_url).pubsub()
    sub.subscribe(channel)
    _received(sub, 0, 0.2)  # the subscription is active before publishing
    try:
        p.publish_json(channel, [{"case": 1, "zh": "已超期"}, {"case": 2}])
        p.publish(channel, "plain")
        got = _received(sub, 3)
    finally:
        sub.close()
        p.stop()
    assert [json.loads(got[0]), json.loads(got[1]), got[2]] == [
        {"case": 1, "zh": "已超期"},
        {"case": 2},
        "plain",
    ]


def test_without_redis_url_nothing_is_published() -> None:
    p = _publisher(None, "t:")
    p.publish_json("t:live", [{"a": 1}])
    p.publish("t:case:1", "x")  # neither raises: there is nowhere to publish


def test_unreachable_redis_live_is_best_effort_single_publish_raises() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = _publisher(f"redis://127.0.0.1:{port}/0", "t:")
    p.publish_json("t:live", [{"a": 1}])  # logged, not raised
    with pytest.raises(redis.ConnectionError):
        p.publish("t:case:1", "x")  # the notification sweep retries it later


def test_clock_provider_is_the_system_clock_unless_given_one() -> None:
    assert isinstance(ClockProvider().get_dependency(None), SystemClock)
    fake = FakeClock()
    assert ClockProvider(fake).get_dependency(None) is fake
