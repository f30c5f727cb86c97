"""Contracts of the grids service: its events and RPC schemas.

Events (all through the grids outbox, exchange ``grids.events``):
``unit.created``, ``unit.renamed``, ``unit.moved``, ``unit.retired``, ``boundaries.imported``
(changes others cache), ``worker.assigned`` / ``worker.unassigned`` (roster),
``patrol.finding_reported`` (petitions opens a case with source "patrol") and
``sensor.alert_raised`` (petitions opens a case with source "sensor").

Personal data never travels in events in clear: contacts are masked; a permitted role
reads the clear value through the grids RPC, which writes the access log.
"""

from __future__ import annotations

import base64
import sys
import uuid
from array import array
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import Base64Bytes, Field, field_validator, model_validator

from yiwang.contracts.base import Payload
from yiwang.contracts.envelope import event_contract
from yiwang.contracts.rpc import rpc_contract
from yiwang.contracts.subscription import Subscription

CODE = r"^[0-9]{4,18}$"
GRID = r"^[0-9]{15}$"
HOUSEHOLD = r"^[0-9]{18}-[0-9A-Za-z]{1,8}$"
CATEGORY = r"^[a-z0-9_.]+$"
Crs = Literal["wgs84", "gcj02"]
WorkerRoleName = Literal["leader", "member"]
SensorAlertKind = Literal["water_zero_use", "emergency_call"]
WorkerStatusName = Literal["on_duty", "off_duty", "on_leave", "departed"]

# --- events ------------------------------------------------------------------------------


@event_contract("unit.created", 1)
class UnitCreatedV1(Payload):
    code: str = Field(pattern=CODE)
    name: str = Field(max_length=100)
    level: str
    parent_code: str | None = None
    at: datetime


@event_contract("unit.renamed", 1)
class UnitRenamedV1(Payload):
    code: str = Field(pattern=CODE)
    old_name: str = Field(max_length=100)
    new_name: str = Field(max_length=100)
    at: datetime


@event_contract("unit.moved", 1)
class UnitMovedV1(Payload):
    """A unit moved under another parent; ``mapping`` re-codes it and its whole subtree
    (old code → new code; buildings and households under it follow the same prefix)."""

    old_code: str = Field(pattern=CODE)
    new_code: str = Field(pattern=CODE)
    mapping: dict[str, str]
    at: datetime


@event_contract("unit.retired", 1)
class UnitRetiredV1(Payload):
    code: str = Field(pattern=CODE)
    at: datetime


@event_contract("boundaries.imported", 1)
class BoundariesImportedV1(Payload):
    """A boundary import committed (one event per import, not one per unit)."""

    counts: dict[str, int]
    created: list[str] = Field(default_factory=list, description="new codes, first 1,000")
    created_total: int = 0
    updated_total: int = 0
    at: datetime


@event_contract("worker.assigned", 1)
class WorkerAssignedV1(Payload):
    worker_id: str = Field(max_length=40)
    name: str = Field(max_length=50)
    grid_code: str = Field(pattern=GRID)
    role: WorkerRoleName
    at: datetime


@event_contract("worker.unassigned", 1)
class WorkerUnassignedV1(Payload):
    worker_id: str = Field(max_length=40)
    grid_code: str = Field(pattern=GRID)
    at: datetime


@event_contract("patrol.finding_reported", 1)
class PatrolFindingReportedV1(Payload):
    """A grid worker's patrol finding; petitions opens a case with source "patrol"."""

    finding_id: uuid.UUID
    patrol_id: uuid.UUID
    worker_id: str = Field(max_length=40)
    worker_name: str = Field(default="", max_length=50)
    grid_code: str = Field(pattern=GRID)
    category: str = Field(min_length=1, max_length=64, pattern=CATEGORY)
    description: str = Field(min_length=1, max_length=2000)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    photos: list[str] = Field(default_factory=list, max_length=9)
    at: datetime


