"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2): the catalogue as services,
cases as service requests, the POST requests form and the GET requests query.

Payloads are plain dicts/lists; the gateway (``gateway.open311``) renders them as JSON or
XML and renders errors. Datetimes are ISO 8601 with the Asia/Shanghai offset.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from yiwang.clock import SHANGHAI, require_aware
from yiwang.contracts.base import strict_float
from yiwang.errors import ValidationFailed

from .case import Case
from .categories import Category, CategoryCatalogue, validate_attributes
from .common import public_location, require_coordinates
from .lifecycle import FINISHED, CaseStatus
from .sla import sla_class

MAX_DESCRIPTION = 2000  # the platform's limit (the spec allows up to 4,000)
MAX_RESULTS = 1000
DEFAULT_RANGE = timedelta(days=90)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,18}$")
_ATTR_KEY = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")


def iso(when: datetime | None) -> str | None:
    """ISO 8601 with offset, in Asia/Shanghai, whole seconds."""
    return None if when is None else when.astimezone(SHANGHAI).isoformat(timespec="seconds")


def _bad(code: str, en: str, zh: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(code, en, zh, status=400, **details)


# --- discovery and services -------------------------------------------------------------


def listed_services(catalogue: CategoryCatalogue) -> list[Category]:
    """Categories offered through Open311: active, citizen-selectable leaves."""
    return [c for c in catalogue.leaves() if c.citizen_selectable]


def service_list(catalogue: CategoryCatalogue, lang: str = "zh") -> list[dict[str, Any]]:
    out = []
    for cat in listed_services(catalogue):
        group = catalogue.group_of(cat.code)
        out.append(
            {
                "service_code": cat.code,
                "service_name": cat.name(lang),
                "description": (cat.description_zh if lang.startswith("zh") else cat.description_en)
                or cat.name(lang),
                "metadata": any(a.variable for a in cat.attributes),
                "type": "realtime",
                "keywords": ", ".join(cat.keywords),
                "group": group.name(lang) if group else "",
            }
        )
    return out


def service_definition(category: Category, lang: str = "zh") -> dict[str, Any]:
    zh = lang.startswith("zh")
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": a.variable,
                "code": a.code,
                "datatype": a.datatype.value,
                "required": a.required,
                "datatype_description": None,
                "order": a.order or i + 1,
                "description": a.description_zh if zh else a.description_en,
                "values": [
                    {"key": v.key, "name": v.name_zh if zh else v.name_en} for v in a.values
                ],
            }
            for i, a in enumerate(category.attributes)
        ],
    }


# --- service requests -------------------------------------------------------------------

_NOTES: dict[CaseStatus, tuple[str, str]] = {
    CaseStatus.SUBMITTED: ("已收到，等待受理", "Received, awaiting acceptance"),
    CaseStatus.ACCEPTED: ("已受理立案", "Accepted"),
    CaseStatus.DISPATCHED: ("已派遣至处置单位", "Dispatched to the responsible unit"),
    CaseStatus.IN_PROGRESS: ("正在处置", "Work in progress"),
    CaseStatus.HANDLED: ("已处置，等待核查", "Handled, awaiting verification"),
    CaseStatus.VERIFIED: ("已核查，即将结案", "Verified, about to close"),
    CaseStatus.AWAITING_INFO: ("等待反映人补充信息", "Waiting for more information"),
    CaseStatus.COMMUNITY_REVIEW: ("社区复核中", "Under community review"),
    CaseStatus.CLOSED: ("已办结", "Closed"),
    CaseStatus.EVALUATED: ("已办结并评价", "Closed and evaluated"),
    CaseStatus.REJECTED: ("不予受理", "Not accepted"),
    CaseStatus.FORWARDED: ("已转交", "Forwarded to"),
    CaseStatus.MERGED: ("重复诉求，已合并至", "Duplicate of"),
}


def open311_status(status: CaseStatus) -> str:
    return "closed" if status in FINISHED else "open"


def status_notes(case: Case, lang: str = "zh") -> str:
    zh, en = _NOTES[case.status]
    base = zh if lang.startswith("zh") else en
    sep = "：" if lang.startswith("zh") else ": "
    detail = {
        CaseStatus.REJECTED: case.reject_reason,
        CaseStatus.FORWARDED: case.forwarded_to,
        CaseStatus.MERGED: case.merged_into,
        CaseStatus.CLOSED: case.feedback,
        CaseStatus.EVALUATED: case.feedback,
    }.get(case.status)
    if case.status in (CaseStatus.FORWARDED, CaseStatus.MERGED):
        return f"{base}{'' if lang.startswith('zh') else ' '}{detail}"
    return f"{base}{sep}{detail}" if detail else base


