"""Input hygiene at every door (issue [Security] 4, 13): control characters, strict numbers,
invalid cursors, credentials in a write's query string. Each refusal is a 4xx (problem
details; GeoReport errors on Open311) and nothing reaches a service or the queue."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.security import Principal, store
from gateway.security import credentials as cred
from gateway.tests.conftest import GRID, gateway_client, token_for

pytestmark = pytest.mark.integration
REPORT = {"category": "appearance.litter", "description": "井盖缺失", "lat": 32.05, "lon": 118.79}
O311 = "/open311/v2"


def _submission(**kw: Any) -> dict[str, Any]:
    """What petitions' parse_open311_form answers (the fields as given)."""
    fields = dict(kw["fields"])
    return {
        "service_code": fields.get("service_code", "appearance.litter"),
        "lat": 32.05,
        "lon": 118.79,
        "address_string": None,
        "address_id": None,
        "description": fields.get("description", ""),
        "attributes": {},
        "media_url": None,
        "email": None,
        "phone": None,
        "first_name": None,
        "last_name": None,
        "device_id": None,
        "account_id": None,
        "jurisdiction_id": None,
    }


@pytest.fixture(scope="module")
def client(resources) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with gateway_client(resources) as c:
        c.fake_rpc.answers[("petitions", "parse_open311_form")] = _submission  # type: ignore[attr-defined]
        c.fake_rpc.answers[("petitions", "query_open311")] = {"items": []}  # type: ignore[attr-defined]
        yield c


@pytest.fixture(scope="module")
def open311_key(client: TestClient) -> str:
    key = cred.new_api_key()
    store.create_api_key(
        client.app.state.resources.engine,
        key_hash=cred.sha256_hex(key),  # type: ignore[attr-defined]
        key_prefix=key[:10],
        name="hygiene open311",
        actions=["open311.requests.create"],
        jurisdiction_code="",
        created_by="hygiene",
    )
    return key


def _leader(client: TestClient) -> dict[str, str]:
    p = Principal(str(uuid.uuid4()), "leader", "领导", GRID[:6])
    return {"Authorization": f"Bearer {token_for(client.settings, p)}"}  # type: ignore[attr-defined]


def _counts(client: TestClient) -> tuple[int, int]:
    return len(client.fake_rpc.calls), len(client.fake_publisher.published)  # type: ignore[attr-defined]


def _open311_refused(r: Any, status: int = 400) -> None:
    assert r.status_code == status, r.text
    if r.headers["content-type"].startswith("text/xml"):
        assert f"<code>{status}</code>" in r.text
    else:
        body = r.json()
        assert isinstance(body, list) and body[0]["code"] == status and body[0]["description"]


def test_open311_post_with_a_valid_key_is_accepted(client: TestClient, open311_key: str) -> None:
    """The control: the same form without the bad character is published."""
    before = len(client.fake_publisher.published)  # type: ignore[attr-defined]
    r = client.post(
        f"{O311}/requests.json",
        data={
            "api_key": open311_key,
            "service_code": "appearance.litter",
            "description": "井盖缺失",
            "lat": "32.05",
            "long": "118.79",
        },
    )
    assert r.status_code == 200, r.text
    assert len(client.fake_publisher.published) == before + 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("bad", ["井盖\x00缺失", "井盖\x0b缺失", "\x1b[31m井盖", "a\ufffeb"])
def test_open311_post_with_control_characters_is_refused_and_nothing_queued(
    client: TestClient, open311_key: str, fmt: str, bad: str
) -> None:
    """A NUL in description was answered 200 with a token; petitions then failed in the
    database, dead-lettered it, and the report stayed pending forever."""
    before = _counts(client)
    r = client.post(
        f"{O311}/requests.{fmt}",
        data={
            "api_key": open311_key,
            "service_code": "appearance.litter",
            "description": bad,
            "lat": "32.05",
            "long": "118.79",
        },
    )
    _open311_refused(r)
    assert _counts(client) == before  # no RPC, nothing published


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    "path",
    [
        "/requests.{fmt}?service_code=a%00b",
        "/requests.{fmt}?status=open%0b",
        "/services.{fmt}?jurisdiction_id=%1b",
        "/requests/x%00y.{fmt}",
        "/tokens/t%00.{fmt}",
        "/services/a%00b.{fmt}",
    ],
)
def test_open311_get_with_control_characters_is_400(
    client: TestClient, fmt: str, path: str
) -> None:
    """``GET requests.json?service_code=a%00b`` was a 500."""
    before = _counts(client)
    _open311_refused(client.get(O311 + path.format(fmt=fmt)))
    assert _counts(client) == before