@event_contract("sensor.alert_raised", 1)
class SensorAlertRaisedV1(Payload):
    """An IoT alert (water meter zero use, one-key emergency call), once per episode;
    petitions opens a case with source "sensor" for the grid's workers."""

    alert_id: uuid.UUID
    kind: SensorAlertKind
    category: str = Field(min_length=1, max_length=64, pattern=CATEGORY)
    description: str = Field(min_length=1, max_length=2000)
    urgency: Literal["normal", "urgent"]
    household_code: str = Field(pattern=HOUSEHOLD)
    grid_code: str = Field(pattern=GRID)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    address: str | None = Field(default=None, max_length=200)
    family_contact_masked: str | None = Field(
        default=None, max_length=20, description="masked; clear value via grids RPC (logged)"
    )
    worker_ids: list[str] = Field(default_factory=list, description="grid workers, leader first")
    device_id: str | None = None
    since: datetime | None = None
    raised_at: datetime


# --- shared RPC pieces -------------------------------------------------------------------


class Actor(Payload):
    id: str = Field(default="system", max_length=64)
    role: str = Field(default="system", max_length=32)
    name: str = Field(default="", max_length=64)


class Unmask(Payload):
    """Mixin fields for reads of personal data (the gateway sets ``can_unmask``)."""

    unmask: bool = False
    can_unmask: bool = False
    actor: Actor = Field(default_factory=Actor)
    purpose: str = Field(default="", max_length=200)


class Ok(Payload):
    ok: bool = True


# --- units -------------------------------------------------------------------------------


class UnitOut(Payload):
    code: str
    name: str
    level: str
    parent_code: str | None = None
    retired: bool = False
    pinyin: str = ""
    has_boundary: bool = False


class UnitList(Payload):
    units: list[UnitOut]


@rpc_contract("grids", "get_unit", UnitOut)
class GetUnitRequest(Payload):
    code: str = Field(pattern=CODE)


@rpc_contract("grids", "unit_children", UnitList)
class UnitChildrenRequest(Payload):
    code: str = Field(pattern=CODE)
    include_retired: bool = False


@rpc_contract("grids", "unit_chain", UnitList)
class UnitChainRequest(Payload):
    code: str = Field(pattern=CODE)


@rpc_contract("grids", "search_units", UnitList)
class SearchUnitsRequest(Payload):
    query: str = Field(min_length=1, max_length=64)
    within: str = Field(default="", pattern=r"^[0-9]{0,18}$")
    limit: int = Field(default=20, ge=1, le=200)


@rpc_contract("grids", "create_unit", UnitOut)
class CreateUnitRequest(Payload):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=64)
    level: str | None = None
    actor: Actor = Field(default_factory=Actor)


@rpc_contract("grids", "rename_unit", UnitOut)
class RenameUnitRequest(Payload):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=64)
    actor: Actor = Field(default_factory=Actor)


class MoveUnitResponse(Payload):
    old_code: str
    new_code: str
    mapping: dict[str, str]


@rpc_contract("grids", "move_unit", MoveUnitResponse)
class MoveUnitRequest(Payload):
    code: str = Field(pattern=CODE)
    new_parent: str = Field(pattern=CODE)
    new_segment: str | None = Field(default=None, pattern=r"^[0-9]{2,3}$")
    actor: Actor = Field(default_factory=Actor)


@rpc_contract("grids", "retire_unit", UnitOut)
class RetireUnitRequest(Payload):
    code: str = Field(pattern=CODE)
    actor: Actor = Field(default_factory=Actor)


# --- boundaries and locate ---------------------------------------------------------------


class ImportBoundariesResponse(Payload):
    counts: dict[str, int]
    created: int
    updated: int


@rpc_contract("grids", "import_boundaries", ImportBoundariesResponse)
class ImportBoundariesRequest(Payload):
    feature_collection: dict[str, Any]
    actor: Actor = Field(default_factory=Actor)


class FeatureCollectionOut(Payload):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[dict[str, Any]]


@rpc_contract("grids", "export_boundaries", FeatureCollectionOut)
class ExportBoundariesRequest(Payload):
    prefix: str = Field(default="", pattern=r"^[0-9]{0,18}$")
    levels: list[Literal["city", "district", "street", "community", "grid"]] | None = None
    simplify_m: float = Field(default=0.0, ge=0, le=1000, description="tolerance, metres")
    precision: int = Field(default=6, ge=3, le=8, description="decimal places kept")


