"""What the case workbench (/workbench/) needs beyond the other route modules: the names of
the departments for every account that works cases, department handlers included (the
command centre's ``GET /api/v1/command/departments`` is for dispatchers only, so a
department handler's workbench could otherwise show only department codes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from gateway.deps import RpcDep
from gateway.security import STAFF_ROLES, Principal, require
from yiwang.contracts.command import DepartmentList

router = APIRouter(prefix="/api/v1/workbench", tags=["workbench"])

POLICY = {"workbench.departments.read": {*STAFF_ROLES, "leader", "department_handler"}}


@router.get("/departments", summary="Departments with their names (for every case worker)")
async def list_departments(
    rpc: RpcDep, who: Annotated[Principal, Depends(require("workbench.departments.read"))]
) -> DepartmentList:
    return await rpc.call_typed("command", "list_departments")
