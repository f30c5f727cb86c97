"""A probe nameko service for testing the shared plumbing against the real broker and
database: green DB I/O, retries, dead letters, poison messages, idempotency."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from yiwang.contracts import Envelope, event_contract
from yiwang.contracts.rpc import rpc_contract
from yiwang.db import service_metadata

metadata = service_metadata("probe")
applied = sa.Table(
    "applied",
    metadata,
    sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
)
attempts = sa.Table(
    "attempts",
    metadata,
    sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
)

batched = sa.Table(
    "batched",
    metadata,
    sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("batch_size", sa.Integer, nullable=False),
)


@event_contract("probe.batched", 1)
class ProbeBatchedV1(BaseModel):
    """For the batched entrypoint: ``poison`` always raises; ``sleep_s`` holds the batch."""

    n: int
    poison: bool = False
    sleep_s: float = 0.0


@event_contract("probe.happened", 1)
class ProbeHappenedV1(BaseModel):
    n: int
    fail_times: int = 0


class SleepResponse(BaseModel):
    slept: float


@rpc_contract("probe", "sleep", SleepResponse)
class SleepRequest(BaseModel):
    seconds: float


def create_schema(database_url: str) -> None:
    eng = sa.create_engine(database_url)
    with eng.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS probe"))
        metadata.create_all(conn)
    eng.dispose()


def _service() -> Any:
    # imported lazily: only the service process (eventlet-patched) needs nameko
    from yiwang.nameko.events import reliable_event_handler
    from yiwang.nameko.providers import Tracing, UnitOfWorkProvider
    from yiwang.nameko.rpc import contract_rpc

    class ProbeService:
        name = "probe"
        uow = UnitOfWorkProvider("probe")
        tracing = Tracing()

        @contract_rpc("probe")
        def sleep(self, request: SleepRequest) -> dict[str, float]:
            with self.uow() as uow:
                uow.session.execute(sa.text("SELECT pg_sleep(:s)"), {"s": request.seconds})
            return {"slept": request.seconds}

        @reliable_event_handler("probesrc", "probe.happened")
        def on_probe(self, envelope: Envelope, payload: ProbeHappenedV1) -> None:
            with self.uow() as uow:  # count attempts in their own transaction
                stmt = pg_insert(attempts).values(event_id=envelope.id, count=1)
                uow.session.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[attempts.c.event_id], set_={"count": attempts.c.count + 1}
                    )
                )
                uow.commit()
            with self.uow() as uow:
                n = uow.session.execute(
                    sa.select(attempts.c.count).where(attempts.c.event_id == envelope.id)
                ).scalar_one()
                if n <= payload.fail_times:
                    raise RuntimeError(f"probe failure {n} of {payload.fail_times}")
                if not uow.claim_event("probe.on_probe", envelope.id, envelope.type):
                    return
                uow.session.execute(applied.insert().values(event_id=envelope.id, n=payload.n))
                uow.commit()

        @reliable_event_handler("probesrc", "probe.batched", batch=True)
        def on_batched(self, events: list[tuple[Envelope, ProbeBatchedV1]]) -> None:
            from yiwang.batch import apply_batch

            size = len(events)

            def apply(uow: Any, envelope: Envelope, payload: ProbeBatchedV1) -> None:
                with uow:  # a savepoint inside the batch, exactly as one command alone
                    if not uow.claim_event("probe.on_batched", envelope.id, envelope.type):
                        return
                    if payload.sleep_s:
                        uow.session.execute(sa.text("SELECT pg_sleep(:s)"), {"s": payload.sleep_s})
                    uow.session.execute(
                        batched.insert().values(event_id=envelope.id, n=payload.n, batch_size=size)
                    )
                    if payload.poison:
                        raise RuntimeError(f"poison event {payload.n}")
                    uow.commit()

            apply_batch(self.uow(), events, apply)

    return ProbeService


def __getattr__(name: str) -> Any:
    if name == "ProbeService":
        return _service()
    raise AttributeError(name)
