"""Open311 GeoReport v2 conformance (http://wiki.open311.org/GeoReport_v2), over HTTP against
the whole system: every endpoint in JSON and XML, element names and required fields as the
spec lists them, the spec's error documents and HTTP codes, and the round trip
POST requests → token → service_request_id → GET requests/{id}."""

from __future__ import annotations

import itertools
import time
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from gateway.security.seed import DEMO_OPEN311_KEY
from tests.support.system import System

pytestmark = pytest.mark.e2e

V2 = "/open311/v2"
FORMATS = ("json", "xml")

# Fields the spec lists per document (all present; values may be empty where it allows).
SERVICE_FIELDS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
ATTRIBUTE_FIELDS = [
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
]
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
DATATYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}


# --- helpers ----------------------------------------------------------------------------


def get(system: System, path: str, **params: Any) -> httpx.Response:
    with system.client() as c:
        return c.get(V2 + path, params=params)


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def post(
    system: System, fmt: str, data: list[tuple[str, str]], headers: dict[str, str] | None = None
) -> httpx.Response:
    """A form-encoded POST (repeated keys kept, as attribute[code][] needs)."""
    with system.client() as c:
        return c.post(
            f"{V2}/requests.{fmt}", content=urlencode(data), headers={**FORM, **(headers or {})}
        )


def xml_root(r: httpx.Response, tag: str) -> ET.Element:
    assert r.headers["content-type"].startswith("text/xml"), r.headers["content-type"]
    assert r.text.startswith('<?xml version="1.0" encoding="utf-8"?>'), r.text[:60]
    root = ET.fromstring(r.content)
    assert root.tag == tag, (root.tag, r.text[:200])
    return root


def as_json(r: httpx.Response) -> Any:
    assert r.headers["content-type"].startswith("application/json"), r.headers["content-type"]
    return r.json()


def children(el: ET.Element) -> list[str]:
    return [c.tag for c in el]


def w3c(value: str | None) -> datetime:
    assert value, "a datetime is required"
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert when.tzinfo is not None, f"{value} has no offset"
    return when


def services_json(system: System) -> list[dict[str, Any]]:
    r = get(system, "/services.json")
    assert r.status_code == 200
    return as_json(r)  # type: ignore[no-any-return]


def definition(system: System, code: str) -> dict[str, Any]:
    r = get(system, f"/services/{code}.json")
    assert r.status_code == 200, r.text
    return as_json(r)  # type: ignore[no-any-return]


def answers_for(system: System, code: str) -> list[tuple[str, str]]:
    """attribute[code]=… pairs for every required attribute, as a client would fill them."""
    out = []
    for a in definition(system, code)["attributes"]:
        if not a["required"] or not a["variable"]:
            continue
        if a["datatype"] in ("singlevaluelist", "multivaluelist"):
            value = a["values"][0]["key"]
        elif a["datatype"] == "number":
            value = "1"
        elif a["datatype"] == "datetime":
            value = datetime.now().astimezone().isoformat(timespec="seconds")
        else:
            value = "open311"
        key = f"attribute[{a['code']}]" + ("[]" if a["datatype"] == "multivaluelist" else "")
        out.append((key, str(value)))
    return out


_spots = itertools.count(1)


def spot() -> dict[str, str]:
    """A fresh spot ~150 m from the last: a report at the same spot within 72 h is linked to
    the open case there as "me too" (its token then names that case)."""
    n = next(_spots)
    return {"lat": f"{32.0 + 0.0015 * (n % 20):.4f}", "long": f"{118.8 + 0.0015 * (n // 20):.4f}"}


def form(system: System, code: str = "appearance.litter", **extra: str) -> list[tuple[str, str]]:
    fields = {
        "api_key": DEMO_OPEN311_KEY,
        "service_code": code,
        **spot(),
        "description": "Open311 conformance: litter by the gate",
        "email": "o311@example.org",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "phone": "13812345678",
        "device_id": "conformance-device",
        "account_id": "conformance-account",
    }
    fields.update(extra)
    return [*fields.items(), *answers_for(system, code)]


