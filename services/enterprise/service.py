"""The enterprise nameko service (health RPC; features land with the [Enterprise] issue)."""

from __future__ import annotations

from typing import Any

from yiwang.contracts.health import HealthResponse
from yiwang.nameko.health import db_health
from yiwang.nameko.providers import Tracing, UnitOfWorkProvider
from yiwang.nameko.rpc import contract_rpc


class EnterpriseService:
    name = "enterprise"

    uow = UnitOfWorkProvider("enterprise")
    tracing = Tracing()

    @contract_rpc("enterprise")
    def health(self, request: Any) -> HealthResponse:
        return db_health(self.name, self.uow())