def test_open311_api_key_in_the_query_string_is_refused(
    client: TestClient, open311_key: str
) -> None:
    before = _counts(client)
    r = client.post(
        f"{O311}/requests.json?api_key={open311_key}",
        data={
            "service_code": "appearance.litter",
            "description": "井盖缺失",
            "lat": "32.05",
            "long": "118.79",
        },
    )
    _open311_refused(r)
    assert "query" in r.json()[0]["description"]
    assert _counts(client) == before


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"description": "井盖\x0b缺失"}, "control_character"),
        ({"description": "\x1b[2J"}, "control_character"),
        ({"description": "井盖\x00缺失"}, "nul_character"),
        ({"lat": "32.0_5"}, "invalid_number"),  # pydantic's lax mode read 32.05
        ({"lat": "３２.０５"}, "invalid_number"),  # full-width digits
        ({"lon": "1_18.79"}, "invalid_number"),
        ({"lat": "nan"}, "invalid_number"),
    ],
)
def test_rest_report_with_bad_text_or_lax_numbers_is_422(
    client: TestClient, change: dict[str, str], code: str
) -> None:
    before = _counts(client)
    r = client.post("/api/v1/reports", json={**REPORT, **change})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code and body["title"] and body["detail"]
    assert _counts(client) == before


def test_rest_report_with_numbers_as_plain_strings_still_works(client: TestClient) -> None:
    r = client.post("/api/v1/reports", json={**REPORT, "lat": "32.05", "lon": 118.79})
    assert r.status_code == 202, r.text


@pytest.mark.parametrize(
    "query",
    [
        "lat=32.0_1&lon=118.79",
        "lat=３２.０１&lon=118.79",
        "lat=32.01&lon=%20118.79",
        "lat=32.01&lon=118.79&q=%0b",
    ],
)
def test_query_numbers_are_strict(client: TestClient, query: str) -> None:
    before = _counts(client)
    r = client.get(f"/api/v1/grids/locate?{query}", headers=_leader(client))
    assert r.status_code == 422, r.text
    assert _counts(client) == before
    ok = client.get("/api/v1/grids/locate?lat=32.01&lon=118.79", headers=_leader(client))
    assert ok.status_code == 200, ok.text


def test_public_map_limit_with_underscores_is_422(client: TestClient) -> None:
    r = client.get("/api/v1/public/cases.geojson?limit=1_0")
    assert r.status_code == 422 and r.json()["code"] == "invalid_number", r.text


@pytest.mark.parametrize("cursor", ["not a cursor!", "%00", "x" * 201, "abc=="])
def test_invalid_cursor_is_422_not_ignored(client: TestClient, cursor: str) -> None:
    before = _counts(client)
    r = client.get(f"/api/v1/command/cases?cursor={cursor}", headers=_leader(client))
    assert r.status_code == 422, r.text
    assert _counts(client) == before


def test_a_cursor_is_passed_on(client: TestClient) -> None:
    r = client.get("/api/v1/command/cases?cursor=MjAyNi0wMS0wNXxhYmM", headers=_leader(client))
    assert r.status_code == 200, r.text
    service, method, kwargs = client.fake_rpc.calls[-1]  # type: ignore[attr-defined]
    assert (service, method, kwargs["cursor"]) == ("command", "list_cases", "MjAyNi0wMS0wNXxhYmM")


def test_credentials_in_a_write_query_string_are_refused(client: TestClient) -> None:
    before = _counts(client)
    r = client.post("/api/v1/reports?api_key=yw_secret", json=REPORT)
    assert r.status_code == 400 and r.json()["code"] == "credentials_in_query", r.text
    assert _counts(client) == before


def test_multipart_text_fields_and_file_names_are_checked(client: TestClient) -> None:
    r = client.post("/api/v1/media", files={"file": ("a\x1b.jpg", b"\xff\xd8\xff\xe0", "")})
    assert r.status_code == 422 and r.json()["code"] == "control_character", r.text


def test_deeply_nested_json_is_a_4xx(client: TestClient) -> None:
    for depth in (500, 990, 5000):
        body = '{"category": "appearance.litter", "attributes": ' + "[" * depth + "]" * depth + "}"
        r = client.post(
            "/api/v1/reports", content=body, headers={"Content-Type": "application/json"}
        )
        assert 400 <= r.status_code < 500, (depth, r.status_code, r.text[:200])


def test_stored_control_characters_still_give_well_formed_xml(client: TestClient) -> None:
    """One public report containing \\x0b or \\x1b made requests.xml not well-formed for
    every client (text stored before these checks, or by another door)."""
    import xml.etree.ElementTree as ET

    stored = {
        "service_request_id": "c-1",
        "status": "open",
        "service_code": "appearance.litter",
        "description": "井盖\x0b缺失\x1b[31m",
        "status_notes": "ok\x00",
        "lat": 32.05,
        "long": 118.79,
    }
    answers = client.fake_rpc.answers  # type: ignore[attr-defined]
    answers[("petitions", "query_open311")] = {
        "items": [stored, {**stored, "service_request_id": "c-2"}]
    }
    try:
        r = client.get(f"{O311}/requests.xml")
    finally:
        answers[("petitions", "query_open311")] = {"items": []}
    assert r.status_code == 200, r.text
    root = ET.fromstring(r.content)
    assert [e.findtext("description") for e in root.findall("request")] == ["井盖缺失[31m"] * 2
