"""``/metrics``: this gateway process's Prometheus metrics (``yiwang/metrics.py``)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from yiwang.metrics import exposition

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    summary="Prometheus metrics of this gateway process",
    response_class=Response,
    include_in_schema=False,
)
async def metrics() -> Response:
    body, content_type = exposition()
    return Response(body, media_type=content_type)
