"""The gateway's OpenAPI is complete: every operation has a summary and declares its
problem-details errors, every request body has an example, every parameter that is not
self-evident has an example or a description, and every example is valid for its own schema
(checked with the route's real body or parameter type, so a wrong example fails here).

Self-evident, and so exempt from needing an example or a description:

- enum parameters (the schema lists every accepted value) and booleans;
- integers bounded on both sides (paging, limits, months: the bounds say it all);
- a path parameter that identifies the resource named by the path segment just before it
  (``/cases/{case_id}``, ``/units/{code}``, ``/orders/{order_id}``);
- a binary (``format: binary`` or ``contentMediaType``) property of a multipart body (the uploaded file itself).

The checkers are pure functions over the OpenAPI document and the app's routes; the last
tests run them on a small app with known defects so that they are shown to catch each one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, FastAPI, Query
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from gateway.problems import PROBLEM, RESPONSES
from gateway.security.policy import iter_api_routes

METHODS = ("get", "put", "post", "delete", "patch")
Spec = dict[str, Any]
Op = tuple[str, str, dict[str, Any]]  # (path, method, operation object)


# -- helpers over the OpenAPI document -------------------------------------------------------


def operations(spec: Spec) -> Iterator[Op]:
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def resolve(spec: Spec, schema: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` and unwrap ``X | None`` (``anyOf`` with a null branch)."""
    seen = 0
    while True:
        seen += 1
        assert seen < 20, f"reference loop at {schema}"
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
            continue
        branches = [b for b in schema.get("anyOf", []) if b.get("type") != "null"]
        if len(branches) == 1 and len(schema["anyOf"]) == 2:
            schema = branches[0]
            continue
        return schema


def _has_example(obj: dict[str, Any]) -> bool:
    return bool(obj.get("examples")) or "example" in obj


def _first_example(obj: dict[str, Any]) -> Any:
    examples = obj.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    if isinstance(examples, dict) and examples:
        return next(iter(examples.values()))["value"]
    return obj["example"]


def _is_file(schema: dict[str, Any]) -> bool:
    return schema.get("format") == "binary" or "contentMediaType" in schema


def body_examples(spec: Spec, media: dict[str, Any]) -> list[tuple[str, Any]]:
    """The examples a request body's media type documents, as (where, value); [] if none.

    Accepted, in this order: media-type ``example``/``examples``, the schema's own
    ``examples``/``example``, or (when every property has one) the object assembled from the
    properties' first examples.
    """
    found: list[tuple[str, Any]] = []
    if "example" in media:
        found.append(("media example", media["example"]))
    for key, ex in (media.get("examples") or {}).items():
        found.append((f"media examples[{key}]", ex["value"]))
    schema = resolve(spec, media.get("schema", {}))
    for i, ex in enumerate(schema.get("examples") or []):
        found.append((f"schema examples[{i}]", ex))
    if "example" in schema:
        found.append(("schema example", schema["example"]))
    if found:
        return found
    props = {
        name: prop
        for name, prop in (schema.get("properties") or {}).items()
        if not _is_file(resolve(spec, prop))  # an uploaded file: exempt
    }
    binary_only = not props and bool(schema.get("properties"))
    if binary_only:
        return [("file upload", None)]
    if props and all(_has_example(p) or _has_example(resolve(spec, p)) for p in props.values()):
        assembled = {
            name: _first_example(p if _has_example(p) else resolve(spec, p))
            for name, p in props.items()
        }
        return [("assembled from property examples", assembled)]
    return []


def self_evident(path: str, param: dict[str, Any], spec: Spec) -> bool:
    schema = resolve(spec, param.get("schema", {}))
    if "enum" in schema or "const" in schema or schema.get("type") == "boolean":
        return True
    if schema.get("type") == "array" and "enum" in resolve(spec, schema.get("items", {})):
        return True
    if schema.get("type") == "integer" and "minimum" in schema and "maximum" in schema:
        return True
    if param["in"] == "path":
        segments = path.strip("/").split("/")
        whole = "{" + param["name"] + "}"
        if whole not in segments:  # part of a segment, as in ``export.{fmt}``
            return False
        here = segments.index(whole)
        return here > 0 and not segments[here - 1].startswith("{")
    return False


def param_documented(param: dict[str, Any]) -> bool:
    schema = param.get("schema", {})
    return bool(param.get("description") or schema.get("description")) or bool(
        _has_example(param) or _has_example(schema)
    )


