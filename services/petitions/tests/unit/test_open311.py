"""Open311 GeoReport v2: service and service request documents, POST form and GET query
parsing (the gateway renders them: gateway/tests/unit/test_open311_documents.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.petitions.domain import open311 as o
from services.petitions.domain.common import public_location
from services.petitions.domain.lifecycle import CaseStatus
from services.petitions.tests.unit.builders import CATALOGUE, T0, case_in, do, new_case
from yiwang.errors import ValidationFailed


def test_service_list_offers_citizen_leaves_only() -> None:
    services = o.service_list(CATALOGUE, "en")
    codes = [s["service_code"] for s in services]
    assert "roads.pothole" in codes and "roads" not in codes
    assert "alerts.emergency_call" not in codes
    pothole = next(s for s in services if s["service_code"] == "roads.pothole")
    assert pothole == {
        "service_code": "roads.pothole",
        "service_name": "Pothole or broken road surface",
        "description": "Pothole or broken road surface",
        "metadata": True,
        "type": "realtime",
        "keywords": "",
        "group": "Roads and traffic",
    }
    fumes = next(s for s in services if s["service_code"] == "environment.cooking_fumes")
    assert fumes["metadata"] is False


def test_service_definition() -> None:
    d = o.service_definition(CATALOGUE.get("environment.noise"), "en")
    assert d["service_code"] == "environment.noise"
    period = d["attributes"][0]
    assert period == {
        "variable": True,
        "code": "period",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": None,
        "order": 1,
        "description": "When does it happen?",
        "values": [
            {"key": "day", "name": "daytime"},
            {"key": "night", "name": "at night (22:00–06:00)"},
        ],
    }
    assert len(d["attributes"]) == 2 and d["attributes"][1]["required"] is False


def test_service_request_open_and_closed() -> None:
    case = case_in(CaseStatus.DISPATCHED)
    req = o.service_request(
        case,
        CATALOGUE.get(case.category),
        lang="en",
        agencies={"transport": "District Transport Bureau"},
        media_url=lambda k: f"https://media.example/{k}",
    )
    assert req["status"] == "open" and req["status_notes"] == "Dispatched to the responsible unit"
    assert req["agency_responsible"] == "District Transport Bureau"
    assert req["requested_datetime"] == "2026-01-05T09:00:00+08:00"
    assert req["expected_datetime"] is not None and req["expected_datetime"].endswith("+08:00")
    assert req["media_url"] is None
    assert "phone" not in str(req) and "13800138000" not in str(req)
    rejected = case_in(CaseStatus.REJECTED)
    r = o.service_request(rejected, CATALOGUE.get(rejected.category), lang="en")
    assert r["status"] == "closed" and r["status_notes"] == "Not accepted: not a public matter"
    fwd = case_in(CaseStatus.FORWARDED)
    assert o.status_notes(fwd, "zh") == "已转交Provincial Highway Bureau"


def test_service_request_shows_no_address_and_the_public_map_location() -> None:
    """Open311 once answered the reporter's address text ("3单元 502室") and coordinates to
    ~1 m, undoing the public map's blurring."""
    case = new_case(lat=28.238912, lon=117.033949, address="幸福小区3单元 502室")
    assert case.address == "幸福小区3单元 502室"
    req = o.service_request(case, CATALOGUE.get(case.category))
    assert req["address"] is None and "502" not in str(req)
    assert (req["lat"], req["long"]) == public_location(28.238912, 117.033949) == (28.239, 117.034)


def test_service_request_closed_fields() -> None:
    case = case_in(CaseStatus.CLOSED)
    req = o.service_request(case, CATALOGUE.get(case.category))
    assert req["status"] == "closed" and "zipcode" in req and req["zipcode"] is None
    assert list(req)[:3] == ["service_request_id", "status", "status_notes"]


FORM = [
    ("api_key", "k"),
    ("service_code", "environment.noise"),
    ("lat", "28.2389"),
    ("long", "117.0339"),
    ("attribute[period]", "night"),
    ("attribute[source]", "business"),
    ("email", "li@example.com"),
    ("first_name", "Lei"),
    ("description", "KTV till 3am"),
]


