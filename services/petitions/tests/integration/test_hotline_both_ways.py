"""12345 both ways against a real local receiver: every change of a hotline case goes back
signed, in order, once; a failing receiver is retried until it answers; the return call
(回访) after closure records the rating and counts like an on-line one."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from services.petitions.adapters.channels import HotlineEndpoint, HotlineWebhookChannel
from services.petitions.domain import hotline
from services.petitions.service_layer import delivery, intake
from services.petitions.tests.integration.conftest import GRID, HANDLER, STREET, WORKER, World
from services.petitions.tests.integration.reach_servers import _HttpServer
from yiwang.contracts.petitions import HotlineTicket, ImportHotlineRequest
from yiwang.errors import DomainError

SECRET = "hotline-shared-secret"


class HotlineReceiver(_HttpServer):
    """A hotline system's webhook: checks the signature, answers 503 to the first
    ``fail_first`` deliveries, records what it accepted."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.accepted: list[dict[str, Any]] = []
        self.keys: list[str] = []
        self.refused_signatures = 0
        self.calls = 0
        self.lock = threading.Lock()

    def handle(self, req: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        import time

        with self.lock:
            self.calls += 1
            if not hotline.verify(
                SECRET.encode(), req.headers[hotline.SIGNATURE_HEADER], body, int(time.time())
            ):
                self.refused_signatures += 1
                return 401, {}, b"bad signature"
            if self.fail_first > 0:
                self.fail_first -= 1
                return 503, {}, b"busy"
            doc = json.loads(body)
            assert req.headers[hotline.SEQUENCE_HEADER] == str(doc["sequence"])
            self.accepted.append(doc)
            self.keys.append(req.headers["Idempotency-Key"])
            return 200, {"X-Request-Id": f"r{len(self.accepted)}"}, b"{}"


def courier(receiver: HotlineReceiver, secret: str = SECRET) -> delivery.Courier:
    channel = HotlineWebhookChannel({"12345": HotlineEndpoint(url=receiver.url, secret=secret)})
    return delivery.Courier(
        channels={hotline.CHANNEL: channel},
        cfg=delivery.DeliveryConfig(backoff_base_s=5, max_attempts=2, lease_s=60),
    )


def import_ticket(w: World, no: str = "T20261204001") -> str:
    ticket = HotlineTicket(
        hotline="12345",
        ticket_no=no,
        category="roads.pothole",
        description="路面塌陷",
        grid_code=GRID,
        lat=32.0,
        lon=118.8,
        caller_phone="13900001111",
        attributes={"size": "large"},
    )
    out = intake.import_hotline(w.uow, ImportHotlineRequest(actor=STREET, tickets=[ticket]), w.now)
    assert out["results"][0]["outcome"] == "created", out
    return str(out["results"][0]["case_id"])


def loop_to_closure(w: World, case_id: str) -> None:
    w.act(case_id, "accept")
    w.act(case_id, "dispatch", department="urban_management")
    w.act(case_id, "start", HANDLER)
    w.act(case_id, "handle", HANDLER, feedback="已修补路面")
    w.act(case_id, "verify", WORKER)
    w.act(case_id, "close", note="结案")


def drain(w: World, c: delivery.Courier, rounds: int = 40) -> None:
    for _ in range(rounds):
        delivery.deliver_pending(w.uow, c, w.now)
        w.clock.advance(minutes=15)  # past any backoff (capped at 10 min for hotlines)


def test_every_change_goes_back_signed_in_order_once_through_a_failing_receiver(
    world: World,
) -> None:
    case_id = import_ticket(world)
    loop_to_closure(world, case_id)
    # the receiver is down for the first three attempts: the first change is retried, and
    # no later change of the case overtakes it
    with HotlineReceiver(fail_first=3) as rx:
        c = courier(rx)
        delivery.deliver_pending(world.uow, c, world.now)
        assert rx.calls == 1 and rx.accepted == []  # one attempt, the others wait behind it
        drain(world, c)
    seqs = [d["sequence"] for d in rx.accepted]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs)) == 7, seqs
    assert [d["event"] for d in rx.accepted] == [
        "submit",
        "accept",
        "dispatch",
        "start",
        "handle",
        "verify",
        "close",
    ]
    last = rx.accepted[-1]
    assert last["format"] == hotline.FORMAT and last["ticket_no"] == "T20261204001"
    assert last["status"] == "closed" and last["finished"] and "已办结" in last["status_text"]
    assert rx.accepted[4]["feedback"] == "已修补路面"
    assert len(set(rx.keys)) == 7 and rx.refused_signatures == 0
    assert world.count("notifications", "channel = 'hotline' AND status = 'sent'") == 7


def test_return_visit_rating_goes_back_and_counts_as_the_reporters(world: World) -> None:
    case_id = import_ticket(world, "T20261204002")
    loop_to_closure(world, case_id)
    view = world.act(case_id, "return_visit", score=2, comment="电话回访：仍有积水")
    assert view["status"] == "dispatched"  # unsatisfied: back for rework, as a rating would
    rated = [e for e in world.events_of(case_id) if e["payload"].get("action") == "return_visit"]
    assert len(rated) == 1 and rated[0]["payload"]["rating"] == 2
    assert rated[0]["payload"]["rework"] is True
    with HotlineReceiver() as rx:
        drain(world, courier(rx), rounds=3)
    assert rx.accepted[-1]["event"] == "return_visit"
    assert rx.accepted[-1]["rating"] == {"score": 2, "satisfied": False}


def test_return_visit_is_for_hotline_cases_and_staff_only(world: World) -> None:
    case_id = world.submit()
    loop_to_closure(world, case_id)
    with pytest.raises(DomainError) as e:
        world.act(case_id, "return_visit", score=5)
    assert e.value.code == "not_a_hotline_case"
    ticket = import_ticket(world, "T20261204003")
    loop_to_closure(world, ticket)
    with pytest.raises(DomainError) as e:
        world.act(ticket, "return_visit", HANDLER, score=5)
    assert e.value.code == "role_not_allowed"
    world.act(ticket, "return_visit", score=5, comment="满意")
    assert world.version(ticket) == 8


def test_a_wrong_secret_is_refused_by_the_receiver_and_dead_lettered(world: World) -> None:
    case_id = import_ticket(world, "T20261204004")
    with HotlineReceiver() as rx:
        delivery.deliver_pending(world.uow, courier(rx, secret="not-the-secret"), world.now)
    assert rx.refused_signatures == 1 and rx.accepted == []
    assert world.count("notifications", "channel = 'hotline' AND status = 'dead'") == 1
    assert uuid.UUID(case_id)
    # a hotline without a configured webhook: the change goes to the log, not lost
    world.clock.advance(minutes=1)
    c = delivery.Courier(channels={hotline.CHANNEL: HotlineWebhookChannel({})})
    world.act(case_id, "accept")
    delivery.deliver_pending(world.uow, c, world.now + timedelta(seconds=1))
    assert world.count("notifications", "channel = 'hotline' AND status = 'sent'") == 1
