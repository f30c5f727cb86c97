"""Many volunteers claim one order: exactly one wins, everyone else gets a clear conflict.

The service layer loads the order, runs the domain command on its copy and saves with a
compare-and-swap on ``version`` (``UPDATE ... WHERE version = :seen``). ``CasRepo`` is that
contract in memory; threads make the interleaving real.
"""

from __future__ import annotations

import copy
import random
import threading
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.volunteers.domain.order import OrderClaimed, OrderStatus, ServiceOrder
from services.volunteers.tests.unit.builders import STAFF, T0, make_order, make_volunteer
from yiwang.errors import Conflict

VOLS = [make_volunteer(f"v{i}") for i in range(50)]


class CasRepo:
    def __init__(self, order: ServiceOrder) -> None:
        self._lock = threading.Lock()
        self._stored = copy.deepcopy(order)

    def load(self) -> ServiceOrder:
        with self._lock:
            return copy.deepcopy(self._stored)

    def save(self, order: ServiceOrder, seen_version: int) -> None:
        with self._lock:
            if self._stored.version != seen_version:
                raise Conflict("order_already_claimed", "lost the race", "已被他人承接")
            self._stored = copy.deepcopy(order)


def _published() -> ServiceOrder:
    order = make_order()
    order.publish(STAFF, T0)
    order.pull_events()
    return order


@given(
    order_of_attempts=st.permutations(range(20)),
    stale_reads=st.lists(st.booleans(), min_size=20, max_size=20),
)
@settings(max_examples=50, deadline=None)
def test_sequential_claims_with_stale_versions_exactly_one_wins(order_of_attempts, stale_reads):
    order = _published()
    seen = order.version  # everybody loaded the order before anyone claimed
    winners, codes = [], []
    for i in order_of_attempts:
        version = seen if stale_reads[i] else order.version
        try:
            order.claim(VOLS[i], version, 0, T0 + timedelta(seconds=i))
            winners.append(i)
        except Conflict as err:
            codes.append(err.code)
    assert len(winners) == 1
    assert set(codes) == {"order_already_claimed"}
    assert order.claimant_id == VOLS[winners[0]].claimant_id
    assert order.version == seen + 1
    assert sum(isinstance(e, OrderClaimed) for e in order.pull_events()) == 1


def test_stale_version_on_an_open_order_is_refused():
    order = _published()
    seen = order.version
    vol = make_volunteer("late")
    order.claim(VOLS[0], seen, 0, T0)
    order.release(VOLS[0].claimant_id, "sick", T0)
    with pytest.raises(Conflict) as exc:
        order.claim(vol, seen, 0, T0)  # the order is open again, but moved on
    assert exc.value.code == "stale_version"
    order.claim(vol, order.version, 0, T0)
    assert order.claimant_id == "late"


def test_threads_racing_through_a_cas_repository():
    repo = CasRepo(_published())
    barrier = threading.Barrier(len(VOLS))
    results: dict[str, str] = {}

    def attempt(vol) -> None:
        rnd = random.Random(vol.claimant_id)
        order = repo.load()
        seen = order.version
        barrier.wait()
        try:
            if rnd.random() < 0.5:  # some re-read first, some act on what they saw
                order = repo.load()
                seen = order.version
            order.claim(vol, seen, 0, T0)
            repo.save(order, seen)
            results[vol.claimant_id] = "won"
        except Conflict as err:
            results[vol.claimant_id] = err.code

    threads = [threading.Thread(target=attempt, args=(v,)) for v in VOLS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [k for k, v in results.items() if v == "won"]
    assert len(results) == len(VOLS)
    assert len(winners) == 1
    assert set(results.values()) == {"won", "order_already_claimed"}
    final = repo.load()
    assert final.status is OrderStatus.CLAIMED and final.claimant_id == winners[0]
