"""Group commit of audit rows: one transaction per flush, every waiter answered."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway import audit_writer
from gateway.audit_writer import AuditWriter


def _row(n: int) -> dict[str, Any]:
    return {
        "actor": f"a{n}",
        "method": "POST",
        "path": "/api/v1/reports",
        "status": 202,
        "trace_id": None,
        "detail": {},
    }


def test_concurrent_writes_share_transactions_and_all_return(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[list[dict[str, Any]]] = []

    def fake_rows(engine: object, rows: list[dict[str, Any]]) -> None:
        calls.append(rows)

    monkeypatch.setattr(audit_writer.store, "write_audit_rows", fake_rows)
    writer = AuditWriter(engine=object(), max_batch=40)  # type: ignore[arg-type]

    async def run() -> None:
        await asyncio.gather(*[writer.write(**_row(n)) for n in range(100)])

    asyncio.run(run())
    assert sorted(r["actor"] for batch in calls for r in batch) == sorted(
        f"a{n}" for n in range(100)
    )
    assert len(calls) < 100 and max(len(b) for b in calls) <= 40
    assert writer.rows == 100 and writer.flushes == len(calls)


def test_a_failed_flush_fails_each_of_its_writers_and_the_next_flush_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = {"fail": True}

    def flaky(engine: object, rows: list[dict[str, Any]]) -> None:
        if state["fail"]:
            raise RuntimeError("database down")

    monkeypatch.setattr(audit_writer.store, "write_audit_rows", flaky)
    writer = AuditWriter(engine=object())  # type: ignore[arg-type]

    async def run() -> list[Any]:
        first = await asyncio.gather(
            *[writer.write(**_row(n)) for n in range(3)], return_exceptions=True
        )
        state["fail"] = False
        await writer.write(**_row(9))
        return first

    first = asyncio.run(run())
    assert all(isinstance(e, RuntimeError) for e in first)
    assert writer.rows == 1
