"""Typed dependencies for routes; everything is built once in ``gateway.main.create_app``.

They are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in its thread pool,
a thread hop per dependency per request for what is an attribute lookup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis
from sqlalchemy.engine import Engine

from gateway.messaging import EventPublisher
from gateway.readcache import ReadCache
from yiwang.config import Settings
from yiwang.rpc_client import NamekoRpcClient


@dataclass
class Resources:
    settings: Settings
    rpc: NamekoRpcClient
    publisher: EventPublisher
    redis: Redis
    engine: Engine


async def _resources(request: Request) -> Resources:
    res: Resources = request.app.state.resources
    return res


async def _rpc(res: Annotated[Resources, Depends(_resources)]) -> NamekoRpcClient:
    return res.rpc


async def _publisher(res: Annotated[Resources, Depends(_resources)]) -> EventPublisher:
    return res.publisher


async def _read_cache(request: Request) -> ReadCache:
    cache: ReadCache = request.app.state.read_cache
    return cache


ResourcesDep = Annotated[Resources, Depends(_resources)]
RpcDep = Annotated[NamekoRpcClient, Depends(_rpc)]
PublisherDep = Annotated[EventPublisher, Depends(_publisher)]
ReadCacheDep = Annotated[ReadCache, Depends(_read_cache)]
