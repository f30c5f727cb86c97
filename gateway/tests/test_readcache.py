"""The dashboard read cache: single-flight, freshness, the change stream, scopes, ETag/304
(real Redis from the session's isolated resources; the command service is a fake)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from redis.asyncio import Redis

from gateway.readcache import ReadCache, etag_matches, scope_of
from gateway.security import Principal
from gateway.tests.conftest import gateway_client, token_for
from tests.support.resources import TestResources
from yiwang.errors import NotFound


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Counting:
    """A fake RPC: counts calls, answers with the call number, optionally slowly."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.calls = 0
        self.delay_s = delay_s

    def __call__(self) -> Awaitable[Any]:
        async def run() -> Any:
            self.calls += 1
            n = self.calls
            await asyncio.sleep(self.delay_s)
            return {"n": n, "title": "路灯不亮"}

        return run()


def run_with_cache(
    res: TestResources, test: Callable[[ReadCache, Clock], Awaitable[None]], **kw: Any
) -> None:
    async def main() -> None:
        redis = Redis.from_url(res.redis_url)
        clock = Clock()
        cache = ReadCache(
            redis,
            f"{res.redis_prefix}{uuid.uuid4().hex[:6]}:",
            **{"ttl_s": 2.0, "min_refresh_s": 0.0, **kw},
            clock=clock,
        )
        try:
            await test(cache, clock)
        finally:
            await cache.close()
            await redis.aclose()

    asyncio.run(main())


def test_two_hundred_viewers_asking_the_same_thing_cause_one_rpc(resources: TestResources) -> None:
    async def test(cache: ReadCache, clock: Clock) -> None:
        fetch = Counting(delay_s=0.05)
        key = cache.key("j=3299;d=", "kpis", {"jurisdiction_code": "3299"})
        got = await asyncio.gather(*(cache.get(key, "3299", fetch) for _ in range(200)))
        assert fetch.calls == 1
        states = [state for _, state in got]
        assert states.count("miss") == 1 and set(states) <= {"miss", "coalesced", "hit"}
        assert {json.loads(e.body)["n"] for e, _ in got} == {1}
        entry, state = await cache.get(key, "3299", fetch)  # now from Redis
        assert state == "hit" and fetch.calls == 1 and entry.body == got[0][0].body
        assert json.loads(entry.body)["title"] == "路灯不亮"

    run_with_cache(resources, test)


def test_freshness_soft_refresh_ahead_and_hard_ttl(resources: TestResources) -> None:
    async def test(cache: ReadCache, clock: Clock) -> None:
        fetch = Counting()
        key = cache.key("j=3299;d=", "kpis", {"jurisdiction_code": "3299"})
        assert (await cache.get(key, "3299", fetch))[1] == "miss"
        clock.now += 0.5
        assert (await cache.get(key, "3299", fetch))[1] == "hit"
        clock.now += 1.1  # past 3/4 of the ttl: served, and one background refresh starts
        entry, state = await cache.get(key, "3299", fetch)
        assert state == "stale" and json.loads(entry.body)["n"] == 1
        await asyncio.sleep(0.05)
        assert fetch.calls == 2
        entry, state = await cache.get(key, "3299", fetch)
        assert state == "hit" and json.loads(entry.body)["n"] == 2
        clock.now += 0.4
        assert (await cache.get(key, "3299", fetch))[1] == "hit"
        clock.now += 2.5  # past the hard ttl: never served, read through
        entry, state = await cache.get(key, "3299", fetch)
        assert state == "miss" and json.loads(entry.body)["n"] == 3

    run_with_cache(resources, test)


def test_a_change_refreshes_the_answers_of_every_prefix_covering_it_and_no_other(
    resources: TestResources,
) -> None:
    async def test(cache: ReadCache, clock: Clock) -> None:
        fetches = {code: Counting() for code in ("3299", "329901", "329902", "329901001")}
        keys = {
            code: cache.key("j=3299;d=", "list_cases", {"jurisdiction_prefix": code})
            for code in fetches
        }
        for code in fetches:
            await cache.get(keys[code], code, fetches[code])
        cache.changed("329901002003004")
        clock.now += 0.01  # the refresh reads after the change
        await asyncio.sleep(0.05)
        assert {c: f.calls for c, f in fetches.items()} == {
            "3299": 2,
            "329901": 2,
            "329902": 1,
            "329901001": 1,
        }
        entry, state = await cache.get(keys["329901"], "329901", fetches["329901"])
        assert state == "hit" and json.loads(entry.body)["n"] == 2
        # a change with no jurisdiction refreshes everything that is hot
        cache.changed(None)
        clock.now += 0.01
        await asyncio.sleep(0.05)
        assert [f.calls for f in fetches.values()] == [3, 3, 2, 2]

    run_with_cache(resources, test)


