"""The grids nameko service: a thin adapter around the service layer.

The in-memory map (grid index, unit names, workers per grid, admin tree for search) is
rebuilt when the store's map version changes. Chosen mechanism: a **periodic version
check** (``refresh_map``, a nameko timer every ``MAP_CHECK_INTERVAL_S``) reading one row
(``grids.map_state``), which every boundary, tree or roster change bumps in its own
transaction. The process that made a change reloads at once; the others within the
interval. (No broadcast queue: nothing to declare, nothing lost when a process is down.)
"""

from __future__ import annotations

import threading
from typing import Any

from nameko.extensions import DependencyProvider
from nameko.timer import timer

from services.grids.adapters.crypto import PiiCipher
from services.grids.adapters.memory import settle_after_load
from services.grids.domain.units import AdminTree
from services.grids.service_layer import boundaries, patrols, people, sensors, units
from services.grids.service_layer.boundaries import GridMap
from services.grids.service_layer.common import map_versions
from services.grids.service_layer.people import ReadAccess
from yiwang import contracts as c
from yiwang.contracts.health import HealthResponse
from yiwang.db import make_engine
from yiwang.errors import Unavailable, ValidationFailed
from yiwang.keys import Keyring
from yiwang.logging import get_logger
from yiwang.nameko.health import db_health
from yiwang.nameko.providers import ClockProvider, Tracing, UnitOfWorkProvider
from yiwang.nameko.rpc import contract_rpc
from yiwang.uow import uow_factory

cg = c.grids
log = get_logger(__name__)
MAP_CHECK_INTERVAL_S = 3
ALERT_INTERVAL_S = 60


class GridMapProvider(DependencyProvider):
    """Holds the in-memory grid map and admin tree, reloaded on version change."""

    def setup(self) -> None:
        self.engine = make_engine(self.container.config["DATABASE_URL"], pool_size=2)
        self.factory = uow_factory(self.engine, producer="grids", schema="grids")
        self.map: GridMap | None = None
        self.tree: AdminTree | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        try:
            self.refresh(force=True)
        except Exception as exc:  # noqa: BLE001 - e.g. database unreachable: the timer retries
            log.warning("grid_map_load_failed", error=str(exc)[:300])

    def stop(self) -> None:
        self.engine.dispose()

    def refresh(self, force: bool = False) -> bool:
        """Reload what changed since the last load; True when something was reloaded."""
        with self._lock:
            bver, rver = map_versions(self.factory())
            old = self.map
            if (
                not force
                and old is not None
                and (bver, rver) == (old.boundary_version, old.roster_version)
            ):
                return False
            if force or old is None or bver != old.boundary_version:
                with self.factory() as uow:
                    tree = units.load_tree(uow)
                new = GridMap.load(
                    self.factory(), self.factory(), (bver, rver), names=tree.active_names()
                )
                self.tree = tree
            else:
                new = GridMap(
                    old.index, old.names, boundaries.load_roster(self.factory()), bver, rver
                )
            self.map = new
            del old
            heap = settle_after_load()
            log.info(
                "grid_map_loaded",
                grids=len(new.index),
                boundary_version=bver,
                roster_version=rver,
                **heap,
            )
            return True

    def get_dependency(self, worker_ctx: Any) -> Any:
        return self


class PiiProvider(DependencyProvider):
    """The field cipher for personal data, keyed from the keyring's ``pii`` keys."""

    def setup(self) -> None:
        self.cipher = PiiCipher.from_keyring(Keyring.from_config(self.container.config["KEYS"]))

    def get_dependency(self, worker_ctx: Any) -> PiiCipher:
        return self.cipher


def _access(r: Any) -> ReadAccess:
    return ReadAccess(r.unmask, r.can_unmask, r.actor.model_dump(), r.purpose)


