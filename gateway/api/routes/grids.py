"""The grid map (一网一码): units, boundaries, locate, workers, people and places, patrols,
sensor readings and one-key emergency calls.

Every route authorises through ``require(action)``; codes are checked against the
account's unit (``check_jurisdiction`` / ``jurisdiction_prefix``). Personal data comes back
masked; ``?unmask=true`` needs the account's ``can_unmask`` permission, is written to the
gateway's unmask log here and to the grids access log by the service (which is told
``can_unmask`` by this layer and nothing else). A grid worker acts as themselves
(``person_id`` or account id), never as an id taken from the body.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.bodies import body_of
from gateway.api.params import Jurisdiction
from gateway.deps import RpcDep
from gateway.security import STAFF_ROLES, Principal, require, unmask
from yiwang import access
from yiwang.contracts.grids import (
    MAX_LOCATE_POINTS,
    AccessLogPage,
    AddBuildingRequest,
    AddHouseholdRequest,
    AddKeyPlaceRequest,
    AddResidentRequest,
    AddWorkerRequest,
    AlertOut,
    AssignWorkerRequest,
    BuildingList,
    BuildingOut,
    CheckInOut,
    CreateUnitRequest,
    EmergencyCallRequest,
    FeatureCollectionOut,
    FindingOut,
    HouseholdOut,
    HousePeople,
    ImportBoundariesResponse,
    IngestMeterReadingsRequest,
    IngestOut,
    KeyPlaceList,
    KeyPlaceOut,
    LocateManyResponse,
    LocateResponse,
    MoveResidentRequest,
    MoveUnitRequest,
    MoveUnitResponse,
    Ok,
    PartyOrgList,
    PatrolCheckInRequest,
    PatrolOut,
    PatrolStatsOut,
    PointsAddedOut,
    PostPatrolPointsRequest,
    RegisterDeviceRequest,
    RenameUnitRequest,
    ReportFindingRequest,
    ResidentList,
    ResidentOut,
    SetWorkerStatusRequest,
    StartPatrolRequest,
    TagResidentRequest,
    UnitList,
    UnitOut,
    WorkerList,
    WorkerOut,
    grid_codes_of,
    pack_points,
)
from yiwang.errors import Forbidden, ValidationFailed

router = APIRouter(prefix="/api/v1/grids", tags=["grids"])

READERS = {*STAFF_ROLES, "leader", "department_handler", "admin"}
PEOPLE_READERS = {*STAFF_ROLES, "admin"}
PEOPLE_KEEPERS = {"grid_worker", "community_staff", "street_staff", "admin"}
TREE_KEEPERS = {"district_staff", "city_staff", "admin"}
ROSTER_KEEPERS = {"community_staff", "street_staff", "district_staff", "admin"}

POLICY = {
    "grid.unit.read": READERS,
    "grid.unit.manage": TREE_KEEPERS,
    "grid.boundary.read": READERS,
    "grid.boundary.import": TREE_KEEPERS,
    "grid.locate": {
        *READERS,
        "citizen",
        "volunteer",
        "enterprise_user",
        "institution_user",
        "system",
    },
    "grid.locate.batch": {*READERS, "system"},
    "grid.worker.read": READERS,
    "grid.worker.manage": ROSTER_KEEPERS,
    "grid.resident.read": PEOPLE_READERS,
    "grid.resident.manage": PEOPLE_KEEPERS,
    "grid.place.read": READERS,
    "grid.place.manage": PEOPLE_KEEPERS,
    "grid.access_log.read": {"city_staff", "district_staff", "admin"},
    "grid.patrol": {"grid_worker"},
    "grid.patrol.read": READERS,
    "grid.sensor.ingest": {"admin", "system"},
    "grid.sensor.manage": {"community_staff", "street_staff", "admin"},
    "grid.emergency_call": {"admin", "system"},
}

CODE = r"^[0-9]{4,18}$"
GRID = r"^[0-9]{15}$"
HOUSEHOLD = r"^[0-9]{18}-[0-9A-Za-z]{1,8}$"


def _who(action: str) -> Any:
    return Depends(require(action))


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _prefix(who: Principal, requested: str, *, min_len: int = 0) -> str:
    prefix = who.jurisdiction_prefix(requested)
    if len(prefix) < min_len:
        raise ValidationFailed(
            "jurisdiction_required",
            f"give a jurisdiction code of at least {min_len} digits",
            f"请指定至少{min_len}位的区划编码",
        )
    return prefix


def _worker(who: Principal) -> str:
    return who.person_id or who.account_id


async def _reads(
    request: Request,
    who: Principal,
    unmask_: bool,
    kind: str,
    subject: str,
    purpose: str,
    fields: list[str],
) -> dict[str, Any]:
    """The read-access fields for the grids service; unmasking is checked and logged."""
    if unmask_:
        await unmask(
            request,
            who,
            subject_type=kind,
            subject_id=subject,
            fields=fields,
            reason=purpose or None,
        )
    return {
        "unmask": unmask_,
        "can_unmask": who.can_unmask,
        "actor": who.actor(),
        "purpose": purpose,
    }


PII_FIELDS = ["id_number", "phone", "family_contact"]
Unmask = Annotated[bool, Query(description="clear values; needs the unmask permission")]
Purpose = Annotated[str, Query(max_length=200, description="why (written to the access log)")]
Page = Annotated[int, Query(ge=1, description="page number, from 1", examples=[1])]


# --- units -------------------------------------------------------------------------------


@router.get("/units", summary="Search units by Chinese name or pinyin initials (e.g. hpjd)")
async def search_units(
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.unit.read")],
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=64,
            description="Part of the unit's Chinese name, or its pinyin initials (拼音首字母)",
            examples=["hpjd"],
        ),
    ],
    within: Jurisdiction = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> UnitList:
    return await rpc.call_typed(
        "grids", "search_units", query=q, within=_prefix(who, within), limit=limit
    )


def _visible(who: Principal, code: str) -> None:
    """Units inside the caller's unit, or above it (its own chain), may be read."""
    if not (who.covers(code) or who.jurisdiction_code.startswith(code)):
        who.check_jurisdiction(code)