class LocateResponse(Payload):
    inside: bool
    grid_code: str | None = None
    chain: list[dict[str, str]] = Field(default_factory=list)
    workers: list[dict[str, Any]] = Field(default_factory=list)


@rpc_contract("grids", "locate", LocateResponse)
class LocateRequest(Payload):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    crs: Literal["wgs84", "gcj02"] = "wgs84"


MAX_LOCATE_POINTS = 100_000


class LocateManyResponse(Payload):
    """``grid_codes[i]`` answers point i (None: outside every grid). With ``detail``,
    ``units`` names every code of every chain and ``workers`` lists each grid's workers
    (leader first) once, instead of repeating them per point."""

    grid_codes: list[str | None]
    inside: int
    outside: int
    units: dict[str, str] = Field(default_factory=dict)
    workers: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)


@rpc_contract("grids", "locate_many", LocateManyResponse)
class LocateManyRequest(Payload):
    lats: list[float] = Field(max_length=100_000)
    lons: list[float] = Field(max_length=100_000)
    crs: Crs = "wgs84"
    detail: bool = False


class LocateManyV2Response(Payload):
    """Columnar answer of ``locate_many_v2``: ``grids`` lists every grid found once (ordered
    by code) and ``index[i]`` is the position in ``grids`` of point i's grid, -1 when the
    point is outside every grid (``grid_codes_of`` expands it to v1's ``grid_codes``).
    ``units`` / ``workers`` as in v1 when ``detail`` is asked."""

    grids: list[str]
    index: list[int]
    inside: int
    outside: int
    units: dict[str, str] = Field(default_factory=dict)
    workers: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _index_in_range(self) -> LocateManyV2Response:
        n = len(self.grids)
        if self.index and (min(self.index) < -1 or max(self.index) >= n):
            raise ValueError(f"index out of range (-1..{n - 1})")
        if self.inside + self.outside != len(self.index):
            raise ValueError("inside + outside must equal the number of points")
        return self


@rpc_contract("grids", "locate_many_v2", LocateManyV2Response)
class LocateManyV2Request(Payload):
    """Version 2 of ``locate_many``: the points travel packed, ``points`` being the base64
    of (lat, lon) pairs of little-endian float64 (16 bytes a point; ``pack_points``).
    Printing and parsing 20,000 JSON numbers cost ~11 ms between the two sides; this
    costs ~0.3 ms and loses no precision."""

    points: Base64Bytes = Field(description="base64 of little-endian float64 (lat, lon) pairs")
    crs: Crs = "wgs84"
    detail: bool = False

    @field_validator("points")
    @classmethod
    def _whole_pairs(cls, v: bytes) -> bytes:
        if len(v) % 16:
            raise ValueError("points must hold whole (lat, lon) float64 pairs (16 bytes each)")
        if len(v) > 16 * MAX_LOCATE_POINTS:
            raise ValueError(f"at most {MAX_LOCATE_POINTS:,} points")
        return v

    def coordinates(self) -> tuple[array[float], array[float]]:
        """The latitudes and longitudes, unpacked."""
        pairs = array("d", self.points)
        if sys.byteorder == "big":
            pairs.byteswap()
        return pairs[0::2], pairs[1::2]


def pack_points(lats: Sequence[float], lons: Sequence[float]) -> str:
    """``LocateManyV2Request.points`` for parallel latitudes and longitudes."""
    if len(lats) != len(lons):
        raise ValueError(f"{len(lats)} latitudes but {len(lons)} longitudes")
    pairs = array("d", bytes(16 * len(lats)))
    pairs[0::2] = array("d", lats)
    pairs[1::2] = array("d", lons)
    if sys.byteorder == "big":
        pairs.byteswap()
    return base64.b64encode(pairs.tobytes()).decode("ascii")


def grid_codes_of(answer: Mapping[str, Any]) -> list[str | None]:
    """v1's ``grid_codes`` (one code or None per point) from a v2 answer."""
    grids = answer["grids"]
    return [grids[i] if i >= 0 else None for i in answer["index"]]


# --- people and places -------------------------------------------------------------------