def test_a_burst_of_changes_is_coalesced_with_a_trailing_refresh(resources: TestResources) -> None:
    async def test(cache: ReadCache, clock: Clock) -> None:
        fetch = Counting(delay_s=0.02)
        key = cache.key("j=3299;d=", "kpis", {"jurisdiction_code": "3299"})
        await cache.get(key, "3299", fetch)
        for _ in range(50):
            cache.changed("329901001001001")
            clock.now += 0.001
            await asyncio.sleep(0.002)
        await asyncio.sleep(0.4)
        # leading refresh, then at most one per min_refresh_s (0.1 s) and one trailing
        assert 2 <= fetch.calls - 1 <= 3
        clock.now += 0.01
        entry, state = await cache.get(key, "3299", fetch)
        assert state == "hit" and json.loads(entry.body)["n"] == fetch.calls

    run_with_cache(resources, test, min_refresh_s=0.1)


def test_a_change_seen_after_a_read_began_marks_its_answer_out_of_date(
    resources: TestResources,
) -> None:
    async def test(cache: ReadCache, clock: Clock) -> None:
        fetch = Counting()
        key = cache.key("j=329901;d=", "kpis", {"jurisdiction_code": "329901"})
        await cache.get(key, "329901", fetch)
        cache._hot.clear()  # another process wrote it: no proactive refresh here
        cache._by_prefix.clear()
        clock.now += 0.1
        cache.changed("329901002")
        entry, state = await cache.get(key, "329901", fetch)
        assert state == "stale" and json.loads(entry.body)["n"] == 1
        clock.now += 0.01  # the background refresh reads after the change
        await asyncio.sleep(0.05)
        assert (await cache.get(key, "329901", fetch))[1] == "hit" and fetch.calls == 2

    run_with_cache(resources, test)


def test_errors_are_shared_by_the_waiters_and_never_cached(resources: TestResources) -> None:
    async def test(cache: ReadCache, clock: Clock) -> None:
        calls = 0

        async def failing() -> Any:
            nonlocal calls
            calls += 1
            await asyncio.sleep(0.02)
            raise NotFound("no_such_unit", "No such unit.", "没有该单位。")

        key = cache.key("j=3299;d=", "kpis", {"jurisdiction_code": "3299"})
        got = await asyncio.gather(
            *(cache.get(key, "3299", failing) for _ in range(10)), return_exceptions=True
        )
        assert calls == 1 and all(isinstance(g, NotFound) for g in got)
        with pytest.raises(NotFound):
            await cache.get(key, "3299", failing)
        assert calls == 2

    run_with_cache(resources, test)


def test_redis_down_reads_through_single_flight() -> None:
    async def main() -> None:
        redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
        clock = Clock()
        cache = ReadCache(redis, "x:", ttl_s=2.0, clock=clock)
        fetch = Counting(delay_s=0.02)
        key = cache.key("j=3299;d=", "kpis", {})
        got = await asyncio.gather(*(cache.get(key, "3299", fetch) for _ in range(20)))
        assert fetch.calls == 1 and {json.loads(e.body)["n"] for e, _ in got} == {1}
        assert (await cache.get(key, "3299", fetch))[1] == "hit"  # this process's answer
        clock.now += 2.5
        assert (await cache.get(key, "3299", fetch))[1] == "miss"
        assert fetch.calls == 2 and cache.stats.redis_errors >= 2
        await cache.close()
        await redis.aclose()

    asyncio.run(main())


def test_scopes_and_etags() -> None:
    dept = Principal("d1", "department_handler", jurisdiction_code="3299", department="water")
    city = Principal("c1", "city_staff", jurisdiction_code="3299", department="water")
    assert (
        scope_of(dept)
        != scope_of(city)
        == scope_of(Principal("l1", "leader", jurisdiction_code="3299"))
    )
    assert etag_matches('W/"abc", "def"', '"abc"') and etag_matches("*", '"x"')
    assert not etag_matches('"abd"', '"abc"') and not etag_matches(None, '"abc"')


# -- through the gateway -------------------------------------------------------------------
@pytest.fixture(scope="module")
def cached(resources: TestResources) -> Iterator[TestClient]:
    with gateway_client(resources) as c:
        yield c


def _answers(client: TestClient) -> None:
    """The fake command service answers with what it was asked for, so a leak between
    scopes shows in the body."""

    def list_cases(**kw: Any) -> dict[str, Any]:
        items = [
            {
                "case_id": str(uuid.uuid4()),
                "jurisdiction_code": kw["jurisdiction_prefix"],
                "department": kw.get("department"),
            }
        ]
        return {
            "items": items,
            "total": 1,
            "page": kw["page"],
            "page_size": kw["page_size"],
            "asked": kw,
        }

    def kpis(**kw: Any) -> dict[str, Any]:
        return {
            "jurisdiction_code": kw["jurisdiction_code"],
            "department": kw["department"],
            "asked": kw,
            "n": str(uuid.uuid4()),
        }

    fake = client.fake_rpc  # type: ignore[attr-defined]
    fake.answers[("command", "list_cases")] = list_cases
    fake.answers[("command", "kpis")] = kpis
    fake.answers[("command", "kpi_series")] = kpis


def _auth(client: TestClient, who: Principal) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(client.settings, who)}"}  # type: ignore[attr-defined]


def _calls(client: TestClient, method: str, prefix: str | None = None) -> int:
    return sum(
        1
        for _, m, kw in client.fake_rpc.calls  # type: ignore[attr-defined]
        if m == method and prefix in (None, kw.get("jurisdiction_prefix"))
    )