@router.get("/units/{code}", summary="One unit")
async def get_unit(
    code: str, rpc: RpcDep, who: Annotated[Principal, _who("grid.unit.read")]
) -> UnitOut:
    _visible(who, code)
    return await rpc.call_typed("grids", "get_unit", code=code)


@router.get("/units/{code}/children", summary="Direct children of a unit")
async def unit_children(
    code: str,
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.unit.read")],
    include_retired: bool = False,
) -> UnitList:
    _visible(who, code)
    return await rpc.call_typed(
        "grids", "unit_children", code=code, include_retired=include_retired
    )


@router.get("/units/{code}/chain", summary="Ancestry chain, city first")
async def unit_chain(
    code: str, rpc: RpcDep, who: Annotated[Principal, _who("grid.unit.read")]
) -> UnitList:
    _visible(who, code)
    return await rpc.call_typed("grids", "unit_chain", code=code)


UnitIn = body_of(
    CreateUnitRequest,
    "UnitIn",
    examples=[{"code": "329901001001009", "name": "幸福里第九网格", "level": "grid"}],
)


@router.post("/units", status_code=201, summary="Create a unit under its code-prefix parent")
async def create_unit(
    body: UnitIn, rpc: RpcDep, who: Annotated[Principal, _who("grid.unit.manage")]
) -> UnitOut:
    who.check_jurisdiction(body.code)
    return await rpc.call_typed("grids", "create_unit", actor=_actor(who), **body.model_dump())


RenameIn = body_of(
    RenameUnitRequest, "RenameIn", only={"name"}, examples=[{"name": "幸福里第一网格"}]
)


@router.patch("/units/{code}", summary="Rename a unit")
async def rename_unit(
    code: str, body: RenameIn, rpc: RpcDep, who: Annotated[Principal, _who("grid.unit.manage")]
) -> UnitOut:
    who.check_jurisdiction(code)
    return await rpc.call_typed(
        "grids", "rename_unit", code=code, name=body.name, actor=_actor(who)
    )


MoveIn = body_of(
    MoveUnitRequest,
    "MoveIn",
    only={"new_parent", "new_segment"},
    examples=[{"new_parent": "329901001002", "new_segment": "007"}],
)


@router.post("/units/{code}/move", summary="Move a unit (its subtree is re-coded)")
async def move_unit(
    code: str, body: MoveIn, rpc: RpcDep, who: Annotated[Principal, _who("grid.unit.manage")]
) -> MoveUnitResponse:
    who.check_jurisdiction(code)
    who.check_jurisdiction(body.new_parent)
    return await rpc.call_typed(
        "grids", "move_unit", code=code, actor=_actor(who), **body.model_dump()
    )


