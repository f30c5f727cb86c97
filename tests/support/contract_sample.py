"""A minimal valid instance of a contract model, for recording fakes of the services.

The gateway's routes return the typed RPC reply and FastAPI checks it against the declared
response model, so a fake service must answer in the contract's shape: ``contract_reply``
fills what a fake's answer leaves out with plain values that satisfy the model.
"""

from __future__ import annotations

import types
import typing
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from annotated_types import Ge, Gt, MinLen
from pydantic import BaseModel, ValidationError

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _lower_bound(metadata: list[Any]) -> int | None:
    for m in metadata:
        if isinstance(m, Ge):
            return int(m.ge)  # type: ignore[call-overload]
        if isinstance(m, Gt):
            return int(m.gt) + 1  # type: ignore[call-overload]
    return None


def _min_len(metadata: list[Any]) -> int:
    for m in metadata:
        if isinstance(m, MinLen):
            return int(m.min_length)
    return 0


def sample_value(annotation: Any, metadata: list[Any] | None = None) -> Any:
    metadata = metadata or []
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return sample_value(args[0], [*metadata, *args[1:]])
    if origin in (typing.Union, types.UnionType):
        if type(None) in args:
            return None
        return sample_value(args[0], metadata)
    if origin is Literal:
        return args[0]
    if origin in (list, set, tuple, frozenset):
        n = _min_len(metadata)
        return [sample_value(args[0]) for _ in range(n)] if args else []
    if origin is dict:
        return {}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return sample(annotation)
    if annotation is bool:
        return False
    if annotation is int:
        low = _lower_bound(metadata)
        return 1 if low is None else max(low, 0)
    if annotation is float:
        low = _lower_bound(metadata)
        return 0.0 if low is None else float(max(low, 0))
    if annotation is uuid.UUID:
        return str(uuid.UUID(int=1))
    if annotation is Decimal:
        return "1"
    if annotation is datetime:
        return NOW.isoformat()
    if annotation is date:
        return NOW.date().isoformat()
    if annotation is str:
        return "x" * max(_min_len(metadata), 2)
    return None


def sample(model: type[BaseModel]) -> dict[str, Any]:
    """Values for every required field of ``model`` (the optional ones keep their defaults)."""
    return {
        name: sample_value(info.annotation, list(info.metadata))
        for name, info in model.model_fields.items()
        if info.is_required()
    }


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                return arg
    return None


def contract_reply(model: type[BaseModel], answer: Any) -> BaseModel:
    """``answer`` (a fake's dict) completed to a valid ``model``; its invalid keys dropped.
    A nested object the fake gives in part is completed the same way."""
    if isinstance(answer, model):
        return answer
    given = (
        {k: v for k, v in answer.items() if k in model.model_fields}
        if isinstance(answer, dict)
        else {}
    )
    for key, value in list(given.items()):
        nested = _nested_model(model.model_fields[key].annotation)
        if nested is not None and isinstance(value, dict):
            given[key] = contract_reply(nested, value).model_dump(mode="json")
    for _ in range(len(given) + 1):
        try:
            return model.model_validate({**sample(model), **given})
        except ValidationError as exc:
            bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
            if not bad & set(given):
                raise
            given = {k: v for k, v in given.items() if k not in bad}
    return model.model_validate(sample(model))


class TypedReplies:
    """Mixin for test doubles of the RPC client that define ``call``: adds ``call_typed``
    (the answer as the contract's response model, completed where a fake leaves gaps)."""

    async def call_typed(
        self, service: str, method: str, timeout_s: float | None = None, **kwargs: Any
    ) -> BaseModel:
        from yiwang.contracts.rpc import get_rpc_contract

        answer = await self.call(service, method, **kwargs)  # type: ignore[attr-defined]
        return contract_reply(get_rpc_contract(service, method).response, answer)
