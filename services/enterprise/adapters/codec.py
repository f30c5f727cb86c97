"""Domain dataclasses ⇄ JSON (the ``state`` column), driven by their type hints.

Datetimes and dates are ISO 8601, decimals strings, enums their values, sets sorted lists,
tuples lists; decoding rebuilds the exact types from the dataclass annotations.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")


def encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, frozenset | set):
        return sorted(encode(v) for v in value)
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(tp: Any, data: Any) -> Any:
    """Rebuild a value of type ``tp`` from ``encode``'s output."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return decode(args[0], data)
    if data is None:
        return None
    if origin is not None:
        targs = typing.get_args(tp)
        if origin in (frozenset, set):
            return origin(decode(targs[0], v) for v in data)
        if origin is tuple:
            return tuple(decode(targs[0], v) for v in data)
        if origin is list:
            return [decode(targs[0], v) for v in data]
        if origin is dict:
            return {k: decode(targs[1], v) for k, v in data.items()}
        return data
    if tp is Any:
        return data
    if isinstance(tp, type):
        if dataclasses.is_dataclass(tp):
            hints = _hints(tp)
            return tp(**{k: decode(hints[k], v) for k, v in data.items() if k in hints})
        if issubclass(tp, Enum):
            return tp(data)
        if tp is datetime:
            return datetime.fromisoformat(data)
        if tp is date:
            return date.fromisoformat(data)
        if tp is Decimal:
            return Decimal(str(data))
        if tp is float:
            return float(data)
    return data


def load(cls: type[T], data: dict[str, Any]) -> T:
    obj: T = decode(cls, data)
    return obj
