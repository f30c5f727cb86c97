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


def test_intake_beyond_capacity_is_refused_before_the_app_runs() -> None:
    import httpx
    from starlette.types import Receive, Scope, Send

    from gateway.backpressure import IntakeAdmission

    entered: list[str] = []
    release = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        entered.append(scope["path"])
        await release.wait()
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    limit = InFlightLimit(1)
    admission = IntakeAdmission(app, limit)

    async def run() -> None:
        transport = httpx.ASGITransport(app=admission)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            first = asyncio.create_task(client.post("/api/v1/reports", json={}))
            while not entered:
                await asyncio.sleep(0)
            second = await client.post("/api/v1/reports", json={})
            open311 = await client.post("/open311/v2/requests.json", data={"x": "1"})
            assert second.status_code == 503 and open311.status_code == 503
            body = second.json()
            assert body["code"] == "intake_busy" and body["detail_zh"]
            assert second.headers["Retry-After"] == "2"
            assert entered == ["/api/v1/reports"], "a refused report reached the app"
            other = asyncio.create_task(client.get("/api/v1/cases"))  # not intake: no limit
            while len(entered) < 2:
                await asyncio.sleep(0)
            release.set()
            assert (await first).status_code == 202 and (await other).status_code == 202
            assert limit.in_flight == 0 and limit.refused == 2

    asyncio.run(run())
