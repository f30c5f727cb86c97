import json
from typing import Any

import pytest
from shapely.geometry import Polygon, box, mapping

from services.grids.domain.geo import (
    area_m2,
    import_feature_collection,
    to_feature_collection,
    validate_feature_collection,
)
from yiwang.errors import ValidationFailed

COMMUNITY = "329901001001"
LON0, LAT0 = 118.80, 32.00
D = 0.01  # ~ 940 m x 1100 m


def feat(code: str, geom: Any, name: str = "单元", level: str | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"code": code, "name": name}
    if level is not None:
        props["level"] = level
    g = mapping(geom) if not isinstance(geom, dict) else geom
    return {"type": "Feature", "properties": props, "geometry": g}


def fc(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def community() -> Polygon:
    return box(LON0, LAT0, LON0 + 2 * D, LAT0 + D)


def left() -> Polygon:
    return box(LON0, LAT0, LON0 + D, LAT0 + D)


def right() -> Polygon:
    return box(LON0 + D, LAT0, LON0 + 2 * D, LAT0 + D)


def good() -> dict[str, Any]:
    return fc(
        feat(COMMUNITY, community(), "东湖社区", "community"),
        feat(COMMUNITY + "001", left(), "第1网格", "grid"),
        feat(COMMUNITY + "002", right(), "第2网格", "grid"),
    )


def test_area_m2_is_close_to_true_area() -> None:
    # 0.01° x 0.01° at 32°N ≈ 1113 m * cos(32°) x 1106 m ≈ 1.044e6 m²
    assert area_m2(box(LON0, LAT0, LON0 + D, LAT0 + D)) == pytest.approx(1.044e6, rel=0.01)


def test_good_collection_imports_and_round_trips() -> None:
    boundaries = import_feature_collection(good())
    assert sorted(boundaries) == [COMMUNITY, COMMUNITY + "001", COMMUNITY + "002"]
    out = to_feature_collection(boundaries.values())
    again = import_feature_collection(json.loads(json.dumps(out)))
    for code, b in boundaries.items():
        assert again[code].geometry.equals(b.geometry)
        assert again[code].name == b.name
    assert out["features"][0]["properties"] == {
        "code": COMMUNITY,
        "name": "东湖社区",
        "level": "community",
    }


def test_self_intersection_reported_with_area() -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[LON0, LAT0], [LON0 + D, LAT0 + D], [LON0 + D, LAT0], [LON0, LAT0 + D], [LON0, LAT0]]
        ],
    }
    report = validate_feature_collection(fc(feat(COMMUNITY + "001", bowtie)))
    [p] = report.problems
    assert (p.code, p.kind) == (COMMUNITY + "001", "invalid_geometry")
    assert "Self-intersection" in p.detail
    assert COMMUNITY + "001" not in report.boundaries


def test_grid_outside_parent() -> None:
    shifted = box(LON0 + D, LAT0 + 0.002, LON0 + 2 * D, LAT0 + D + 0.002)  # 0.002° above
    report = validate_feature_collection(
        fc(
            feat(COMMUNITY, community()),
            feat(COMMUNITY + "001", left()),
            feat(COMMUNITY + "002", shifted),
        )
    )
    outside = [p for p in report.problems if p.kind == "outside_parent"]
    assert [p.code for p in outside] == [COMMUNITY + "002"]
    expected = area_m2(box(LON0 + D, LAT0 + D, LON0 + 2 * D, LAT0 + D + 0.002))
    assert outside[0].area_m2 == pytest.approx(expected, rel=0.01)
    # the strip left uncovered at the bottom is a gap of the community
    gaps = [p for p in report.problems if p.kind == "gap"]
    assert [p.code for p in gaps] == [COMMUNITY]
    assert gaps[0].area_m2 == pytest.approx(expected, rel=0.01)


def test_parent_from_existing_boundaries() -> None:
    far = box(LON0 + 5 * D, LAT0, LON0 + 6 * D, LAT0 + D)
    report = validate_feature_collection(
        fc(feat(COMMUNITY + "001", far)), existing={COMMUNITY: community()}
    )
    assert report.kinds() == {"outside_parent"}


