"""Errors → RFC 9457 problem details, translated once for the whole gateway.

Every error body has a stable ``code``, ``title`` (English), ``title_zh`` and ``detail``
messages in both languages; nothing internal (stack traces, SQL) ever leaks.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException

from yiwang.errors import DomainError
from yiwang.logging import get_logger
from yiwang.rpc_client import RemoteError
from yiwang.tracing import current_trace_id

log = get_logger(__name__)
PROBLEM = "application/problem+json"

# One table: HTTP status → (code, English, zh-CN) for errors raised by the framework.
HTTP_DEFAULTS: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "Bad request", "请求有误"),
    401: ("unauthorized", "Authentication required", "需要登录"),
    403: ("forbidden", "Not allowed", "无权操作"),
    404: ("not_found", "Not found", "未找到"),
    405: ("method_not_allowed", "Method not allowed", "不支持该请求方法"),
    409: ("conflict", "Conflict", "状态冲突"),
    413: ("payload_too_large", "Request body too large", "请求内容过大"),
    415: ("unsupported_media_type", "Unsupported media type", "不支持的内容类型"),
    422: ("validation_failed", "Invalid input", "输入无效"),
    429: ("rate_limited", "Too many requests", "请求过于频繁"),
    502: ("upstream_error", "A service failed to answer correctly", "后台服务处理异常"),
    503: ("service_unavailable", "Service unavailable", "服务暂时不可用"),
}


# The problem-details body as documented in OpenAPI (every 4xx and the 503 of the gateway).
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details with a stable code and zh-CN/English messages.",
    "required": ["type", "title", "status", "code", "detail", "detail_zh"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "title_zh": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string", "description": "stable snake_case error code"},
        "detail": {"type": "string"},
        "detail_zh": {"type": "string"},
        "trace_id": {"type": "string"},
        "errors": {"description": "validation errors or the refusal's details"},
        "retry_after": {"type": "integer"},
        "limit": {"type": "integer"},
    },
    "additionalProperties": True,
}

_DOCUMENTED = (400, 401, 403, 404, 409, 413, 415, 422, 429, 503)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for problem details (``application/problem+json``)."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        code, title, title_zh = HTTP_DEFAULTS[status]
        example = {
            "type": f"https://yiwang.example/problems/{code}",
            "title": title,
            "title_zh": title_zh,
            "status": status,
            "code": code,
            "detail": title,
            "detail_zh": title_zh,
        }
        entry: dict[str, Any] = {
            "description": f"{title} ({title_zh}), as problem details",
            "content": {PROBLEM: {"schema": PROBLEM_SCHEMA, "example": example}},
        }
        if status in (429, 503):
            entry["headers"] = {
                "Retry-After": {"description": "seconds to wait", "schema": {"type": "string"}}
            }
        out[status] = entry
    return out


# Every router is included with these (gateway.main): what any route may answer besides 2xx.
RESPONSES = problem_responses(*_DOCUMENTED)


def problem(
    status: int,
    code: str | None = None,
    detail_en: str | None = None,
    detail_zh: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    dcode, title_en, title_zh = HTTP_DEFAULTS.get(status, ("error", "Error", "错误"))
    body: dict[str, Any] = {
        "type": f"https://yiwang.example/problems/{code or dcode}",
        "title": title_en,
        "title_zh": title_zh,
        "status": status,
        "code": code or dcode,
        "detail": detail_en or title_en,
        "detail_zh": detail_zh or detail_zh or title_zh,
    }
    tid = current_trace_id()
    if tid:
        body["trace_id"] = tid
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"Retry-After": "2"} if exc.status == 503 else None
        details = exc.details or None
        return problem(
            exc.status, exc.code, exc.message_en, exc.message_zh, headers=headers, errors=details
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", [])), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return problem(
            422,
            "validation_failed",
            "The request is invalid: see errors.",
            "请求参数无效，详见 errors。",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_DEFAULTS.get(exc.status_code, ("error", "", ""))[0]
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem(exc.status_code, code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(RedisError)
    async def _redis(request: Request, exc: RedisError) -> JSONResponse:
        log.warning("redis_unavailable", error=type(exc).__name__, path=request.url.path)
        return problem(
            503,
            "cache_unavailable",
            "A shared service is busy or unavailable; please retry shortly.",
            "共享服务繁忙或不可用，请稍后重试。",
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(RemoteError)
    async def _remote(request: Request, exc: RemoteError) -> JSONResponse:
        log.error("remote_error", exc_type=exc.exc_type, value=exc.value[:500])
        return problem(
            502, "upstream_error", "A service failed to process the request.", "后台服务处理失败。"
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path)
        return problem(
            500, "internal_error", "Internal error; it has been logged.", "内部错误，已记录。"
        )
