"""Open311 documents the gateway renders: XML shapes, POST/token answers, errors, discovery;
XML stays well-formed whatever text a stored report carries."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from gateway.open311 import documents as o
from yiwang.errors import Forbidden, NotFound, ValidationFailed

SERVICE = {
    "service_code": "appearance.construction_waste",
    "service_name": "Dumped construction waste",
    "description": "Dumped construction waste",
    "metadata": True,
    "type": "realtime",
    "keywords": "",
    "group": "City appearance",
}


def _parse(xml: str) -> ET.Element:
    return ET.fromstring(xml.split("\n", 1)[1])


def test_services_xml_shape() -> None:
    assert o.to_xml("services", [SERVICE]) == (
        '<?xml version="1.0" encoding="utf-8"?>\n<services><service>'
        "<service_code>appearance.construction_waste</service_code>"
        "<service_name>Dumped construction waste</service_name>"
        "<description>Dumped construction waste</description><metadata>true</metadata>"
        "<type>realtime</type><keywords /><group>City appearance</group></service></services>"
    )


def test_service_definition_xml() -> None:
    d = {
        "service_code": "environment.noise",
        "attributes": [
            {
                "variable": True,
                "code": "period",
                "datatype": "singlevaluelist",
                "required": True,
                "datatype_description": None,
                "order": 1,
                "description": "When does it happen?",
                "values": [{"key": "day", "name": "daytime"}, {"key": "night", "name": "at night"}],
            },
            {
                "variable": True,
                "code": "source",
                "datatype": "string",
                "required": False,
                "datatype_description": None,
                "order": 2,
                "description": "Source",
                "values": [],
            },
        ],
    }
    root = _parse(o.to_xml("service_definition", d))
    assert root.tag == "service_definition"
    attrs = root.findall("./attributes/attribute")
    assert len(attrs) == 2 and attrs[1].findtext("required") == "false"
    values = attrs[0].findall("./values/value")
    assert [(v.findtext("key"), v.findtext("name")) for v in values][0] == ("day", "daytime")
    assert attrs[0].find("datatype_description") is not None


def test_service_requests_xml_round_trip() -> None:
    req = {
        "service_request_id": "c-1",
        "status": "closed",
        "status_notes": "Closed",
        "lat": 28.239,
        "long": 117.034,
        "zipcode": None,
    }
    item = _parse(o.to_xml("service_requests", [req])).find("request")
    assert item is not None and item.findtext("status") == "closed"
    assert item.findtext("long") == "117.034"
    assert item.find("zipcode") is not None and item.findtext("zipcode") == ""
    assert [c.tag for c in item][:3] == ["service_request_id", "status", "status_notes"]


def test_stored_control_characters_never_break_the_xml() -> None:
    """A report stored with \\x0b or \\x1b (or NUL, U+FFFF, a lone surrogate) in its text
    once made requests.xml not well-formed for every client."""
    bad = "井盖\x0b缺失\x1b[31m\x00\ufffe\ud800 ok\ttab\nline"
    reqs = [
        {"service_request_id": "c-1", "description": bad, "status_notes": bad},
        {"service_request_id": "c-2", "description": "fine"},
    ]
    xml = o.to_xml("service_requests", reqs)
    root = _parse(xml)  # raises ParseError when not well-formed
    assert root.find("request/description").text == "井盖缺失[31m ok\ttab\nline"  # type: ignore[union-attr]
    assert len(root.findall("request")) == 2
    xml.encode("utf-8")  # no lone surrogate left to break the encoding


def test_post_and_token_responses() -> None:
    assert o.post_response(token="tok-1") == [
        {"token": "tok-1", "service_notice": None, "account_id": None}
    ]
    xml = o.to_xml("service_requests", o.token_response("tok-1", "c-1"))
    assert "<request><service_request_id>c-1</service_request_id><token>tok-1</token>" in xml


def test_errors_json_and_xml() -> None:
    err = ValidationFailed("missing_attribute", "size is required", "必须填写size")
    assert o.errors_payload(err) == [{"code": 400, "description": "size is required"}]
    assert o.http_status(err) == 400
    forbidden = Forbidden("invalid_api_key", "Invalid api_key")
    assert o.to_xml("errors", o.errors_payload([forbidden, NotFound("x", "not found")])) == (
        '<?xml version="1.0" encoding="utf-8"?>\n<errors><error><code>403</code>'
        "<description>Invalid api_key</description></error><error><code>404</code>"
        "<description>not found</description></error></errors>"
    )


def test_discovery_document() -> None:
    d = o.discovery(
        base_url="https://city.example/open311/v2/",
        contact="ops@city.example",
        key_service="https://city.example/keys",
        changeset=datetime(2026, 1, 5, 1, 0, tzinfo=UTC),
    )
    assert d["endpoints"][0]["url"] == "https://city.example/open311/v2"
    assert d["changeset"] == "2026-01-05T09:00:00+08:00"
    xml = o.to_xml("discovery", d)
    assert "<formats><format>text/xml</format><format>application/json</format></formats>" in xml
