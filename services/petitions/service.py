"""The petitions nameko service: a thin adapter around the service layer.

RPC methods validate against ``yiwang.contracts.petitions``; events leave through the
outbox. Timers run the sweeps with the class's ``clock`` (tests replace it:
``PetitionsService.clock = FakeClock(...)``) and deliver queued status notifications
through ``sender`` (``LogSender`` by default) and Redis (SSE feed ``<prefix>case:<id>``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import redis
from nameko.extensions import DependencyProvider
from nameko.rpc import RpcProxy
from nameko.timer import timer

from services.petitions.service_layer import (
    agency,
    cases,
    catalogue,
    delivery,
    intake,
    open311,
    sweeps,
)
from yiwang.batch import EventBatch, apply_batch
from yiwang.clock import Clock, SystemClock
from yiwang.contracts import Envelope
from yiwang.contracts import petitions as c
from yiwang.contracts import reach as rc
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


def opt_out_keys(keys_config: Any) -> dict[str, Any]:
    """Opt-out link keys from the keyring's ``qr`` keys (``KEYS`` of the nameko config);
    without a keyring (a test's container) the development key of ``DeliveryConfig``."""
    if not keys_config:
        return {}
    from services.petitions.domain.reach import opt_out_key
    from yiwang.keys import Keyring

    qr = Keyring.from_config(keys_config)["qr"]
    return {
        "opt_out_keys": {kid: opt_out_key(k) for kid, k in qr.keys.items()},
        "opt_out_kid": qr.current,
    }


class Reach(DependencyProvider):
    """The delivery core's channels, rate limiter and rules, built from the settings when
    the container starts (``config["SETTINGS"]``, else the environment)."""

    def setup(self) -> None:
        from services.petitions.adapters.channels import build_channels
        from yiwang.config import Settings

        cfg = self.container.config
        s = cfg.get("SETTINGS") or Settings()  # the reach_* settings; the rest as configured
        url = cfg.get("REDIS_URL")
        self.redis = redis.Redis.from_url(url) if url else None
        prefix = str(cfg.get("REDIS_PREFIX", s.redis_prefix))
        self.courier = delivery.Courier(
            channels=build_channels(s),
            limiter=delivery.WindowRateLimit(s.reach_rate_per_s, self.redis, prefix),
            cfg=delivery.DeliveryConfig(
                max_attempts=s.reach_max_attempts,
                backoff_base_s=s.reach_backoff_base_s,
                backoff_max_s=s.reach_backoff_max_s,
                hotline_backoff_max_s=s.hotline_backoff_max_s,
                lease_s=s.reach_lease_s,
                public_url=s.reach_public_url,
                **opt_out_keys(cfg.get("KEYS")),
            ),
        )

    def stop(self) -> None:
        if self.redis is not None:
            self.redis.close()

    def get_dependency(self, worker_ctx: Any) -> Any:
        return self.courier


class PetitionsService:
    name = "petitions"

    uow = UnitOfWorkProvider("petitions")
    tracing = Tracing()
    redis = RedisPublisher()
    reach = Reach()
    grids = RpcProxy("grids")
    clock: Clock = SystemClock()
    sender: sweeps.Sender = sweeps.LogSender()

    # --- intake ---------------------------------------------------------------------------
    @reliable_event_handler("gateway", "report.submitted", batch=True)
    def handle_report_submitted(self, events: EventBatch) -> None:
        apply_batch(
            self.uow(),
            events,
            lambda uow, env, report: intake.open_case_from_report(
                uow, env, report, self.clock.now()
            ),
            prepare=intake.lock_reports,
        )

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
        apply_batch(
            self.uow(),
            events,
            lambda uow, env, routed: cases.apply_case_routed(uow, env, routed, self.clock.now()),
        )

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
            self.uow,
            self.sender,
            self.redis.publish,
            self.redis.prefix,
            self.clock.now(),
            courier=self._courier(),
        )

    def _courier(self) -> delivery.Courier:
        courier = self.reach
        if not isinstance(courier, delivery.Courier):  # a test's worker without the provider
            return delivery.Courier(fallback=self.sender)
        return replace(courier, fallback=self.sender)  # channels not configured: ``sender``

    @timer(interval=SWEEP_INTERVAL_S)
    def sweep(self) -> dict[str, int]:
        done = sweeps.run_all(
            self.uow,
            self.clock.now(),
            self.sender,
            self.redis.publish,
            self.redis.prefix,
            courier=self._courier(),
        )
        if any(done.values()):
            log.info("petitions_sweep", **done)
        return done

    @contract_rpc("petitions")
    def run_sweeps(self, request: c.RunSweepsRequest) -> Any:
        return self.sweep()

    # --- reach: delivery status, dead letters, preferences, push, opt-out ---------------
    @contract_rpc("petitions")
    def queue_message(self, request: rc.QueueMessageRequest) -> Any:
        return delivery.queue_message(self.uow(), request, self.clock.now())

    @contract_rpc("petitions")
    def list_deliveries(self, request: rc.ListDeliveriesRequest) -> Any:
        return delivery.list_deliveries(self.uow(), request)

    @contract_rpc("petitions")
    def resend_notification(self, request: rc.ResendRequest) -> Any:
        return delivery.resend(self.uow(), request, self.clock.now())

    @contract_rpc("petitions")
    def get_contact_preferences(self, request: rc.GetPreferencesRequest) -> Any:
        return delivery.get_preferences(self.uow(), request.account_id)

    @contract_rpc("petitions")
    def put_contact_preferences(self, request: rc.PutPreferencesRequest) -> Any:
        return delivery.put_preferences(self.uow(), request, self.clock.now())

    @contract_rpc("petitions")
    def register_push_subscription(self, request: rc.RegisterPushRequest) -> Any:
        return delivery.register_push(self.uow(), request, self.clock.now())

    @contract_rpc("petitions")
    def unregister_push_subscription(self, request: rc.UnregisterPushRequest) -> Any:
        return delivery.unregister_push(self.uow(), request)

    @contract_rpc("petitions")
    def opt_out(self, request: rc.OptOutRequest) -> Any:
        keys = self._courier().cfg.opt_out_keys
        return delivery.opt_out(self.uow(), request, keys, self.clock.now())

    @contract_rpc("petitions")
    def health(self, request: Any) -> HealthResponse:
        return db_health(self.name, self.uow())
