"""Input hygiene at every door: what no route may receive, checked before any service sees it.

- Text (path, query string, JSON strings and keys, form fields, upload file names) with NUL
  or other control characters is refused (422 ``nul_character`` / ``control_character``):
  PostgreSQL cannot store NUL, XML 1.0 cannot carry C0 controls, and a service failing on
  them would dead-letter a report instead of refusing it.
- Numbers must be written plainly: a numeric query/path parameter, or a JSON string given
  for a numeric body field, with underscores, full-width digits, spaces, nan/inf is refused
  (422 ``invalid_number``) where pydantic's lax mode would read ``32.0_1`` as 32.01.
- Credentials never travel in a write's query string (``api_key``, ``access_token``: 400
  ``credentials_in_query``): URLs end up in logs and proxies.

:func:`input_hygiene` is the router dependency of every REST route; Open311 routes call
:func:`check_request` themselves so that refusals keep the GeoReport error shape.
"""

from __future__ import annotations

import json
import types
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Request
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter
from starlette.datastructures import UploadFile

from yiwang.contracts.base import has_control_characters, strict_number_text
from yiwang.errors import ValidationFailed

CREDENTIAL_PARAMS = ("api_key", "access_token", "upload_token")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def nul_character() -> ValidationFailed:
    return ValidationFailed(
        "nul_character",
        "Text must not contain NUL (U+0000) characters.",
        "文本不能包含空字符（U+0000）。",
    )


def control_character(where: str) -> ValidationFailed:
    return ValidationFailed(
        "control_character",
        f"Text must not contain control characters ({where}).",
        f"文本不能包含控制字符（{where}）。",
        field=where,
    )


def invalid_number(where: str) -> ValidationFailed:
    return ValidationFailed(
        "invalid_number",
        f"{where} must be a plain number (ASCII digits; no '_', spaces or full-width digits).",
        f"{where}须为普通数字（半角数字，不含下划线、空格或全角数字）。",
        field=where,
    )


def check_text(value: str, where: str) -> None:
    if "\x00" in value:
        raise nul_character()
    if has_control_characters(value):
        raise control_character(where)


def check_tree(value: Any, where: str) -> None:
    """Every string (and key) of a decoded JSON document."""
    if isinstance(value, str):
        check_text(value, where)
    elif isinstance(value, dict):
        for k, v in value.items():
            check_text(k, where)
            check_tree(v, f"{where}.{k}")
    elif isinstance(value, list):
        for v in value:
            check_tree(v, where)


def check_query(request: Request) -> None:
    check_text(request.url.path, "path")
    for k, v in request.query_params.multi_items():
        check_text(k, "query")
        check_text(v, k)
    if request.method not in SAFE_METHODS:
        for name in CREDENTIAL_PARAMS:
            if name in request.query_params:
                raise ValidationFailed(
                    "credentials_in_query",
                    f"{name} must not be sent in the query string (use the header or the body)",
                    f"{name}不能放在查询字符串中（请放在请求头或请求体中）",
                    status=400,
                    field=name,
                )


async def check_form(request: Request) -> list[tuple[str, str]]:
    """The text fields of a form body (urlencoded or multipart), checked; [] for others."""
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return []
    form = await request.form()  # cached: the route reads the same form
    fields = []
    for k, v in form.multi_items():
        check_text(k, "form")
        if isinstance(v, UploadFile):
            check_text(v.filename or "", "filename")
        else:
            check_text(v, k)
            fields.append((k, v))
    return fields


async def check_request(request: Request) -> None:
    """Query string, path and form body (the Open311 door, whose bodies are forms)."""
    check_query(request)
    await check_form(request)


# --- strict numbers, from the route's own declarations -----------------------------------


