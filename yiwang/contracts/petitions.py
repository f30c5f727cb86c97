"""Contracts of the petitions service: its events, its RPC, its subscriptions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from yiwang.contracts.base import Payload, Source
from yiwang.contracts.envelope import event_contract
from yiwang.contracts.rpc import rpc_contract
from yiwang.topology import Subscription


@event_contract("case.created", 1)
class CaseCreatedV1(Payload):
    """A case opened by the petitions service (from any source)."""

    case_id: uuid.UUID
    report_id: uuid.UUID | None = None
    seq: int = Field(ge=1, description="per-case sequence of events, for ordering")
    source: Source
    category: str
    title: str = Field(max_length=200)
    grid_code: str
    jurisdiction_code: str
    level: str
    status: str
    lat: float | None = None
    lon: float | None = None
    created_at: datetime
    sla_class: str | None = Field(default=None, description="category's SLA class")
    department: str | None = Field(default=None, description="category's default department")
    attributes: dict[str, str | int | float | bool] = Field(default_factory=dict)
    parent_case_id: uuid.UUID | None = None


@event_contract("case.transitioned", 1)
class CaseTransitionedV1(Payload):
    """One step of a case's lifecycle (accept, dispatch, handle, verify, close, rate, …).

    ``seq`` is the case's version after the step: consumers fold steps per case in ``seq``
    order and ignore anything at or below what they have already applied.
    """

    case_id: uuid.UUID
    seq: int = Field(ge=2)
    action: str = Field(max_length=40)
    status: str = Field(max_length=32)
    previous_status: str = Field(max_length=32)
    actor_id: str = Field(max_length=64)
    actor_role: str = Field(max_length=32)
    at: datetime
    jurisdiction_code: str = Field(pattern=r"^[0-9]{4,18}$")
    category: str
    source: Source
    department: str | None = None
    handler: str | None = None
    note: str = Field(default="", max_length=2000)
    rating: int | None = Field(default=None, ge=1, le=5)
    rework: bool = False
    auto: bool = Field(default=False, description="taken by the system (e.g. auto-evaluated)")


# --- petitions ---------------------------------------------------------------------------


class ReportStatusResponse(Payload):
    report_id: uuid.UUID
    state: Literal["pending", "case_created", "linked_duplicate"]
    case_id: uuid.UUID | None = None
    case_status: str | None = None


@rpc_contract("petitions", "get_report_status", ReportStatusResponse)
class ReportStatusRequest(Payload):
    report_id: uuid.UUID


SUBSCRIPTIONS = [
    Subscription("gateway", "report.submitted", "petitions", "handle_report_submitted"),
    # from the command centre: routing decisions and escalations become case steps
    Subscription("command", "case.routed", "petitions", "handle_case_routed"),
    Subscription("command", "case.escalated", "petitions", "handle_case_escalated"),
]
