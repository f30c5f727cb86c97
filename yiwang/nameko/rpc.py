"""``contract_rpc``: a nameko RPC entrypoint checked against its contract.

Requests are validated against the registered request model before the method runs and
responses against the response model after; a ``DomainError`` crosses the wire as
``RemoteDomainError`` whose single argument is the error's JSON, which the gateway
translates into problem details in one place (``gateway.problems``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    SERIALIZER_CONFIG_KEY,
)
from nameko.rpc import Responder, Rpc, RpcConsumer, get_rpc_exchange
from pydantic import BaseModel, ValidationError

from yiwang.contracts.rpc import get_rpc_contract
from yiwang.errors import DomainError, ValidationFailed


class RemoteDomainError(Exception):
    """Carries a DomainError's ``to_dict()`` JSON across nameko's RPC wire."""


class ContractBroken(Exception):
    """The service's own response broke its contract (a bug, not bad input)."""


class _ReplyPublisher(Publisher):
    """Replies go to the caller's own exclusive queue and the caller times out (503, retry)
    if one is lost, so they are published without waiting for a broker confirm: a round
    trip less per call. Requests and events keep their confirms."""

    use_confirms = False


class _Responder(Responder):
    publisher_cls = _ReplyPublisher


class _RpcConsumer(RpcConsumer):
    """nameko's RPC consumer, answering through ``_Responder``."""

    def handle_result(self, message: Any, result: Any, exc_info: Any) -> Any:
        cfg = self.container.config
        responder = _Responder(
            cfg[AMQP_URI_CONFIG_KEY],
            get_rpc_exchange(cfg),
            cfg.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER),
            message,
            ssl=cfg.get(AMQP_SSL_CONFIG_KEY),
            login_method=cfg.get(LOGIN_METHOD_CONFIG_KEY),
        )
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class ContractRpc(Rpc):
    rpc_consumer = _RpcConsumer()


def contract_rpc(service: str) -> Callable[[Callable[..., Any]], Any]:
    def decorate(fn: Callable[..., Any]) -> Any:
        contract = get_rpc_contract(service, fn.__name__)

        @functools.wraps(fn)
        def wrapper(self: Any, **kwargs: Any) -> Any:
            try:
                request = contract.request.model_validate(kwargs)
            except ValidationError as exc:
                err = ValidationFailed(
                    "invalid_request",
                    f"invalid request for {service}.{fn.__name__}",
                    f"{service}.{fn.__name__} 的请求参数无效",
                    errors=json.loads(exc.json(include_url=False, include_input=False)),
                )
                raise RemoteDomainError(json.dumps(err.to_dict(), ensure_ascii=False)) from None
            try:
                result = fn(self, request)
            except DomainError as exc:
                raise RemoteDomainError(json.dumps(exc.to_dict(), ensure_ascii=False)) from None
            if isinstance(result, BaseModel):
                result = result.model_dump(mode="json")
            try:
                return contract.response.model_validate(result).model_dump(mode="json")
            except ValidationError as exc:
                raise ContractBroken(str(exc)[:1000]) from None

        return ContractRpc.decorator(wrapper)

    return decorate