def wait_for_id(system: System, token: str, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        r = get(system, f"/tokens/{token}.json")
        assert r.status_code == 200, r.text
        body = as_json(r)
        assert isinstance(body, list) and len(body) == 1 and body[0]["token"] == token
        if body[0]["service_request_id"]:
            return str(body[0]["service_request_id"])
        time.sleep(0.2)
    raise TimeoutError(f"token {token} never became a service request")


def check_error(r: httpx.Response, fmt: str, status: int) -> None:
    assert r.status_code == status, (r.status_code, r.text)
    if fmt == "json":
        body = as_json(r)
        assert isinstance(body, list) and body, body
        for e in body:
            assert set(e) == {"code", "description"}
            assert e["code"] == status and isinstance(e["description"], str) and e["description"]
    else:
        root = xml_root(r, "errors")
        assert root.findall("error")
        for e in root.findall("error"):
            assert children(e) == ["code", "description"]
            assert e.findtext("code") == str(status) and e.findtext("description")


def check_request_json(doc: dict[str, Any]) -> None:
    assert list(doc) == REQUEST_FIELDS
    assert doc["status"] in ("open", "closed")
    assert doc["service_request_id"] and doc["service_code"]
    w3c(doc["requested_datetime"])
    w3c(doc["updated_datetime"])
    if doc["status"] == "open":
        w3c(doc["expected_datetime"])
    assert "phone" not in doc and "email" not in doc  # contact never exposed


def check_request_xml(el: ET.Element) -> None:
    assert el.tag == "request"
    assert children(el) == REQUEST_FIELDS
    assert el.findtext("status") in ("open", "closed")
    w3c(el.findtext("requested_datetime"))
    w3c(el.findtext("updated_datetime"))


# --- discovery and services -------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery(system: System, fmt: str) -> None:
    r = get(system, f"/discovery.{fmt}")
    assert r.status_code == 200
    if fmt == "json":
        d = as_json(r)
        assert {"changeset", "contact", "key_service", "endpoints"} <= set(d)
        endpoint = d["endpoints"][0]
        w3c(d["changeset"])
        formats = endpoint["formats"]
        url, spec = endpoint["url"], endpoint["specification"]
        assert endpoint["type"] in ("production", "test")
    else:
        root = xml_root(r, "discovery")
        assert {"changeset", "contact", "key_service", "endpoints"} <= set(children(root))
        ep = root.find("endpoints/endpoint")
        assert ep is not None
        assert {"specification", "url", "changeset", "type", "formats"} <= set(children(ep))
        formats = [f.text for f in ep.findall("formats/format")]
        url, spec = ep.findtext("url"), ep.findtext("specification")
    assert spec == "http://wiki.open311.org/GeoReport_v2"
    assert set(formats) == {"text/xml", "application/json"}
    assert str(url).endswith(V2)


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_list(system: System, fmt: str) -> None:
    r = get(system, f"/services.{fmt}")
    assert r.status_code == 200
    if fmt == "json":
        items = as_json(r)
        assert isinstance(items, list) and items
        for s in items:
            assert list(s) == SERVICE_FIELDS
            assert isinstance(s["metadata"], bool) and s["type"] in (
                "realtime",
                "batch",
                "blackbox",
            )
        codes = [s["service_code"] for s in items]
    else:
        root = xml_root(r, "services")
        assert root.findall("service")
        for s in root.findall("service"):
            assert children(s) == SERVICE_FIELDS
            assert s.findtext("metadata") in ("true", "false")
        codes = [s.findtext("service_code") for s in root.findall("service")]
    assert "appearance.litter" in codes and len(codes) == len(set(codes))


def test_services_in_english(system: System) -> None:
    items = as_json(get(system, "/services.json", locale="en"))
    litter = next(s for s in items if s["service_code"] == "appearance.litter")
    assert litter["service_name"] == "Exposed litter"


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition(system: System, fmt: str) -> None:
    with_metadata = [s["service_code"] for s in services_json(system) if s["metadata"]]
    assert with_metadata
    for code in with_metadata[:5]:
        r = get(system, f"/services/{code}.{fmt}")
        assert r.status_code == 200, r.text
        if fmt == "json":
            d = as_json(r)
            assert list(d) == ["service_code", "attributes"] and d["service_code"] == code
            assert d["attributes"]
            for a in d["attributes"]:
                assert list(a) == [*ATTRIBUTE_FIELDS, "values"]
                assert a["datatype"] in DATATYPES and isinstance(a["required"], bool)
                if a["datatype"].endswith("valuelist"):
                    assert a["values"] and all(set(v) == {"key", "name"} for v in a["values"])
        else:
            root = xml_root(r, "service_definition")
            assert children(root) == ["service_code", "attributes"]
            assert root.findtext("service_code") == code
            attrs = root.findall("attributes/attribute")
            assert attrs
            for a in attrs:
                assert children(a) == [*ATTRIBUTE_FIELDS, "values"]
                assert a.findtext("datatype") in DATATYPES
                assert a.findtext("required") in ("true", "false")
                for v in a.findall("values/value"):
                    assert children(v) == ["key", "name"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_service_definition_is_404(system: System, fmt: str) -> None:
    check_error(get(system, f"/services/no.such.service.{fmt}"), fmt, 404)


@pytest.mark.parametrize("fmt", FORMATS)
def test_wrong_jurisdiction_is_400(system: System, fmt: str) -> None:
    check_error(get(system, f"/services.{fmt}", jurisdiction_id="nowhere.example"), fmt, 400)


def test_unknown_format_is_404(system: System) -> None:
    check_error(get(system, "/services.csv"), "json", 404)


# --- POST requests ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_post_token_id_get(system: System, fmt: str) -> None:
    fields = form(
        system, description=f"Open311 round trip ({fmt})", address_string="幸福小区3单元 502室"
    )
    lat, lon = float(dict(fields)["lat"]), float(dict(fields)["long"])
    r = post(system, fmt, fields)
    assert r.status_code == 200, r.text
    if fmt == "json":
        body = as_json(r)
        assert isinstance(body, list) and len(body) == 1
        assert list(body[0]) == ["token", "service_notice", "account_id"]
        token = body[0]["token"]
        assert body[0]["account_id"] == "conformance-account"
    else:
        root = xml_root(r, "service_requests")
        req = root.find("request")
        assert req is not None and children(req) == ["token", "service_notice", "account_id"]
        token = req.findtext("token")
    assert token and uuid.UUID(token)

    # tokens/{token}: the service_request_id once the case exists (XML too)
    request_id = wait_for_id(system, token)
    root = xml_root(get(system, f"/tokens/{token}.xml"), "service_requests")
    req = root.find("request")
    assert req is not None and children(req) == ["service_request_id", "token"]
    assert req.findtext("service_request_id") == request_id and req.findtext("token") == token

    # requests/{id} in both formats: one request, every field, no contact data
    doc = as_json(get(system, f"/requests/{request_id}.json"))
    assert isinstance(doc, list) and len(doc) == 1
    check_request_json(doc[0])
    got = doc[0]
    assert got["service_request_id"] == request_id and got["service_code"] == "appearance.litter"
    assert got["status"] == "open" and got["description"] == f"Open311 round trip ({fmt})"
    # blurred exactly as on the public map, never the address text
    assert (got["lat"], got["long"]) == (round(lat, 3), round(lon, 3))
    assert got["address"] is None and "502" not in str(doc)
    assert got["agency_responsible"] and got["status_notes"]
    assert w3c(got["expected_datetime"]) > w3c(got["requested_datetime"])
    assert "13812345678" not in str(doc) and "o311@example.org" not in str(doc)
    root = xml_root(get(system, f"/requests/{request_id}.xml"), "service_requests")
    reqs = root.findall("request")
    assert len(reqs) == 1
    check_request_xml(reqs[0])
    assert reqs[0].findtext("service_request_id") == request_id

    # the same request through the intake: visible to staff as a case from source open311
    with system.client("demo_city") as c:
        case = c.get(f"/api/v1/cases/{request_id}").json()
        geo = c.get("/api/v1/public/cases.geojson", params={"limit": 5000}).json()
    assert case["source"] == "open311" and case["category"] == "appearance.litter"
    on_map = [f for f in geo["features"] if f["properties"]["case_id"] == request_id]
    assert on_map and on_map[0]["geometry"]["coordinates"] == [got["long"], got["lat"]]


def test_post_with_the_key_in_the_header_and_media_url(system: System) -> None:
    fields = [
        (k, v) for k, v in form(system, media_url="https://example.org/p/1.jpg") if k != "api_key"
    ]
    r = post(system, "json", fields, headers={"X-API-Key": DEMO_OPEN311_KEY})
    assert r.status_code == 200, r.text
    request_id = wait_for_id(system, as_json(r)[0]["token"])
    got = as_json(get(system, f"/requests/{request_id}.json"))[0]
    assert got["media_url"] == "https://example.org/p/1.jpg"


def test_a_second_report_at_the_same_spot_names_the_open_case(system: System) -> None:
    fields = form(system, description="Open311 me too")
    first = wait_for_id(system, as_json(post(system, "json", fields))[0]["token"])
    again = wait_for_id(system, as_json(post(system, "json", fields))[0]["token"])
    assert again == first


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_without_or_with_a_bad_api_key_is_403(system: System, fmt: str) -> None:
    fields = [(k, v) for k, v in form(system) if k != "api_key"]
    check_error(post(system, fmt, fields), fmt, 403)
    check_error(post(system, fmt, [*fields, ("api_key", "yw_not_a_key")]), fmt, 403)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "change",
    [
        {"service_code": ""},
        {"service_code": "no.such.service"},
        {"lat": "", "long": ""},  # no location at all
        {"lat": "abc"},
        {"lat": "10.0", "long": "10.0"},  # outside the city
        {"email": "not-an-email"},
        {"media_url": "ftp://example.org/x"},
        {"jurisdiction_id": "elsewhere"},
        {"address_string": "only an address", "lat": "", "long": ""},
        {"lat": "32.0_1"},  # float() would read 32.01
        {"lat": "３２.０１"},  # full-width digits
        {"description": "NUL \x00 in the text"},  # was 200, then dead-lettered: pending forever
        {"description": "VT \x0b and ESC \x1b"},  # would break requests.xml for every client
    ],
    ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()),
)
def test_bad_posts_are_400(system: System, fmt: str, change: dict[str, str]) -> None:
    base = dict(form(system))
    base.update(change)
    check_error(post(system, fmt, list(base.items())), fmt, 400)


