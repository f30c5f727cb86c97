"""The health RPC every service answers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from yiwang.contracts.base import Payload
from yiwang.contracts.rpc import rpc_contract

# --- health (every service) -------------------------------------------------------------


class HealthResponse(Payload):
    service: str
    status: Literal["ok", "degraded"]
    checks: dict[str, str] = Field(default_factory=dict)


for _svc in ("petitions", "grids", "volunteers", "enterprise", "command"):

    @rpc_contract(_svc, "health", HealthResponse)
    class HealthRequest(Payload):
        pass