def _numeric(annotation: Any) -> bool | None:
    """True: int-like, False: float-like, None: not a plain number (or one accepting text)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _numeric(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if str in args:
            return None
        kinds = {_numeric(a) for a in args} - {None}
        return None if not kinds else (kinds == {True})
    if annotation is bool or not isinstance(annotation, type):
        return None
    if issubclass(annotation, int) and not issubclass(annotation, bool):
        return True
    if issubclass(annotation, float):
        return False
    return None


_LAX: dict[bool, TypeAdapter[Any]] = {True: TypeAdapter(int), False: TypeAdapter(float)}


def _lax_only(raw: str, integer: bool) -> bool:
    """Text pydantic's lax mode would read as a number but a strict reader would not
    (``32.0_1``, `` 32``, ``nan``). Text that is no number at all is left to the route's own
    validation, which answers after authentication."""
    if strict_number_text(raw, integer=integer):
        return False
    try:
        _LAX[integer].validate_python(raw)
    except ValueError:
        return False
    return True


_NUMERIC_PARAMS: dict[int, list[tuple[str, str, bool]]] = {}  # id(route) -> its number params


def _numeric_params(route: APIRoute) -> list[tuple[str, str, bool]]:
    """(source, name, integer?) of the route's numeric path/query parameters, dependencies
    included (computed once per route)."""
    found = _NUMERIC_PARAMS.get(id(route))
    if found is not None:
        return found
    found, stack, seen = [], [route.dependant], set()
    while stack:
        dep = stack.pop()
        if id(dep) in seen:
            continue
        seen.add(id(dep))
        stack.extend(dep.dependencies)
        for source, fields in (("path", dep.path_params), ("query", dep.query_params)):
            for f in fields:
                kind = _numeric(f.field_info.annotation)
                if kind is not None:
                    found.append((source, f.alias, kind))
    _NUMERIC_PARAMS[id(route)] = found
    return found


def _check_params(request: Request, route: APIRoute) -> None:
    for source, name, kind in _numeric_params(route):
        raw = (
            [str(request.path_params.get(name, ""))]
            if source == "path"
            else request.query_params.getlist(name)
        )
        for value in raw:
            if _lax_only(value, kind):
                raise invalid_number(name)


def _check_numbers(annotation: Any, value: Any, where: str) -> None:
    """JSON strings given for numeric fields must be plain numbers (JSON numbers pass)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _check_numbers(get_args(annotation)[0], value, where)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if str not in args:
            for a in args:
                _check_numbers(a, value, where)
        return None
    if origin in (list, tuple, set, frozenset) and isinstance(value, list):
        items = get_args(annotation)
        for v in value:
            for a in items:
                if a is not Ellipsis:
                    _check_numbers(a, v, where)
        return None
    if origin is dict and isinstance(value, dict):
        kv = get_args(annotation)
        for k, v in value.items():
            _check_numbers(kv[1] if len(kv) == 2 else Any, v, f"{where}.{k}")
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if isinstance(value, dict):
            for name, f in annotation.model_fields.items():
                key = f.alias or name
                if key in value:
                    _check_numbers(f.annotation, value[key], key)
        return None
    kind = _numeric(annotation)
    if kind is not None and isinstance(value, str) and not strict_number_text(value, integer=kind):
        raise invalid_number(where)
    return None


async def input_hygiene(request: Request) -> None:
    """Router dependency of every REST route (FastAPI has parsed the body already, so the
    JSON and form reads here are cached)."""
    if request.url.path.startswith("/open311/"):
        return  # checked inside the Open311 routes (GeoReport error shapes)
    check_query(request)
    route = request.scope.get("route")
    if isinstance(route, APIRoute):
        _check_params(request, route)
    if "json" in request.headers.get("content-type", ""):
        body = await request.body()
        try:
            data = json.loads(body) if body else None
        except (ValueError, RecursionError):
            return  # the route answers 4xx for malformed JSON
        try:
            check_tree(data, "body")
            if isinstance(route, APIRoute) and route.body_field is not None:
                _check_numbers(route.body_field.field_info.annotation, data, "body")
        except RecursionError:
            raise ValidationFailed(
                "too_deeply_nested", "The JSON body is nested too deeply.", "JSON请求体嵌套过深。"
            ) from None
        request.state.json_body = data  # for gateway.media.references (no third parse)
    else:
        await check_form(request)


__all__ = ["check_form", "check_query", "check_request", "check_text", "input_hygiene"]
