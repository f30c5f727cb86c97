"""Money amounts: any input is either a valid amount or a ValidationFailed (422), never
an unexpected exception (found by the OpenAPI fuzz run: 1.8e307 yuan answered 502)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.enterprise.domain.common import MAX_AMOUNT, require_positive_amount
from yiwang.errors import ValidationFailed


@given(
    st.one_of(
        st.decimals(allow_nan=True, allow_infinity=True),
        st.floats(),
        st.integers(),
        st.text(max_size=20),
    )
)
def test_any_input_is_an_amount_or_a_validation_failure(value: object) -> None:
    try:
        amount = require_positive_amount(value, "amount")  # type: ignore[arg-type]
    except ValidationFailed as exc:
        assert exc.code == "invalid_amount"
        return
    assert 0 < amount <= MAX_AMOUNT
    assert amount == amount.quantize(Decimal("0.01"))


@pytest.mark.parametrize("value", [1.821834604745125e307, "1e29", MAX_AMOUNT + Decimal("0.01")])
def test_huge_amounts_are_refused(value: object) -> None:
    with pytest.raises(ValidationFailed):
        require_positive_amount(value, "amount")  # type: ignore[arg-type]


def test_the_largest_amount_is_accepted() -> None:
    assert require_positive_amount(MAX_AMOUNT, "amount") == MAX_AMOUNT
    assert require_positive_amount("500000.50", "amount") == Decimal("500000.50")
