"""Event schemas, one class per (type, version). Past-tense names.

Add a new version as a new class; never change a published schema in place.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from yiwang.contracts.envelope import event_contract

Source = Literal[
    "citizen",
    "open311",
    "patrol",
    "sensor",
    "hotline",
    "suggestion_box",
    "enterprise",
    "volunteer_order",
    "agency",
]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Contact(_Payload):
    name: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=120)


@event_contract("report.submitted", 1)
class ReportSubmittedV1(_Payload):
    """A citizen (or app) report accepted by the gateway, already located to a grid."""

    report_id: uuid.UUID
    source: Source
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=2000)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    grid_code: str = Field(pattern=r"^[0-9]{15}$")
    address: str | None = Field(default=None, max_length=200)
    attributes: dict[str, Any] = Field(default_factory=dict)
    media: list[str] = Field(default_factory=list, max_length=9)
    contact: Contact | None = None
    anonymous: bool = False
    account_id: str | None = None
    submitted_at: datetime


@event_contract("case.created", 1)
class CaseCreatedV1(_Payload):
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