def test_missing_required_attribute_is_400(system: System) -> None:
    required = [a for a in definition(system, "appearance.litter")["attributes"] if a["required"]]
    if not required:
        pytest.skip("appearance.litter has no required attribute")
    fields = [(k, v) for k, v in form(system) if not k.startswith("attribute[")]
    check_error(post(system, "json", fields), "json", 400)


# --- GET requests (filters) -------------------------------------------------------------


@pytest.fixture(scope="module")
def two_requests(system: System) -> tuple[str, str]:
    """Two Open311 requests: one left open, one rejected by staff (closed)."""
    ids = []
    for n in range(2):
        r = post(system, "json", form(system, description=f"Open311 filters {n}"))
        assert r.status_code == 200, r.text
        ids.append(wait_for_id(system, as_json(r)[0]["token"]))
    with system.client("demo_city") as c:
        case = c.get(f"/api/v1/cases/{ids[1]}").json()
        r = c.post(
            f"/api/v1/cases/{ids[1]}/actions",
            json={
                "action": "reject",
                "expected_version": case["version"],
                "fields": {"reason": "not a public-space issue"},
            },
        )
        assert r.status_code == 200, r.text
    return ids[0], ids[1]


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_requests_by_ids(system: System, two_requests: tuple[str, str], fmt: str) -> None:
    open_id, closed_id = two_requests
    r = get(
        system,
        f"/requests.{fmt}",
        service_request_id=f"{open_id},{closed_id},{uuid.uuid4()},not-an-id",
    )
    assert r.status_code == 200
    if fmt == "json":
        docs = as_json(r)
        for d in docs:
            check_request_json(d)
        by_id = {d["service_request_id"]: d for d in docs}
    else:
        root = xml_root(r, "service_requests")
        for el in root.findall("request"):
            check_request_xml(el)
        by_id = {
            el.findtext("service_request_id"): {
                "status": el.findtext("status"),
                "status_notes": el.findtext("status_notes"),
            }
            for el in root.findall("request")
        }
    assert set(by_id) == {open_id, closed_id}
    assert by_id[open_id]["status"] == "open" and by_id[closed_id]["status"] == "closed"
    assert "not a public-space issue" in str(by_id[closed_id]["status_notes"])


