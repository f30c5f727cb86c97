"""The helpers every domain shares: aware instants, bounded text, great-circle distance."""

from __future__ import annotations

from datetime import datetime

import pytest

from yiwang.clock import SHANGHAI, require_aware
from yiwang.errors import ValidationFailed
from yiwang.geo import haversine_m
from yiwang.text import limit_text, require_text


def test_require_aware_refuses_naive_instants() -> None:
    aware = datetime(2026, 5, 1, 9, 0, tzinfo=SHANGHAI)
    assert require_aware(aware) is aware
    with pytest.raises(ValidationFailed) as err:
        require_aware(datetime(2026, 5, 1, 9, 0), "deadline")  # noqa: DTZ001 - the naive case
    assert err.value.code == "naive_datetime" and "deadline" in err.value.message_en


def test_require_text_strips_and_bounds() -> None:
    assert require_text("  路灯不亮 ", "title") == "路灯不亮"
    for blank in ("", "   ", None):
        with pytest.raises(ValidationFailed) as err:
            require_text(blank, "title")
        assert err.value.code == "required"
    with pytest.raises(ValidationFailed) as err:
        require_text("x" * 11, "title", max_len=10)
    assert err.value.code == "too_long"
    assert limit_text(" " + "x" * 10 + " ", "note", max_len=10) == "x" * 10


def test_haversine_m() -> None:
    assert haversine_m(30.0, 120.0, 30.0, 120.0) == 0.0
    # one degree of latitude is about 111.2 km; symmetric
    assert haversine_m(30.0, 120.0, 31.0, 120.0) == pytest.approx(111_195, rel=1e-3)
    assert haversine_m(31.0, 120.0, 30.0, 120.0) == haversine_m(30.0, 120.0, 31.0, 120.0)
    # antipodes: half the circumference, no domain error from rounding
    assert haversine_m(0.0, 0.0, 0.0, 180.0) == pytest.approx(20_015_115, rel=1e-3)
