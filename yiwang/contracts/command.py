"""Contracts of the command service."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from yiwang.contracts.base import Payload
from yiwang.contracts.rpc import rpc_contract
from yiwang.topology import Subscription

# --- command -----------------------------------------------------------------------------


class CaseRow(Payload):
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


class CaseListResponse(Payload):
    items: list[CaseRow]
    total: int
    page: int
    page_size: int


@rpc_contract("command", "list_cases", CaseListResponse)
class ListCasesRequest(Payload):
    jurisdiction_prefix: str = Field(default="", pattern=r"^[0-9]{0,18}$")
    status: str | None = None
    source: str | None = None
    category: str | None = None
    overdue: bool | None = None
    supervised: bool | None = None
    page: int = Field(default=1, ge=1, le=100000)
    page_size: int = Field(default=20, ge=1, le=200)

SUBSCRIPTIONS = [
    Subscription("petitions", "case.created", "command", "handle_case_event"),
]
