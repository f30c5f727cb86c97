"""12345 both ways, the pure rules: the document of a change, its signature, 回访."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from services.petitions.domain import hotline
from services.petitions.domain.case import Actor
from services.petitions.domain.lifecycle import CaseStatus, Role, Source
from services.petitions.tests.unit.builders import T0, case_in, do, new_case
from yiwang.errors import Conflict

STAFF = Actor("staff-1", Role.COMMUNITY_STAFF)


def hotline_case(status: CaseStatus = CaseStatus.CLOSED):  # type: ignore[no-untyped-def]
    case = case_in(status)
    case.source, case.external_ref = Source.HOTLINE, "12345:T20261204009"
    return case


def test_a_change_of_a_hotline_case_becomes_one_document() -> None:
    case = hotline_case(CaseStatus.DISPATCHED)
    do(case, "start")
    doc = hotline.hotline_update(case)
    assert doc is not None
    assert (doc["hotline"], doc["ticket_no"]) == ("12345", "T20261204009")
    assert doc["sequence"] == case.version and doc["event"] == "start"
    assert doc["status"] == "in_progress" and doc["status_text"] == "正在处置"
    assert doc["rating"] is None and doc["finished"] is False
    json.dumps(doc)  # JSON-native


def test_internal_steps_and_other_sources_send_nothing() -> None:
    case = hotline_case(CaseStatus.DISPATCHED)
    do(case, "supervise")
    assert hotline.hotline_update(case) is None  # internal: not the hotline's business
    citizen = case_in(CaseStatus.DISPATCHED)
    do(citizen, "start")
    assert hotline.hotline_update(citizen) is None
    assert hotline.hotline_update(new_case(source="hotline", external_ref="12345:T1")) is not None


def test_signature_round_trip_and_what_a_receiver_refuses() -> None:
    body, secret, t = b'{"sequence":3}', b"s3cret", 1_800_000_000
    header = hotline.sign(secret, body, t)
    assert hotline.verify(secret, header, body, now=t + 10)
    assert not hotline.verify(secret, header, body + b" ", now=t)  # body changed
    assert not hotline.verify(b"other", header, body, now=t)  # wrong secret
    assert not hotline.verify(secret, header, body, now=t + hotline.TOLERANCE_S + 1)  # replayed
    assert not hotline.verify(secret, "v1=abc", body, now=t)  # no timestamp


def test_return_visit_counts_like_the_reporters_rating() -> None:
    case = hotline_case()
    assert "return_visit" in case.allowed_actions(Role.COMMUNITY_STAFF)
    at = case.timeline[-1].at + timedelta(hours=2)
    to = case.return_visit(STAFF, at, case.version, score=1, comment="仍未修好")
    assert to is CaseStatus.DISPATCHED and case.rework_count == 1
    doc = hotline.hotline_update(case)
    assert doc is not None and doc["rating"] == {"score": 1, "satisfied": False}
    assert case.timeline[-1].action == "return_visit"


def test_return_visit_only_for_hotline_cases() -> None:
    case = case_in(CaseStatus.CLOSED)
    assert "return_visit" not in case.allowed_actions(Role.COMMUNITY_STAFF)
    before = case.to_dict()
    with pytest.raises(Conflict) as e:
        case.return_visit(STAFF, T0 + timedelta(days=30), case.version, score=5)
    assert e.value.code == "not_a_hotline_case" and case.to_dict() == before
