"""The working-day calendar of the command centre (节假日与调休), kept as data per year:
public holidays and make-up working days that every working-day deadline counts with.

Staff read it; administrators and city command staff edit it. A saved year takes effect on
every command process within seconds (deadlines computed afterwards use it).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from gateway.deps import RpcDep
from gateway.security import STAFF_ROLES, Principal, require

router = APIRouter(prefix="/api/v1/command/calendar", tags=["command"])

POLICY = {
    "command.calendar.read": {*STAFF_ROLES, "leader", "department_handler", "admin"},
    "command.calendar.write": {"city_staff", "admin"},
}

Year = Annotated[int, Path(ge=2000, le=2100, description="calendar year", examples=[2026])]


class CalendarDayIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"day": "2026-10-01", "name": "国庆节"}]}
    )

    day: dt.date = Field(description="a day of the year (Asia/Shanghai), YYYY-MM-DD")
    name: str = Field(default="", max_length=40, description="required for holidays")


class CalendarYearIn(BaseModel):
    """The whole year replaces what is kept: every holiday (named, weekday or weekend) and
    every make-up working day (调休, Saturday or Sunday)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
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
            ]
        },
    )

    status: Literal["published", "provisional"] = Field(
        description="published: as the State Council announced; provisional: statutory days only"
    )
    source: str = Field(default="", max_length=200, description="where the dates come from")
    holidays: list[CalendarDayIn] = Field(default_factory=list, max_length=366)
    makeup_workdays: list[CalendarDayIn] = Field(default_factory=list, max_length=366)
    expected_revision: int | None = Field(
        default=None, ge=0,
        description="the revision you loaded (0 for a new year); refused with 409 if it changed",
    )  # fmt: skip


@router.get("", summary="Years of the working-day calendar (holidays and make-up days kept)")
async def list_calendar_years(
    rpc: RpcDep, who: Annotated[Principal, Depends(require("command.calendar.read"))]
) -> dict[str, Any]:
    return await rpc.call("command", "list_calendar_years")


@router.get("/{year}", summary="One year: holidays and make-up working days (调休)")
async def get_calendar_year(
    year: Year, rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.calendar.read"))],
) -> dict[str, Any]:  # fmt: skip
    return await rpc.call("command", "get_calendar_year", year=year)


@router.put("/{year}", summary="Replace one year's holidays and make-up working days")
async def put_calendar_year(
    year: Year, body: CalendarYearIn, rpc: RpcDep,
    who: Annotated[Principal, Depends(require("command.calendar.write"))],
) -> dict[str, Any]:  # fmt: skip
    actor = {**who.actor(), "jurisdiction_code": who.jurisdiction_code,
             "department": who.department}  # fmt: skip
    return await rpc.call("command", "put_calendar_year", year=year,
                          **body.model_dump(mode="json"), actor=actor)  # fmt: skip