class WorkerOut(Payload):
    worker_id: str
    name: str
    phone: str
    status: str
    account_id: str | None = None
    grids: dict[str, str] = Field(default_factory=dict)


class WorkerList(Payload):
    workers: list[WorkerOut]


@rpc_contract("grids", "add_worker", WorkerOut)
class AddWorkerRequest(Payload):
    worker_id: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=50)
    phone: str = Field(max_length=20)
    status: WorkerStatusName = "on_duty"
    account_id: str | None = Field(default=None, max_length=64)
    actor: Actor = Field(default_factory=Actor)


@rpc_contract("grids", "assign_worker", WorkerOut)
class AssignWorkerRequest(Payload):
    worker_id: str = Field(max_length=40)
    grid_code: str = Field(pattern=GRID)
    role: WorkerRoleName = "member"
    actor: Actor = Field(default_factory=Actor)


@rpc_contract("grids", "unassign_worker", WorkerOut)
class UnassignWorkerRequest(Payload):
    worker_id: str = Field(max_length=40)
    grid_code: str = Field(pattern=GRID)
    actor: Actor = Field(default_factory=Actor)


@rpc_contract("grids", "set_worker_status", WorkerOut)
class SetWorkerStatusRequest(Payload):
    worker_id: str = Field(max_length=40)
    status: WorkerStatusName
    actor: Actor = Field(default_factory=Actor)


@rpc_contract("grids", "get_worker", WorkerOut)
class GetWorkerRequest(Payload):
    worker_id: str = Field(max_length=64, description="worker id or linked account id")


@rpc_contract("grids", "list_workers", WorkerList)
class ListWorkersRequest(Payload):
    prefix: str = Field(default="", pattern=r"^[0-9]{0,15}$")
    limit: int = Field(default=200, ge=1, le=2000)


class BuildingOut(Payload):
    code: str
    grid_code: str
    name: str
    address: str
    lat: float | None = None
    lon: float | None = None
    households_represented: int = 0


class BuildingList(Payload):
    buildings: list[BuildingOut]


@rpc_contract("grids", "add_building", BuildingOut)
class AddBuildingRequest(Payload):
    code: str = Field(pattern=r"^[0-9]{18}$")
    address: str = Field(min_length=1, max_length=200)
    name: str = Field(default="", max_length=64)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    households_represented: int = Field(default=0, ge=0)


@rpc_contract("grids", "list_buildings", BuildingList)
class ListBuildingsRequest(Payload):
    grid_code: str = Field(pattern=GRID)


class HouseholdOut(Payload):
    code: str
    building_code: str
    grid_code: str
    contact_phone: str | None = None
    party_member_household: bool = False
    unmasked: bool = False


@rpc_contract("grids", "add_household", HouseholdOut)
class AddHouseholdRequest(Payload):
    code: str = Field(pattern=HOUSEHOLD)
    contact_phone: str | None = Field(default=None, max_length=20)
    party_member_household: bool = False


class ResidentOut(Payload):
    resident_id: str
    name: str
    household_code: str
    registered_community: str
    living_community: str
    relocated: bool
    id_number: str
    phone: str | None = None
    family_contact: str | None = None
    tags: list[str] = Field(default_factory=list)
    party_member: bool = False
    unmasked: bool = False


class ResidentList(Payload):
    total: int
    residents: list[ResidentOut]


@rpc_contract("grids", "add_resident", ResidentOut)
class AddResidentRequest(Payload):
    resident_id: str | None = Field(default=None, max_length=40)
    name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(max_length=18)
    household_code: str = Field(pattern=HOUSEHOLD)
    phone: str | None = Field(default=None, max_length=20)
    tags: list[str] = Field(default_factory=list, max_length=10)
    registered_community: str | None = Field(default=None, pattern=r"^[0-9]{12}$")
    party_member: bool = False
    family_contact: str | None = Field(default=None, max_length=20)


@rpc_contract("grids", "get_resident", ResidentOut)
class GetResidentRequest(Unmask):
    resident_id: str = Field(max_length=40)


@rpc_contract("grids", "find_residents", ResidentList)
class FindResidentsRequest(Unmask):
    """Exact lookup by national ID number or phone (keyed hash, no decryption scan)."""

    id_number: str | None = Field(default=None, max_length=18)
    phone: str | None = Field(default=None, max_length=20)


