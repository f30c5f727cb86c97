"""The test process itself is never monkey-patched by eventlet.

Only a service process patches (``yiwang.nameko.run``, its composition root). A test module
that imported it patched the whole pytest process at collection time, and from then on the
gateway's in-process test clients (an asyncio loop in a thread) hung: keep that module out
of imports, and this test fails the run at once if something patches again.
"""

from __future__ import annotations

from eventlet import patcher


def test_collection_left_the_test_process_unpatched() -> None:
    patched = [m for m in ("socket", "thread", "time", "select") if patcher.is_monkey_patched(m)]
    assert not patched, f"eventlet monkey-patched {patched} in the test process"