def test_get_requests_filters(system: System, two_requests: tuple[str, str]) -> None:
    open_id, closed_id = two_requests

    def ids(**params: Any) -> set[str]:
        r = get(system, "/requests.json", **params)
        assert r.status_code == 200, r.text
        docs = as_json(r)
        assert len(docs) <= 1000
        return {d["service_request_id"] for d in docs}

    default = ids()  # the last 90 days
    assert {open_id, closed_id} <= default
    assert open_id in ids(status="open") and closed_id not in ids(status="open")
    assert closed_id in ids(status="closed") and open_id not in ids(status="closed")
    assert {open_id, closed_id} <= ids(status="open,closed")
    assert {open_id, closed_id} <= ids(service_code="appearance.litter")
    assert open_id not in ids(service_code="roads.pothole")
    now = datetime.now().astimezone()
    window = {
        "start_date": (now - timedelta(hours=1)).isoformat(timespec="seconds"),
        "end_date": (now + timedelta(minutes=5)).isoformat(timespec="seconds"),
    }
    assert {open_id, closed_id} <= ids(**window)
    old = {
        "start_date": (now - timedelta(days=30)).isoformat(timespec="seconds"),
        "end_date": (now - timedelta(days=29)).isoformat(timespec="seconds"),
    }
    assert open_id not in ids(**old)
    assert open_id in ids(jurisdiction_id="3299")
    xml = xml_root(get(system, "/requests.xml", status="open"), "service_requests")
    assert open_id in {el.findtext("service_request_id") for el in xml.findall("request")}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "params",
    [
        {"status": "pending"},
        {"start_date": "yesterday"},
        {"start_date": "2025-01-01T00:00:00+08:00", "end_date": "2025-12-31T00:00:00+08:00"},
        {"start_date": "2025-02-01T00:00:00Z", "end_date": "2025-01-01T00:00:00Z"},
        {"jurisdiction_id": "elsewhere"},
    ],
    ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()),
)
def test_bad_request_queries_are_400(system: System, fmt: str, params: dict[str, str]) -> None:
    check_error(get(system, f"/requests.{fmt}", **params), fmt, 400)


