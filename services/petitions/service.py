"""The petitions nameko service: a thin adapter around the service layer.

RPC methods validate against ``yiwang.contracts.petitions``; events leave through the
outbox. Timers run the sweeps with the class's ``clock`` (tests replace it:
``PetitionsService.clock = FakeClock(...)``) and deliver queued status notifications
through ``sender`` (``LogSender`` by default) and Redis (SSE feed ``<prefix>case:<id>``).
"""

from __future__ import annotations

from typing import Any

from nameko.rpc import RpcProxy
from nameko.timer import timer

from services.petitions.service_layer import agency, cases, catalogue, intake, open311, sweeps
from yiwang.batch import EventBatch, apply_batch
from yiwang.clock import Clock, SystemClock
from yiwang.contracts import Envelope
from yiwang.contracts import petitions as c
from yiwang.contracts.command import CaseEscalatedV1
from yiwang.contracts.enterprise import DemandOverdueV1
from yiwang.contracts.grids import PatrolFindingReportedV1, SensorAlertRaisedV1
from yiwang.contracts.health import HealthResponse
from yiwang.contracts.volunteers import VolunteerOrderEscalatedV1
from yiwang.logging import get_logger
from yiwang.nameko.events import reliable_event_handler
from yiwang.nameko.health import db_health
from yiwang.nameko.providers import RedisPublisher, Tracing, UnitOfWorkProvider
from yiwang.nameko.rpc import contract_rpc

log = get_logger(__name__)
SWEEP_INTERVAL_S = 60
DELIVERY_INTERVAL_S = 1


