"""Shared builders for the petitions unit tests: a catalogue, cases driven to any status, and
one valid invocation of every action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.petitions.domain.case import (
    Actor,
    Case,
    ChildSpec,
    Reporter,
    Supporter,
    open_case,
)
from services.petitions.domain.default_categories import default_catalogue
from services.petitions.domain.lifecycle import ROLES, CaseStatus, Role

T0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)  # Monday 09:00 Asia/Shanghai
GRID = "360602001001001"
CATALOGUE = default_catalogue()
REPORTER = Reporter(account_id="u-1", name="Li Lei", phone="13800138000", channel="sms")
S = CaseStatus


def new_case(case_id: str = "c-1", at: datetime = T0, **kw: Any) -> Case:
    args: dict[str, Any] = dict(
        case_id=case_id,
        source="citizen",
        catalogue=CATALOGUE,
        category="roads.pothole",
        description="A deep pothole in front of No. 12",
        grid_code=GRID,
        at=at,
        reporter=REPORTER,
        lat=28.2389,
        lon=117.0339,
        attributes={"size": "medium"},
    )
    args.update(kw)
    return open_case(**args)


def actor_for(action: str, case: Case | None = None) -> Actor:
    """An actor whose role may take ``action`` (the reporter for citizen-only actions)."""
    roles = ROLES[action]
    if Role.CITIZEN in roles and action in ("rate", "provide_info"):
        return Actor(REPORTER.account_id or "", Role.CITIZEN)
    for role in (
        Role.COMMUNITY_STAFF,
        Role.SYSTEM,
        Role.DEPARTMENT_HANDLER,
        Role.LEADER,
        Role.CITIZEN,
        Role.GRID_WORKER,
    ):
        if role in roles:
            return Actor(f"{role.value}-1", role)
    raise AssertionError(action)


def next_time(case: Case, action: str) -> datetime:
    last = case.timeline[-1].at
    if action == "auto_evaluate":
        return last + timedelta(days=8)
    if action == "expire_info" and case.info_request is not None:
        return case.info_request.deadline + timedelta(hours=1)
    if action == "erase_contact":
        return last + timedelta(days=400)
    return last + timedelta(hours=1)


_counter = iter(range(10**9))


def do(
    case: Case,
    action: str,
    actor: Actor | None = None,
    *,
    score: int = 5,
    at: datetime | None = None,
    version: int | None = None,
) -> Any:
    """Apply ``action`` with valid arguments."""
    actor = actor or actor_for(action, case)
    at = at or next_time(case, action)
    v = case.version if version is None else version
    n = next(_counter)
    if action == "accept":
        return case.accept(actor, at, v, due_at=at + timedelta(days=3))
    if action == "reject":
        return case.reject(actor, at, v, reason="not a public matter")
    if action == "dispatch":
        return case.dispatch(actor, at, v, department="transport", assignee_id="h-1")
    if action == "reassign":
        return case.reassign(actor, at, v, department="urban_management")
    if action == "send_back":
        return case.send_back(actor, at, v, reason="not ours")
    if action == "start":
        return case.start(actor, at, v)
    if action == "handle":
        return case.handle(actor, at, v, feedback="patched", attachments=["ab/cd/x.jpg"])
    if action == "verify":
        return case.verify(actor, at, v, note="looks fine")
    if action == "fail_verification":
        return case.fail_verification(actor, at, v, reason="still a hole")
    if action == "close":
        return case.close(actor, at, v)
    if action == "close_with_parent":
        return case.close_with_parent(actor, at, v, parent_id=case.parent_id or "none")
    if action == "rate":
        return case.rate(actor, at, v, score=score, comment="ok")
    if action == "return_visit":
        return case.return_visit(actor, at, v, score=score, comment="回访：满意")
    if action == "auto_evaluate":
        return case.auto_evaluate(actor, at, v)
    if action == "conclude_review":
        return case.conclude_review(actor, at, v, note="handled properly")
    if action == "review_rework":
        return case.review_rework(actor, at, v, note="redo it")
    if action == "request_info":
        return case.request_info(
            actor, at, v, question="which side of the road?", deadline=at + timedelta(days=2)
        )
    if action == "provide_info":
        return case.provide_info(actor, at, v, answer="the north side")
    if action == "expire_info":
        return case.expire_info(actor, at, v)
    if action == "split":
        parts = [
            ChildSpec(
                f"{case.case_id}-k{n}-{i}",
                CATALOGUE.get("roads.pothole"),
                "transport",
                "part",
                at + timedelta(days=1),
            )
            for i in (1, 2)
        ]
        return case.split(actor, at, v, parts=parts)
    if action == "forward":
        return case.forward(actor, at, v, body="Provincial Highway Bureau")
    if action == "merge_into":
        return case.merge_into(actor, at, v, target_id="other-case")
    if action == "support":
        sup = Supporter(f"s-{n}", at, Reporter(account_id=f"s-{n}"))
        return case.support(actor, at, v, supporter=sup)
    if action == "absorb":
        sup = Supporter(f"a-{n}", at, Reporter(account_id=f"a-{n}"))
        return case.absorb(actor, at, v, supporters=[sup])
    if action == "detach_supporter":
        sid = case.supporters[0].supporter_id if case.supporters else "nobody"
        return case.detach_supporter(actor, at, v, supporter_id=sid)
    if action == "supervise":
        return case.supervise(actor, at, v, note="please hurry")
    if action == "erase_contact":
        return case.erase_contact(actor, at, v, retention_days=365)
    raise AssertionError(action)


PATHS: dict[CaseStatus, list[tuple[str, int]]] = {
    S.SUBMITTED: [],
    S.ACCEPTED: [("accept", 5)],
    S.REJECTED: [("reject", 5)],
    S.DISPATCHED: [("accept", 5), ("dispatch", 5)],
    S.IN_PROGRESS: [("accept", 5), ("dispatch", 5), ("start", 5)],
    S.HANDLED: [("accept", 5), ("dispatch", 5), ("start", 5), ("handle", 5)],
    S.VERIFIED: [("accept", 5), ("dispatch", 5), ("start", 5), ("handle", 5), ("verify", 5)],
    S.CLOSED: [
        ("accept", 5),
        ("dispatch", 5),
        ("start", 5),
        ("handle", 5),
        ("verify", 5),
        ("close", 5),
    ],
    S.EVALUATED: [
        ("accept", 5),
        ("dispatch", 5),
        ("start", 5),
        ("handle", 5),
        ("verify", 5),
        ("close", 5),
        ("rate", 5),
    ],
    S.AWAITING_INFO: [("request_info", 5)],
    S.COMMUNITY_REVIEW: [
        ("accept", 5),
        ("dispatch", 5),
        ("start", 5),
        ("handle", 5),
        ("verify", 5),
        ("close", 5),
        ("rate", 1),
        ("start", 5),
        ("handle", 5),
        ("verify", 5),
        ("close", 5),
        ("rate", 2),
    ],
    S.FORWARDED: [("forward", 5)],
    S.MERGED: [("merge_into", 5)],
}


def case_in(status: CaseStatus, *, with_supporter: bool = True, parent: str | None = "p-1") -> Case:
    """A case driven to ``status`` (a child of ``parent``, with one supporter)."""
    case = new_case()
    case.parent_id = parent
    if with_supporter:
        do(case, "support")
    for action, score in PATHS[status]:
        do(case, action, score=score)
    assert case.status is status, (status, case.status)
    case.pull_events()
    return case
