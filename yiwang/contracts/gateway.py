"""Contracts produced by the gateway."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from yiwang.contracts.base import Contact, Payload, Source
from yiwang.contracts.envelope import event_contract


@event_contract("report.submitted", 1)
class ReportSubmittedV1(Payload):
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