class PetitionsService:
    name = "petitions"

    uow = UnitOfWorkProvider("petitions")
    tracing = Tracing()
    redis = RedisPublisher()
    grids = RpcProxy("grids")
    clock: Clock = SystemClock()
    sender: sweeps.Sender = sweeps.LogSender()

    # --- intake ---------------------------------------------------------------------------
    @reliable_event_handler("gateway", "report.submitted", batch=True)
    def handle_report_submitted(self, events: EventBatch) -> None:
        apply_batch(self.uow(), events, lambda uow, env, report: intake.open_case_from_report(
            uow, env, report, self.clock.now()), prepare=intake.lock_reports)  # fmt: skip

    @reliable_event_handler("grids", "patrol.finding_reported")
    def handle_patrol_finding(self, envelope: Envelope, payload: PatrolFindingReportedV1) -> None:
        intake.open_case_from_patrol(self.uow(), envelope, payload, self.clock.now())

    @reliable_event_handler("grids", "sensor.alert_raised")
    def handle_sensor_alert(self, envelope: Envelope, payload: SensorAlertRaisedV1) -> None:
        intake.open_case_from_sensor(self.uow(), envelope, payload, self.clock.now())

    @reliable_event_handler("volunteers", "volunteer_order.escalated")
    def handle_volunteer_order_escalated(
        self, envelope: Envelope, payload: VolunteerOrderEscalatedV1
    ) -> None:
        located = self.grids.locate(lat=payload.lat, lon=payload.lon)
        grid = located.get("grid_code") if located.get("inside") else None
        intake.open_case_from_volunteer_order(self.uow(), envelope, payload, self.clock.now(), grid)

    @reliable_event_handler("enterprise", "demand.overdue")
    def handle_demand_overdue(self, envelope: Envelope, payload: DemandOverdueV1) -> None:
        intake.open_case_from_demand(self.uow(), envelope, payload, self.clock.now())

    @contract_rpc("petitions")
    def import_hotline(self, request: c.ImportHotlineRequest) -> Any:
        return intake.import_hotline(self.uow, request, self.clock.now())

    @contract_rpc("petitions")
    def get_report_status(self, request: c.ReportStatusRequest) -> Any:
        return intake.report_status(self.uow(), request.report_id)

    # --- lifecycle ------------------------------------------------------------------------
    @contract_rpc("petitions")
    def case_action(self, request: c.CaseActionRequest) -> Any:
        return cases.case_action(self.uow(), request, self.clock.now())

    @contract_rpc("petitions")
    def get_case(self, request: c.GetCaseRequest) -> Any:
        return cases.get_case(self.uow(), request)

    @contract_rpc("petitions")
    def list_my_cases(self, request: c.ListMyCasesRequest) -> Any:
        return cases.list_my_cases(self.uow(), request)

    @contract_rpc("petitions")
    def public_map(self, request: c.PublicMapRequest) -> Any:
        return cases.public_map(self.uow(), request)

    @contract_rpc("petitions")
    def merge_cases(self, request: c.MergeCasesRequest) -> Any:
        return cases.merge_cases(self.uow(), request, self.clock.now())

    @contract_rpc("petitions")
    def detach_supporter(self, request: c.DetachSupporterRequest) -> Any:
        return cases.detach_supporter(self.uow(), request, self.clock.now())

    @contract_rpc("petitions")
    def split_case(self, request: c.SplitCaseRequest) -> Any:
        return cases.split_case(self.uow(), request, self.clock.now())

    @reliable_event_handler("command", "case.routed", batch=True)
    def handle_case_routed(self, events: EventBatch) -> None:
        apply_batch(self.uow(), events, lambda uow, env, routed: cases.apply_case_routed(
            uow, env, routed, self.clock.now()))  # fmt: skip

    @reliable_event_handler("command", "case.escalated")
    def handle_case_escalated(self, envelope: Envelope, payload: CaseEscalatedV1) -> None:
        cases.apply_case_escalated(self.uow(), envelope, payload, self.clock.now())

    # --- categories -----------------------------------------------------------------------
    @contract_rpc("petitions")
    def list_categories(self, request: c.ListCategoriesRequest) -> Any:
        return catalogue.list_categories(self.uow(), request)

    @contract_rpc("petitions")
    def get_category(self, request: c.GetCategoryRequest) -> Any:
        return catalogue.get_category(self.uow(), request)

    @contract_rpc("petitions")
    def put_category(self, request: c.PutCategoryRequest) -> Any:
        return catalogue.put_category(self.uow(), request, self.clock.now())

    @contract_rpc("petitions")
    def deactivate_category(self, request: c.DeactivateCategoryRequest) -> Any:
        return catalogue.deactivate_category(self.uow(), request, self.clock.now())

    # --- Open311 GeoReport v2 -------------------------------------------------------------
    @contract_rpc("petitions")
    def open311_services(self, request: c.Open311ServicesRequest) -> Any:
        return open311.services(self.uow(), request)

    @contract_rpc("petitions")
    def open311_service_definition(self, request: c.Open311DefinitionRequest) -> Any:
        return open311.service_definition(self.uow(), request)

    @contract_rpc("petitions")
    def parse_open311_form(self, request: c.ParseOpen311FormRequest) -> Any:
        return open311.parse_form(self.uow(), request)

    @contract_rpc("petitions")
    def query_open311(self, request: c.QueryOpen311Request) -> Any:
        return open311.query(self.uow(), request, self.clock.now())

    # --- agency applications (微代办) --------------------------------------------------------
    @contract_rpc("petitions")
    def agency_catalogue(self, request: c.AgencyCatalogueRequest) -> Any:
        return agency.catalogue(request)

    @contract_rpc("petitions")
    def agency_apply(self, request: c.AgencyApplyRequest) -> Any:
        return agency.apply(self.uow(), request, self.clock.now())

    @contract_rpc("petitions")
    def agency_action(self, request: c.AgencyActionRequest) -> Any:
        return agency.act(self.uow(), request, self.clock.now())

    @contract_rpc("petitions")
    def get_agency_application(self, request: c.GetAgencyApplicationRequest) -> Any:
        return agency.get(self.uow(), request)

    @contract_rpc("petitions")
    def list_agency_applications(self, request: c.ListAgencyApplicationsRequest) -> Any:
        return agency.list_applications(self.uow(), request)

    # --- housekeeping ---------------------------------------------------------------------
    @timer(interval=DELIVERY_INTERVAL_S)
    def deliver_notifications(self) -> int:
        return sweeps.deliver_notifications(
            self.uow, self.sender, self.redis.publish, self.redis.prefix, self.clock.now()
        )

    @timer(interval=SWEEP_INTERVAL_S)
    def sweep(self) -> dict[str, int]:
        done = sweeps.run_all(
            self.uow, self.clock.now(), self.sender, self.redis.publish, self.redis.prefix
        )
        if any(done.values()):
            log.info("petitions_sweep", **done)
        return done

    @contract_rpc("petitions")
    def run_sweeps(self, request: c.RunSweepsRequest) -> Any:
        return self.sweep()

    @contract_rpc("petitions")
    def health(self, request: Any) -> HealthResponse:
        return db_health(self.name, self.uow())