@pytest.mark.parametrize("fmt", FORMATS)
def test_control_characters_in_a_query_are_400_not_500(system: System, fmt: str) -> None:
    check_error(get(system, f"/requests.{fmt}", service_code="a\x00b"), fmt, 400)
    check_error(get(system, f"/requests.{fmt}", service_code="a\x1bb"), fmt, 400)


def test_api_key_in_the_query_string_of_a_post_is_refused(system: System) -> None:
    fields = [(k, v) for k, v in form(system) if k != "api_key"]
    with system.client() as c:
        r = c.post(
            f"{V2}/requests.json",
            params={"api_key": DEMO_OPEN311_KEY},
            content=urlencode(fields),
            headers=FORM,
        )
    check_error(r, "json", 400)


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_request_and_token_are_404(system: System, fmt: str) -> None:
    check_error(get(system, f"/requests/{uuid.uuid4()}.{fmt}"), fmt, 404)
    check_error(get(system, f"/requests/not-an-id.{fmt}"), fmt, 404)
    check_error(get(system, f"/tokens/not-a-token.{fmt}"), fmt, 404)


def test_pending_token_has_an_empty_service_request_id(system: System) -> None:
    token = str(uuid.uuid4())  # never posted: no case, as before the intake catches up
    body = as_json(get(system, f"/tokens/{token}.json"))
    assert body == [{"service_request_id": None, "token": token}]
    root = xml_root(get(system, f"/tokens/{token}.xml"), "service_requests")
    assert root.findtext("request/service_request_id") in (None, "")
