"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) at ``/open311/v2/``.

Every resource comes as ``.json`` or ``.xml``; errors use the spec's shapes (a JSON array of
``{code, description}`` / ``<errors><error>``) with HTTP 400, 403 (bad ``api_key``) or 404.
``POST requests`` (form-encoded, ``api_key`` in the form or ``X-API-Key``, never in the
query string) goes through the
same intake as ``POST /api/v1/reports``: located through grids, published durably as
``report.submitted`` with source ``open311``; it answers a ``token`` (the report id), which
``tokens/{token}`` turns into the ``service_request_id`` once the case exists.

These routes are public (reading needs no key, as in the spec); the key is checked here
against the action ``open311.requests.create`` (the demo key grants ``open311.*``).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse

from gateway.deps import PublisherDep, RpcDep
from gateway.hygiene import check_form, check_request
from gateway.media.references import attach, media_ids
from gateway.open311 import documents as o311
from gateway.security.authn import Authenticator
from gateway.security.policy import Policy, authenticator
from yiwang.contracts.base import Contact
from yiwang.contracts.gateway import ReportSubmittedV1
from yiwang.errors import DomainError, Forbidden, NotFound, ValidationFailed
from yiwang.logging import get_logger
from yiwang.rpc_client import NamekoRpcClient, RemoteError

log = get_logger(__name__)
router = APIRouter(prefix="/open311/v2", tags=["open311"])

BASE = "/open311/v2"
CREATE = "open311.requests.create"
POLICY = {CREATE: {"system"}}  # only service API keys post Open311 requests
PUBLIC_ROUTES = {
    f"GET {BASE}/discovery.{{fmt}}",
    f"GET {BASE}/services.{{fmt}}",
    f"GET {BASE}/services/{{service_code}}.{{fmt}}",
    f"GET {BASE}/requests.{{fmt}}",
    f"POST {BASE}/requests.{{fmt}}",
    f"GET {BASE}/requests/{{service_request_id}}.{{fmt}}",
    f"GET {BASE}/tokens/{{token}}.{{fmt}}",
}


def _jid(request: Request) -> str:
    """The Open311 jurisdiction id (``YIWANG_OPEN311__jid(request)``)."""
    return str(request.app.state.resources.settings.open311_jurisdiction_id)


def _contact(request: Request) -> str:
    return str(request.app.state.resources.settings.open311_contact)


CHANGESET = datetime(2026, 3, 1, tzinfo=UTC)
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MAX_MEDIA_URL = 300  # a case attachment reference
Fmt = Annotated[
    str,
    Path(
        description="Response format: json or xml (any other answers 404 in Open311's error shape)",
        examples=["json"],
    ),
]


def _lang(request: Request) -> str:
    asked = request.query_params.get("locale") or request.headers.get("accept-language", "")
    return "en" if asked.lower().startswith("en") else "zh"


def _fmt(fmt: str) -> str:
    if fmt not in FORMATS:
        raise NotFound(
            "unknown_format",
            f"format '{fmt}' is not supported (json, xml)",
            f"不支持的格式“{fmt}”（json、xml）",
        )
    return fmt


