"""The working-day calendar of the command centre (节假日与调休), kept as data per year:
public holidays and make-up working days that every working-day deadline counts with.

Staff read it; administrators and city command staff edit it. A saved year takes effect on
every command process within seconds (deadlines computed afterwards use it).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from gateway.api.bodies import body_of
from gateway.deps import RpcDep
from gateway.security import STAFF_ROLES, Principal, require
from yiwang.contracts.command import CalendarYearListV1, CalendarYearV1, PutCalendarYearRequest

router = APIRouter(prefix="/api/v1/command/calendar", tags=["command"])

POLICY = {
    "command.calendar.read": {*STAFF_ROLES, "leader", "department_handler", "admin"},
    "command.calendar.write": {"city_staff", "admin"},
}

Year = Annotated[int, Path(ge=2000, le=2100, description="calendar year", examples=[2026])]


CalendarYearIn = body_of(
    PutCalendarYearRequest,
    "CalendarYearIn",
    exclude={"year"},
    doc="The whole year replaces what is kept: every holiday (named, weekday or weekend) and "
    "every make-up working day (调休, Saturday or Sunday).",
    examples=[
        {
            "status": "published",
            "source": "国办发明电〔2025〕7号",
            "holidays": [
                {"day": "2026-10-01", "name": "国庆节"},
                {"day": "2026-10-02", "name": "国庆节"},
            ],
            "makeup_workdays": [{"day": "2026-10-10", "name": "国庆节调休"}],
            "expected_revision": 2,
        }
    ],
)


@router.get("", summary="Years of the working-day calendar (holidays and make-up days kept)")
async def list_calendar_years(
    rpc: RpcDep, who: Annotated[Principal, Depends(require("command.calendar.read"))]
) -> CalendarYearListV1:
    return await rpc.call_typed("command", "list_calendar_years")


@router.get("/{year}", summary="One year: holidays and make-up working days (调休)")
async def get_calendar_year(
    year: Year,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.calendar.read"))],
) -> CalendarYearV1:
    return await rpc.call_typed("command", "get_calendar_year", year=year)


@router.put("/{year}", summary="Replace one year's holidays and make-up working days")
async def put_calendar_year(
    year: Year,
    body: CalendarYearIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.calendar.write"))],
) -> CalendarYearV1:
    actor = {
        **who.actor(),
        "jurisdiction_code": who.jurisdiction_code,
        "department": who.department,
    }
    return await rpc.call_typed(
        "command", "put_calendar_year", year=year, **body.model_dump(mode="json"), actor=actor
    )
