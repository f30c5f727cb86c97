"""The command centre's unified dispatch view."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from gateway.deps import RpcDep

router = APIRouter(prefix="/api/v1/command", tags=["command"])


@router.get("/cases", summary="Cases in a jurisdiction (code prefix), filtered and paged")
async def list_cases(
    rpc: RpcDep,
    jurisdiction: Annotated[str, Query(pattern=r"^[0-9]{0,18}$", max_length=18)] = "",
    status: Annotated[str | None, Query(max_length=32)] = None,
    source: Annotated[str | None, Query(max_length=32)] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    overdue: bool | None = None,
    supervised: bool | None = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    return await rpc.call(
        "command", "list_cases", jurisdiction_prefix=jurisdiction, status=status, source=source,
        category=category, overdue=overdue, supervised=supervised, page=page,
        page_size=page_size,
    )
