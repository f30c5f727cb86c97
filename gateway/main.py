"""The gateway's composition root: ``create_app(settings)`` builds every dependency once.

Run with ``python -m gateway.main`` (uvicorn on YIWANG_GATEWAY_HOST:PORT).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from redis.asyncio import BlockingConnectionPool, Redis
from starlette_compress import CompressMiddleware, remove_compress_type

from gateway import hygiene, middleware, problems, security
from gateway.api import routes as routes_pkg
from gateway.backpressure import InFlightLimit, IntakeAdmission
from gateway.deps import Resources
from gateway.live import LiveHub
from gateway.media.references import attach_referenced_media
from gateway.messaging import EventPublisher
from gateway.metrics_mw import MeasureRequests
from gateway.network import BodyReadTimeout, server_config
from gateway.readcache import ReadCache
from gateway.security.seed import demo_present
from gateway.tracing_mw import TraceRequests
from yiwang.config import Settings
from yiwang.db import make_engine
from yiwang.dbroles import service_database_url
from yiwang.logging import setup_logging
from yiwang.metrics import POOLS, SSE_SUBSCRIBERS
from yiwang.production import StartupRefused, checked_keyring
from yiwang.rpc_client import NamekoRpcClient
from yiwang.tracing import setup_tracing


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    keyring = checked_keyring(settings)  # production: refuses weak/missing keys, demo options

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.env == "production":
            probe = make_engine(settings.database_url, pool_size=1)
            try:
                if demo_present(probe):
                    raise StartupRefused(["demo accounts or the demo API key exist"])
            finally:
                probe.dispose()
        rpc = NamekoRpcClient(
            settings.amqp_uri,
            timeout_s=settings.rpc_timeout_s,
            max_pending=settings.rpc_max_pending,
        )
        publisher = EventPublisher(settings.amqp_uri, timeout_s=settings.rpc_timeout_s)
        await rpc.connect()
        await publisher.connect(settings.event_retry_delays_ms)
        # a blocking pool: a burst (hundreds of dashboards connecting at once) waits briefly
        # for a free connection instead of failing with "too many connections"
        redis = Redis(
            connection_pool=BlockingConnectionPool.from_url(
                settings.redis_url, max_connections=settings.redis_max_connections, timeout=5
            )
        )
        # the gateway's own role: its schema (accounts, keys, audit) and nothing else
        db_url = service_database_url(
            settings.database_url,
            "gateway",
            enabled=settings.database_roles,
            passwords=settings.database_role_passwords,
        )
        engine = make_engine(db_url, pool_size=5)
        app.state.resources = Resources(settings, rpc, publisher, redis, engine)
        # dashboard reads cached in Redis, refreshed by the change stream that feeds SSE
        app.state.read_cache = ReadCache(
            redis, settings.redis_prefix, settings.readcache_ttl_s, settings.readcache_min_refresh_s
        )
        app.state.live_hub = LiveHub(
            redis, f"{settings.redis_prefix}live", on_change=app.state.read_cache.changed
        )
        if settings.readcache_ttl_s > 0:
            app.state.live_hub.start()
        POOLS.add("gateway", engine)
        SSE_SUBSCRIBERS.set_function(lambda: app.state.live_hub.subscribers)
        try:
            yield
        finally:
            POOLS.remove("gateway", engine)
            await app.state.live_hub.close()
            await app.state.read_cache.close()
            await rpc.close()
            await publisher.close()
            await redis.aclose()
            engine.dispose()
            if (media := getattr(app.state, "media_store", None)) is not None:
                media.close()  # its image decoder processes

    app = FastAPI(
        # FastAPI's own server span per request, parented on the caller's traceparent; no
        # extra spans per request phase (dependencies, endpoint, serialisation)
        telemetry={"operation_spans": False},
        title="Yiwang 一网 API",
        version="1.0.0",
        description="One network for city governance: reports, cases, dispatch, escalation.",
        lifespan=lifespan,
    )
    app.state.keyring = keyring
    app.state.intake_limit = InFlightLimit(settings.intake_max_in_flight)
    middleware.install(app, settings)  # body size, rate limits, idempotency, audit (inside CORS)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),  # none by default: the web apps are same-origin
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["traceparent", "Location", "Retry-After", "Idempotent-Replayed"],
    )
    app.add_middleware(BodyReadTimeout, timeout_s=settings.http_body_timeout_s)
    app.add_middleware(TraceRequests)  # every response carries traceparent
    # outermost of ours: a report beyond capacity is refused before anything is spent on it
    app.add_middleware(IntakeAdmission, limit=app.state.intake_limit)
    # JSON, HTML and scripts compressed (Brotli/gzip/zstd, as the client accepts); never the
    # live streams (text/event-stream), whose events must leave as they happen
    remove_compress_type("text/event-stream")
    app.add_middleware(CompressMiddleware, minimum_size=1024)
    app.add_middleware(MeasureRequests)  # outermost: latency per route, refusals included
    problems.install(app)
    # routes are matched in order: the hottest paths (citizen reports, Open311, live feeds;
    # their prefixes overlap no other module's) first, then the rest by module name
    hot = {"reports": 0, "open311": 1, "live": 2}
    modules = sorted(
        pkgutil.iter_modules(routes_pkg.__path__), key=lambda m: (hot.get(m.name, len(hot)), m.name)
    )
    for info in modules:
        module = importlib.import_module(f"{routes_pkg.__name__}.{info.name}")
        if hasattr(module, "router"):
            app.include_router(
                module.router,
                responses=problems.RESPONSES,
                dependencies=[Depends(hygiene.input_hygiene), Depends(attach_referenced_media)],
            )
    security.install(app)  # merge POLICY tables; unknown actions fail here
    return app


def main() -> None:
    settings = Settings()
    setup_logging("gateway", settings.log_level, settings.log_format)
    setup_tracing("gateway", settings.otel_exporter, settings.otel_endpoint, settings.var_dir)
    uvicorn.Server(server_config(create_app(settings), settings)).run()


if __name__ == "__main__":
    main()