def param_examples(param: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    if "example" in param:
        out.append(param["example"])
    out += [e["value"] for e in (param.get("examples") or {}).values()]
    schema = param.get("schema", {})
    out += list(schema.get("examples") or [])
    if "example" in schema:
        out.append(schema["example"])
    return out


# -- the checkers: each returns a list of human-readable defects ------------------------------


def routes_by_operation(app: FastAPI) -> dict[tuple[str, str], APIRoute]:
    out: dict[tuple[str, str], APIRoute] = {}
    for path, methods, route in iter_api_routes(app):
        for method in methods:
            out[(path, method.lower())] = route
    return out


def missing_summaries_and_errors(spec: Spec, app: FastAPI) -> list[str]:
    routes = routes_by_operation(app)
    defects: list[str] = []
    for path, method, op in operations(spec):
        where = f"{method.upper()} {path}"
        route = routes.get((path, method))
        if not op.get("summary") or route is None or not route.summary:
            defects.append(f"{where}: no explicit summary")
        errors = {str(s): r for s, r in op.get("responses", {}).items() if str(s)[0] in "45"}
        if not any(s.startswith("4") for s in errors):
            defects.append(f"{where}: declares no 4xx response")
        for status, resp in errors.items():
            content = resp.get("content", {}).get(PROBLEM)
            if content is None or "code" not in content.get("schema", {}).get("properties", {}):
                defects.append(f"{where}: {status} is not documented as problem details")
        if (op.get("requestBody") or op.get("parameters")) and "422" not in errors:
            defects.append(f"{where}: takes input but declares no 422")
    return defects


def missing_body_examples(spec: Spec) -> list[str]:
    defects: list[str] = []
    for path, method, op in operations(spec):
        for ctype, media in (op.get("requestBody") or {}).get("content", {}).items():
            if not body_examples(spec, media):
                title = resolve(spec, media.get("schema", {})).get("title", "?")
                defects.append(f"{method.upper()} {path} ({ctype}, {title}): no example")
    return defects


def undocumented_parameters(spec: Spec) -> list[str]:
    defects: list[str] = []
    for path, method, op in operations(spec):
        for param in op.get("parameters", []):
            if param["in"] not in ("query", "path") or self_evident(path, param, spec):
                continue
            if not param_documented(param):
                defects.append(f"{method.upper()} {path}: {param['in']} {param['name']}")
    return defects


def invalid_examples(spec: Spec, app: FastAPI) -> list[str]:
    """Validate every body example with the route's body type (as JSON, the way a client
    sends it) and every parameter example with the parameter's own field."""
    routes = routes_by_operation(app)
    defects: list[str] = []
    for path, method, op in operations(spec):
        where = f"{method.upper()} {path}"
        route = routes[(path, method)]
        for ctype, media in (op.get("requestBody") or {}).get("content", {}).items():
            if ctype != "application/json":
                continue  # multipart: the only such body is a file upload
            assert route.body_field is not None, where
            body_type: Any = route.body_field.field_info.annotation
            adapter: TypeAdapter[Any] = TypeAdapter(body_type)
            schema = resolve(spec, media.get("schema", {}))
            known = set(schema.get("properties") or {})
            closed = known and schema.get("additionalProperties") is not True
            for source, example in body_examples(spec, media):
                try:
                    adapter.validate_json(json.dumps(example))
                except ValidationError as exc:
                    defects.append(f"{where} {source}: {exc.errors()[:2]}")
                if closed and isinstance(example, dict) and set(example) - known:
                    defects.append(f"{where} {source}: unknown keys {set(example) - known}")
        fields = {
            (f.alias, f.field_info.in_.value): f  # type: ignore[attr-defined]
            for f in get_flat_params(route.dependant)
        }
        for param in op.get("parameters", []):
            field = fields.get((param["name"], param["in"]))
            if field is None:
                continue
            for example in param_examples(param):
                _, errors = field.validate(example, {}, loc=(param["in"], param["name"]))
                if errors:
                    defects.append(f"{where} {param['in']} {param['name']}={example!r}: {errors}")
    return defects


# -- the real gateway ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app() -> FastAPI:
    from gateway.main import create_app

    return create_app()


@pytest.fixture(scope="module")
def spec(app: FastAPI) -> Spec:
    return app.openapi()


def test_the_document_is_not_empty(spec: Spec) -> None:
    ops = list(operations(spec))
    assert len(ops) > 150
    assert sum(1 for *_, op in ops if op.get("requestBody")) > 80


def test_every_operation_has_a_summary_and_documents_problem_details(
    spec: Spec, app: FastAPI
) -> None:
    assert missing_summaries_and_errors(spec, app) == []


def test_every_request_body_has_an_example(spec: Spec) -> None:
    defects = missing_body_examples(spec)
    assert defects == [], f"{len(defects)} request bodies without an example:\n" + "\n".join(
        defects
    )


def test_every_parameter_that_is_not_self_evident_is_documented(spec: Spec) -> None:
    defects = undocumented_parameters(spec)
    assert defects == [], f"{len(defects)} parameters without description/example:\n" + "\n".join(
        defects
    )


def test_every_example_is_valid_for_its_own_schema(spec: Spec, app: FastAPI) -> None:
    defects = invalid_examples(spec, app)
    assert defects == [], "\n".join(defects)


def _free_form_contracts() -> dict[tuple[str, str], tuple[TypeAdapter[Any], Any]]:
    """Free-form (``dict``) bodies go to a service as they are: their examples must satisfy the
    service's contract, completed the way the route completes them (path values, actor)."""
    from services.petitions.domain.categories import Category

    # (the routing-rule bodies are typed now: their examples are checked with every schema)
    return {
        ("/api/v1/categories/{code}", "put"): (
            TypeAdapter(Category),
            lambda ex: {**ex, "code": "appearance.litter"},
        ),
    }


def test_free_form_body_examples_satisfy_the_service_contracts(spec: Spec) -> None:
    free_form = {
        (path, method)
        for path, method, op in operations(spec)
        for media in (op.get("requestBody") or {}).get("content", {}).values()
        if resolve(spec, media.get("schema", {})).get("additionalProperties") is True
        and not resolve(spec, media.get("schema", {})).get("properties")
    }
    contracts = _free_form_contracts()
    assert free_form == set(contracts), "a free-form body needs its contract listed here"
    for (path, method), (adapter, complete) in contracts.items():
        media = spec["paths"][path][method]["requestBody"]["content"]["application/json"]
        for source, example in body_examples(spec, media):
            try:
                adapter.validate_json(json.dumps(complete(example)))
            except ValidationError as exc:
                pytest.fail(f"{method.upper()} {path} {source}: {exc}")


# -- the checkers catch what they are meant to catch -----------------------------------------


class _Good(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"n": 3}]})
    n: int = Field(ge=1)