def document(fmt: str, root: str, payload: Any, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(o311.to_xml(root, payload), status_code=status, media_type=FORMATS["xml"])
    return JSONResponse(payload, status_code=status, media_type=FORMATS["json"])


def errors(fmt: str, error: DomainError) -> Response:
    status = o311.http_status(error)
    fmt = fmt if fmt in FORMATS else "json"
    return document(fmt, "errors", o311.errors_payload(error), status)


async def _answer(
    request: Request, fmt: str, build: Callable[[str], Awaitable[Response]]
) -> Response:
    """Run ``build`` for a known format after the input hygiene checks (control characters
    in the query or form, credentials in a write's query string); any refusal becomes the
    spec's error document."""
    try:
        f = _fmt(fmt)
        await check_request(request)
        return await build(f)
    except DomainError as e:
        return errors(fmt, e)
    except RemoteError as e:
        log.error("open311_remote_error", exc_type=e.exc_type, value=e.value[:300])
        return errors(
            fmt,
            DomainError(
                "upstream_error", "A service failed to answer", "后台服务处理失败", status=500
            ),
        )


def _single(params: Any) -> dict[str, str]:
    return {k: v for k, v in params.items()}


# --- discovery and services -------------------------------------------------------------


@router.get("/discovery.{fmt}", summary="Open311 service discovery")
async def discovery(fmt: Fmt, request: Request) -> Response:
    async def build(f: str) -> Response:
        base = str(request.base_url).rstrip("/") + BASE
        doc = o311.discovery(
            base_url=base,
            contact=_contact(request),
            key_service=str(request.base_url).rstrip("/") + "/",
            changeset=CHANGESET,
        )
        return document(f, "discovery", doc)

    return await _answer(request, fmt, build)


@router.get("/services.{fmt}", summary="Open311 service list (the categories offered)")
async def services(fmt: Fmt, request: Request, rpc: RpcDep) -> Response:
    async def build(f: str) -> Response:
        _check_jurisdiction(request)
        out = await rpc.call("petitions", "open311_services", lang=_lang(request))
        return document(f, "services", out["items"])

    return await _answer(request, fmt, build)


@router.get("/services/{service_code}.{fmt}", summary="Open311 service definition")
async def service_definition(
    service_code: Annotated[
        str,
        Path(
            description="The service: a category code (事件类别) as listed by services",
            examples=["appearance.litter"],
        ),
    ],
    fmt: Fmt,
    request: Request,
    rpc: RpcDep,
) -> Response:
    async def build(f: str) -> Response:
        _check_jurisdiction(request)
        out = await rpc.call(
            "petitions",
            "open311_service_definition",
            service_code=service_code[:130],
            lang=_lang(request),
        )
        return document(f, "service_definition", out)

    return await _answer(request, fmt, build)


def _check_jurisdiction(request: Request) -> None:
    jid = request.query_params.get("jurisdiction_id")
    if jid and jid != _jid(request):
        raise ValidationFailed(
            "invalid_jurisdiction_id",
            f"jurisdiction_id '{jid[:64]}' is not served here",
            f"本平台不服务于jurisdiction_id“{jid[:64]}”",
            status=400,
        )


# --- service requests -------------------------------------------------------------------


async def _query(
    request: Request, rpc: NamekoRpcClient, params: dict[str, str]
) -> list[dict[str, Any]]:
    """Service requests matching the Open311 query ``params``, media links on this host."""
    out = await rpc.call(
        "petitions",
        "query_open311",
        params=params,
        jurisdiction_id=_jid(request),
        lang=_lang(request),
        media_base=str(request.base_url).rstrip("/"),
    )
    return list(out["items"])


@router.get("/requests.{fmt}", summary="Open311 service requests (filters; 90 days, ≤ 1000)")
async def list_requests(fmt: Fmt, request: Request, rpc: RpcDep) -> Response:
    async def build(f: str) -> Response:
        items = await _query(request, rpc, _single(request.query_params))
        return document(f, "service_requests", items)

    return await _answer(request, fmt, build)


@router.get("/requests/{service_request_id}.{fmt}", summary="One Open311 service request")
async def get_request(
    service_request_id: Annotated[
        str,
        Path(
            description="The service request id (the case id, as tokens/{token} answers it)",
            examples=["3f6d2a1c-7b4e-4c8a-9e21-5d0b8f7a6c34"],
        ),
    ],
    fmt: Fmt,
    request: Request,
    rpc: RpcDep,
) -> Response:
    async def build(f: str) -> Response:
        _check_jurisdiction(request)
        items = await _query(request, rpc, {"service_request_id": service_request_id[:64]})
        if not items:
            raise NotFound(
                "service_request_not_found",
                f"service_request_id '{service_request_id[:64]}' not found",
                f"未找到service_request_id“{service_request_id[:64]}”",
            )
        return document(f, "service_requests", items[:1])

    return await _answer(request, fmt, build)


@router.get("/tokens/{token}.{fmt}", summary="The service request id of a token")
async def get_token(
    token: Annotated[
        str,
        Path(
            description="The token POST requests answered (the report id)",
            examples=["9b2e4f60-1d3a-4c7b-8e5f-0a6c2d9b7e13"],
        ),
    ],
    fmt: Fmt,
    request: Request,
    rpc: RpcDep,
) -> Response:
    async def build(f: str) -> Response:
        _check_jurisdiction(request)
        try:
            report_id = uuid.UUID(token)
        except ValueError:
            raise NotFound(
                "invalid_token", f"token '{token[:64]}' not found", f"未找到token“{token[:64]}”"
            ) from None
        status = await rpc.call("petitions", "get_report_status", report_id=str(report_id))
        case_id = status.get("case_id")
        return document(
            f,
            "service_requests",
            o311.token_response(str(report_id), str(case_id) if case_id else None),
        )

    return await _answer(request, fmt, build)


async def _api_key(request: Request, fields: list[tuple[str, str]]) -> None:
    key = next((v for k, v in fields if k == "api_key"), None)
    key = key or request.headers.get("x-api-key")  # never the query string (hygiene refuses it)
    if not key:
        raise Forbidden("invalid_api_key", "api_key is required", "缺少api_key")
    auth: Authenticator = authenticator(request)
    try:
        principal = await auth.from_api_key(key.strip())
    except DomainError:
        raise Forbidden("invalid_api_key", "Invalid api_key", "无效的api_key") from None
    policy: Policy = request.app.state.policy
    if not policy.allows(principal, CREATE):
        raise Forbidden(
            "invalid_api_key",
            "This api_key may not post service requests",
            "此api_key无权提交服务请求",
        )
    request.scope.setdefault("yiwang", {})["principal"] = principal


async def _locate(rpc: Any, sub: dict[str, Any]) -> tuple[float, float, str]:
    """lat/long, else the building of ``address_id`` (its unified 18-digit code)."""
    lat, lon = sub.get("lat"), sub.get("lon")
    if lat is None or lon is None:
        aid = sub.get("address_id") or ""
        if not (aid.isascii() and aid.isdigit() and len(aid) == 18):  # not full-width digits
            raise ValidationFailed(
                "address_not_located",
                "address_string alone cannot be located here: send lat/long or address_id "
                "(an 18-digit building code)",
                "仅凭address_string无法定位：请提供lat/long或address_id（18位楼栋编码）",
                status=400,
            )
        found = await rpc.call("grids", "list_buildings", grid_code=aid[:15])
        building = next((b for b in found.get("buildings", []) if b["code"] == aid), None)
        if building is None or building.get("lat") is None or building.get("lon") is None:
            raise ValidationFailed(
                "invalid_address_id",
                f"address_id '{aid}' not found",
                f"未找到address_id“{aid}”",
                status=400,
            )
        lat, lon = building["lat"], building["lon"]
        sub["address_string"] = sub.get("address_string") or building.get("address")
    located = await rpc.call("grids", "locate", lat=lat, lon=lon)
    if not located["inside"]:
        raise ValidationFailed(
            "outside_jurisdiction",
            f"The location ({lat}, {lon}) is outside every grid of this city.",
            f"位置（{lat}, {lon}）不在本市任何网格内。",
            status=400,
        )
    return float(lat), float(lon), str(located["grid_code"])


@router.post("/requests.{fmt}", summary="Create an Open311 service request (answers a token)")
async def post_request(
    fmt: Fmt, request: Request, rpc: RpcDep, publisher: PublisherDep
) -> Response:
    async def build(f: str) -> Response:
        fields = await check_form(request)  # checked by _answer already; cached
        await _api_key(request, fields)
        sub = await rpc.call(
            "petitions",
            "parse_open311_form",
            fields=[[k, v] for k, v in fields if k != "api_key"],
            jurisdiction_id=_jid(request),
        )
        media = sub.get("media_url")
        if media and len(media) > MAX_MEDIA_URL:
            raise ValidationFailed(
                "media_url_too_long",
                f"media_url is longer than {MAX_MEDIA_URL} characters",
                f"media_url超过{MAX_MEDIA_URL}个字符",
                status=400,
            )
        lat, lon, grid = await _locate(rpc, sub)
        name = " ".join(p for p in (sub.get("first_name"), sub.get("last_name")) if p) or None
        contact = None
        if name or sub.get("phone") or sub.get("email"):
            contact = Contact(
                name=name[:50] if name else None, phone=sub.get("phone"), email=sub.get("email")
            )
        attributes = dict(sub.get("attributes") or {})
        report_id = uuid.uuid4()
        payload = ReportSubmittedV1(
            report_id=report_id,
            source="open311",
            category=sub["service_code"],
            description=sub["description"],
            lat=lat,
            lon=lon,
            grid_code=grid,
            address=(sub.get("address_string") or None),
            attributes=attributes,
            media=[media] if media else [],
            contact=contact,
            anonymous=contact is None,
            account_id=None,
            submitted_at=datetime.now(UTC),
        )
        await publisher.publish(payload, jurisdiction_code=grid)
        await attach(request, media_ids(media))  # an upload of ours it links is kept
        notice = (
            "已受理，处理进度可凭token查询"
            if _lang(request) == "zh"
            else ("Accepted; follow it with the token")
        )
        return document(
            f,
            "service_requests",
            o311.post_response(
                token=str(report_id), service_notice=notice, account_id=sub.get("account_id")
            ),
        )

    return await _answer(request, fmt, build)
