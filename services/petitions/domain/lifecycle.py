"""The case state machine as data: statuses, roles, and which action is allowed from where by whom.

    submitted ─accept─▶ accepted ─dispatch─▶ dispatched ─start─▶ in_progress ─handle─▶ handled
        │  ╲reject▶ rejected      ▲  ◀send_back─┘   ▲                 ▲                 │
        │                          │                 │ (reassign)      └fail_verification┤
        │                          │                                                    verify
        │                          │                                                     ▼
        │                          └──── rate ≤ 2 (first time) ◀── closed ◀─close── verified
        │                                                            │
        │                 rate / return_visit ≥ 3, auto_evaluate ────┴──▶ evaluated
        │                               rate ≤ 2 again ─▶ community_review ─conclude_review─▶ evaluated
        │                                                      └─review_rework─▶ dispatched
    request_info (from submitted/accepted/dispatched/in_progress) ─▶ awaiting_info
        ─provide_info / expire_info─▶ the status it came from
    forward ─▶ forwarded (terminal)      merge_into ─▶ merged (terminal, a duplicate)
    close_with_parent: an open child closes when its parent closes.

A hotline reporter rates on the phone: staff record the rating of the return call (回访,
``return_visit``, hotline cases only); it leads where the reporter's own rating would.

Rework decisions: a failed verification returns the case to ``in_progress`` (the same
handler redoes the work at once); an unsatisfied rating reopens the case to ``dispatched``
(the handling unit must take it up again, and the dispatcher may reassign it).

Self-transitions keep the status but are still recorded: ``split``, ``support`` ("me too"),
``absorb`` (supporters of a merged duplicate), ``detach_supporter``, ``supervise``
(one-key supervision), ``reassign``. The housekeeping action ``erase_contact`` (privacy
retention) is not a lifecycle action: it is allowed on finished cases, terminal ones
included, and changes no status.
"""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    HANDLED = "handled"
    VERIFIED = "verified"
    CLOSED = "closed"
    EVALUATED = "evaluated"
    AWAITING_INFO = "awaiting_info"
    COMMUNITY_REVIEW = "community_review"
    FORWARDED = "forwarded"
    MERGED = "merged"


class Role(StrEnum):
    CITIZEN = "citizen"
    GRID_WORKER = "grid_worker"
    COMMUNITY_STAFF = "community_staff"
    STREET_STAFF = "street_staff"
    DISTRICT_STAFF = "district_staff"
    CITY_STAFF = "city_staff"
    DEPARTMENT_HANDLER = "department_handler"
    LEADER = "leader"
    SYSTEM = "system"


class Source(StrEnum):
    CITIZEN = "citizen"
    OPEN311 = "open311"
    PATROL = "patrol"
    SENSOR = "sensor"
    HOTLINE = "hotline"
    SUGGESTION_BOX = "suggestion_box"
    ENTERPRISE = "enterprise"
    VOLUNTEER_ORDER = "volunteer_order"
    AGENCY = "agency"


CITIZEN_SOURCES = frozenset({Source.CITIZEN, Source.OPEN311, Source.SUGGESTION_BOX})

S, R = CaseStatus, Role
TERMINAL = frozenset({S.REJECTED, S.EVALUATED, S.FORWARDED, S.MERGED})
FINISHED = TERMINAL | {S.CLOSED}  # no more handling; contact retention counts from here
OPEN = frozenset(set(S) - FINISHED - {S.COMMUNITY_REVIEW})
_ACTIVE = frozenset({S.SUBMITTED, S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS})

STAFF = frozenset({R.COMMUNITY_STAFF, R.STREET_STAFF, R.DISTRICT_STAFF, R.CITY_STAFF})
HANDLERS = frozenset(
    {R.DEPARTMENT_HANDLER, R.GRID_WORKER, R.COMMUNITY_STAFF, R.STREET_STAFF, R.DISTRICT_STAFF}
)
VERIFIERS = frozenset({R.GRID_WORKER, R.COMMUNITY_STAFF, R.STREET_STAFF})
REVIEWERS = frozenset({R.COMMUNITY_STAFF, R.STREET_STAFF})

