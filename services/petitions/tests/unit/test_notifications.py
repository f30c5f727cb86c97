"""Status messages: template lookup, placeholders, channels, recipients."""

from __future__ import annotations

import pytest

from services.petitions.domain.case import Reporter
from services.petitions.domain.lifecycle import CaseStatus
from services.petitions.domain.notifications import (
    Channel,
    TemplateSet,
    channels_for,
    plan_notifications,
)
from services.petitions.tests.unit.builders import case_in, do
from yiwang.errors import NotFound, ValidationFailed


def test_most_specific_template_wins() -> None:
    ts = TemplateSet.defaults()
    ts.set("accepted", "roads", "道路问题“{title}”已受理", 'Road issue "{title}" accepted')
    ctx = {"title": "Pothole", "due_at": "2026-01-08 09:00"}
    assert ts.render("accepted", "roads.pothole", "en", ctx) == 'Road issue "Pothole" accepted'
    assert "2026-01-08 09:00" in ts.render("accepted", "appearance.litter", "zh", ctx)
    assert "社区工作人员" in ts.render("accepted", "alerts.emergency_call", "zh", ctx)
    ts.remove("accepted", "roads")
    assert "expected by" in ts.render("accepted", "roads.pothole", "en", ctx)
    with pytest.raises(NotFound):
        TemplateSet().render("accepted", "roads", "zh", ctx)


def test_template_placeholders_are_checked() -> None:
    ts = TemplateSet()
    for bad in ("{phone}", "{title.__class__}", "{title!r}", "{title", ""):
        with pytest.raises(ValidationFailed):
            ts.set("closed", "*", bad, "ok")


def test_channels() -> None:
    assert channels_for(Reporter(account_id="u", phone="1", channel="sms")) == [
        Channel.SMS,
        Channel.SSE,
    ]
    assert channels_for(Reporter(account_id="u", channel="sms")) == [Channel.SSE]
    assert channels_for(Reporter(email="a@b.c", channel="email")) == [Channel.EMAIL]
    assert channels_for(Reporter(phone="1", channel="none")) == [Channel.SMS]
    assert channels_for(Reporter()) == []


def test_plan_notifications_reaches_reporter_and_supporters() -> None:
    case = case_in(CaseStatus.ACCEPTED)
    do(case, "dispatch")
    notes = plan_notifications(
        case, TemplateSet.defaults(), lang="en", department_name="Transport Bureau"
    )
    assert {(n.channel, n.account_id) for n in notes} == {
        (Channel.SMS, "u-1"),
        (Channel.SSE, "u-1"),
        (Channel.SSE, case.supporters[0].supporter_id),
    }
    assert all("Transport Bureau" in n.text for n in notes)
    do(case, "supervise")  # internal: nobody is told
    assert plan_notifications(case, TemplateSet.defaults()) == []