@router.post("/units/{code}/retire", summary="Retire a unit (no active children)")
async def retire_unit(
    code: str, rpc: RpcDep, who: Annotated[Principal, _who("grid.unit.manage")]
) -> UnitOut:
    who.check_jurisdiction(code)
    return await rpc.call_typed("grids", "retire_unit", code=code, actor=_actor(who))


def _actor(who: Principal) -> dict[str, Any]:
    a = who.actor()
    return {"id": str(a["id"])[:64], "role": str(a["role"])[:32], "name": str(a["name"])[:64]}


# --- boundaries and locate -----------------------------------------------------------------


class FeatureCollectionIn(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {"code": "329901001001001", "name": "幸福里第一网格"},
                            "geometry": {
                                "type": "Polygon",
                                "coordinates": [
                                    [
                                        [120.1501, 30.2801],
                                        [120.1532, 30.2801],
                                        [120.1532, 30.2826],
                                        [120.1501, 30.2826],
                                        [120.1501, 30.2801],
                                    ]
                                ],
                            },
                        }
                    ],
                }
            ]
        },
    )
    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]] = Field(max_length=50_000)


@router.post("/boundaries/import", summary="Import boundaries (GeoJSON); all or nothing")
async def import_boundaries(
    body: FeatureCollectionIn, rpc: RpcDep, who: Annotated[Principal, _who("grid.boundary.import")]
) -> ImportBoundariesResponse:
    for f in body.features:
        props = f.get("properties") if isinstance(f, dict) else None
        code = props.get("code") if isinstance(props, dict) else None
        if isinstance(code, str) and code:
            who.check_jurisdiction(code)
    return await rpc.call_typed(
        "grids", "import_boundaries", feature_collection=body.model_dump(), actor=_actor(who)
    )


@router.get("/boundaries", summary="Boundaries of a jurisdiction (dashboard map)")
async def export_boundaries(
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.boundary.read")],
    jurisdiction: Jurisdiction = "",
    levels: Annotated[
        list[Literal["city", "district", "street", "community", "grid"]] | None, Query()
    ] = None,
    simplify_m: Annotated[
        float,
        Query(
            ge=0,
            le=1000,
            description="Simplify the outlines to this tolerance in metres (0 = exact)",
            examples=[5.0],
        ),
    ] = 0.0,
    precision: Annotated[int, Query(ge=3, le=8)] = 6,
) -> FeatureCollectionOut:
    return await rpc.call_typed(
        "grids",
        "export_boundaries",
        prefix=_prefix(who, jurisdiction),
        levels=levels,
        simplify_m=simplify_m,
        precision=precision,
    )


@router.get("/locate", summary="Grid, chain and grid workers of a point (WGS-84 or GCJ-02)")
async def locate(
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.locate")],
    lat: Annotated[
        float, Query(ge=-90, le=90, description="latitude, degrees north", examples=[30.2812])
    ],
    lon: Annotated[
        float, Query(ge=-180, le=180, description="longitude, degrees east", examples=[120.1518])
    ],
    crs: Literal["wgs84", "gcj02"] = "wgs84",
) -> LocateResponse:
    return await rpc.call_typed("grids", "locate", lat=lat, lon=lon, crs=crs)


class LocateManyIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lats": [30.2812, 30.2907],
                    "lons": [120.1518, 120.1633],
                    "crs": "wgs84",
                    "detail": False,
                }
            ]
        }
    )
    # the limit is checked by the route (a problem with its own code), documented here
    lats: list[float] = Field(json_schema_extra={"maxItems": MAX_LOCATE_POINTS})
    lons: list[float] = Field(json_schema_extra={"maxItems": MAX_LOCATE_POINTS})
    crs: Literal["wgs84", "gcj02"] = "wgs84"
    detail: bool = False


def _check_points(lats: list[float], lons: list[float]) -> None:
    """What ``pack_points`` and the v2 contract would refuse, refused first as a 422."""
    if len(lats) != len(lons):
        raise ValidationFailed(
            "coordinates_length_mismatch",
            f"{len(lats)} latitudes but {len(lons)} longitudes: give one of each per point",
            f"纬度{len(lats)}个、经度{len(lons)}个，数量须一致（每个点各一个）",
        )
    if len(lats) > MAX_LOCATE_POINTS:
        raise ValidationFailed(
            "too_many_points",
            f"{len(lats):,} points: at most {MAX_LOCATE_POINTS:,} per request",
            f"共{len(lats)}个点，每次最多{MAX_LOCATE_POINTS}个",
        )


