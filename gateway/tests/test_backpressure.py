"""Backpressure: beyond the in-flight limit the door answers 503 at once."""

from __future__ import annotations

import asyncio

import pytest

from gateway.backpressure import InFlightLimit
from yiwang.errors import Unavailable
from yiwang.rpc_client import NamekoRpcClient


def test_requests_beyond_the_limit_are_refused_at_once_and_slots_come_back() -> None:
    async def run() -> None:
        limit = InFlightLimit(2)
        release = asyncio.Event()

        async def hold() -> None:
            async with limit.slot():
                await release.wait()

        holders = [asyncio.create_task(hold()) for _ in range(2)]
        await asyncio.sleep(0)
        assert limit.in_flight == 2
        with pytest.raises(Unavailable) as err:
            async with limit.slot():
                pass
        assert err.value.status == 503 and err.value.code == "intake_busy"
        assert limit.refused == 1
        release.set()
        await asyncio.gather(*holders)
        assert limit.in_flight == 0
        async with limit.slot():  # capacity is back
            assert limit.in_flight == 1

    asyncio.run(run())


def test_rpc_client_refuses_beyond_its_pending_bound() -> None:
    async def run() -> None:
        client = NamekoRpcClient("amqp://unused/", max_pending=1)
        client._exchange = object()  # type: ignore[assignment]  # "connected"
        client._pending["x"] = asyncio.get_running_loop().create_future()
        with pytest.raises(Unavailable) as err:
            await client.call_raw("grids", "locate", {})
        assert "too many calls in flight" in err.value.message_en

    asyncio.run(run())