@rpc_contract("grids", "list_residents", ResidentList)
class ListResidentsRequest(Unmask):
    prefix: str = Field(pattern=r"^[0-9]{4,18}$", description="living inside this code")
    tag: str | None = Field(default=None, max_length=32)
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=50, ge=1, le=500)


@rpc_contract("grids", "served_by_community", ResidentList)
class ServedByRequest(Unmask):
    """Residents registered with (served by) a community, wherever they live now."""

    community_code: str = Field(pattern=r"^[0-9]{12}$")
    relocated_only: bool = False
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=50, ge=1, le=500)


class HousePeople(Payload):
    household: HouseholdOut
    building: BuildingOut
    residents: list[ResidentOut]


@rpc_contract("grids", "people_in_household", HousePeople)
class PeopleInHouseholdRequest(Unmask):
    household_code: str = Field(pattern=HOUSEHOLD)


@rpc_contract("grids", "house_of_resident", HousePeople)
class HouseOfResidentRequest(Unmask):
    resident_id: str = Field(max_length=40)


@rpc_contract("grids", "tag_resident", ResidentOut)
class TagResidentRequest(Payload):
    resident_id: str = Field(max_length=40)
    tags: list[str] = Field(max_length=10)


@rpc_contract("grids", "move_resident", ResidentOut)
class MoveResidentRequest(Payload):
    resident_id: str = Field(max_length=40)
    household_code: str = Field(pattern=HOUSEHOLD)


class KeyPlaceOut(Payload):
    place_id: str
    kind: str
    name: str
    grid_code: str
    lat: float
    lon: float


class KeyPlaceList(Payload):
    key_places: list[KeyPlaceOut]


@rpc_contract("grids", "add_key_place", KeyPlaceOut)
class AddKeyPlaceRequest(Payload):
    place_id: str = Field(min_length=1, max_length=40)
    kind: str = Field(max_length=32)
    name: str = Field(min_length=1, max_length=100)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    grid_code: str | None = Field(default=None, pattern=GRID, description="default: located")


@rpc_contract("grids", "list_key_places", KeyPlaceList)
class ListKeyPlacesRequest(Payload):
    prefix: str = Field(pattern=r"^[0-9]{4,15}$")
    kind: str | None = None
    limit: int = Field(default=500, ge=1, le=5000)


class PartyOrgOut(Payload):
    org_id: str
    kind: str
    unit_code: str
    name: str
    secretary: str = ""


class PartyOrgList(Payload):
    party_orgs: list[PartyOrgOut]


@rpc_contract("grids", "add_party_org", PartyOrgOut)
class AddPartyOrgRequest(Payload):
    org_id: str = Field(min_length=1, max_length=40)
    kind: str = Field(max_length=32)
    unit_code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=100)
    secretary: str = Field(default="", max_length=50)


@rpc_contract("grids", "list_party_orgs", PartyOrgList)
class ListPartyOrgsRequest(Payload):
    prefix: str = Field(pattern=r"^[0-9]{4,18}$")
    limit: int = Field(default=500, ge=1, le=5000)


class AccessLogEntry(Payload):
    at: datetime
    actor_id: str
    actor_role: str
    actor_name: str
    subject_kind: str
    subject_id: str
    fields: list[str]
    purpose: str


class AccessLogPage(Payload):
    entries: list[AccessLogEntry]


@rpc_contract("grids", "access_log", AccessLogPage)
class AccessLogRequest(Payload):
    subject_id: str | None = Field(default=None, max_length=40)
    actor_id: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=100, ge=1, le=1000)
    jurisdiction_prefix: str = Field(
        default="",
        pattern=r"^[0-9]{0,18}$",
        description="only reads of subjects inside this unit code (yiwang.access.log_prefix "
        "of the reader); empty: all",
    )


# --- patrols -----------------------------------------------------------------------------


class PatrolOut(Payload):
    patrol_id: uuid.UUID
    worker_id: str
    grid_code: str
    state: str
    started_at: datetime
    ended_at: datetime | None = None
    distance_m: float = 0.0
    points: int = 0
    check_ins: list[str] = Field(default_factory=list)
    findings: int = 0


