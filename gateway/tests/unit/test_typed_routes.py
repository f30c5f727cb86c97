"""One source per shape: REST bodies derived from the RPC contracts keep their rules and
refuse unknown keys; the typed RPC reply is the registered response model; the route
modules converted so far declare a response model on every JSON route."""

from __future__ import annotations

import asyncio
import typing
from typing import Any

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from gateway.api.bodies import body_of
from yiwang.contracts.enterprise import FinancingNeedOut, RespondFinancingRequest
from yiwang.rpc_client import NamekoRpcClient

TYPED_MODULES = (
    "enterprise",
    "volunteers",
    "grids",
    "cases",
    "agency",
    "calendar",
    "reports",
    "workbench",
    "media",
    "admin",
    "auth",
)

FinancingResponseIn = body_of(
    RespondFinancingRequest,
    "FinancingResponseIn",
    exclude={"institution_id", "need_id"},
    examples=[{"product_id": "prod-1", "response": "offer", "offer_amount": 300000}],
)


def test_derived_body_keeps_the_contract_rules_and_refuses_unknown_keys() -> None:
    assert set(FinancingResponseIn.model_fields) == {
        "product_id",
        "response",
        "offer_amount",
        "offer_rate_pct",
        "note",
    }
    ok = FinancingResponseIn.model_validate({"product_id": "p", "response": "offer"})
    assert ok.model_dump()["note"] == ""  # the contract's default
    for bad in (
        {"product_id": "p", "response": "offer", "extra": 1},  # unknown key: 422
        {"product_id": "p", "response": "offer", "actor": {"id": "x", "role": "admin"}},
        {"product_id": "", "response": "offer"},  # the contract's bounds
        {"product_id": "p", "response": "maybe"},
        {"product_id": "p", "response": "offer", "offer_rate_pct": 99},
    ):
        with pytest.raises(ValidationError):
            FinancingResponseIn.model_validate(bad)
    schema = FinancingResponseIn.model_json_schema()
    assert schema["additionalProperties"] is False
    assert schema["examples"][0]["product_id"] == "prod-1"
    assert FinancingResponseIn.__module__ == __name__  # the naming module, for OpenAPI names


def test_body_of_refuses_fields_the_contract_does_not_have() -> None:
    with pytest.raises(ValueError, match="no fields"):
        body_of(RespondFinancingRequest, "X", only={"product_id", "nope"})


def test_call_typed_returns_the_registered_response_model() -> None:
    client = NamekoRpcClient("amqp://unused")
    reply = {
        "need_id": "N1",
        "enterprise_id": "E1",
        "amount": "500000",
        "term_months": 12,
        "purpose": "x",
        "industry": "manufacturing",
        "status": "open",
        "created_at": "2026-01-05T09:00:00+08:00",
        "version": 1,
    }
    sent: list[dict[str, Any]] = []

    async def fake_call_raw(
        service: str, method: str, kwargs: dict[str, Any], timeout_s: float | None = None
    ) -> Any:
        sent.append(kwargs)
        return reply

    client.call_raw = fake_call_raw  # type: ignore[method-assign]
    kw = {
        "actor": {"id": "a", "role": "institution_user"},
        "institution_id": "I1",
        "need_id": "N1",
        "product_id": "P1",
        "response": "interested",
    }
    typed = asyncio.run(client.call_typed("enterprise", "respond_financing", **kw))
    assert isinstance(typed, FinancingNeedOut) and typed.need_id == "N1"
    plain = asyncio.run(client.call("enterprise", "respond_financing", **kw))
    assert plain == typed.model_dump(mode="json") and plain["amount"] == "500000"
    assert sent[0] == sent[1]  # the wire is the same for both


def _is_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    args = typing.get_args(annotation)
    return bool(args) and all(_is_model(a) for a in args)


def test_converted_modules_declare_a_response_model_on_every_json_route() -> None:
    from gateway.main import create_app
    from gateway.security.policy import iter_api_routes

    untyped = []
    for path, methods, route in iter_api_routes(create_app()):
        assert isinstance(route, APIRoute)
        module = route.endpoint.__module__.rsplit(".", 1)[-1]
        if module not in TYPED_MODULES or route.response_model is None:
            continue  # None: a Response subclass (files, 204) or no JSON body
        if not _is_model(route.response_model):
            untyped.append(f"{sorted(methods)} {path}: {route.response_model}")
    assert untyped == []