def test_a_viewer_never_sees_another_scopes_answer(cached: TestClient) -> None:
    _answers(cached)
    d1 = Principal("v-d1", "district_staff", jurisdiction_code="329901")
    d2 = Principal("v-d2", "district_staff", jurisdiction_code="329902")
    city = Principal("v-city", "city_staff", jurisdiction_code="3299")
    water = Principal("v-water", "department_handler", jurisdiction_code="3299", department="water")
    roads = Principal("v-roads", "department_handler", jurisdiction_code="3299", department="roads")
    seen: dict[str, dict[str, Any]] = {}
    for _ in range(2):  # the second round is served from the cache
        for who in (d1, d2, city, water, roads):
            r = cached.get(
                "/api/v1/command/cases", params={"page_size": 50}, headers=_auth(cached, who)
            )
            assert r.status_code == 200, r.text
            body = r.json()
            assert seen.setdefault(who.account_id, body) == body
            assert body["asked"]["jurisdiction_prefix"] == who.jurisdiction_code
            forced = who.department if who.role == "department_handler" else None
            assert body["asked"]["department"] == forced
            assert {i["department"] for i in body["items"]} == {forced}
    assert len({json.dumps(b, sort_keys=True) for b in seen.values()}) == 5
    # a department handler asking for another department still gets only its own
    r = cached.get(
        "/api/v1/command/kpis",
        params={"day_from": "2026-11-01", "day_to": "2026-11-23", "department": "water"},
        headers=_auth(cached, roads),
    )
    assert r.status_code == 200 and r.json()["department"] == "roads"
    # a district asking for the other district's code is refused, cached answer or not
    for _ in range(2):
        r = cached.get(
            "/api/v1/command/cases", params={"jurisdiction": "329902"}, headers=_auth(cached, d1)
        )
        assert r.status_code == 403 and r.json()["code"] == "outside_jurisdiction"


def test_same_scope_and_query_share_one_rpc_and_get_etag_304(cached: TestClient) -> None:
    _answers(cached)
    leader = Principal("v-leader", "leader", jurisdiction_code="3299")
    staff = Principal("v-staff", "city_staff", jurisdiction_code="3299")
    params = {
        "day_from": str(date(2026, 10, 25)),
        "day_to": str(date(2026, 11, 23)),
        "jurisdiction": "329903",
    }
    before = _calls(cached, "kpi_series")
    r1 = cached.get("/api/v1/command/kpis/series", params=params, headers=_auth(cached, leader))
    # the same question, spelled differently (explicit default department), same scope
    r2 = cached.get(
        "/api/v1/command/kpis/series",
        params={**params, "department": "*"},
        headers=_auth(cached, staff),
    )
    assert r1.status_code == r2.status_code == 200
    assert r1.json() == r2.json() and _calls(cached, "kpi_series") == before + 1
    etag = r1.headers["etag"]
    assert etag.startswith('"') and r2.headers["etag"] == etag
    assert r1.headers["cache-control"] == "private, no-cache"
    assert "Authorization" in r1.headers["vary"]
    assert r1.headers["x-cache"] == "miss" and r2.headers["x-cache"] == "hit"
    r3 = cached.get(
        "/api/v1/command/kpis/series",
        params=params,
        headers={**_auth(cached, leader), "If-None-Match": etag},
    )
    assert r3.status_code == 304 and r3.content == b"" and r3.headers["etag"] == etag
    r4 = cached.get(
        "/api/v1/command/kpis/series",
        params=params,
        headers={**_auth(cached, leader), "If-None-Match": '"other"'},
    )
    assert r4.status_code == 200 and r4.json() == r1.json()


def test_the_change_stream_refreshes_cached_dashboard_reads(cached: TestClient) -> None:
    import redis as sync_redis

    _answers(cached)
    street = Principal("v-street", "street_staff", jurisdiction_code="329901001")
    r1 = cached.get("/api/v1/command/cases", headers=_auth(cached, street))
    assert r1.status_code == 200
    n = _calls(cached, "list_cases", "329901001")
    other = _calls(cached, "list_cases", "329902")  # a district the change is not in
    settings = cached.settings  # type: ignore[attr-defined]
    r = sync_redis.Redis.from_url(settings.redis_url)
    try:
        r.publish(
            f"{settings.redis_prefix}live",
            json.dumps(
                {"case_id": "x", "jurisdiction_code": "329901001002003", "status": "dispatched"}
            ),
        )
    finally:
        r.close()
    for _ in range(100):  # the hub refreshes the street's hot key in the background
        if _calls(cached, "list_cases", "329901001") > n:
            break
        time.sleep(0.02)
    time.sleep(0.1)
    assert _calls(cached, "list_cases", "329901001") == n + 1
    assert _calls(cached, "list_cases", "329902") == other
    r2 = cached.get("/api/v1/command/cases", headers=_auth(cached, street))
    assert r2.status_code == 200 and r2.headers["x-cache"] == "hit"
    assert r2.json()["items"] != r1.json()["items"] and r2.headers["etag"] != r1.headers["etag"]
