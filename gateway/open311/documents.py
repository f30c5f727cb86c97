"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) documents the gateway renders.

Services, service definitions and service requests are built by the petitions service (over
RPC, plain dicts/lists); here: the discovery document, the answers to POST requests and to
tokens, errors in the spec's shape (their HTTP status as the Open311 code: 400, 403, 404),
and :func:`to_xml`, which renders any of these payloads in the spec's XML shapes
(``<services><service>``, ``<service_requests><request>``,
``<service_definition><attributes><attribute><values><value>``,
``<errors><error><code/><description/></error></errors>``, ``<discovery>``).

XML output is always well-formed: characters XML 1.0 cannot carry (control characters,
U+FFFE/U+FFFF, lone surrogates) are dropped from text, whatever was stored upstream.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from yiwang.clock import SHANGHAI
from yiwang.errors import DomainError

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
_PLURALS = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
_ROOTS = {"services": "service", "service_requests": "request", "errors": "error"}
# everything outside XML 1.0's Char production
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _iso(when: datetime) -> str:
    return when.astimezone(SHANGHAI).isoformat(timespec="seconds")


def discovery(
    *, base_url: str, contact: str, key_service: str, changeset: datetime
) -> dict[str, Any]:
    return {
        "changeset": _iso(changeset),
        "contact": contact,
        "key_service": key_service,
        "endpoints": [
            {
                "specification": SPEC_URL,
                "url": base_url.rstrip("/"),
                "changeset": _iso(changeset),
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def post_response(
    *,
    service_request_id: str | None = None,
    token: str | None = None,
    service_notice: str | None = None,
    account_id: str | None = None,
) -> list[dict[str, Any]]:
    """The answer to POST requests: the id when the case exists already, else a token."""
    item: dict[str, Any] = (
        {"service_request_id": service_request_id} if service_request_id else {"token": token}
    )
    item.update({"service_notice": service_notice, "account_id": account_id})
    return [item]


def token_response(token: str, service_request_id: str | None) -> list[dict[str, Any]]:
    return [{"service_request_id": service_request_id, "token": token}]


def errors_payload(error: DomainError | Iterable[DomainError]) -> list[dict[str, Any]]:
    """Errors in the spec's shape; the code is the HTTP status (422 is reported as 400)."""
    errs = [error] if isinstance(error, DomainError) else list(error)
    return [
        {"code": 400 if e.status == 422 else e.status, "description": e.message_en} for e in errs
    ]


def http_status(error: DomainError) -> int:
    return 400 if error.status == 422 else error.status


# --- XML --------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(parent: ET.Element, data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        el = ET.SubElement(parent, key)
        if isinstance(value, list):
            child_tag = _PLURALS.get(key, key.rstrip("s"))
            for item in value:
                child = ET.SubElement(el, child_tag)
                if isinstance(item, Mapping):
                    _fill(child, item)
                else:
                    child.text = _text(item)
        elif isinstance(value, Mapping):
            _fill(el, value)
        else:
            el.text = _text(value)


def to_xml(root: str, payload: Any) -> str:
    """Render a payload as the spec's XML. ``root`` is one of services, service_requests,
    errors (payload: list of dicts), service_definition or discovery (payload: dict)."""
    top = ET.Element(root)
    if root in _ROOTS:
        for item in payload:
            _fill(ET.SubElement(top, _ROOTS[root]), item)
    elif root in ("service_definition", "discovery"):
        _fill(top, payload)
    else:
        raise ValueError(f"unknown Open311 document {root}")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="unicode")
