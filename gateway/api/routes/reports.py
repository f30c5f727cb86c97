"""Citizen snapshot reports (市民随手拍): accept durably, answer 202 with a status URL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from gateway.catalogue import Catalogue
from gateway.deps import PublisherDep, RpcDep
from gateway.security import Principal, optional_principal
from yiwang.contracts.base import Contact, Latitude, Longitude
from yiwang.contracts.gateway import ReportSubmittedV1
from yiwang.contracts.petitions import ReportStatusResponse
from yiwang.errors import ValidationFailed

catalogue = Catalogue()  # one per gateway process, refreshed every minute
router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


class ReportIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "category": "appearance.litter",
                    "description": "小区门口垃圾堆积三天无人清理",
                    "lat": 32.05,
                    "lon": 118.79,
                    "contact": {"name": "王女士", "phone": "13812345678"},
                }
            ]
        },
    )

    category: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_.]+$")
    description: str = Field(min_length=2, max_length=2000)
    lat: Latitude
    lon: Longitude
    crs: str = Field(default="wgs84", pattern="^(wgs84|gcj02)$")
    address: str | None = Field(default=None, max_length=200)
    attributes: dict[str, Any] = Field(default_factory=dict)
    media: list[str] = Field(default_factory=list, max_length=9)
    contact: Contact | None = None
    anonymous: bool = False
    # the online suggestion box (网上意见箱) files through the same door
    source: Literal["citizen", "suggestion_box"] = "citizen"


class ReportAccepted(BaseModel):
    report_id: uuid.UUID
    status: str
    status_url: str
    grid_code: str


def outside_jurisdiction(lat: float, lon: float) -> ValidationFailed:
    return ValidationFailed(
        "outside_jurisdiction",
        f"The location ({lat}, {lon}) is outside every grid of this city.",
        f"位置（{lat}, {lon}）不在本市任何网格内。",
        lat=lat,
        lon=lon,
    )


@router.post(
    "",
    status_code=202,
    response_model=ReportAccepted,
    summary="File a citizen report (accepted durably, becomes a case)",
)
async def submit_report(
    body: ReportIn,
    rpc: RpcDep,
    publisher: PublisherDep,
    response: Response,
    who: Annotated[Principal | None, Depends(optional_principal)] = None,
) -> ReportAccepted:
    # admission (503 beyond capacity) happens before the route: gateway.backpressure
    await catalogue.check(rpc, body.category, body.attributes)
    located = await rpc.call("grids", "locate", lat=body.lat, lon=body.lon, crs=body.crs)
    if not located["inside"]:
        raise outside_jurisdiction(body.lat, body.lon)
    report_id = uuid.uuid4()
    payload = ReportSubmittedV1(
        report_id=report_id,
        source=body.source,
        category=body.category,
        description=body.description,
        lat=body.lat,
        lon=body.lon,
        grid_code=located["grid_code"],
        address=body.address,
        attributes=body.attributes,
        media=body.media,
        contact=body.contact,
        anonymous=body.anonymous,
        account_id=who.account_id if who is not None else None,
        submitted_at=datetime.now(UTC),
    )
    await publisher.publish(payload, jurisdiction_code=located["grid_code"])
    url = f"/api/v1/reports/{report_id}"
    response.headers["Location"] = url
    return ReportAccepted(
        report_id=report_id, status="accepted", status_url=url, grid_code=located["grid_code"]
    )


@router.get("/{report_id}", summary="Where a report stands (pending until its case exists)")
async def report_status(report_id: uuid.UUID, rpc: RpcDep) -> ReportStatusResponse:
    return await rpc.call_typed("petitions", "get_report_status", report_id=str(report_id))
