"""Open311 GeoReport v2: JSON documents, XML shapes, POST form and GET query parsing."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest

from services.petitions.domain import open311 as o
from services.petitions.domain.lifecycle import CaseStatus
from services.petitions.tests.unit.builders import CATALOGUE, T0, case_in, do, new_case
from yiwang.errors import Forbidden, NotFound, ValidationFailed


def test_service_list_offers_citizen_leaves_only() -> None:
    services = o.service_list(CATALOGUE, "en")
    codes = [s["service_code"] for s in services]
    assert "roads.pothole" in codes and "roads" not in codes
    assert "alerts.emergency_call" not in codes
    pothole = next(s for s in services if s["service_code"] == "roads.pothole")
    assert pothole == {
        "service_code": "roads.pothole", "service_name": "Pothole or broken road surface",
        "description": "Pothole or broken road surface", "metadata": True, "type": "realtime",
        "keywords": "", "group": "Roads and traffic",
    }  # fmt: skip
    fumes = next(s for s in services if s["service_code"] == "environment.cooking_fumes")
    assert fumes["metadata"] is False


def test_services_xml_shape() -> None:
    xml = o.to_xml("services", [o.service_list(CATALOGUE, "en")[0]])
    assert xml == (
        '<?xml version="1.0" encoding="utf-8"?>\n<services><service>'
        "<service_code>appearance.construction_waste</service_code>"
        "<service_name>Dumped construction waste</service_name>"
        "<description>Dumped construction waste</description><metadata>true</metadata>"
        "<type>realtime</type><keywords /><group>City appearance</group></service></services>"
    )


def test_service_definition_json_and_xml() -> None:
    d = o.service_definition(CATALOGUE.get("environment.noise"), "en")
    assert d["service_code"] == "environment.noise"
    period = d["attributes"][0]
    assert period == {
        "variable": True, "code": "period", "datatype": "singlevaluelist", "required": True,
        "datatype_description": None, "order": 1, "description": "When does it happen?",
        "values": [{"key": "day", "name": "daytime"},
                   {"key": "night", "name": "at night (22:00–06:00)"}],
    }  # fmt: skip
    root = ET.fromstring(o.to_xml("service_definition", d).split("\n", 1)[1])
    assert root.tag == "service_definition"
    attrs = root.findall("./attributes/attribute")
    assert len(attrs) == 2 and attrs[1].findtext("required") == "false"
    values = attrs[0].findall("./values/value")
    assert [(v.findtext("key"), v.findtext("name")) for v in values][0] == ("day", "daytime")
    assert attrs[0].find("datatype_description") is not None


def test_service_request_open_and_closed() -> None:
    case = case_in(CaseStatus.DISPATCHED)
    req = o.service_request(case, CATALOGUE.get(case.category), lang="en",
                            agencies={"transport": "District Transport Bureau"},
                            media_url=lambda k: f"https://media.example/{k}")  # fmt: skip
    assert req["status"] == "open" and req["status_notes"] == "Dispatched to the responsible unit"
    assert req["agency_responsible"] == "District Transport Bureau"
    assert req["requested_datetime"] == "2026-01-05T09:00:00+08:00"
    assert req["expected_datetime"] is not None and req["expected_datetime"].endswith("+08:00")
    assert req["lat"] == 28.2389 and req["long"] == 117.0339 and req["media_url"] is None
    assert "phone" not in str(req) and "13800138000" not in str(req)
    rejected = case_in(CaseStatus.REJECTED)
    r = o.service_request(rejected, CATALOGUE.get(rejected.category), lang="en")
    assert r["status"] == "closed" and r["status_notes"] == "Not accepted: not a public matter"
    fwd = case_in(CaseStatus.FORWARDED)
    assert o.status_notes(fwd, "zh") == "已转交Provincial Highway Bureau"


def test_service_requests_xml_round_trip() -> None:
    case = case_in(CaseStatus.CLOSED)
    req = o.service_request(case, CATALOGUE.get(case.category))
    root = ET.fromstring(o.to_xml("service_requests", [req]).split("\n", 1)[1])
    item = root.find("request")
    assert root.tag == "service_requests" and item is not None
    assert item.findtext("status") == "closed"
    assert item.findtext("long") == "117.0339"
    assert item.find("zipcode") is not None and item.findtext("zipcode") == ""
    assert [c.tag for c in item][:3] == ["service_request_id", "status", "status_notes"]


def test_post_and_token_responses() -> None:
    assert o.post_response(token="tok-1") == [
        {"token": "tok-1", "service_notice": None, "account_id": None}
    ]
    xml = o.to_xml("service_requests", o.token_response("tok-1", "c-1"))
    assert "<request><service_request_id>c-1</service_request_id><token>tok-1</token>" in xml


def test_errors_json_and_xml() -> None:
    err = ValidationFailed("missing_attribute", "size is required", "必须填写size")
    assert o.errors_payload(err) == [{"code": 400, "description": "size is required"}]
    forbidden = Forbidden("invalid_api_key", "Invalid api_key")
    assert o.to_xml("errors", o.errors_payload([forbidden, NotFound("x", "not found")])) == (
        '<?xml version="1.0" encoding="utf-8"?>\n<errors><error><code>403</code>'
        "<description>Invalid api_key</description></error><error><code>404</code>"
        "<description>not found</description></error></errors>"
    )
    with pytest.raises(Forbidden):
        o.check_api_key("wrong", ["demo-key"])
    o.check_api_key("demo-key", ["demo-key"])


def test_discovery_document() -> None:
    d = o.discovery(base_url="https://city.example/open311/v2/", contact="ops@city.example",
                    key_service="https://city.example/keys", changeset=T0)  # fmt: skip
    assert d["endpoints"][0]["url"] == "https://city.example/open311/v2"
    xml = o.to_xml("discovery", d)
    assert "<formats><format>text/xml</format><format>application/json</format></formats>" in xml


FORM = [("api_key", "k"), ("service_code", "environment.noise"), ("lat", "28.2389"),
        ("long", "117.0339"), ("attribute[period]", "night"), ("attribute[source]", "business"),
        ("email", "li@example.com"), ("first_name", "Lei"), ("description", "KTV till 3am")]  # fmt: skip


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
    addr = o.parse_post_form({"service_code": "environment.cooking_fumes",
                              "address_string": "Yuehu Road 12"}, CATALOGUE)  # fmt: skip
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
    assert o.errors_payload(exc.value)[0]["code"] == 400


def test_multivaluelist_form_fields() -> None:
    from services.petitions.domain.categories import (
        AttributeSpec,
        AttributeValue,
        Category,
        CategoryCatalogue,
        Datatype,
    )

    cat = CategoryCatalogue.of([
        Category("trees", "树木", "Trees", "greening", "standard_3d"),
        Category("trees.damage", "树木损坏", "Damaged tree", "greening", "standard_3d",
                 attributes=(AttributeSpec("parts", Datatype.MULTIVALUELIST, "Which parts", "部位",
                             values=(AttributeValue("trunk", "trunk", "树干"),
                                     AttributeValue("branch", "branch", "树枝"))),)),
    ])  # fmt: skip
    form = [("service_code", "trees.damage"), ("address_id", "A-1"),
            ("attribute[parts][]", "branch"), ("attribute[parts][]", "trunk")]  # fmt: skip
    assert o.parse_post_form(form, cat).attributes == {"parts": ["trunk", "branch"]}


def test_request_query() -> None:
    now = T0
    q = o.parse_request_query({}, now)
    assert (q.start, q.end) == (now - timedelta(days=90), now)
    q = o.parse_request_query({"service_request_id": "a,b", "status": "bogus"}, now)
    assert q.service_request_ids == ("a", "b")
    q = o.parse_request_query({"start_date": "2026-01-01T00:00:00Z", "status": "open",
                               "service_code": "roads.pothole,roads.streetlight"}, now)  # fmt: skip
    assert q.start == datetime.fromisoformat("2026-01-01T00:00:00+00:00")
    assert q.service_codes == ("roads.pothole", "roads.streetlight")
    for bad in ({"status": "pending"}, {"start_date": "yesterday"},
                {"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-06-01T00:00:00Z"},
                {"start_date": "2025-02-01T00:00:00Z", "end_date": "2025-01-01T00:00:00Z"}):  # fmt: skip
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