class GridsService:
    name = "grids"

    uow = UnitOfWorkProvider("grids")
    grid_map = GridMapProvider()
    clock = ClockProvider()
    pii = PiiProvider()
    tracing = Tracing()

    def _map(self) -> GridMap:
        if self.grid_map.map is None:  # not loaded yet (store unreachable at start): retry
            raise Unavailable(
                "grid_map_loading",
                "The grid map is still loading; please retry in a few seconds.",
                "网格地图正在加载，请稍后重试。",
            )
        return self.grid_map.map

    # -- timers ---------------------------------------------------------------------------
    @timer(interval=MAP_CHECK_INTERVAL_S)
    def refresh_map(self) -> None:
        self.grid_map.refresh()

    @timer(interval=ALERT_INTERVAL_S)
    def run_alert_rules(self) -> None:
        result = sensors.evaluate(self.uow(), self.clock.now())
        if result["raised"]:
            log.info("sensor_alerts_raised", **result)

    # -- units ----------------------------------------------------------------------------
    @contract_rpc("grids")
    def get_unit(self, r: cg.GetUnitRequest) -> Any:
        return units.get_unit(self.uow(), r.code)

    @contract_rpc("grids")
    def unit_children(self, r: cg.UnitChildrenRequest) -> Any:
        return units.children(self.uow(), r.code, r.include_retired)

    @contract_rpc("grids")
    def unit_chain(self, r: cg.UnitChainRequest) -> Any:
        return units.chain(self.uow(), r.code)

    @contract_rpc("grids")
    def search_units(self, r: cg.SearchUnitsRequest) -> Any:
        self._map()  # the tree loads with the map
        assert self.grid_map.tree is not None
        return units.search(self.grid_map.tree, r.query, r.within, r.limit)

    @contract_rpc("grids")
    def create_unit(self, r: cg.CreateUnitRequest) -> Any:
        out = units.create_unit(self.uow(), r.code, r.name, r.level, self.clock.now())
        self.grid_map.refresh()
        return out

    @contract_rpc("grids")
    def rename_unit(self, r: cg.RenameUnitRequest) -> Any:
        out = units.rename_unit(self.uow(), r.code, r.name, self.clock.now())
        self.grid_map.refresh()
        return out

    @contract_rpc("grids")
    def move_unit(self, r: cg.MoveUnitRequest) -> Any:
        out = units.move_unit(self.uow(), r.code, r.new_parent, r.new_segment, self.clock.now())
        self.grid_map.refresh()
        return out

    @contract_rpc("grids")
    def retire_unit(self, r: cg.RetireUnitRequest) -> Any:
        out = units.retire_unit(self.uow(), r.code, self.clock.now())
        self.grid_map.refresh()
        return out

    # -- boundaries and locate ------------------------------------------------------------
    @contract_rpc("grids")
    def import_boundaries(self, r: cg.ImportBoundariesRequest) -> Any:
        out = boundaries.import_boundaries(self.uow(), r.feature_collection, self.clock.now())
        self.grid_map.refresh()
        return out

    @contract_rpc("grids")
    def export_boundaries(self, r: cg.ExportBoundariesRequest) -> Any:
        return boundaries.export_boundaries(
            self.uow(), r.prefix, r.levels, r.simplify_m, r.precision
        )

    @contract_rpc("grids")
    def locate(self, r: cg.LocateRequest) -> Any:
        return self._map().locate(r.lat, r.lon, r.crs)

    @contract_rpc("grids")
    def locate_many(self, r: cg.LocateManyRequest) -> Any:
        if len(r.lats) != len(r.lons):
            raise ValidationFailed(
                "coordinates_length_mismatch",
                f"{len(r.lats)} latitudes but {len(r.lons)} longitudes",
                "纬度与经度数量不一致",
            )
        return self._map().locate_many(r.lats, r.lons, r.crs, r.detail)

    @contract_rpc("grids")
    def locate_many_v2(self, r: cg.LocateManyV2Request) -> Any:
        lats, lons = r.coordinates()
        return self._map().locate_columns(lats, lons, r.crs, r.detail)

    # -- workers --------------------------------------------------------------------------
    @contract_rpc("grids")
    def add_worker(self, r: cg.AddWorkerRequest) -> Any:
        return people.add_worker(
            self.uow(), r.worker_id, r.name, r.phone, r.status, r.account_id, self.clock.now()
        )

    @contract_rpc("grids")
    def assign_worker(self, r: cg.AssignWorkerRequest) -> Any:
        out = people.assign_worker(self.uow(), r.worker_id, r.grid_code, r.role, self.clock.now())
        self.grid_map.refresh()
        return out

    @contract_rpc("grids")
    def unassign_worker(self, r: cg.UnassignWorkerRequest) -> Any:
        out = people.unassign_worker(self.uow(), r.worker_id, r.grid_code, self.clock.now())
        self.grid_map.refresh()
        return out

    @contract_rpc("grids")
    def set_worker_status(self, r: cg.SetWorkerStatusRequest) -> Any:
        out = people.set_worker_status(self.uow(), r.worker_id, r.status, self.clock.now())
        self.grid_map.refresh()
        return out

    @contract_rpc("grids")
    def get_worker(self, r: cg.GetWorkerRequest) -> Any:
        return people.get_worker(self.uow(), r.worker_id)

    @contract_rpc("grids")
    def list_workers(self, r: cg.ListWorkersRequest) -> Any:
        return people.list_workers(self.uow(), r.prefix, r.limit)

    # -- buildings, households, residents -------------------------------------------------
    @contract_rpc("grids")
    def add_building(self, r: cg.AddBuildingRequest) -> Any:
        return people.add_building(
            self.uow(), r.code, r.address, r.name, r.lat, r.lon, r.households_represented
        )

    @contract_rpc("grids")
    def list_buildings(self, r: cg.ListBuildingsRequest) -> Any:
        return people.list_buildings(self.uow(), r.grid_code)

    @contract_rpc("grids")
    def add_household(self, r: cg.AddHouseholdRequest) -> Any:
        return people.add_household(
            self.uow(), self.pii, r.code, r.contact_phone, r.party_member_household
        )

    @contract_rpc("grids")
    def add_resident(self, r: cg.AddResidentRequest) -> Any:
        return people.add_resident(
            self.uow(),
            self.pii,
            resident_id=r.resident_id,
            name=r.name,
            id_number=r.id_number,
            household_code=r.household_code,
            phone=r.phone,
            tags=r.tags,
            registered_community=r.registered_community,
            party_member=r.party_member,
            family_contact=r.family_contact,
            now=self.clock.now(),
        )

    @contract_rpc("grids")
    def get_resident(self, r: cg.GetResidentRequest) -> Any:
        return people.get_resident(
            self.uow(), self.pii, r.resident_id, _access(r), self.clock.now()
        )

    @contract_rpc("grids")
    def find_residents(self, r: cg.FindResidentsRequest) -> Any:
        return people.find_residents(
            self.uow(), self.pii, r.id_number, r.phone, _access(r), self.clock.now()
        )

    @contract_rpc("grids")
    def list_residents(self, r: cg.ListResidentsRequest) -> Any:
        return people.list_residents(
            self.uow(), self.pii, r.prefix, r.tag, r.page, r.page_size, _access(r), self.clock.now()
        )

    @contract_rpc("grids")
    def served_by_community(self, r: cg.ServedByRequest) -> Any:
        return people.served_by(
            self.uow(),
            self.pii,
            r.community_code,
            r.relocated_only,
            r.page,
            r.page_size,
            _access(r),
            self.clock.now(),
        )

    @contract_rpc("grids")
    def people_in_household(self, r: cg.PeopleInHouseholdRequest) -> Any:
        return people.people_in_household(
            self.uow(), self.pii, r.household_code, _access(r), self.clock.now()
        )

    @contract_rpc("grids")
    def house_of_resident(self, r: cg.HouseOfResidentRequest) -> Any:
        return people.house_of_resident(
            self.uow(), self.pii, r.resident_id, _access(r), self.clock.now()
        )

    @contract_rpc("grids")
    def tag_resident(self, r: cg.TagResidentRequest) -> Any:
        return people.tag_resident(self.uow(), self.pii, r.resident_id, r.tags, self.clock.now())

    @contract_rpc("grids")
    def move_resident(self, r: cg.MoveResidentRequest) -> Any:
        return people.move_resident(
            self.uow(), self.pii, r.resident_id, r.household_code, self.clock.now()
        )

    @contract_rpc("grids")
    def access_log(self, r: cg.AccessLogRequest) -> Any:
        return people.access_log(
            self.uow(), r.subject_id, r.actor_id, r.limit, r.jurisdiction_prefix
        )

    # -- places and party organisations ---------------------------------------------------
    @contract_rpc("grids")
    def add_key_place(self, r: cg.AddKeyPlaceRequest) -> Any:
        grid = r.grid_code or self._map().locate(r.lat, r.lon).get("grid_code")
        if grid is None:
            raise ValidationFailed(
                "outside_jurisdiction",
                "the place is outside every grid",
                "该位置不在任何网格内",
                lat=r.lat,
                lon=r.lon,
            )
        return people.add_key_place(self.uow(), r.place_id, r.kind, r.name, r.lat, r.lon, grid)

    @contract_rpc("grids")
    def list_key_places(self, r: cg.ListKeyPlacesRequest) -> Any:
        return people.list_key_places(self.uow(), r.prefix, r.kind, r.limit)

    @contract_rpc("grids")
    def add_party_org(self, r: cg.AddPartyOrgRequest) -> Any:
        return people.add_party_org(self.uow(), r.org_id, r.kind, r.unit_code, r.name, r.secretary)

    @contract_rpc("grids")
    def list_party_orgs(self, r: cg.ListPartyOrgsRequest) -> Any:
        return people.list_party_orgs(self.uow(), r.prefix, r.limit)

    # -- patrols --------------------------------------------------------------------------
    @contract_rpc("grids")
    def start_patrol(self, r: cg.StartPatrolRequest) -> Any:
        return patrols.start_patrol(
            self.uow(), r.worker_id, r.grid_code, r.patrol_id, self.clock.now()
        )

    @contract_rpc("grids")
    def post_patrol_points(self, r: cg.PostPatrolPointsRequest) -> Any:
        return patrols.post_points(
            self.uow(), r.patrol_id, r.worker_id, [p.model_dump() for p in r.points]
        )

    @contract_rpc("grids")
    def patrol_check_in(self, r: cg.PatrolCheckInRequest) -> Any:
        return patrols.check_in(
            self.uow(), r.patrol_id, r.worker_id, r.place_id, r.lat, r.lon, r.at or self.clock.now()
        )

    @contract_rpc("grids")
    def report_finding(self, r: cg.ReportFindingRequest) -> Any:
        return patrols.report_finding(
            self.uow(),
            r.patrol_id,
            r.worker_id,
            r.finding_id,
            r.category,
            r.description,
            r.lat,
            r.lon,
            r.photos,
            r.at or self.clock.now(),
        )

    @contract_rpc("grids")
    def end_patrol(self, r: cg.EndPatrolRequest) -> Any:
        return patrols.end_patrol(self.uow(), r.patrol_id, r.worker_id, self.clock.now())

    @contract_rpc("grids")
    def get_patrol(self, r: cg.GetPatrolRequest) -> Any:
        return patrols.get_patrol(self.uow(), r.patrol_id)

    @contract_rpc("grids")
    def patrol_stats(self, r: cg.PatrolStatsRequest) -> Any:
        return patrols.patrol_stats(self.uow(), r.prefix, r.by, self.clock.now())

    # -- sensors --------------------------------------------------------------------------
    @contract_rpc("grids")
    def ingest_meter_readings(self, r: cg.IngestMeterReadingsRequest) -> Any:
        return sensors.ingest_readings(self.uow(), [x.model_dump() for x in r.readings])

    @contract_rpc("grids")
    def evaluate_alerts(self, r: cg.EvaluateAlertsRequest) -> Any:
        return sensors.evaluate(self.uow(), self.clock.now())

    @contract_rpc("grids")
    def emergency_call(self, r: cg.EmergencyCallRequest) -> Any:
        return sensors.call(self.uow(), r.device_id, r.lat, r.lon, r.at or self.clock.now())

    @contract_rpc("grids")
    def register_device(self, r: cg.RegisterDeviceRequest) -> Any:
        sensors.register_device(self.uow(), r.kind, r.device_id, r.household_code)
        return {"ok": True}

    @contract_rpc("grids")
    def health(self, request: Any) -> HealthResponse:
        return db_health(self.name, self.uow())
