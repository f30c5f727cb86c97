"""The Case aggregate: one citizen demand from intake to evaluation, every step recorded.

Rules (statuses, roles, sources of each action) live in :mod:`.lifecycle`. Each command:
checks the expected version, the status, the role and its own arguments, and only then
mutates, appends one :class:`TimelineEntry` and records one event (:mod:`.events`). So a
refused command leaves the case untouched, ``len(timeline) == version`` always holds, and
the adapter saves with ``WHERE version = expected`` (optimistic concurrency).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from yiwang.errors import Conflict, Forbidden, ValidationFailed
from yiwang.jurisdiction import Level, level_of

from . import events as ev
from .categories import Category, CategoryCatalogue, validate_attributes
from .common import (
    illegal_transition,
    limit_text,
    require_aware,
    require_coordinates,
    require_text,
    version_conflict,
)
from .lifecycle import (
    CITIZEN_SOURCES,
    FINISHED,
    INTERNAL_ACTIONS,
    ROLES,
    SOURCES,
    TARGETS,
    CaseStatus,
    Role,
    Source,
    allowed_actions,
)

S = CaseStatus
MAX_ATTACHMENTS = 9
MAX_NOTE = 2000
RATING_WINDOW = timedelta(days=7)
CONTACT_RETENTION_DAYS = 365
HOTLINES = frozenset({"12345", "8890"})
_TICKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,39}$")


@dataclass(frozen=True, slots=True)
class Actor:
    actor_id: str
    role: Role


SYSTEM = Actor("system", Role.SYSTEM)


@dataclass(frozen=True, slots=True)
class Reporter:
    """Who reported. Contact data are private: never public, erased after retention."""

    account_id: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    anonymous: bool = False
    channel: str = "sse"  # how they want status news: sse, sms, email, none

    def erased(self) -> Reporter:
        return replace(self, name=None, phone=None, email=None)


@dataclass(frozen=True, slots=True)
class Supporter:
    """A later reporter of the same problem ("me too"), told of every status change."""

    supporter_id: str
    at: datetime
    reporter: Reporter
    report_id: str | None = None


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    seq: int
    action: str
    from_status: CaseStatus | None
    status: CaseStatus
    actor_id: str
    role: Role
    at: datetime
    note: str = ""
    attachments: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def internal(self) -> bool:
        return self.action in INTERNAL_ACTIONS


@dataclass(frozen=True, slots=True)
class InfoRequest:
    question: str
    deadline: datetime
    return_to: CaseStatus
    asked_by: str
    asked_at: datetime


@dataclass(frozen=True, slots=True)
class Rating:
    score: int
    comment: str
    at: datetime
    by: str


@dataclass(frozen=True, slots=True)
class ChildSpec:
    """One part of a split: its own category, department and deadline."""

    case_id: str
    category: Category
    department: str
    description: str
    due_at: datetime


def hotline_ref(hotline: str, ticket_no: str) -> str:
    """The idempotency key (``external_ref``) of a hotline ticket: ``"12345:T2026..."``."""
    if hotline not in HOTLINES:
        raise ValidationFailed(
            "unknown_hotline",
            f"unknown hotline '{hotline}' (known: {sorted(HOTLINES)})",
            f"未知的热线“{hotline}”",
            hotline=hotline,
        )
    ticket = (ticket_no or "").strip()
    if not _TICKET.match(ticket):
        raise ValidationFailed(
            "invalid_ticket_no",
            f"'{ticket_no}' is not a hotline ticket number",
            f"“{ticket_no}”不是有效的工单编号",
            ticket_no=ticket_no,
        )
    return f"{hotline}:{ticket}"


def require_grid(grid_code: str | None) -> str:
    """The grid the location fell in; a location outside every grid is refused."""
    if not grid_code:
        raise ValidationFailed(
            "outside_grid",
            "the location is outside every grid of the city",
            "该位置不在本市任何网格内",
        )
    if level_of(grid_code) is not Level.GRID:
        raise ValidationFailed(
            "not_a_grid_code",
            f"'{grid_code}' is not a grid code (15 digits)",
            f"“{grid_code}”不是网格编码（15位）",
            grid_code=grid_code,
        )
    return grid_code


def _attachments(items: Iterable[str]) -> tuple[str, ...]:
    out = tuple(str(a).strip() for a in items)
    if len(out) > MAX_ATTACHMENTS or any(not a or len(a) > 300 for a in out):
        raise ValidationFailed(
            "invalid_attachments",
            f"at most {MAX_ATTACHMENTS} attachments, each a non-empty reference",
            f"附件最多{MAX_ATTACHMENTS}个，且每个引用不能为空",
            max=MAX_ATTACHMENTS,
        )
    return out


@dataclass(eq=False)
class Case:
    case_id: str
    source: Source
    category: str
    title: str
    description: str
    sla_class: str
    grid_code: str
    jurisdiction_code: str
    reporter: Reporter
    created_at: datetime
    public: bool = True
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    media: tuple[str, ...] = ()
    external_ref: str | None = None
    status: CaseStatus = S.SUBMITTED
    version: int = 0
    timeline: list[TimelineEntry] = field(default_factory=list)
    accepted_at: datetime | None = None
    due_at: datetime | None = None
    dispatched_at: datetime | None = None
    department: str | None = None
    assignee_id: str | None = None
    handled_at: datetime | None = None
    feedback: str | None = None
    closed_at: datetime | None = None
    ended_at: datetime | None = None
    rework_count: int = 0
    rating_reopen_used: bool = False
    ratings: list[Rating] = field(default_factory=list)
    auto_evaluated: bool = False
    info_request: InfoRequest | None = None
    supporters: list[Supporter] = field(default_factory=list)
    parent_id: str | None = None
    child_ids: list[str] = field(default_factory=list)
    forwarded_to: str | None = None
    reject_reason: str | None = None
    merged_into: str | None = None
    contact_erased_at: datetime | None = None

    def __post_init__(self) -> None:
        self._events: list[ev.CaseEvent] = []

    # --- queries -------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.status not in FINISHED

    @property
    def supporter_count(self) -> int:
        return len(self.supporters)

    @property
    def rating(self) -> Rating | None:
        return self.ratings[-1] if self.ratings else None

    def allowed_actions(self, role: Role | None = None) -> list[str]:
        return allowed_actions(self.status, role)

    def reporters_to_notify(self) -> list[Reporter]:
        """The reporter and every supporter (contact erased ones included: SSE still works)."""
        return [self.reporter, *(s.reporter for s in self.supporters)]

    def public_timeline(self) -> list[TimelineEntry]:
        """The progress timeline a reporter sees: no internal entries, no staff identities."""
        return [
            replace(e, actor_id="" if e.role is not Role.CITIZEN else e.actor_id, data={})
            for e in self.timeline
            if not e.internal
        ]

    def pull_events(self) -> list[ev.CaseEvent]:
        out, self._events = self._events, []
        return out

    # --- transition machinery ------------------------------------------------------
    def _check(self, action: str, actor: Actor, at: datetime, expected_version: int) -> None:
        if expected_version != self.version:
            raise version_conflict(expected_version, self.version)
        sources = SOURCES.get(action)
        if sources is not None and self.status not in sources:
            raise illegal_transition(action, self.status.value, self.allowed_actions())
        if actor.role not in ROLES[action]:
            raise Forbidden(
                "role_not_allowed",
                f"role {actor.role.value} may not {action}",
                f"角色“{actor.role.value}”无权执行“{action}”",
                action=action,
                role=actor.role.value,
                allowed_roles=sorted(r.value for r in ROLES[action]),
            )
        require_aware(at, "at")
        if self.timeline and at < self.timeline[-1].at:
            raise ValidationFailed(
                "time_before_last_step",
                "a step cannot happen before the previous one",
                "操作时间不能早于上一步",
                at=at.isoformat(),
                last=self.timeline[-1].at.isoformat(),
            )

    def _require_reporter(self, actor: Actor) -> None:
        if actor.role is Role.CITIZEN and (
            self.reporter.account_id is None or actor.actor_id != self.reporter.account_id
        ):
            raise Forbidden(
                "not_reporter",
                "only the reporter of this case may do this",
                "只有本案件的反映人可以执行此操作",
            )

    def _record(
        self,
        action: str,
        actor: Actor,
        at: datetime,
        to: CaseStatus,
        event_cls: type[ev.CaseEvent],
        *,
        note: str = "",
        attachments: Sequence[str] = (),
        data: Mapping[str, Any] | None = None,
        **event_fields: Any,
    ) -> None:
        prev = self.status if self.timeline else None
        self.status = to
        self.version += 1
        self.timeline.append(
            TimelineEntry(
                seq=self.version,
                action=action,
                from_status=prev,
                status=to,
                actor_id=actor.actor_id,
                role=actor.role,
                at=at,
                note=note,
                attachments=tuple(attachments),
                data=dict(data or {}),
            )
        )
        self._events.append(
            event_cls(
                case_id=self.case_id,
                version=self.version,
                occurred_at=at,
                action=action,
                actor_id=actor.actor_id,
                role=actor.role.value,
                from_status=prev.value if prev else None,
                status=to.value,
                category=self.category,
                jurisdiction_code=self.jurisdiction_code,
                **event_fields,
            )
        )

    # --- intake and acceptance -----------------------------------------------------
    def accept(
        self, actor: Actor, at: datetime, expected_version: int, *, due_at: datetime, note: str = ""
    ) -> None:
        """立案. ``due_at`` comes from :func:`.sla.expected_datetime` for the case's class."""
        self._check("accept", actor, at, expected_version)
        require_aware(due_at, "due_at")
        note = limit_text(note, "note", max_len=MAX_NOTE)
        self.accepted_at, self.due_at = at, due_at
        self._record("accept", actor, at, S.ACCEPTED, ev.CaseAccepted, note=note, due_at=due_at,
                     data={"due_at": due_at.isoformat()})  # fmt: skip

    def reject(self, actor: Actor, at: datetime, expected_version: int, *, reason: str) -> None:
        self._check("reject", actor, at, expected_version)
        reason = require_text(reason, "reason", max_len=500)
        self.reject_reason, self.ended_at = reason, at
        self._record("reject", actor, at, S.REJECTED, ev.CaseRejected, note=reason, reason=reason)

    def forward(
        self, actor: Actor, at: datetime, expected_version: int, *, body: str, note: str = ""
    ) -> None:
        """Hand the case to an external body (court, other city, enterprise): terminal."""
        self._check("forward", actor, at, expected_version)
        body = require_text(body, "body", max_len=100)
        note = limit_text(note, "note", max_len=MAX_NOTE)
        self.forwarded_to, self.ended_at = body, at
        self._record("forward", actor, at, S.FORWARDED, ev.CaseForwarded, note=note, body=body,
                     data={"body": body})  # fmt: skip

    # --- dispatch and handling -----------------------------------------------------
    def dispatch(
        self,
        actor: Actor,
        at: datetime,
        expected_version: int,
        *,
        department: str,
        assignee_id: str | None = None,
        note: str = "",
    ) -> None:
        self._dispatch("dispatch", ev.CaseDispatched, actor, at, expected_version, department,
                       assignee_id, note)  # fmt: skip

    def reassign(
        self,
        actor: Actor,
        at: datetime,
        expected_version: int,
        *,
        department: str,
        assignee_id: str | None = None,
        note: str = "",
    ) -> None:
        self._dispatch("reassign", ev.CaseReassigned, actor, at, expected_version, department,
                       assignee_id, note)  # fmt: skip

    def _dispatch(
        self,
        action: str,
        event_cls: type[ev.CaseEvent],
        actor: Actor,
        at: datetime,
        expected_version: int,
        department: str,
        assignee_id: str | None,
        note: str,
    ) -> None:
        self._check(action, actor, at, expected_version)
        department = require_text(department, "department", max_len=64)
        note = limit_text(note, "note", max_len=MAX_NOTE)
        self.department, self.assignee_id, self.dispatched_at = department, assignee_id, at
        self._record(action, actor, at, S.DISPATCHED, event_cls, note=note,
                     department=department, assignee_id=assignee_id,
                     data={"department": department, "assignee_id": assignee_id})  # fmt: skip

    def send_back(self, actor: Actor, at: datetime, expected_version: int, *, reason: str) -> None:
        """The receiving unit returns a misrouted case to the dispatcher (退回)."""
        self._check("send_back", actor, at, expected_version)
        reason = require_text(reason, "reason", max_len=500)
        self.department = self.assignee_id = self.dispatched_at = None
        self._record("send_back", actor, at, S.ACCEPTED, ev.CaseSentBack, note=reason,
                     reason=reason)  # fmt: skip

    def start(self, actor: Actor, at: datetime, expected_version: int, *, note: str = "") -> None:
        self._check("start", actor, at, expected_version)
        note = limit_text(note, "note", max_len=MAX_NOTE)
        if self.assignee_id is None:
            self.assignee_id = actor.actor_id
        self._record("start", actor, at, S.IN_PROGRESS, ev.CaseStarted, note=note)

    def handle(
        self,
        actor: Actor,
        at: datetime,
        expected_version: int,
        *,
        feedback: str,
        attachments: Sequence[str] = (),
    ) -> None:
        """Feed back the result (text + photos/video, the "moments" timeline)."""
        self._check("handle", actor, at, expected_version)
        feedback = require_text(feedback, "feedback", max_len=MAX_NOTE)
        files = _attachments(attachments)
        self.feedback, self.handled_at = feedback, at
        self._record("handle", actor, at, S.HANDLED, ev.CaseHandled, note=feedback,
                     attachments=files, feedback=feedback, files=files)  # fmt: skip