@router.post("/locate/batch", summary="Locate many points (imports): one grid code per point")
async def locate_many(
    body: LocateManyIn, rpc: RpcDep, who: Annotated[Principal, _who("grid.locate.batch")]
) -> LocateManyResponse:
    """The points travel to the grids service packed (``locate_many_v2``); the columnar
    answer is expanded back to one grid code (or null) per point."""
    _check_points(body.lats, body.lons)
    out = await rpc.call(
        "grids",
        "locate_many_v2",
        points=pack_points(body.lats, body.lons),
        crs=body.crs,
        detail=body.detail,
    )
    return LocateManyResponse(
        grid_codes=grid_codes_of(out),
        inside=out["inside"],
        outside=out["outside"],
        units=out["units"],
        workers=out["workers"],
    )


# --- workers -------------------------------------------------------------------------------


@router.get("/workers", summary="Grid workers inside a jurisdiction")
async def list_workers(
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.worker.read")],
    jurisdiction: Jurisdiction = "",
    limit: Annotated[int, Query(ge=1, le=2000)] = 200,
) -> WorkerList:
    prefix = _prefix(who, jurisdiction)[:15]
    return await rpc.call_typed("grids", "list_workers", prefix=prefix, limit=limit)


@router.get("/workers/me", summary="The signed-in grid worker, with their grids")
async def my_worker(rpc: RpcDep, who: Annotated[Principal, _who("grid.patrol")]) -> WorkerOut:
    return await rpc.call_typed("grids", "get_worker", worker_id=_worker(who))


@router.get("/workers/{worker_id}", summary="One grid worker")
async def get_worker(
    worker_id: str, rpc: RpcDep, who: Annotated[Principal, _who("grid.worker.read")]
) -> WorkerOut:
    return await _worker_within(rpc, who, worker_id)


async def _worker_within(rpc: Any, who: Principal, worker_id: str) -> WorkerOut:
    out: WorkerOut = await rpc.call_typed("grids", "get_worker", worker_id=worker_id)
    if who.jurisdiction_code and not any(who.covers(g) for g in out.grids):
        raise Forbidden(
            "outside_jurisdiction",
            "This worker is outside your jurisdiction.",
            "该网格员不在您的管辖范围内。",
        )
    return out


WorkerIn = body_of(
    AddWorkerRequest,
    "WorkerIn",
    examples=[
        {
            "worker_id": "W329901001001001",
            "name": "周建国",
            "phone": "13900001234",
            "status": "on_duty",
        }
    ],
)


@router.post("/workers", status_code=201, summary="Register a grid worker")
async def add_worker(
    body: WorkerIn, rpc: RpcDep, who: Annotated[Principal, _who("grid.worker.manage")]
) -> WorkerOut:
    return await rpc.call_typed("grids", "add_worker", actor=_actor(who), **body.model_dump())


AssignIn = body_of(
    AssignWorkerRequest,
    "AssignIn",
    only={"grid_code", "role"},
    examples=[{"grid_code": "329901001001001", "role": "leader"}],
)


@router.post("/workers/{worker_id}/assignments", summary="Put a worker on a grid")
async def assign_worker(
    worker_id: str,
    body: AssignIn,
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.worker.manage")],
) -> WorkerOut:
    who.check_jurisdiction(body.grid_code)
    return await rpc.call_typed(
        "grids", "assign_worker", worker_id=worker_id, actor=_actor(who), **body.model_dump()
    )


@router.delete("/workers/{worker_id}/assignments/{grid_code}", summary="Take a worker off a grid")
async def unassign_worker(
    worker_id: str,
    grid_code: str,
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.worker.manage")],
) -> WorkerOut:
    who.check_jurisdiction(grid_code)
    return await rpc.call_typed(
        "grids", "unassign_worker", worker_id=worker_id, grid_code=grid_code, actor=_actor(who)
    )


StatusIn = body_of(
    SetWorkerStatusRequest, "StatusIn", only={"status"}, examples=[{"status": "on_leave"}]
)


@router.put("/workers/{worker_id}/status", summary="Working status of a worker")
async def set_worker_status(
    worker_id: str,
    body: StatusIn,
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.worker.manage")],
) -> WorkerOut:
    await _worker_within(rpc, who, worker_id)
    return await rpc.call_typed(
        "grids", "set_worker_status", worker_id=worker_id, status=body.status, actor=_actor(who)
    )


# --- residents, households, buildings ------------------------------------------------------


