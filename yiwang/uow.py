"""Unit of work: one database transaction per command, with its outbox and inbox.

Only the handler commits; leaving the block without ``commit()`` rolls back. Events
added with ``emit`` are written to the service's outbox in the same transaction, so a
state change and the events it causes are committed together or not at all.

Batches: inside ``with uow.batch():`` many commands share one transaction. Each command's
own ``with uow: ... uow.commit()`` then becomes a SAVEPOINT that its ``commit()`` releases
and its rollback undoes, so a handler written for one command runs unchanged in a batch;
the batch's final ``uow.commit()`` (with no command open) commits them all at once: one
WAL flush, one connection checkout and one relay wake-up per batch instead of per event.
Work that must only happen once the data is durable (live pushes) is registered with
``after_commit`` and runs after the real commit, never after a savepoint.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from yiwang.contracts import Envelope, new_envelope
from yiwang.db import inbox_table, outbox_table
from yiwang.logging import get_logger
from yiwang.tracing import current_trace_context

log = get_logger(__name__)


@dataclass
class _Savepoint:
    """One command inside a batch: its SAVEPOINT and where its events start."""

    transaction: Any
    emitted_from: int
    hooks_from: int
    collected_from: int
    committed: bool = False


class UnitOfWork:
    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        producer: str,
        schema: str,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._session_factory = session_factory
        self.producer = producer
        self.schema = schema
        self._on_commit = on_commit
        self._outbox, self._inbox = _tables(schema)
        self._outbox_insert, self._inbox_claim = _statements(schema)
        self.session: Session
        self.emitted: list[Envelope] = []
        self._committed = False
        self._in_batch = False
        self._savepoints: list[_Savepoint] = []
        self._after_commit: list[Callable[[], None]] = []
        self._collected: list[tuple[str, Any]] = []
        self._flushers: dict[str, Callable[[list[Any]], None]] = {}

    def __enter__(self) -> UnitOfWork:
        if self._in_batch:  # a command inside a batch: a savepoint of the batch's transaction
            self._savepoints.append(self._savepoint())
            return self
        self.session = self._session_factory()
        self.emitted = []
        self._after_commit = []
        self._collected = []
        self._flushers = {}
        self._committed = False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._savepoints:
            sp = self._savepoints.pop()
            if not sp.committed:
                self._undo(sp)
            return
        try:
            if not self._committed:
                self.session.rollback()
                self._after_commit = []
        finally:
            self.session.close()

    @contextmanager
    def batch(self) -> Iterator[UnitOfWork]:
        """One transaction for many commands (see the module's docstring). Call
        ``commit()`` after the last command; leaving without it rolls everything back."""
        with self:
            self._in_batch = True
            try:
                yield self
            finally:
                self._in_batch = False
                self._savepoints = []

    def commit(self) -> None:
        if self._savepoints:
            sp = self._savepoints[-1]
            sp.transaction.commit()  # RELEASE SAVEPOINT: durable with the batch
            sp.committed = True
            return
        self._flush_collected()
        self.session.commit()
        self._committed = True
        if self.emitted and self._on_commit is not None:
            self._on_commit()
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            try:
                hook()
            except Exception as exc:  # noqa: BLE001 - committed is committed; hooks are best effort
                log.warning("after_commit_hook_failed", error=repr(exc)[:300])

    def rollback(self) -> None:
        if self._savepoints:  # undo this command only, and go on inside a fresh savepoint
            sp = self._savepoints[-1]
            self._undo(sp)
            self._savepoints[-1] = self._savepoint()
            return
        self.session.rollback()
        self._after_commit = []
        self._collected = []

    def _savepoint(self) -> _Savepoint:
        return _Savepoint(
            self.session.begin_nested(),
            len(self.emitted),
            len(self._after_commit),
            len(self._collected),
        )

    def _undo(self, sp: _Savepoint) -> None:
        if sp.transaction.is_active:
            sp.transaction.rollback()
        del self.emitted[sp.emitted_from :]
        del self._after_commit[sp.hooks_from :]
        del self._collected[sp.collected_from :]

    def collect(self, key: str, item: Any, flush: Callable[[list[Any]], None]) -> None:
        """Add ``item`` to this transaction's ``key`` collection; ``flush(items)`` runs once,
        just before the real commit (after the last command of a batch).

        For writes to hot shared rows (KPI counters, the audit chain's head): written once
        per transaction, in one statement and a fixed order, they are locked for the last
        milliseconds of the transaction instead of from the first command of a batch to its
        end, so concurrent batches neither queue behind each other nor deadlock. Items of a
        command that is undone (savepoint rolled back) are dropped with it."""
        self._flushers.setdefault(key, flush)
        self._collected.append((key, item))

    def _flush_collected(self) -> None:
        if not self._collected:
            return
        by_key: dict[str, list[Any]] = {}
        for key, item in self._collected:
            by_key.setdefault(key, []).append(item)
        self._collected = []
        for key in sorted(by_key):  # one order for every transaction
            self._flushers[key](by_key[key])

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` once this unit of work's transaction is really committed (after a
        batch's final commit, not a command's savepoint); dropped on rollback."""
        self._after_commit.append(hook)

    def emit(
        self,
        payload: BaseModel,
        *,
        jurisdiction_code: str = "",
        occurred_at: Any = None,
    ) -> Envelope:
        """Validate ``payload`` against its contract and write it to the outbox."""
        env = new_envelope(
            payload,
            producer=self.producer,
            jurisdiction_code=jurisdiction_code,
            trace=current_trace_context(),
            occurred_at=occurred_at,
        )
        headers = {f"nameko.{k}": v for k, v in env.trace.items()}
        # statement and parameters apart: compiled once per process, not once per event
        self.session.execute(
            self._outbox_insert,
            {
                "event_id": env.id,
                "exchange": f"{self.producer}.events",
                "routing_key": env.type,
                "body": env.model_dump_json(),
                "headers": headers,
            },
        )
        self.emitted.append(env)
        return env

    def claim_event(self, consumer: str, event_id: uuid.UUID, event_type: str) -> bool:
        """Record (consumer, event id) in the inbox. False means: already applied, skip."""
        params = {"consumer": consumer, "event_id": event_id, "event_type": event_type}
        return self.session.execute(self._inbox_claim, params).first() is not None


@functools.lru_cache(maxsize=64)
def _tables(schema: str) -> tuple[sa.Table, sa.Table]:
    """The schema's outbox and inbox table objects, built once per process."""
    md = sa.MetaData(schema=schema)
    return outbox_table(md), inbox_table(md)


@functools.lru_cache(maxsize=64)
def _statements(schema: str) -> tuple[Any, Any]:
    """The outbox insert and the inbox claim of a schema, built once per process."""
    outbox, inbox = _tables(schema)
    claim = pg_insert(inbox).on_conflict_do_nothing().returning(inbox.c.event_id)
    return outbox.insert(), claim


def uow_factory(
    engine: Engine,
    *,
    producer: str,
    schema: str,
    on_commit: Callable[[], None] | None = None,
) -> Callable[[], UnitOfWork]:
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    return lambda: UnitOfWork(sessions, producer=producer, schema=schema, on_commit=on_commit)


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)
