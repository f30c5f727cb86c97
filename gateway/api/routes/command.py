"""The command centre's unified dispatch view."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from gateway.deps import RpcDep
from gateway.security import STAFF_ROLES, Principal, require

router = APIRouter(prefix="/api/v1/command", tags=["command"])

POLICY = {
    # Department handlers join once list_cases can filter by department.
    "command.cases.read": {*STAFF_ROLES, "leader"},
}


@router.get("/cases", summary="Cases in a jurisdiction (code prefix), filtered and paged")
async def list_cases(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.cases.read"))],
    jurisdiction: Annotated[str, Query(pattern=r"^[0-9]{0,18}$", max_length=18)] = "",
    status: Annotated[str | None, Query(max_length=32)] = None,
    source: Annotated[str | None, Query(max_length=32)] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    overdue: bool | None = None,
    supervised: bool | None = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    prefix = who.jurisdiction_prefix(jurisdiction)
    return await rpc.call(
        "command", "list_cases", jurisdiction_prefix=prefix, status=status, source=source,
        category=category, overdue=overdue, supervised=supervised, page=page,
        page_size=page_size,
    )
