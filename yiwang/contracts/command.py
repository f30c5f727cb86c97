"""Contracts of the command service."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from yiwang.contracts.base import Payload
from yiwang.contracts.envelope import event_contract
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


@event_contract("case.routed", 1)
class CaseRoutedV1(Payload):
    """The command centre's dispatch decision (routing rule or a dispatcher's choice);
    the petitions service applies it as the case's ``dispatch`` step."""

    case_id: uuid.UUID
    department: str | None = None
    worker_id: str | None = None
    rule_id: str | None = None
    manual: bool = False
    actor_id: str = "system"
    actor_role: str = "system"
    at: datetime


@event_contract("case.escalated", 1)
class CaseEscalatedV1(Payload):
    """A case moved one level up the ladder (grid → community → street → district → city)."""

    case_id: uuid.UUID
    escalation_no: int = Field(ge=1)
    from_level: str
    to_level: str
    jurisdiction_code: str = Field(pattern=r"^[0-9]{4,18}$")
    reason: str = Field(max_length=40)
    note: str = Field(default="", max_length=2000)
    deadline: datetime
    at: datetime


@event_contract("case.supervised", 1)
class CaseSupervisedV1(Payload):
    """A leader's one-key supervision (一键督办) of a case."""

    case_id: uuid.UUID
    supervision_id: uuid.UUID
    leader_id: str
    jurisdiction_code: str
    deadline: datetime
    note: str = Field(default="", max_length=2000)
    at: datetime


SUBSCRIPTIONS = [
    Subscription("petitions", "case.created", "command", "handle_case_event"),
    Subscription("petitions", "case.transitioned", "command", "handle_case_transitioned"),
]