# action -> statuses it may start from
SOURCES: dict[str, frozenset[CaseStatus]] = {
    "accept": frozenset({S.SUBMITTED}),
    "reject": frozenset({S.SUBMITTED}),
    "dispatch": frozenset({S.ACCEPTED}),
    "send_back": frozenset({S.DISPATCHED}),
    "reassign": frozenset({S.DISPATCHED, S.IN_PROGRESS}),
    "start": frozenset({S.DISPATCHED}),
    "handle": frozenset({S.IN_PROGRESS}),
    "verify": frozenset({S.HANDLED}),
    "fail_verification": frozenset({S.HANDLED}),
    "close": frozenset({S.VERIFIED}),
    "close_with_parent": OPEN | {S.COMMUNITY_REVIEW},
    "rate": frozenset({S.CLOSED}),
    "return_visit": frozenset({S.CLOSED}),
    "auto_evaluate": frozenset({S.CLOSED}),
    "conclude_review": frozenset({S.COMMUNITY_REVIEW}),
    "review_rework": frozenset({S.COMMUNITY_REVIEW}),
    "request_info": _ACTIVE,
    "provide_info": frozenset({S.AWAITING_INFO}),
    "expire_info": frozenset({S.AWAITING_INFO}),
    "split": frozenset({S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS}),
    "forward": frozenset({S.SUBMITTED, S.ACCEPTED, S.DISPATCHED}),
    "merge_into": _ACTIVE | {S.AWAITING_INFO},
    "support": OPEN,
    "absorb": OPEN,
    "detach_supporter": OPEN,
    "supervise": OPEN | {S.COMMUNITY_REVIEW},
}

ROLES: dict[str, frozenset[Role]] = {
    "accept": STAFF | {R.SYSTEM},
    "reject": STAFF,
    "dispatch": STAFF | {R.SYSTEM},
    "send_back": frozenset(
        {R.DEPARTMENT_HANDLER, R.COMMUNITY_STAFF, R.STREET_STAFF, R.DISTRICT_STAFF}
    ),
    "reassign": STAFF | {R.LEADER},
    "start": HANDLERS,
    "handle": HANDLERS,
    "verify": VERIFIERS,
    "fail_verification": VERIFIERS,
    "close": STAFF,
    "close_with_parent": frozenset({R.SYSTEM}),
    "rate": frozenset({R.CITIZEN, R.SYSTEM}),
    "return_visit": STAFF,
    "auto_evaluate": frozenset({R.SYSTEM}),
    "conclude_review": REVIEWERS,
    "review_rework": REVIEWERS,
    "request_info": STAFF | {R.DEPARTMENT_HANDLER, R.GRID_WORKER},
    "provide_info": frozenset({R.CITIZEN, R.SYSTEM}),
    "expire_info": frozenset({R.SYSTEM}),
    "split": STAFF,
    "forward": STAFF,
    "merge_into": STAFF,
    "support": frozenset({R.CITIZEN, R.SYSTEM}),
    "absorb": STAFF | {R.SYSTEM},
    "detach_supporter": STAFF,
    "supervise": frozenset({R.LEADER, R.DISTRICT_STAFF, R.CITY_STAFF}),
    "erase_contact": frozenset({R.SYSTEM}),
    "escalate": frozenset({R.SYSTEM}),
}

# Where the status-changing actions lead (actions absent here keep the status, or decide
# at run time: rate, provide_info, expire_info).
TARGETS: dict[str, CaseStatus] = {
    "accept": S.ACCEPTED,
    "reject": S.REJECTED,
    "dispatch": S.DISPATCHED,
    "send_back": S.ACCEPTED,
    "reassign": S.DISPATCHED,
    "start": S.IN_PROGRESS,
    "handle": S.HANDLED,
    "verify": S.VERIFIED,
    "fail_verification": S.IN_PROGRESS,
    "close": S.CLOSED,
    "close_with_parent": S.CLOSED,
    "auto_evaluate": S.EVALUATED,
    "conclude_review": S.EVALUATED,
    "review_rework": S.DISPATCHED,
    "request_info": S.AWAITING_INFO,
    "forward": S.FORWARDED,
    "merge_into": S.MERGED,
}

LIFECYCLE_ACTIONS: tuple[str, ...] = tuple(SOURCES)
# Entries shown to the reporter in the public progress timeline.
INTERNAL_ACTIONS = frozenset({"send_back", "reassign", "supervise", "detach_supporter", "absorb"})


def allowed_actions(status: CaseStatus, role: Role | None = None) -> list[str]:
    """Lifecycle actions allowed from ``status`` (for ``role`` if given), sorted."""
    return sorted(
        a
        for a, sources in SOURCES.items()
        if status in sources and (role is None or role in ROLES[a])
    )
