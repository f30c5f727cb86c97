"""Base classes and shared value types for contracts."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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


class Payload(BaseModel):
    """Base for event payloads and RPC requests/responses: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class Contact(Payload):
    name: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=120)
