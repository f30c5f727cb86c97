"""``locate_many_v2``: the packed request and the columnar answer, checked both sides."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from yiwang.contracts.grids import (
    MAX_LOCATE_POINTS,
    LocateManyV2Request,
    LocateManyV2Response,
    grid_codes_of,
    pack_points,
)
from yiwang.contracts.rpc import get_rpc_contract

coords = st.lists(
    st.tuples(st.floats(allow_nan=True, width=64), st.floats(allow_nan=True, width=64)),
    max_size=50,
)


@given(coords)
def test_points_round_trip_bit_for_bit(points: list[tuple[float, float]]) -> None:
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    wire = LocateManyV2Request(points=pack_points(lats, lons)).model_dump(mode="json")
    again_lats, again_lons = LocateManyV2Request.model_validate(wire).coordinates()
    same = [
        (math.isnan(a) and math.isnan(b)) or a == b
        for a, b in zip([*lats, *lons], [*again_lats, *again_lons], strict=True)
    ]
    assert all(same) and len(again_lats) == len(lats)


def test_request_refuses_ragged_or_too_many_points() -> None:
    assert get_rpc_contract("grids", "locate_many_v2").request is LocateManyV2Request
    with pytest.raises(ValidationError, match="whole"):
        LocateManyV2Request.model_validate({"points": "AAAAAAAAAAA="})  # 8 bytes
    with pytest.raises(ValidationError, match="at most"):
        LocateManyV2Request.model_validate(
            {
                "points": pack_points(
                    [0.0] * (MAX_LOCATE_POINTS + 1), [0.0] * (MAX_LOCATE_POINTS + 1)
                )
            }
        )
    with pytest.raises(ValueError):
        pack_points([1.0, 2.0], [1.0])


def test_response_index_must_point_into_grids() -> None:
    ok = {"grids": ["329901001001001"], "index": [0, -1], "inside": 1, "outside": 1}
    assert grid_codes_of(LocateManyV2Response.model_validate(ok).model_dump()) == [
        "329901001001001",
        None,
    ]
    for bad in ({"index": [1, -1]}, {"index": [0, -2]}, {"inside": 2}):
        with pytest.raises(ValidationError):
            LocateManyV2Response.model_validate({**ok, **bad})
