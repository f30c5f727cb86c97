"""The volunteers nameko service: a thin adapter around the service layer.

RPC methods validate against ``yiwang.contracts.volunteers``; events leave through the
outbox (relay in ``UnitOfWorkProvider``); ``sweep_deadlines`` runs on a timer with the
class's ``clock`` (replace it in tests: ``VolunteersService.clock = FakeClock(...)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nameko.extensions import DependencyProvider
from nameko.timer import timer

from services.volunteers.service_layer import (
    community,
    deadlines,
    orders,
    points,
    registration,
    venues,
)
from services.volunteers.service_layer.common import qr_keys_from_keyset
from yiwang.clock import Clock, SystemClock
from yiwang.contracts import volunteers as c
from yiwang.contracts.health import HealthResponse
from yiwang.keys import Keyring
from yiwang.logging import get_logger
from yiwang.nameko.health import db_health
from yiwang.nameko.providers import Tracing, UnitOfWorkProvider
from yiwang.nameko.rpc import contract_rpc

log = get_logger(__name__)
SWEEP_INTERVAL_S = 60


class QrKeys(DependencyProvider):
    """Check-in QR signing keys, one per keyring ``qr`` key id (old ones verify after a
    rotation; new codes use the current one)."""

    def setup(self) -> None:
        qr = Keyring.from_config(self.container.config["KEYS"])["qr"]
        self.keyset = QrKeySet(qr_keys_from_keyset(qr.keys), qr.current)

    def get_dependency(self, worker_ctx: Any) -> QrKeySet:
        return self.keyset


@dataclass(frozen=True)
class QrKeySet:
    keys: dict[str, bytes]
    current: str


class VolunteersService:
    name = "volunteers"

    uow = UnitOfWorkProvider("volunteers")
    tracing = Tracing()
    qr_keys = QrKeys()
    clock: Clock = SystemClock()

    @contract_rpc("volunteers")
    def health(self, request: Any) -> HealthResponse:
        return db_health(self.name, self.uow())

    # --- deadlines ------------------------------------------------------------------------
    @timer(interval=SWEEP_INTERVAL_S)
    def sweep_deadlines(self) -> dict[str, int]:
        done = deadlines.sweep_deadlines(self.uow, self.clock.now())
        if done:
            log.info("volunteer_order_deadlines", **done)
        return done

    # --- registration ---------------------------------------------------------------------
    @contract_rpc("volunteers")
    def register_volunteer(self, request: c.RegisterVolunteerRequest) -> Any:
        return registration.register_volunteer(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def register_unit(self, request: c.RegisterUnitRequest) -> Any:
        return registration.register_unit(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def decide_registration(self, request: c.DecideRegistrationRequest) -> Any:
        return registration.decide(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def get_registration(self, request: c.GetRegistrationRequest) -> Any:
        return registration.get(self.uow(), request)

    @contract_rpc("volunteers")
    def list_registrations(self, request: c.ListRegistrationsRequest) -> Any:
        return registration.list_registrations(self.uow(), request)

    # --- three lists ----------------------------------------------------------------------
    @contract_rpc("volunteers")
    def add_list_item(self, request: c.AddListItemRequest) -> Any:
        return community.add_list_item(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def move_list_item(self, request: c.MoveListItemRequest) -> Any:
        return community.move_list_item(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def search_list(self, request: c.SearchListRequest) -> Any:
        return community.search_list(self.uow(), request)

    # --- orders ---------------------------------------------------------------------------
    @contract_rpc("volunteers")
    def place_order(self, request: c.PlaceOrderRequest) -> Any:
        return orders.place_order(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def get_order(self, request: c.GetOrderRequest) -> Any:
        return orders.get_order(self.uow(), request)

    @contract_rpc("volunteers")
    def list_orders(self, request: c.ListOrdersRequest) -> Any:
        return orders.list_orders(self.uow(), request)

    @contract_rpc("volunteers")
    def publish_order(self, request: c.PublishOrderRequest) -> Any:
        return orders.publish_order(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def dispatch_order(self, request: c.DispatchOrderRequest) -> Any:
        return orders.dispatch_order(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def reject_order(self, request: c.RejectOrderRequest) -> Any:
        return orders.reject_order(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def claim_order(self, request: c.ClaimOrderRequest) -> Any:
        return orders.claim_order(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def release_order(self, request: c.ReleaseOrderRequest) -> Any:
        return orders.release_order(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def issue_order_qr(self, request: c.IssueOrderQrRequest) -> Any:
        return orders.issue_qr(
            self.uow(), request, self.clock.now(), self.qr_keys.keys, kid=self.qr_keys.current
        )

    @contract_rpc("volunteers")
    def check_in_order(self, request: c.CheckInOrderRequest) -> Any:
        return orders.check_in(self.uow(), request, self.clock.now(), self.qr_keys.keys)

    @contract_rpc("volunteers")
    def complete_order(self, request: c.CompleteOrderRequest) -> Any:
        return orders.complete_order(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def rate_order(self, request: c.RateOrderRequest) -> Any:
        return orders.rate_order(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def cancel_order(self, request: c.CancelOrderRequest) -> Any:
        return orders.cancel_order(self.uow(), request, self.clock.now())

    # --- wishes ---------------------------------------------------------------------------
    @contract_rpc("volunteers")
    def post_wish(self, request: c.PostWishRequest) -> Any:
        return community.post_wish(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def review_wish(self, request: c.ReviewWishRequest) -> Any:
        return community.review_wish(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def claim_wish(self, request: c.ClaimWishRequest) -> Any:
        return community.claim_wish(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def fulfil_wish(self, request: c.FulfilWishRequest) -> Any:
        return community.fulfil_wish(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def withdraw_wish(self, request: c.WithdrawWishRequest) -> Any:
        return community.withdraw_wish(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def wish_tree(self, request: c.WishTreeRequest) -> Any:
        return community.wish_tree(self.uow(), request)

    # --- teams and activities -------------------------------------------------------------
    @contract_rpc("volunteers")
    def create_team(self, request: c.CreateTeamRequest) -> Any:
        return community.create_team(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def change_team(self, request: c.ChangeTeamRequest) -> Any:
        return community.change_team(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def plan_activity(self, request: c.PlanActivityRequest) -> Any:
        return community.plan_activity(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def act_on_activity(self, request: c.ActOnActivityRequest) -> Any:
        return community.act_on_activity(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def monthly_programme(self, request: c.MonthlyProgrammeRequest) -> Any:
        return community.monthly_programme(self.uow(), request)

    # --- points ---------------------------------------------------------------------------
    @contract_rpc("volunteers")
    def points_balance(self, request: c.PointsBalanceRequest) -> Any:
        return points.balance(self.uow(), request)

    @contract_rpc("volunteers")
    def points_statement(self, request: c.PointsStatementRequest) -> Any:
        return points.statement(self.uow(), request)

    @contract_rpc("volunteers")
    def points_leaderboard(self, request: c.PointsLeaderboardRequest) -> Any:
        return points.leaderboard(self.uow(), request)

    @contract_rpc("volunteers")
    def redeem_points(self, request: c.RedeemPointsRequest) -> Any:
        return points.redeem(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def adjust_points(self, request: c.AdjustPointsRequest) -> Any:
        return points.adjust(self.uow(), request, self.clock.now())

    # --- venues ---------------------------------------------------------------------------
    @contract_rpc("volunteers")
    def create_venue(self, request: c.CreateVenueRequest) -> Any:
        return venues.create_venue(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def book_venue(self, request: c.BookVenueRequest) -> Any:
        return venues.book_venue(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def cancel_booking(self, request: c.CancelBookingRequest) -> Any:
        return venues.cancel_booking(self.uow(), request, self.clock.now())

    @contract_rpc("volunteers")
    def venue_free_slots(self, request: c.VenueFreeSlotsRequest) -> Any:
        return venues.free_slots(self.uow(), request)