def _check_resident(who: Principal, r: ResidentOut) -> None:
    """Staff see residents living in, or registered with, their jurisdiction."""
    if not (who.covers(r.household_code) or who.covers(r.registered_community)):
        raise Forbidden(
            "outside_jurisdiction",
            "This resident is outside your jurisdiction.",
            "该居民不在您的管辖范围内。",
        )


@router.get("/residents", summary="Residents living inside a jurisdiction (masked)")
async def list_residents(
    request: Request,
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.resident.read")],
    jurisdiction: Jurisdiction = "",
    tag: Annotated[
        str | None,
        Query(
            max_length=32,
            description="Only residents with this tag (重点人群): elderly_alone (独居老人), "
            "elderly, disabled, left_behind_child (留守儿童), low_income (低保), veteran, "
            "serious_illness",
            examples=["elderly_alone"],
        ),
    ] = None,
    page: Page = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
    unmask: Unmask = False,
    purpose: Purpose = "",
) -> ResidentList:
    prefix = _prefix(who, jurisdiction, min_len=4)
    reads = await _reads(request, who, unmask, "resident_list", prefix, purpose, PII_FIELDS)
    return await rpc.call_typed(
        "grids", "list_residents", prefix=prefix, tag=tag, page=page, page_size=page_size, **reads
    )


@router.get("/residents/lookup", summary="Find residents by ID number or phone (exact)")
async def find_residents(
    request: Request,
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.resident.read")],
    id_number: Annotated[
        str | None,
        Query(
            max_length=18,
            description="Resident ID card number (身份证号), 18 characters, exact",
            examples=["329901195003120026"],
        ),
    ] = None,
    phone: Annotated[
        str | None,
        Query(max_length=20, description="Mobile number, exact", examples=["13912345678"]),
    ] = None,
    unmask: Unmask = False,
    purpose: Purpose = "",
) -> ResidentList:
    found = await rpc.call("grids", "find_residents", id_number=id_number, phone=phone)
    mine = [
        r
        for r in found["residents"]
        if who.covers(r["household_code"]) or who.covers(r["registered_community"])
    ]
    if unmask and mine:
        reads = await _reads(
            request, who, True, "resident", mine[0]["resident_id"], purpose, PII_FIELDS
        )
        found = await rpc.call("grids", "find_residents", id_number=id_number, phone=phone, **reads)
        mine = [
            r
            for r in found["residents"]
            if who.covers(r["household_code"]) or who.covers(r["registered_community"])
        ]
    return ResidentList(total=len(mine), residents=mine)


@router.get("/residents/{resident_id}", summary="One resident (masked unless permitted)")
async def get_resident(
    request: Request,
    resident_id: str,
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.resident.read")],
    unmask: Unmask = False,
    purpose: Purpose = "",
) -> ResidentOut:
    masked = await rpc.call_typed("grids", "get_resident", resident_id=resident_id)
    _check_resident(who, masked)
    if not unmask:
        return masked
    reads = await _reads(request, who, True, "resident", resident_id, purpose, PII_FIELDS)
    return await rpc.call_typed("grids", "get_resident", resident_id=resident_id, **reads)


@router.get("/residents/{resident_id}/house", summary="以人找房: the house of a person")
async def house_of_resident(
    request: Request,
    resident_id: str,
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.resident.read")],
    unmask: Unmask = False,
    purpose: Purpose = "",
) -> HousePeople:
    masked = await rpc.call_typed("grids", "house_of_resident", resident_id=resident_id)
    who.check_jurisdiction(masked.household.code)
    if not unmask:
        return masked
    reads = await _reads(
        request, who, True, "household", masked.household.code, purpose, PII_FIELDS
    )
    return await rpc.call_typed("grids", "house_of_resident", resident_id=resident_id, **reads)


@router.get("/households/{household_code}/people", summary="以房找人: the people of a house")
async def people_in_household(
    request: Request,
    household_code: str,
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.resident.read")],
    unmask: Unmask = False,
    purpose: Purpose = "",
) -> HousePeople:
    who.check_jurisdiction(household_code)
    reads = await _reads(request, who, unmask, "household", household_code, purpose, PII_FIELDS)
    return await rpc.call_typed(
        "grids", "people_in_household", household_code=household_code, **reads
    )


@router.get(
    "/communities/{community_code}/served",
    summary="Residents registered with a community, wherever they live now",
)
async def served_by_community(
    request: Request,
    community_code: str,
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.resident.read")],
    relocated_only: bool = False,
    page: Page = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
    unmask: Unmask = False,
    purpose: Purpose = "",
) -> ResidentList:
    who.check_jurisdiction(community_code)
    reads = await _reads(request, who, unmask, "resident_list", community_code, purpose, PII_FIELDS)
    return await rpc.call_typed(
        "grids",
        "served_by_community",
        community_code=community_code,
        relocated_only=relocated_only,
        page=page,
        page_size=page_size,
        **reads,
    )