class _Wrong(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"n": 0}, {"n": 1, "typo": 2}]})
    n: int = Field(ge=1)


class _Bare(BaseModel):
    n: int


class _PerProperty(BaseModel):
    n: int = Field(examples=["three"])  # a wrong per-property example
    s: str = Field(examples=["x"])


def _defective_app() -> FastAPI:
    router = APIRouter()

    @router.post("/good/{good_id}", summary="fine")
    async def good(good_id: str, body: _Good) -> None:
        return None

    @router.post("/wrong", summary="wrong example")
    async def wrong(body: _Wrong) -> None:
        return None

    @router.post("/bare")  # no summary, no example
    async def bare(body: _Bare) -> None:
        return None

    @router.post("/per-property", summary="assembled example")
    async def per_property(body: _PerProperty) -> None:
        return None

    @router.get("/search", summary="undocumented and wrong parameters")
    async def search(
        q: str,
        at: Annotated[str, Query(pattern=r"^[0-9]{6}$", examples=["32990"])],
        ok: Annotated[str, Query(description="documented")] = "",
        flag: bool = False,
        page: Annotated[int, Query(ge=1, le=9)] = 1,
    ) -> None:
        return None

    app = FastAPI()
    app.include_router(router, responses=RESPONSES)
    app.include_router(router, prefix="/bare-errors")  # no problem responses declared
    return app


def test_the_checkers_catch_each_defect() -> None:
    app = _defective_app()
    spec = app.openapi()

    missing = missing_summaries_and_errors(spec, app)
    assert "POST /bare: no explicit summary" in missing
    assert "POST /bare-errors/wrong: 422 is not documented as problem details" in missing
    assert not any(d.startswith("POST /good/") for d in missing)

    no_example = missing_body_examples(spec)
    assert any(d.startswith("POST /bare (") for d in no_example)
    assert not any(d.startswith(("POST /good/", "POST /per-property")) for d in no_example)

    undocumented = undocumented_parameters(spec)
    assert "GET /search: query q" in undocumented
    assert not any(p in d for d in undocumented for p in (" at", " ok", " flag", " page"))
    assert not any("good_id" in d for d in undocumented)  # /good/{good_id}: self-evident

    wrong = invalid_examples(spec, app)
    assert any(d.startswith("POST /wrong schema examples[0]") for d in wrong)
    assert any("unknown keys {'typo'}" in d for d in wrong)
    assert any(d.startswith("POST /per-property assembled") for d in wrong)
    assert any(d.startswith("GET /search query at='32990'") for d in wrong)
    assert not any(d.startswith("POST /good/") for d in wrong)
