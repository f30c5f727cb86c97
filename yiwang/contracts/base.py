"""Base classes and shared value types for contracts, and the input rules every door
applies (REST, Open311, uploads): no control characters in text, strict numbers."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

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


# --- input hygiene ------------------------------------------------------------------------

# C0 controls other than tab, LF and CR; DEL and C1; U+FFFE/U+FFFF; lone surrogates. None of
# them belongs in citizen text, PostgreSQL cannot store NUL, XML 1.0 cannot carry C0.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
# Strict numbers as text: ASCII digits only; no underscores (Python's float("32.0_1") is
# 32.01), no full-width digits, no spaces, no sign "+", no nan/inf, no hex.
STRICT_INT_TEXT = re.compile(r"-?[0-9]{1,18}")
STRICT_FLOAT_TEXT = re.compile(r"-?[0-9]{1,18}(\.[0-9]{1,18})?([eE][+-]?[0-9]{1,3})?")


def has_control_characters(text: str) -> bool:
    return CONTROL_CHARACTERS.search(text) is not None


def strict_number_text(text: str, *, integer: bool = False) -> bool:
    """Whether ``text`` is a number written plainly (what :func:`strict_float` accepts)."""
    return (STRICT_INT_TEXT if integer else STRICT_FLOAT_TEXT).fullmatch(text) is not None


def strict_float(value: Any) -> float:
    """A finite float from a JSON number or a plainly written decimal; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("a number is required, not a boolean")
    if isinstance(value, str):
        if not strict_number_text(value):
            raise ValueError("a plain decimal number is required (ASCII digits, no '_')")
        value = float(value)
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("a finite number is required")
    return float(value)


def strict_int(value: Any) -> int:
    """An int from a JSON integer or plainly written digits; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("an integer is required, not a boolean")
    if isinstance(value, str):
        if not strict_number_text(value, integer=True):
            raise ValueError("a plain integer is required (ASCII digits, no '_')")
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, int):
        raise ValueError("an integer is required")
    return value


def _clean_text(value: Any) -> Any:
    if isinstance(value, str) and has_control_characters(value):
        raise ValueError("text must not contain control characters")
    return value


StrictFloat = Annotated[float, BeforeValidator(strict_float)]
StrictInt = Annotated[int, BeforeValidator(strict_int)]
Latitude = Annotated[
    float, Field(ge=-90, le=90, description="degrees north (WGS 84)"), BeforeValidator(strict_float)
]
Longitude = Annotated[
    float,
    Field(ge=-180, le=180, description="degrees east (WGS 84)"),
    BeforeValidator(strict_float),
]
CleanText = Annotated[str, BeforeValidator(_clean_text)]
