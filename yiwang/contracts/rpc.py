"""RPC schemas: one request and one response model per remote method.

``rpc_contract(service, method)`` registers them; the nameko side validates requests
and responses in ``yiwang.nameko.rpc.contract_rpc``, the gateway client validates both
in ``yiwang.rpc_client``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel


class RpcContract:
    def __init__(
        self, service: str, method: str, request: type[BaseModel], response: type[BaseModel]
    ) -> None:
        self.service = service
        self.method = method
        self.request = request
        self.response = response


_RPC: dict[tuple[str, str], RpcContract] = {}
T = TypeVar("T", bound=type[BaseModel])


def rpc_contract(service: str, method: str, response: type[BaseModel]) -> Callable[[T], T]:
    """Register ``request`` (the decorated class) and ``response`` for service.method."""

    def wrap(request: T) -> T:
        key = (service, method)
        if key in _RPC:
            raise ValueError(f"rpc contract {key} registered twice")
        _RPC[key] = RpcContract(service, method, request, response)
        return request

    return wrap


def get_rpc_contract(service: str, method: str) -> RpcContract:
    return _RPC[(service, method)]


def all_rpc_contracts() -> list[RpcContract]:
    return [_RPC[k] for k in sorted(_RPC)]