ResidentIn = body_of(
    AddResidentRequest,
    "ResidentIn",
    exclude={"resident_id"},
    examples=[
        {
            "name": "张桂英",
            "id_number": "329901195003120026",
            "household_code": "329901001001001012-0502",
            "phone": "13700005678",
            "tags": ["elderly_alone"],
            "party_member": False,
            "family_contact": "13600002468",
        }
    ],
)


@router.post("/residents", status_code=201, summary="Register a resident (stored encrypted)")
async def add_resident(
    body: ResidentIn, rpc: RpcDep, who: Annotated[Principal, _who("grid.resident.manage")]
) -> ResidentOut:
    who.check_jurisdiction(body.household_code)
    return await rpc.call_typed("grids", "add_resident", **body.model_dump())


TagsIn = body_of(
    TagResidentRequest, "TagsIn", only={"tags"}, examples=[{"tags": ["elderly", "low_income"]}]
)


@router.put("/residents/{resident_id}/tags", summary="Key-group tags of a resident")
async def tag_resident(
    resident_id: str,
    body: TagsIn,
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.resident.manage")],
) -> ResidentOut:
    _check_resident(who, await rpc.call_typed("grids", "get_resident", resident_id=resident_id))
    return await rpc.call_typed("grids", "tag_resident", resident_id=resident_id, tags=body.tags)


MoveResidentIn = body_of(
    MoveResidentRequest,
    "MoveResidentIn",
    only={"household_code"},
    examples=[{"household_code": "329901001001001015-0301"}],
)


@router.post("/residents/{resident_id}/move", summary="A resident moves house")
async def move_resident(
    resident_id: str,
    body: MoveResidentIn,
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.resident.manage")],
) -> ResidentOut:
    _check_resident(who, await rpc.call_typed("grids", "get_resident", resident_id=resident_id))
    who.check_jurisdiction(body.household_code)
    return await rpc.call_typed(
        "grids", "move_resident", resident_id=resident_id, household_code=body.household_code
    )


BuildingIn = body_of(
    AddBuildingRequest,
    "BuildingIn",
    exclude={"households_represented"},
    examples=[
        {
            "code": "329901001001001012",
            "address": "安平市平湖区幸福里12幢",
            "name": "12幢",
            "lat": 30.2812,
            "lon": 120.1518,
        }
    ],
)


@router.post("/buildings", status_code=201, summary="Register a building")
async def add_building(
    body: BuildingIn, rpc: RpcDep, who: Annotated[Principal, _who("grid.resident.manage")]
) -> BuildingOut:
    who.check_jurisdiction(body.code)
    return await rpc.call_typed("grids", "add_building", **body.model_dump())


@router.get("/grids/{grid_code}/buildings", summary="Buildings of a grid")
async def list_buildings(
    grid_code: str, rpc: RpcDep, who: Annotated[Principal, _who("grid.place.read")]
) -> BuildingList:
    who.check_jurisdiction(grid_code)
    return await rpc.call_typed("grids", "list_buildings", grid_code=grid_code)


HouseholdIn = body_of(
    AddHouseholdRequest,
    "HouseholdIn",
    examples=[
        {
            "code": "329901001001001012-0502",
            "contact_phone": "13700005678",
            "party_member_household": True,
        }
    ],
)


@router.post("/households", status_code=201, summary="Register a household")
async def add_household(
    body: HouseholdIn, rpc: RpcDep, who: Annotated[Principal, _who("grid.resident.manage")]
) -> HouseholdOut:
    who.check_jurisdiction(body.code)
    return await rpc.call_typed("grids", "add_household", **body.model_dump())


# --- places and party organisations --------------------------------------------------------


