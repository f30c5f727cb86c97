"""``UnitOfWork.batch`` against the real database: savepoints per command, one commit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from pydantic import BaseModel

from yiwang.contracts import event_contract
from yiwang.db import make_engine, service_metadata
from yiwang.uow import UnitOfWork, uow_factory

md = service_metadata("uowbatch")
things = sa.Table("things", md, sa.Column("n", sa.Integer, primary_key=True))


@event_contract("uowbatch.thing_made", 1)
class ThingMadeV1(BaseModel):
    n: int


@pytest.fixture
def make_uow(resources) -> Iterator[tuple[object, sa.Engine]]:  # type: ignore[no-untyped-def]
    eng = make_engine(resources.database_url, pool_size=2)
    with eng.begin() as c:
        c.execute(sa.text("DROP SCHEMA IF EXISTS uowbatch CASCADE"))
        c.execute(sa.text("CREATE SCHEMA uowbatch"))
        md.create_all(c)
    wakes: list[int] = []
    factory = uow_factory(
        eng, producer="uowbatch", schema="uowbatch", on_commit=lambda: wakes.append(1)
    )
    try:
        yield factory, eng
    finally:
        with eng.begin() as c:
            c.execute(sa.text("DROP SCHEMA IF EXISTS uowbatch CASCADE"))
        eng.dispose()


def _state(eng: sa.Engine) -> tuple[list[int], int]:
    with eng.connect() as c:
        ns = [r[0] for r in c.execute(sa.select(things.c.n).order_by(things.c.n))]
        events = c.execute(sa.text("SELECT count(*) FROM uowbatch.outbox")).scalar_one()
    return ns, events


def _make(uow: UnitOfWork, n: int, *, commit: bool = True, fail: bool = False) -> None:
    with uow:
        uow.session.execute(things.insert().values(n=n))
        uow.emit(ThingMadeV1(n=n))
        uow.after_commit(lambda: pushed.append(n))
        if fail:
            raise ValueError(n)
        if commit:
            uow.commit()


pushed: list[int] = []


def test_commands_in_a_batch_commit_once_and_a_command_left_uncommitted_is_undone(make_uow) -> None:  # type: ignore[no-untyped-def]
    factory, eng = make_uow
    pushed.clear()
    uow = factory()
    with uow.batch():
        _make(uow, 1)
        _make(uow, 2, commit=False)  # left without commit: its savepoint rolls back
        _make(uow, 3)
        assert _state(eng) == ([], 0), "visible before the batch committed"
        assert pushed == []
        uow.commit()
    assert _state(eng) == ([1, 3], 2)
    assert pushed == [1, 3]
    assert [e.payload["n"] for e in uow.emitted] == [1, 3]


def test_a_command_that_rolls_back_goes_on_in_a_fresh_savepoint(make_uow) -> None:  # type: ignore[no-untyped-def]
    factory, eng = make_uow
    uow = factory()
    with uow.batch():
        _make(uow, 1)
        with uow:
            uow.session.execute(things.insert().values(n=2))
            uow.rollback()  # undo this command's work only
            uow.session.execute(things.insert().values(n=20))
            uow.commit()
        uow.commit()
    assert _state(eng) == ([1, 20], 1)


def test_an_exception_in_a_batch_leaves_nothing_and_runs_no_hook(make_uow) -> None:  # type: ignore[no-untyped-def]
    factory, eng = make_uow
    pushed.clear()
    uow = factory()
    with pytest.raises(ValueError), uow.batch():
        _make(uow, 1)
        _make(uow, 2, fail=True)
        uow.commit()
    assert _state(eng) == ([], 0)
    assert pushed == []


def test_a_batch_left_without_commit_rolls_back(make_uow) -> None:  # type: ignore[no-untyped-def]
    factory, eng = make_uow
    uow = factory()
    with uow.batch():
        _make(uow, 1)
    assert _state(eng) == ([], 0)


def test_outside_a_batch_nothing_changes(make_uow) -> None:  # type: ignore[no-untyped-def]
    factory, eng = make_uow
    pushed.clear()
    _make(factory(), 7)
    _make(factory(), 8, commit=False)
    assert _state(eng) == ([7], 1)
    assert pushed == [7]


def test_collected_items_are_flushed_once_before_the_commit_without_undone_commands(
    make_uow,
) -> None:  # type: ignore[no-untyped-def]
    factory, eng = make_uow
    flushed: list[list[int]] = []

    def flush(items: list[int]) -> None:  # the rows are written inside the transaction
        flushed.append(items)
        uow.session.execute(things.insert(), [{"n": 100 + n} for n in items])

    uow = factory()
    with uow.batch():
        for n in range(5):
            with uow:
                uow.collect("counters", n, flush)
                if n != 3:  # command 3 is left without commit: its item goes with it
                    uow.commit()
        assert flushed == []
        uow.commit()
    assert flushed == [[0, 1, 2, 4]]
    assert _state(eng)[0] == [100, 101, 102, 104]


def test_collected_items_of_a_rolled_back_batch_are_never_flushed(make_uow) -> None:  # type: ignore[no-untyped-def]
    factory, _ = make_uow
    flushed: list[list[int]] = []
    uow = factory()
    with pytest.raises(ValueError), uow.batch():
        with uow:
            uow.collect("counters", 1, flushed.append)
            uow.commit()
        raise ValueError("the batch fails")
    with uow:  # the same unit of work, next transaction: starts empty
        uow.collect("counters", 2, flushed.append)
        uow.commit()
    assert flushed == [[2]]