def test_parse_post_form_ok() -> None:
    sub = o.parse_post_form(FORM, CATALOGUE, jurisdiction_id="3606")
    assert sub.attributes == {"period": "night", "source": "business"}
    assert (sub.lat, sub.lon, sub.email, sub.anonymous) == (
        28.2389,
        117.0339,
        "li@example.com",
        False,
    )
    assert sub.contact_name == "Lei"
    addr = o.parse_post_form(
        {"service_code": "environment.cooking_fumes", "address_string": "Yuehu Road 12"}, CATALOGUE
    )
    assert addr.lat is None and addr.anonymous and addr.description == "餐饮油烟"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"service_code": ""}, "service_code_required"),
        ({"service_code": "roads"}, "invalid_service_code"),
        ({"service_code": "alerts.emergency_call"}, "invalid_service_code"),
        ({"lat": "", "long": ""}, "location_required"),
        ({"long": ""}, "invalid_lat_long"),
        ({"lat": "123"}, "invalid_lat_long"),
        ({"lat": "28.2_389"}, "invalid_lat_long"),  # Python's float() reads it as 28.2389
        ({"lat": "２８.２３８９"}, "invalid_lat_long"),  # full-width digits
        ({"long": "nan"}, "invalid_lat_long"),
        ({"attribute[period]": "dawn"}, "invalid_attribute"),
        ({"attribute[period]": ""}, "missing_attribute"),
        ({"attribute[colour]": "red"}, "unknown_attribute"),
        ({"email": "not-an-email"}, "invalid_email"),
        ({"phone": "call me"}, "invalid_phone"),
        ({"media_url": "ftp://x"}, "invalid_media_url"),
        ({"description": "x" * 2001}, "description_too_long"),
        ({"jurisdiction_id": "9999"}, "invalid_jurisdiction_id"),
    ],
)
def test_parse_post_form_errors(change: dict[str, str], code: str) -> None:
    form = dict(FORM)
    form.update(change)
    with pytest.raises(ValidationFailed) as exc:
        o.parse_post_form(form, CATALOGUE, jurisdiction_id="3606")
    assert exc.value.code == code
    assert exc.value.status == 400


def test_multivaluelist_form_fields() -> None:
    from services.petitions.domain.categories import (
        AttributeSpec,
        AttributeValue,
        Category,
        CategoryCatalogue,
        Datatype,
    )

    cat = CategoryCatalogue.of(
        [
            Category("trees", "树木", "Trees", "greening", "standard_3d"),
            Category(
                "trees.damage",
                "树木损坏",
                "Damaged tree",
                "greening",
                "standard_3d",
                attributes=(
                    AttributeSpec(
                        "parts",
                        Datatype.MULTIVALUELIST,
                        "Which parts",
                        "部位",
                        values=(
                            AttributeValue("trunk", "trunk", "树干"),
                            AttributeValue("branch", "branch", "树枝"),
                        ),
                    ),
                ),
            ),
        ]
    )
    form = [
        ("service_code", "trees.damage"),
        ("address_id", "A-1"),
        ("attribute[parts][]", "branch"),
        ("attribute[parts][]", "trunk"),
    ]
    assert o.parse_post_form(form, cat).attributes == {"parts": ["trunk", "branch"]}


def test_request_query() -> None:
    now = T0
    q = o.parse_request_query({}, now)
    assert (q.start, q.end) == (now - timedelta(days=90), now)
    q = o.parse_request_query({"service_request_id": "a,b", "status": "bogus"}, now)
    assert q.service_request_ids == ("a", "b")
    q = o.parse_request_query(
        {
            "start_date": "2026-01-01T00:00:00Z",
            "status": "open",
            "service_code": "roads.pothole,roads.streetlight",
        },
        now,
    )
    assert q.start == datetime.fromisoformat("2026-01-01T00:00:00+00:00")
    assert q.service_codes == ("roads.pothole", "roads.streetlight")
    for bad in (
        {"status": "pending"},
        {"start_date": "yesterday"},
        {"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-06-01T00:00:00Z"},
        {"start_date": "2025-02-01T00:00:00Z", "end_date": "2025-01-01T00:00:00Z"},
    ):
        with pytest.raises(ValidationFailed):
            o.parse_request_query(bad, now)


def test_filter_requests() -> None:
    open_case_ = new_case("c-open")
    closed = case_in(CaseStatus.CLOSED)
    q = o.parse_request_query({"status": "closed"}, T0 + timedelta(days=1))
    assert o.filter_requests([open_case_, closed], q) == [closed]
    q = o.parse_request_query({"service_code": "roads.streetlight"}, T0 + timedelta(days=1))
    assert o.filter_requests([open_case_, closed], q) == []
    q = o.parse_request_query({"service_request_id": "c-open"}, T0)
    assert o.filter_requests([open_case_, closed], q) == [open_case_]
    do(open_case_, "accept")
    assert o.service_request(open_case_, CATALOGUE.get(open_case_.category))["status"] == "open"