def service_request(
    case: Case,
    category: Category,
    *,
    lang: str = "zh",
    agencies: Mapping[str, str] | None = None,
    media_url: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """A case as an Open311 service request. No personal data: never the contact, never the
    free-text address (it may name a flat), and the location blurred exactly as on the
    public map (:func:`.common.public_location`)."""
    dept = case.department or category.department
    lat, lon = case.lat, case.lon
    if lat is not None and lon is not None:
        lat, lon = public_location(lat, lon)
    sla = sla_class(case.sla_class)
    return {
        "service_request_id": case.case_id,
        "status": open311_status(case.status),
        "status_notes": status_notes(case, lang),
        "service_name": category.name(lang),
        "service_code": case.category,
        "description": case.description,
        "agency_responsible": (agencies or {}).get(dept, dept),
        "service_notice": sla.name_zh if lang.startswith("zh") else sla.name_en,
        "requested_datetime": iso(case.created_at),
        "updated_datetime": iso(case.timeline[-1].at if case.timeline else case.created_at),
        "expected_datetime": iso(case.due_at),
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": lat,
        "long": lon,
        "media_url": media_url(case.media[0]) if media_url and case.media else None,
    }


# --- POST requests form -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Open311Submission:
    """A validated POST requests form, ready to become a citizen report."""

    service_code: str
    lat: float | None
    lon: float | None
    address_string: str | None
    address_id: str | None
    description: str
    attributes: dict[str, Any]
    media_url: str | None = None
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    jurisdiction_id: str | None = None

    @property
    def anonymous(self) -> bool:
        return not (self.email or self.phone or self.first_name or self.last_name)

    @property
    def contact_name(self) -> str | None:
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or None


def _pairs(form: Mapping[str, Any] | Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    if isinstance(form, Mapping):
        out: list[tuple[str, str]] = []
        for k, v in form.items():
            for item in v if isinstance(v, list | tuple) else [v]:
                out.append((k, "" if item is None else str(item)))
        return out
    return [(k, "" if v is None else str(v)) for k, v in form]


def _opt(fields: Mapping[str, str], name: str, max_len: int) -> str | None:
    value = fields.get(name, "").strip()
    if len(value) > max_len:
        raise _bad(
            f"{name}_too_long",
            f"{name} is longer than {max_len} characters",
            f"{name}超过{max_len}个字符",
            field=name,
        )
    return value or None


def parse_post_form(
    form: Mapping[str, Any] | Iterable[tuple[str, str]],
    catalogue: CategoryCatalogue,
    *,
    jurisdiction_id: str | None = None,
) -> Open311Submission:
    """Validate a POST requests form (form-encoded pairs). Refusals are 400/404 errors."""
    fields: dict[str, str] = {}
    raw_attrs: dict[str, list[str]] = {}
    multi: set[str] = set()
    for key, value in _pairs(form):
        m = _ATTR_KEY.match(key)
        if m:
            raw_attrs.setdefault(m.group(1), []).append(value)
            if m.group(2):
                multi.add(m.group(1))
        else:
            fields[key] = value
    jid = _opt(fields, "jurisdiction_id", 64)
    if jid and jurisdiction_id and jid != jurisdiction_id:
        raise _bad(
            "invalid_jurisdiction_id",
            f"jurisdiction_id '{jid}' is not served here",
            f"本平台不服务于jurisdiction_id“{jid}”",
            jurisdiction_id=jid,
        )
    code = _opt(fields, "service_code", 64)
    if not code:
        raise _bad("service_code_required", "service_code is required", "缺少service_code")
    if code not in {c.code for c in listed_services(catalogue)}:
        raise _bad(
            "invalid_service_code",
            f"service_code '{code}' not found",
            f"未找到service_code“{code}”",
            service_code=code,
        )
    category = catalogue.get(code)
    lat_s, lon_s = fields.get("lat", "").strip(), fields.get("long", "").strip()
    lat = lon = None
    if lat_s or lon_s:
        try:
            lat, lon = require_coordinates(strict_float(lat_s), strict_float(lon_s))
        except (ValueError, ValidationFailed):
            raise _bad(
                "invalid_lat_long",
                "lat and long must both be valid decimal degrees",
                "lat和long须同时为有效的十进制经纬度",
            ) from None
    address = _opt(fields, "address_string", 200)
    address_id = _opt(fields, "address_id", 64)
    if lat is None and not address and not address_id:
        raise _bad(
            "location_required",
            "lat/long, address_string or address_id is required",
            "须提供lat/long、address_string或address_id之一",
        )
    email = _opt(fields, "email", 120)
    if email and not _EMAIL.match(email):
        raise _bad("invalid_email", "email is not a valid e-mail address", "email格式无效")
    phone = _opt(fields, "phone", 20)
    if phone and not _PHONE.match(phone):
        raise _bad("invalid_phone", "phone is not a valid phone number", "phone格式无效")
    media = _opt(fields, "media_url", 500)
    if media and not re.match(r"^https?://[^\s]+$", media):
        raise _bad(
            "invalid_media_url", "media_url must be an http(s) URL", "media_url须为http(s)地址"
        )
    description = _opt(fields, "description", MAX_DESCRIPTION) or category.name("zh")
    attrs: dict[str, Any] = {k: (v if k in multi else v[-1]) for k, v in raw_attrs.items()}
    try:
        answers = validate_attributes(category, attrs)
    except ValidationFailed as e:
        raise ValidationFailed(e.code, e.message_en, e.message_zh, status=400, **e.details) from e
    return Open311Submission(
        service_code=code,
        lat=lat,
        lon=lon,
        address_string=address,
        address_id=address_id,
        description=description,
        attributes=answers,
        media_url=media,
        email=email,
        phone=phone,
        first_name=_opt(fields, "first_name", 25),
        last_name=_opt(fields, "last_name", 25),
        device_id=_opt(fields, "device_id", 100),
        account_id=_opt(fields, "account_id", 100),
        jurisdiction_id=jid,
    )


# --- GET requests query -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestQuery:
    service_request_ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    limit: int = MAX_RESULTS

    def matches(self, case: Case) -> bool:
        if self.service_request_ids:
            return case.case_id in self.service_request_ids
        if self.service_codes and case.category not in self.service_codes:
            return False
        if self.statuses and open311_status(case.status) not in self.statuses:
            return False
        if self.start and case.created_at < self.start:
            return False
        return not (self.end and case.created_at > self.end)


def _parse_date(name: str, raw: str) -> datetime:
    try:
        when = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _bad(
            f"invalid_{name}", f"{name} must be a W3C datetime", f"{name}须为W3C格式时间"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=SHANGHAI)


def _csv(raw: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (raw or "").split(",") if p.strip())


def parse_request_query(
    params: Mapping[str, str], now: datetime, *, jurisdiction_id: str | None = None
) -> RequestQuery:
    """GET requests filters. With service_request_id the other filters are ignored; without
    dates the last 90 days are searched; a range may not exceed 90 days."""
    require_aware(now, "now")
    jid = (params.get("jurisdiction_id") or "").strip()
    if jid and jurisdiction_id and jid != jurisdiction_id:
        raise _bad(
            "invalid_jurisdiction_id",
            f"jurisdiction_id '{jid}' is not served here",
            f"本平台不服务于jurisdiction_id“{jid}”",
        )
    ids = _csv(params.get("service_request_id"))
    if ids:
        return RequestQuery(service_request_ids=ids)
    statuses = _csv(params.get("status"))
    if any(s not in ("open", "closed") for s in statuses):
        raise _bad("invalid_status", "status must be open and/or closed", "status须为open或closed")
    start = _parse_date("start_date", params["start_date"]) if params.get("start_date") else None
    end = _parse_date("end_date", params["end_date"]) if params.get("end_date") else None
    if start is None and end is None:
        end, start = now, now - DEFAULT_RANGE
    elif start is None:
        assert end is not None
        start = end - DEFAULT_RANGE
    elif end is None:
        end = min(now, start + DEFAULT_RANGE) if start < now else start + DEFAULT_RANGE
    if end < start or end - start > DEFAULT_RANGE:
        raise _bad(
            "invalid_date_range",
            "end_date must follow start_date by at most 90 days",
            "end_date须晚于start_date且相差不超过90天",
        )
    return RequestQuery(
        service_codes=_csv(params.get("service_code")), statuses=statuses, start=start, end=end
    )


def filter_requests(cases: Sequence[Case], query: RequestQuery) -> list[Case]:
    """In-memory filtering (newest first, at most ``query.limit``), for small deployments and tests."""
    hits = [c for c in cases if query.matches(c)]
    return sorted(hits, key=lambda c: (c.created_at, c.case_id), reverse=True)[: query.limit]
