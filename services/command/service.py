"""The command nameko service: a thin adapter around the service layer."""

from __future__ import annotations

from typing import Any

from services.command.service_layer import view
from yiwang.clock import SystemClock
from yiwang.contracts import Envelope
from yiwang.contracts.command import ListCasesRequest
from yiwang.contracts.health import HealthResponse
from yiwang.contracts.petitions import CaseCreatedV1
from yiwang.nameko.events import reliable_event_handler
from yiwang.nameko.health import db_health
from yiwang.nameko.providers import Tracing, UnitOfWorkProvider
from yiwang.nameko.rpc import contract_rpc

clock = SystemClock()


class CommandService:
    name = "command"

    uow = UnitOfWorkProvider("command")
    tracing = Tracing()

    @reliable_event_handler("petitions", "case.created")
    def handle_case_event(self, envelope: Envelope, payload: CaseCreatedV1) -> None:
        view.apply_case_created(self.uow(), envelope, payload, clock.now())

    @contract_rpc("command")
    def list_cases(self, request: ListCasesRequest) -> Any:
        return view.list_cases(self.uow(), request)

    @contract_rpc("command")
    def health(self, request: Any) -> HealthResponse:
        return db_health(self.name, self.uow())
