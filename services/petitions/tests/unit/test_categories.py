"""The catalogue: the default tree, attribute validation, management."""

from __future__ import annotations

import pytest

from services.petitions.domain.categories import (
    AttributeSpec,
    Category,
    Datatype,
    HandlingLevel,
    validate_attributes,
)
from services.petitions.domain.default_categories import default_catalogue
from services.petitions.domain.sla import DEFAULT_SLA_CLASSES
from yiwang.errors import Conflict, NotFound, ValidationFailed


def test_default_tree() -> None:
    cat = default_catalogue()
    leaves = cat.leaves()
    assert 28 <= len(leaves) <= 40
    assert {c.code.split(".")[0] for c in leaves} >= {
        "appearance",
        "roads",
        "environment",
        "public_safety",
        "disputes",
        "property",
        "utilities",
        "social",
        "alerts",
    }
    for leaf in leaves:
        assert leaf.sla_class in DEFAULT_SLA_CLASSES and leaf.department
        assert leaf.parent is not None and cat.is_group(leaf.parent)
    community = [c for c in leaves if c.handling_level is HandlingLevel.COMMUNITY]
    assert community and all(
        c.sla_class in ("quick_1d", "slow_2d", "urgent_2h", "complex_7d") for c in community
    )
    assert cat.sla("roads.manhole_cover").code == "urgent_2h"
    assert not cat.get("alerts.elderly_no_water").citizen_selectable
    assert not cat.get("disputes.family").public


def test_reportable() -> None:
    cat = default_catalogue()
    with pytest.raises(ValidationFailed):
        cat.reportable("roads")
    with pytest.raises(ValidationFailed):
        cat.reportable("alerts.emergency_call")
    assert cat.reportable("alerts.emergency_call", by_citizen=False).code == "alerts.emergency_call"
    with pytest.raises(NotFound):
        cat.reportable("roads.unicorns")


def test_attribute_validation() -> None:
    cat = default_catalogue()
    elevator = cat.get("property.elevator")
    assert validate_attributes(elevator, {"building": " 3-2 ", "trapped": "yes"}) == {
        "building": "3-2",
        "trapped": "yes",
    }
    for attrs, code in [
        ({"trapped": "yes"}, "missing_attribute"),
        ({"building": "3", "trapped": "maybe"}, "invalid_attribute"),
        ({"building": "3", "trapped": "yes", "colour": 1}, "unknown_attribute"),
        ({"building": "x" * 201, "trapped": "no"}, "invalid_attribute"),
    ]:
        with pytest.raises(ValidationFailed) as exc:
            validate_attributes(elevator, dict(attrs))  # type: ignore[call-overload]
        assert exc.value.code == code
    wages = cat.get("disputes.wage_arrears")
    assert validate_attributes(wages, {"employer": "ACME", "workers": "12"})["workers"] == 12
    with pytest.raises(ValidationFailed):
        validate_attributes(wages, {"employer": "ACME", "workers": "many"})
    with pytest.raises(ValidationFailed):
        validate_attributes(wages, {"employer": "ACME", "workers": True})


def test_datetime_attribute_needs_offset() -> None:
    c = Category(
        "x",
        "x",
        "x",
        "d",
        "quick_1d",
        attributes=(AttributeSpec("when", Datatype.DATETIME, "when", "时间", True),),
    )
    assert validate_attributes(c, {"when": "2026-01-05T09:00:00+08:00"})["when"].endswith("+08:00")
    with pytest.raises(ValidationFailed):
        validate_attributes(c, {"when": "2026-01-05T09:00:00"})


def test_management() -> None:
    cat = default_catalogue()
    new = Category("roads.bridge_crack", "桥梁裂缝", "Bridge crack", "transport", "complex_7d")
    cat.add(new)
    with pytest.raises(Conflict):
        cat.add(new)
    with pytest.raises(ValidationFailed):
        cat.add(Category("nowhere.x", "x", "x", "d", "quick_1d"))
    with pytest.raises(ValidationFailed):
        cat.add(Category("Bad Code", "x", "x", "d", "quick_1d"))
    with pytest.raises(NotFound):
        cat.add(Category("roads.y", "y", "y", "d", "five_minutes"))
    with pytest.raises(ValidationFailed):
        cat.add(
            Category(
                "roads.z",
                "z",
                "z",
                "d",
                "quick_1d",
                attributes=(AttributeSpec("a", Datatype.SINGLEVALUELIST, "a", "a"),),
            )
        )
    assert cat.update("roads.bridge_crack", sla_class="urgent_2h").sla_class == "urgent_2h"
    with pytest.raises(ValidationFailed):
        cat.update("roads.bridge_crack", code="roads.other")
    cat.deactivate("roads")
    assert all(not c.active for c in cat.categories.values() if c.code.startswith("roads"))
    with pytest.raises(ValidationFailed):
        cat.reportable("roads.pothole")


@pytest.mark.parametrize("lax", ["1_0", "１０", " 10", "nan", "inf", True])
def test_number_attributes_are_strict(lax: object) -> None:
    """float() reads "1_0" as 10 and "１０" (full-width) as 10; the intake must not."""
    cat = default_catalogue().get("disputes.wage_arrears")
    assert validate_attributes(cat, {"employer": "某公司", "workers": "10"})["workers"] == 10
    with pytest.raises(ValidationFailed):
        validate_attributes(cat, {"employer": "某公司", "workers": lax})
