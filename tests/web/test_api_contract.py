"""The web apps call only what the gateway's OpenAPI document lists.

Every path the web apps call is a literal in ``gateway/web/common/api/*.js``, written as
``call("METHOD", "/api/v1/...")`` (JSON) or ``stream("GET", "/api/v1/...")`` (Server-Sent
Events). This test reads those literals and checks each (method + path template) against
the ``/openapi.json`` the gateway serves; it also checks that no other web file names an
API path, calls ``fetch`` or asks for the OpenAPI document, so nothing bypasses the modules.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.main import create_app

WEB = Path(__file__).resolve().parents[2] / "gateway" / "web"
API_DIR = WEB / "common" / "api"
APPS = ("common", "citizen", "worker", "volunteer", "enterprise", "dashboard", "admin", "workbench")
CALL = re.compile(r"""\b(call|stream)\(\s*(["'`])([A-Z]+)\2\s*,\s*(["'`])([^"'`]+)\4""")
# a call whose method or path is not a plain literal (a variable, a template with ${...})
DYNAMIC = re.compile(r"""\b(?:call|stream)\(\s*(?!(["'])[A-Z]+\1\s*,\s*(["'])/[^"'`$]+\2)""")
# outside the API modules: no API path, no OpenAPI document
FORBIDDEN = re.compile(r"/api/v\d|/open311/v\d|openapi\.json")
COMMENTS = re.compile(r"/\*.*?\*/|^\s*//.*?$", re.DOTALL | re.MULTILINE)
FETCH_ALLOWED = {API_DIR / "client.js", WEB / "common" / "live.js"}


def web_sources() -> list[Path]:
    return sorted(p for app in APPS for p in (WEB / app).rglob("*.js"))


def called() -> set[tuple[str, str, str]]:
    """(method, path template, file) of every API call the web modules make."""
    out: set[tuple[str, str, str]] = set()
    for path in sorted(API_DIR.glob("*.js")):
        for m in CALL.finditer(path.read_text(encoding="utf-8")):
            out.add((m.group(3), m.group(5), path.name))
    return out


@pytest.fixture(scope="module")
def documented() -> set[tuple[str, str]]:
    # the document the running gateway serves at /openapi.json (no lifespan needed for it)
    spec = TestClient(create_app()).get("/openapi.json").json()
    return {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}


def test_extraction_finds_the_calls() -> None:
    calls = called()
    # a broken pattern would find nothing and pass every check below
    assert len(calls) > 50
    assert ("POST", "/api/v1/reports", "reports.js") in calls
    assert ("GET", "/api/v1/live/cases", "live.js") in calls
    assert ("POST", "/api/v1/auth/login", "client.js") in calls


def test_every_call_is_documented(documented: set[tuple[str, str]]) -> None:
    missing = sorted(f"{m} {p}  ({f})" for m, p, f in called() if (m, p) not in documented)
    assert not missing, "web code calls paths /openapi.json does not list:\n" + "\n".join(missing)


def test_calls_are_literals() -> None:
    """Method and path are plain literals, so the check above sees every call."""
    bad = []
    for path in sorted(API_DIR.glob("*.js")):
        body = COMMENTS.sub("", path.read_text(encoding="utf-8"))
        for m in DYNAMIC.finditer(body):
            line = body.count("\n", 0, m.start()) + 1
            if not body[m.start() :].startswith(("call(method", "stream(method")):
                bad.append(f"{path.name}:{line}")
    assert not bad, f"calls whose method/path is not a literal: {bad}"


def test_only_the_api_modules_name_api_paths() -> None:
    offenders = []
    for path in web_sources():
        if path.parent == API_DIR:
            continue
        text = path.read_text(encoding="utf-8")
        for m in FORBIDDEN.finditer(text):
            offenders.append(f"{path.relative_to(WEB)} names {m.group(0)!r}")
        if "fetch(" in text and path not in FETCH_ALLOWED:
            offenders.append(f"{path.relative_to(WEB)} calls fetch")
    for path in sorted(API_DIR.glob("*.js")):
        if FORBIDDEN.search(
            COMMENTS.sub("", path.read_text(encoding="utf-8")).replace("/api/v1", "")
        ):
            offenders.append(f"{path.relative_to(WEB)} reads the OpenAPI document")
    assert not offenders, offenders


def test_the_check_catches_an_undocumented_path(documented: set[tuple[str, str]]) -> None:
    sample = (
        'x: (id) => call("GET", "/api/v1/cases/{case_id}/progress", { path: { case_id: id } }),'
    )
    found = [(m.group(3), m.group(5)) for m in CALL.finditer(sample)]
    assert found == [("GET", "/api/v1/cases/{case_id}/progress")]
    assert found[0] not in documented
    assert ("POST", "/api/v1/cases/{case_id}") not in documented  # method matters too