def test_overlap_between_siblings() -> None:
    wide_left = box(LON0, LAT0, LON0 + D + 0.001, LAT0 + D)
    report = validate_feature_collection(
        fc(
            feat(COMMUNITY, community()),
            feat(COMMUNITY + "001", wide_left),
            feat(COMMUNITY + "002", right()),
        )
    )
    [p] = report.problems
    assert (p.code, p.kind, p.other) == (COMMUNITY + "001", "overlap", COMMUNITY + "002")
    assert p.area_m2 == pytest.approx(area_m2(box(0, LAT0, 0.001, LAT0 + D)), rel=0.01)


def test_tiny_slivers_are_tolerated() -> None:
    eps = 1e-9  # about 0.1 mm
    report = validate_feature_collection(
        fc(
            feat(COMMUNITY, community()),
            feat(COMMUNITY + "001", box(LON0, LAT0, LON0 + D + eps, LAT0 + D)),
            feat(COMMUNITY + "002", box(LON0 + D, LAT0, LON0 + 2 * D - eps, LAT0 + D)),
        )
    )
    assert report.ok, report.problems


def test_gap_in_coverage() -> None:
    report = validate_feature_collection(
        fc(feat(COMMUNITY, community()), feat(COMMUNITY + "001", left()))
    )
    [p] = report.problems
    assert (p.code, p.kind) == (COMMUNITY, "gap")
    assert p.area_m2 == pytest.approx(area_m2(right()), rel=0.001)


def test_hole_counts_as_gap_only_when_children_leave_it() -> None:
    lake = box(LON0 + 0.002, LAT0 + 0.002, LON0 + 0.004, LAT0 + 0.004)
    holed_parent = community().difference(lake)
    holed_left = left().difference(lake)
    report = validate_feature_collection(
        fc(
            feat(COMMUNITY, holed_parent),
            feat(COMMUNITY + "001", holed_left),
            feat(COMMUNITY + "002", right()),
        )
    )
    assert report.ok, report.problems


@pytest.mark.parametrize(
    ("bad", "kind"),
    [
        (feat("32990100100", left()), "invalid_code"),
        (feat(COMMUNITY + "001", left(), level="street"), "level_mismatch"),
        (feat(COMMUNITY + "001", {"type": "Point", "coordinates": [LON0, LAT0]}), "not_polygon"),
        (feat(COMMUNITY + "001", box(200, 10, 201, 11)), "coordinates_out_of_range"),
        (feat(COMMUNITY + "001", {"type": "Polygon", "coordinates": "x"}), "malformed"),
        ({"type": "Feature", "geometry": None}, "malformed"),
    ],
)
def test_feature_level_errors(bad: dict[str, Any], kind: str) -> None:
    report = validate_feature_collection(fc(bad))
    assert kind in report.kinds()


def test_duplicate_and_unknown_parent() -> None:
    report = validate_feature_collection(
        fc(feat(COMMUNITY + "001", left()), feat(COMMUNITY + "001", left())),
        known_codes={"3299"},
    )
    assert report.kinds() == {"duplicate_code", "unknown_parent"}


@pytest.mark.parametrize("doc", ["{not json", {"type": "Feature"}, {"type": "FeatureCollection"}])
def test_malformed_documents(doc: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        import_feature_collection(doc)
    assert exc.value.code == "geojson_invalid"
    assert exc.value.details["problems"][0]["kind"] == "malformed"


def test_import_refused_as_a_whole_with_every_problem() -> None:
    doc = fc(
        feat(COMMUNITY, community()),
        feat(COMMUNITY + "001", box(LON0, LAT0, LON0 + D + 0.001, LAT0 + D)),
        feat(COMMUNITY + "002", right()),
        feat(COMMUNITY + "003", box(LON0 + 5 * D, LAT0, LON0 + 6 * D, LAT0 + D)),
    )
    with pytest.raises(ValidationFailed) as exc:
        import_feature_collection(doc)
    kinds = {(p["code"], p["kind"]) for p in exc.value.details["problems"]}
    assert kinds == {
        (COMMUNITY + "001", "overlap"),
        (COMMUNITY + "003", "outside_parent"),
    }
    assert exc.value.status == 422
