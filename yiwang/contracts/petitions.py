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
]