@rpc_contract("grids", "start_patrol", PatrolOut)
class StartPatrolRequest(Payload):
    worker_id: str = Field(max_length=64, description="worker id or linked account id")
    grid_code: str = Field(pattern=GRID)
    patrol_id: uuid.UUID | None = None


class GpsPointIn(Payload):
    at: datetime
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0)


class PointsAddedOut(Payload):
    accepted: int
    duplicates: int
    outside_patrol_time: int


@rpc_contract("grids", "post_patrol_points", PointsAddedOut)
class PostPatrolPointsRequest(Payload):
    patrol_id: uuid.UUID
    worker_id: str = Field(max_length=64)
    points: list[GpsPointIn] = Field(min_length=1, max_length=5000)


class CheckInOut(Payload):
    place_id: str
    at: datetime
    distance_m: float


@rpc_contract("grids", "patrol_check_in", CheckInOut)
class PatrolCheckInRequest(Payload):
    patrol_id: uuid.UUID
    worker_id: str = Field(max_length=64)
    place_id: str = Field(max_length=40)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    at: datetime | None = None


class FindingOut(Payload):
    finding_id: uuid.UUID
    patrol_id: uuid.UUID
    grid_code: str
    category: str
    reported_at: datetime


@rpc_contract("grids", "report_finding", FindingOut)
class ReportFindingRequest(Payload):
    patrol_id: uuid.UUID
    worker_id: str = Field(max_length=64)
    finding_id: uuid.UUID | None = Field(default=None, description="client id: idempotent")
    category: str = Field(min_length=1, max_length=64, pattern=CATEGORY)
    description: str = Field(min_length=1, max_length=2000)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    photos: list[str] = Field(default_factory=list, max_length=9)
    at: datetime | None = None


@rpc_contract("grids", "end_patrol", PatrolOut)
class EndPatrolRequest(Payload):
    patrol_id: uuid.UUID
    worker_id: str = Field(max_length=64)


@rpc_contract("grids", "get_patrol", PatrolOut)
class GetPatrolRequest(Payload):
    patrol_id: uuid.UUID


class PatrolStatsRow(Payload):
    key: str
    patrols: int
    duration_s: float
    distance_m: float
    key_places_visited: int
    key_places_total: int
    key_place_share: float


class PatrolStatsOut(Payload):
    week_start: datetime
    rows: list[PatrolStatsRow]


@rpc_contract("grids", "patrol_stats", PatrolStatsOut)
class PatrolStatsRequest(Payload):
    """This week's patrol figures per worker (``by="worker"``) or per grid, within a prefix."""

    prefix: str = Field(pattern=r"^[0-9]{4,15}$")
    by: Literal["worker", "grid"] = "grid"


# --- sensors -----------------------------------------------------------------------------


class MeterReadingIn(Payload):
    meter_id: str = Field(min_length=1, max_length=40)
    at: datetime
    value: float = Field(ge=0, description="cumulative m³")


class IngestOut(Payload):
    stored: int
    duplicates: int


@rpc_contract("grids", "ingest_meter_readings", IngestOut)
class IngestMeterReadingsRequest(Payload):
    readings: list[MeterReadingIn] = Field(min_length=1, max_length=10_000)


class EvaluateOut(Payload):
    meters: int
    raised: int


@rpc_contract("grids", "evaluate_alerts", EvaluateOut)
class EvaluateAlertsRequest(Payload):
    pass


class AlertOut(Payload):
    alert_id: uuid.UUID
    kind: str
    urgent: bool
    household_code: str
    grid_code: str
    raised_at: datetime
    new: bool


@rpc_contract("grids", "emergency_call", AlertOut)
class EmergencyCallRequest(Payload):
    device_id: str = Field(min_length=1, max_length=40)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    at: datetime | None = None


@rpc_contract("grids", "register_device", Ok)
class RegisterDeviceRequest(Payload):
    kind: Literal["water_meter", "emergency_device"]
    device_id: str = Field(min_length=1, max_length=40)
    household_code: str = Field(pattern=HOUSEHOLD)


SUBSCRIPTIONS: list[Subscription] = []
