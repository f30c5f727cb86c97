"""Uploads referenced by an accepted write are attached (kept for good); the others are
purged after a day (:meth:`gateway.media.store.LocalMediaStore.purge_orphans`).

Reports, case feedback, grid inspections, volunteer orders and enterprise requests all carry
media ids (``<sha256>.<ext>``, or a URL ending in ``/api/v1/media/<id>``) in their JSON
bodies; :func:`attach_referenced_media`, a router dependency of every route, marks the ids of
a write's body as attached once the route has succeeded (a refused write attaches nothing).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request

from gateway.media.store import media_store_of

_ID = re.compile(r"(?:^|/api/v1/media/)([0-9a-f]{64}\.(?:jpg|png|webp|mp4))$")
WRITES = ("POST", "PUT", "PATCH")


def media_ids(value: Any, found: set[str] | None = None) -> set[str]:
    """Media ids mentioned anywhere in a decoded JSON document (or form values)."""
    found = set() if found is None else found
    if isinstance(value, str):
        if len(value) < 400 and (m := _ID.search(value)):
            found.add(m.group(1))
    elif isinstance(value, dict):
        for v in value.values():
            media_ids(v, found)
    elif isinstance(value, list | tuple):
        for v in value:
            media_ids(v, found)
    return found


async def attach(request: Request, ids: set[str]) -> None:
    if ids:
        store = media_store_of(request.app.state, request.app.state.resources.settings)
        await asyncio.to_thread(store.mark_attached, ids)


async def attach_referenced_media(request: Request) -> AsyncIterator[None]:
    ids: set[str] = set()
    if request.method in WRITES and "json" in request.headers.get("content-type", ""):
        ids = media_ids(getattr(request.state, "json_body", None))
    yield  # a route that fails raises here, and nothing is attached
    await attach(request, ids)