@router.get("/key-places", summary="Key places (schools, markets, sites…) in a jurisdiction")
async def list_key_places(
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.place.read")],
    jurisdiction: Jurisdiction = "",
    kind: Annotated[
        str | None,
        Query(
            max_length=32,
            description="Only places of this kind (重点场所): school, kindergarten, market, "
            "construction_site, hospital, nursing_home, hazardous_goods, restaurant_street",
            examples=["kindergarten"],
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> KeyPlaceList:
    prefix = _prefix(who, jurisdiction, min_len=4)[:15]
    return await rpc.call_typed("grids", "list_key_places", prefix=prefix, kind=kind, limit=limit)


KeyPlaceIn = body_of(
    AddKeyPlaceRequest,
    "KeyPlaceIn",
    examples=[
        {
            "place_id": "KP-329901001001-01",
            "kind": "kindergarten",
            "name": "幸福里幼儿园",
            "lat": 30.2815,
            "lon": 120.1522,
            "grid_code": "329901001001001",
        }
    ],
)


@router.post("/key-places", status_code=201, summary="Register a key place")
async def add_key_place(
    body: KeyPlaceIn, rpc: RpcDep, who: Annotated[Principal, _who("grid.place.manage")]
) -> KeyPlaceOut:
    grid = body.grid_code
    if grid is None:
        located = await rpc.call("grids", "locate", lat=body.lat, lon=body.lon)
        grid = located.get("grid_code")
    who.check_jurisdiction(grid)
    return await rpc.call_typed(
        "grids", "add_key_place", **{**body.model_dump(), "grid_code": grid}
    )


@router.get("/party-orgs", summary="Party organisations on the tree")
async def list_party_orgs(
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.place.read")],
    jurisdiction: Jurisdiction = "",
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> PartyOrgList:
    return await rpc.call_typed(
        "grids", "list_party_orgs", prefix=_prefix(who, jurisdiction, min_len=4), limit=limit
    )


@router.get("/access-log", summary="Unmasked reads of personal data (audit)")
async def access_log(
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.access_log.read")],
    subject_id: Annotated[
        str | None,
        Query(
            max_length=40,
            description="Only reads of this subject: a resident id, or the code prefix of "
            "a resident list that was read unmasked",
            examples=["R329901001001001001-101-1"],
        ),
    ] = None,
    actor_id: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Only reads by this account (its account id)",
            examples=["5f0c2b1e-8a47-4d7e-9c3b-2e1d6a9f4b10"],
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AccessLogPage:
    reader = access.Accessor(who.account_id, who.role, who.jurisdiction_code, who.department)
    return await rpc.call_typed(
        "grids",
        "access_log",
        subject_id=subject_id,
        actor_id=actor_id,
        limit=limit,
        jurisdiction_prefix=access.log_prefix(reader),
    )


# --- patrols (the signed-in grid worker) ----------------------------------------------------


PatrolIn = body_of(
    StartPatrolRequest,
    "PatrolIn",
    only={"grid_code", "patrol_id"},
    examples=[{"grid_code": "329901001001001"}],
)


@router.post("/patrols", status_code=201, summary="Start a patrol on one of my grids")
async def start_patrol(
    body: PatrolIn, rpc: RpcDep, who: Annotated[Principal, _who("grid.patrol")]
) -> PatrolOut:
    who.check_jurisdiction(body.grid_code)
    return await rpc.call_typed(
        "grids",
        "start_patrol",
        worker_id=_worker(who),
        grid_code=body.grid_code,
        patrol_id=body.patrol_id,
    )


PointsIn = body_of(
    PostPatrolPointsRequest,
    "PointsIn",
    only={"points"},
    examples=[
        {
            "points": [
                {
                    "at": "2026-11-23T09:00:05+08:00",
                    "lat": 30.2812,
                    "lon": 120.1518,
                    "accuracy_m": 8.0,
                },
                {
                    "at": "2026-11-23T09:00:35+08:00",
                    "lat": 30.2815,
                    "lon": 120.1524,
                    "accuracy_m": 6.5,
                },
            ]
        }
    ],
)


@router.post("/patrols/{patrol_id}/points", summary="GPS points, batched, any order")
async def post_points(
    patrol_id: uuid.UUID,
    body: PointsIn,
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.patrol")],
) -> PointsAddedOut:
    return await rpc.call_typed(
        "grids",
        "post_patrol_points",
        patrol_id=patrol_id,
        worker_id=_worker(who),
        points=[p.model_dump(mode="json") for p in body.points],
    )


CheckInIn = body_of(
    PatrolCheckInRequest,
    "CheckInIn",
    only={"place_id", "lat", "lon", "at"},
    examples=[
        {
            "place_id": "KP-329901001001-01",
            "lat": 30.2815,
            "lon": 120.1522,
            "at": "2026-11-23T09:12:00+08:00",
        }
    ],
)


@router.post("/patrols/{patrol_id}/check-ins", summary="Check in at a key place")
async def check_in(
    patrol_id: uuid.UUID,
    body: CheckInIn,
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.patrol")],
) -> CheckInOut:
    return await rpc.call_typed(
        "grids",
        "patrol_check_in",
        patrol_id=patrol_id,
        worker_id=_worker(who),
        **body.model_dump(mode="json"),
    )


FindingIn = body_of(
    ReportFindingRequest,
    "FindingIn",
    exclude={"patrol_id", "worker_id"},
    examples=[
        {
            "category": "appearance.litter",
            "description": "小区门口垃圾堆积三天，无人清运",
            "lat": 30.2812,
            "lon": 120.1518,
            "photos": [],
            "at": "2026-11-23T09:15:00+08:00",
        }
    ],
)


@router.post(
    "/patrols/{patrol_id}/findings",
    status_code=201,
    summary="Report a finding (becomes a case with source patrol)",
)
async def report_finding(
    patrol_id: uuid.UUID,
    body: FindingIn,
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.patrol")],
) -> FindingOut:
    return await rpc.call_typed(
        "grids",
        "report_finding",
        patrol_id=patrol_id,
        worker_id=_worker(who),
        **body.model_dump(mode="json"),
    )


@router.post("/patrols/{patrol_id}/end", summary="End my patrol")
async def end_patrol(
    patrol_id: uuid.UUID, rpc: RpcDep, who: Annotated[Principal, _who("grid.patrol")]
) -> PatrolOut:
    return await rpc.call_typed("grids", "end_patrol", patrol_id=patrol_id, worker_id=_worker(who))


@router.get("/patrols/stats", summary="This week's patrol figures per grid or worker")
async def patrol_stats(
    rpc: RpcDep,
    who: Annotated[Principal, _who("grid.patrol.read")],
    jurisdiction: Jurisdiction = "",
    by: Literal["grid", "worker"] = "grid",
) -> PatrolStatsOut:
    prefix = _prefix(who, jurisdiction, min_len=4)[:15]
    return await rpc.call_typed("grids", "patrol_stats", prefix=prefix, by=by)


@router.get("/patrols/{patrol_id}", summary="One patrol")
async def get_patrol(
    patrol_id: uuid.UUID, rpc: RpcDep, who: Annotated[Principal, _who("grid.patrol.read")]
) -> PatrolOut:
    out = await rpc.call_typed("grids", "get_patrol", patrol_id=patrol_id)
    who.check_jurisdiction(out.grid_code)
    return out


# --- sensors -------------------------------------------------------------------------------


ReadingsIn = body_of(
    IngestMeterReadingsRequest,
    "ReadingsIn",
    examples=[
        {
            "readings": [
                {
                    "meter_id": "WM-329901001001001012-0502",
                    "at": "2026-11-23T08:00:00+08:00",
                    "value": 1532.4,
                }
            ]
        }
    ],
)


@router.post("/sensors/water-readings", summary="Water-meter readings in batches (system key)")
async def ingest_readings(
    body: ReadingsIn, rpc: RpcDep, who: Annotated[Principal, _who("grid.sensor.ingest")]
) -> IngestOut:
    return await rpc.call_typed(
        "grids",
        "ingest_meter_readings",
        readings=[r.model_dump(mode="json") for r in body.readings],
    )


DeviceIn = body_of(
    RegisterDeviceRequest,
    "DeviceIn",
    examples=[
        {
            "kind": "water_meter",
            "device_id": "WM-329901001001001012-0502",
            "household_code": "329901001001001012-0502",
        }
    ],
)


@router.post("/sensors/devices", summary="Bind a water meter or emergency device to a house")
async def register_device(
    body: DeviceIn, rpc: RpcDep, who: Annotated[Principal, _who("grid.sensor.manage")]
) -> Ok:
    who.check_jurisdiction(body.household_code)
    return await rpc.call_typed("grids", "register_device", **body.model_dump())


EmergencyIn = body_of(
    EmergencyCallRequest,
    "EmergencyIn",
    examples=[
        {
            "device_id": "SOS-329901001001001012-0502",
            "lat": 30.2812,
            "lon": 120.1518,
            "at": "2026-11-23T21:40:00+08:00",
        }
    ],
)


@router.post(
    "/sensors/emergency-calls",
    status_code=202,
    summary="One-key emergency call (device gateway, system key)",
)
async def emergency_call(
    body: EmergencyIn, rpc: RpcDep, who: Annotated[Principal, _who("grid.emergency_call")]
) -> AlertOut:
    return await rpc.call_typed("grids", "emergency_call", **body.model_dump(mode="json"))
