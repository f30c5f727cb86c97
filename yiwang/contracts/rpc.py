"""RPC schemas: one request and one response model per remote method.

``rpc_contract(service, method)`` registers them; the nameko side validates requests
and responses in ``yiwang.nameko.rpc.contract_rpc``, the gateway client validates both
in ``yiwang.rpc_client``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class RpcContract:
    def __init__(
        self, service: str, method: str, request: type[BaseModel], response: type[BaseModel]
    ) -> None:
        self.service = service
        self.method = method
        self.request = request
        self.response = response


_RPC: dict[tuple[str, str], RpcContract] = {}
T = TypeVar("T", bound=type[BaseModel])


def rpc_contract(service: str, method: str, response: type[BaseModel]) -> Callable[[T], T]:
    """Register ``request`` (the decorated class) and ``response`` for service.method."""

    def wrap(request: T) -> T:
        key = (service, method)
        if key in _RPC:
            raise ValueError(f"rpc contract {key} registered twice")
        _RPC[key] = RpcContract(service, method, request, response)
        return request

    return wrap


def get_rpc_contract(service: str, method: str) -> RpcContract:
    return _RPC[(service, method)]


def all_rpc_contracts() -> list[RpcContract]:
    return [_RPC[k] for k in sorted(_RPC)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- health (every service) -------------------------------------------------------------


class HealthResponse(_Model):
    service: str
    status: Literal["ok", "degraded"]
    checks: dict[str, str] = Field(default_factory=dict)


for _svc in ("petitions", "grids", "volunteers", "enterprise", "command"):

    @rpc_contract(_svc, "health", HealthResponse)
    class HealthRequest(_Model):  # noqa: D401 - one empty request per service
        pass


# --- grids -------------------------------------------------------------------------------


class LocateResponse(_Model):
    inside: bool
    grid_code: str | None = None
    chain: list[dict[str, str]] = Field(default_factory=list)
    workers: list[dict[str, Any]] = Field(default_factory=list)


@rpc_contract("grids", "locate", LocateResponse)
class LocateRequest(_Model):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    crs: Literal["wgs84", "gcj02"] = "wgs84"


# --- petitions ---------------------------------------------------------------------------


class ReportStatusResponse(_Model):
    report_id: uuid.UUID
    state: Literal["pending", "case_created", "linked_duplicate"]
    case_id: uuid.UUID | None = None
    case_status: str | None = None


@rpc_contract("petitions", "get_report_status", ReportStatusResponse)
class ReportStatusRequest(_Model):
    report_id: uuid.UUID


# --- command -----------------------------------------------------------------------------


class CaseRow(_Model):
    case_id: uuid.UUID
    source: str
    category: str
    title: str
    grid_code: str
    jurisdiction_code: str
    level: str
    status: str
    handler: str | None = None
    deadline: datetime | None = None
    escalation_level: str | None = None
    overdue: bool = False
    supervised: bool = False
    created_at: datetime
    updated_at: datetime


class CaseListResponse(_Model):
    items: list[CaseRow]
    total: int
    page: int
    page_size: int


@rpc_contract("command", "list_cases", CaseListResponse)
class ListCasesRequest(_Model):
    jurisdiction_prefix: str = Field(default="", pattern=r"^[0-9]{0,18}$")
    status: str | None = None
    source: str | None = None
    category: str | None = None
    overdue: bool | None = None
    supervised: bool | None = None
    page: int = Field(default=1, ge=1, le=100000)
    page_size: int = Field(default=20, ge=1, le=200)
