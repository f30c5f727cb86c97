"""A unit's level: any string is either a known level or a ValidationFailed (422), never an
unexpected exception (found by the OpenAPI fuzz run: POST /api/v1/grids/units with an
unknown level answered 502)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.grids.domain.units import validate_code
from yiwang.errors import ValidationFailed
from yiwang.jurisdiction import Level

GRID = "329901001001001"


@given(st.text(max_size=12))
def test_any_level_is_known_or_refused(level: str) -> None:
    try:
        assert validate_code(GRID, level) == Level.GRID
    except ValidationFailed as exc:
        assert exc.code in {"invalid_level", "code_level_mismatch"}


def test_unknown_level_is_refused_with_its_own_code() -> None:
    with pytest.raises(ValidationFailed) as err:
        validate_code(GRID, "\U00044e61\x7fa")
    assert err.value.code == "invalid_level"


def test_known_levels() -> None:
    assert validate_code(GRID, "grid") == Level.GRID
    with pytest.raises(ValidationFailed) as err:
        validate_code(GRID, "street")
    assert err.value.code == "code_level_mismatch"
