"""The shared input rules (yiwang.contracts.base) every door applies: strict numbers and
no control characters."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from yiwang.contracts.base import (
    CleanText,
    Latitude,
    StrictInt,
    has_control_characters,
    strict_float,
    strict_int,
)


class Point(BaseModel):
    lat: Latitude
    n: StrictInt = 0
    note: CleanText = ""


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False))
def test_plain_decimals_read_as_float_reads_them(x: float) -> None:
    text = f"{x:.6f}"
    assert strict_float(text) == float(text)


@given(st.text(min_size=1, max_size=12))
def test_anything_with_underscores_or_non_ascii_digits_is_refused(text: str) -> None:
    if "_" in text or any(c.isdigit() and not c.isascii() for c in text) or text != text.strip():
        with pytest.raises(ValueError):
            strict_float(text)


@pytest.mark.parametrize(
    "bad",
    [
        "32.0_1",
        "３２.０１",
        " 32",
        "32 ",
        "+32",
        "nan",
        "inf",
        "-inf",
        "0x20",
        "1_0",
        "",
        "٣٢",
        True,
        float("nan"),
        float("inf"),
    ],
)
def test_lax_numbers_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        strict_float(bad)
    with pytest.raises(ValidationError):
        Point(lat=bad)  # type: ignore[arg-type]


def test_json_numbers_and_plain_text_pass() -> None:
    assert Point(lat=32.05).lat == 32.05
    assert Point(lat="32.05", n="7").n == 7  # type: ignore[arg-type]
    assert strict_float("-1.5e2") == -150.0 and math.isfinite(strict_float(0))
    assert strict_int("12") == 12 and strict_int(3.0) == 3
    for bad in ("1_0", "１０", "1.5", True, 1.5):
        with pytest.raises(ValueError):
            strict_int(bad)
    with pytest.raises(ValidationError):
        Point(lat=91)


def test_control_characters() -> None:
    for bad in ("\x00", "a\x0bb", "\x1b[31m", "\x7f", "\x85", "\ufffe", "\ud800"):
        assert has_control_characters(bad), repr(bad)
        with pytest.raises(ValidationError):
            Point(lat=1, note=bad)
    for fine in ("井盖缺失", "tab\tnew\nline\r", "emoji 🚧", ""):
        assert not has_control_characters(fine)
