"""Group commit of the gateway's audit log: every write request is audited before its
middleware returns, but concurrent requests share one transaction.

While one flush is running, new rows wait; the next flush takes all of them (up to
``max_batch``) in one INSERT and one COMMIT. At low load a flush holds one row, as before;
under a burst of reports a commit carries hundreds, so the audit log costs the database one
WAL flush per batch instead of one per request. A failed flush fails each of its
requests' audit (logged by the middleware), exactly as a failed single insert did.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.engine import Engine

from gateway.security import store


class AuditWriter:
    def __init__(self, engine: Engine, max_batch: int = 500) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._flushing = False
        self.flushes = 0
        self.rows = 0

    async def write(self, **row: Any) -> None:
        """Queue one audit row and return once it is committed (or raise why not)."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, fut))
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().create_task(self._flush())
        await fut

    async def _flush(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self.max_batch]
                del self._waiting[: self.max_batch]
                try:
                    await asyncio.to_thread(
                        store.write_audit_rows, self.engine, [row for row, _ in batch]
                    )
                except Exception as exc:  # noqa: BLE001 - handed to every waiting request
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                else:
                    self.flushes += 1
                    self.rows += len(batch)
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_result(None)
        finally:
            self._flushing = False
