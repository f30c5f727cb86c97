"""The event envelope and the registry of event schemas.

Every event travels as JSON of ``Envelope``: id, type, version, occurred_at, producer,
jurisdiction code, trace context and a payload validated against the schema registered
for (type, version). Producers validate before writing the outbox; consumers validate
before handling; a message that fails is dead-lettered with the reason.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_MESSAGE_BYTES = 256 * 1024


class ContractViolation(Exception):
    """A message that does not satisfy its contract; ``reason`` is machine-readable."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: uuid.UUID
    type: str
    version: int = Field(ge=1)
    occurred_at: datetime
    producer: str
    jurisdiction_code: str = ""
    trace: dict[str, str] = Field(default_factory=dict)
    payload: dict[str, Any]


M = TypeVar("M", bound=type[BaseModel])


class Registry:
    def __init__(self) -> None:
        self._schemas: dict[tuple[str, int], type[BaseModel]] = {}
        self._by_model: dict[type[BaseModel], tuple[str, int]] = {}

    def register(self, event_type: str, version: int) -> Callable[[M], M]:
        def wrap(model: M) -> M:
            key = (event_type, version)
            if key in self._schemas:
                raise ValueError(f"contract {key} registered twice")
            self._schemas[key] = model
            self._by_model[model] = key
            return model

        return wrap

    def key_of(self, model: BaseModel) -> tuple[str, int]:
        try:
            return self._by_model[type(model)]
        except KeyError as exc:
            raise ContractViolation("unregistered_model", type(model).__name__) from exc

    def schema(self, event_type: str, version: int) -> type[BaseModel]:
        try:
            return self._schemas[(event_type, version)]
        except KeyError as exc:
            known = sorted(v for (t, v) in self._schemas if t == event_type)
            if known:
                raise ContractViolation(
                    "unsupported_version", f"{event_type} v{version}; supported {known}"
                ) from exc
            raise ContractViolation("unknown_event_type", event_type) from exc

    def types(self) -> list[tuple[str, int]]:
        return sorted(self._schemas)


registry = Registry()
event_contract = registry.register


def new_envelope(
    payload: BaseModel,
    *,
    producer: str,
    jurisdiction_code: str = "",
    trace: dict[str, str] | None = None,
    occurred_at: datetime | None = None,
    event_id: uuid.UUID | None = None,
) -> Envelope:
    """Wrap a registered payload model; re-validates it so nothing invalid is published."""
    event_type, version = registry.key_of(payload)
    schema = registry.schema(event_type, version)
    data = payload.model_dump(mode="json")
    try:
        schema.model_validate(data)
    except ValidationError as exc:
        raise ContractViolation("invalid_payload", str(exc)) from exc
    return Envelope(
        id=event_id or uuid.uuid4(),
        type=event_type,
        version=version,
        occurred_at=occurred_at or datetime.now(UTC),
        producer=producer,
        jurisdiction_code=jurisdiction_code,
        trace=trace or {},
        payload=data,
    )


def parse_envelope(raw: bytes | str | dict[str, Any]) -> tuple[Envelope, BaseModel]:
    """Decode and validate a consumed message; raises ``ContractViolation``."""
    if isinstance(raw, bytes | str):
        if len(raw) > MAX_MESSAGE_BYTES:
            raise ContractViolation("message_too_large", f"{len(raw)} bytes")
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ContractViolation("malformed_json", str(exc)[:200]) from exc
    else:
        data = raw
    if not isinstance(data, dict):
        raise ContractViolation("malformed_envelope", "not an object")
    try:
        env = Envelope.model_validate(data)
    except ValidationError as exc:
        raise ContractViolation("malformed_envelope", str(exc)[:500]) from exc
    schema = registry.schema(env.type, env.version)
    try:
        payload = schema.model_validate(env.payload)
    except ValidationError as exc:
        raise ContractViolation("invalid_payload", str(exc)[:500]) from exc
    return env, payload
