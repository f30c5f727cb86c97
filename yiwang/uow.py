"""Unit of work: one database transaction per command, with its outbox and inbox.

Only the handler commits; leaving the block without ``commit()`` rolls back. Events
added with ``emit`` are written to the service's outbox in the same transaction, so a
state change and the events it causes are committed together or not at all.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from yiwang.contracts import Envelope, new_envelope
from yiwang.db import inbox_table, outbox_table
from yiwang.tracing import current_trace_context


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
        self.session: Session
        self.emitted: list[Envelope] = []
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        self.emitted = []
        self._committed = False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()
        self._committed = True
        if self.emitted and self._on_commit is not None:
            self._on_commit()

    def rollback(self) -> None:
        self.session.rollback()

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
        self.session.execute(
            self._outbox.insert().values(
                event_id=env.id,
                exchange=f"{self.producer}.events",
                routing_key=env.type,
                body=env.model_dump_json(),
                headers=headers,
            )
        )
        self.emitted.append(env)
        return env

    def claim_event(self, consumer: str, event_id: uuid.UUID, event_type: str) -> bool:
        """Record (consumer, event id) in the inbox. False means: already applied, skip."""
        stmt = (
            pg_insert(self._inbox)
            .values(consumer=consumer, event_id=event_id, event_type=event_type)
            .on_conflict_do_nothing()
            .returning(self._inbox.c.event_id)
        )
        return self.session.execute(stmt).first() is not None


@functools.lru_cache(maxsize=64)
def _tables(schema: str) -> tuple[sa.Table, sa.Table]:
    """The schema's outbox and inbox table objects, built once per process."""
    md = sa.MetaData(schema=schema)
    return outbox_table(md), inbox_table(md)


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
