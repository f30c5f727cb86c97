"""The petitions nameko service: a thin adapter around the service layer."""

from __future__ import annotations

from typing import Any

from services.petitions.service_layer import intake
from yiwang.clock import SystemClock
from yiwang.contracts import Envelope
from yiwang.contracts.gateway import ReportSubmittedV1
from yiwang.contracts.health import HealthResponse
from yiwang.contracts.petitions import ReportStatusRequest
from yiwang.nameko.events import reliable_event_handler
from yiwang.nameko.health import db_health
from yiwang.nameko.providers import Tracing, UnitOfWorkProvider
from yiwang.nameko.rpc import contract_rpc

clock = SystemClock()


class PetitionsService:
    name = "petitions"

    uow = UnitOfWorkProvider("petitions")
    tracing = Tracing()

    @reliable_event_handler("gateway", "report.submitted")
    def handle_report_submitted(self, envelope: Envelope, payload: ReportSubmittedV1) -> None:
        intake.open_case_from_report(self.uow(), envelope, payload, clock.now())

    @contract_rpc("petitions")
    def get_report_status(self, request: ReportStatusRequest) -> Any:
        return intake.report_status(self.uow(), request.report_id)

    @contract_rpc("petitions")
    def health(self, request: Any) -> HealthResponse:
        return db_health(self.name, self.uow())
