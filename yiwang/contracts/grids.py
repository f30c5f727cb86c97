"""Contracts of the grids service."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from yiwang.contracts.base import Payload
from yiwang.contracts.rpc import rpc_contract
from yiwang.topology import Subscription

# --- grids -------------------------------------------------------------------------------


class LocateResponse(Payload):
    inside: bool
    grid_code: str | None = None
    chain: list[dict[str, str]] = Field(default_factory=list)
    workers: list[dict[str, Any]] = Field(default_factory=list)


@rpc_contract("grids", "locate", LocateResponse)
class LocateRequest(Payload):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    crs: Literal["wgs84", "gcj02"] = "wgs84"


SUBSCRIPTIONS: list[Subscription] = []
