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

from yiwang.clock import require_aware
from yiwang.errors import Conflict, Forbidden, ValidationFailed
from yiwang.jurisdiction import Level, level_of
from yiwang.text import limit_text, require_text

from . import events as ev
from .categories import Category, CategoryCatalogue, validate_attributes
from .common import illegal_transition, require_coordinates, version_conflict
from .lifecycle import (
    CITIZEN_SOURCES,
    FINISHED,
    INTERNAL_ACTIONS,
    ROLES,
    SOURCES,
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
        out = allowed_actions(self.status, role)
        if self.source is not Source.HOTLINE and "return_visit" in out:
            out.remove("return_visit")  # the other reporters rate on line themselves
        return out

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
        self._record(
            "accept",
            actor,
            at,
            S.ACCEPTED,
            ev.CaseAccepted,
            note=note,
            due_at=due_at,
            data={"due_at": due_at.isoformat()},
        )

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
        self._record(
            "forward",
            actor,
            at,
            S.FORWARDED,
            ev.CaseForwarded,
            note=note,
            body=body,
            data={"body": body},
        )

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
        self._dispatch(
            "dispatch",
            ev.CaseDispatched,
            actor,
            at,
            expected_version,
            department,
            assignee_id,
            note,
        )

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
        self._dispatch(
            "reassign",
            ev.CaseReassigned,
            actor,
            at,
            expected_version,
            department,
            assignee_id,
            note,
        )

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
        self._record(
            action,
            actor,
            at,
            S.DISPATCHED,
            event_cls,
            note=note,
            department=department,
            assignee_id=assignee_id,
            data={"department": department, "assignee_id": assignee_id},
        )

    def send_back(self, actor: Actor, at: datetime, expected_version: int, *, reason: str) -> None:
        """The receiving unit returns a misrouted case to the dispatcher (退回)."""
        self._check("send_back", actor, at, expected_version)
        reason = require_text(reason, "reason", max_len=500)
        self.department = self.assignee_id = self.dispatched_at = None
        self._record(
            "send_back", actor, at, S.ACCEPTED, ev.CaseSentBack, note=reason, reason=reason
        )

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
        self._record(
            "handle",
            actor,
            at,
            S.HANDLED,
            ev.CaseHandled,
            note=feedback,
            attachments=files,
            feedback=feedback,
            files=files,
        )

    def verify(
        self,
        actor: Actor,
        at: datetime,
        expected_version: int,
        *,
        note: str = "",
        attachments: Sequence[str] = (),
    ) -> None:
        """The grid worker or community checks the result on the spot (核查)."""
        self._check("verify", actor, at, expected_version)
        note = limit_text(note, "note", max_len=MAX_NOTE)
        files = _attachments(attachments)
        self._record("verify", actor, at, S.VERIFIED, ev.CaseVerified, note=note, attachments=files)

    def fail_verification(
        self,
        actor: Actor,
        at: datetime,
        expected_version: int,
        *,
        reason: str,
        attachments: Sequence[str] = (),
    ) -> None:
        """The result is not acceptable: back to ``in_progress`` for rework (返工)."""
        self._check("fail_verification", actor, at, expected_version)
        reason = require_text(reason, "reason", max_len=MAX_NOTE)
        files = _attachments(attachments)
        self.rework_count += 1
        self.feedback = self.handled_at = None
        self._record(
            "fail_verification",
            actor,
            at,
            S.IN_PROGRESS,
            ev.CaseVerificationFailed,
            note=reason,
            attachments=files,
            reason=reason,
            rework_count=self.rework_count,
        )

    # --- closing and evaluation ----------------------------------------------------
    def close(
        self, actor: Actor, at: datetime, expected_version: int, *, note: str = ""
    ) -> list[str]:
        """结案. Returns the child case ids to close with :func:`close_children`."""
        self._check("close", actor, at, expected_version)
        note = limit_text(note, "note", max_len=MAX_NOTE)
        self.closed_at = self.ended_at = at
        children = tuple(self.child_ids)
        self._record("close", actor, at, S.CLOSED, ev.CaseClosed, note=note, child_ids=children)
        return list(children)

    def close_with_parent(
        self, actor: Actor, at: datetime, expected_version: int, *, parent_id: str
    ) -> None:
        self._check("close_with_parent", actor, at, expected_version)
        if parent_id != self.parent_id:
            raise Conflict(
                "not_a_child",
                f"case {self.case_id} is not a child of {parent_id}",
                f"案件{self.case_id}不是{parent_id}的子案件",
                parent_id=parent_id,
            )
        self.info_request = None
        self.closed_at = self.ended_at = at
        self._record(
            "close_with_parent",
            actor,
            at,
            S.CLOSED,
            ev.CaseClosedWithParent,
            note="closed with its parent case",
            parent_id=parent_id,
        )

    def rate(
        self,
        actor: Actor,
        at: datetime,
        expected_version: int,
        *,
        score: int,
        comment: str = "",
        rework_due_at: datetime | None = None,
    ) -> CaseStatus:
        """The reporter's rating (1–5). ≤ 2 reopens for rework once, then community review."""
        self._check("rate", actor, at, expected_version)
        self._require_reporter(actor)
        return self._rating("rate", actor, at, score, comment, rework_due_at)

    def return_visit(
        self,
        actor: Actor,
        at: datetime,
        expected_version: int,
        *,
        score: int,
        comment: str = "",
        rework_due_at: datetime | None = None,
    ) -> CaseStatus:
        """回访: staff call the reporter of a closed hotline case back and record the rating
        given on the phone; it counts like the reporter's own rating (satisfaction, rework)."""
        self._check("return_visit", actor, at, expected_version)
        if self.source is not Source.HOTLINE:
            raise Conflict(
                "not_a_hotline_case",
                "return visits are for hotline cases; other reporters rate on line",
                "回访仅适用于热线案件，其他反映人在线评价",
                source=self.source.value,
            )
        return self._rating("return_visit", actor, at, score, comment, rework_due_at)

    def _rating(
        self,
        action: str,
        actor: Actor,
        at: datetime,
        score: int,
        comment: str,
        rework_due_at: datetime | None,
    ) -> CaseStatus:
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise ValidationFailed(
                "invalid_score",
                "a rating is a whole number from 1 to 5",
                "评分须为1至5的整数",
                score=str(score),
            )
        comment = limit_text(comment, "comment", max_len=500)
        satisfied = score >= 3
        if satisfied:
            to = S.EVALUATED
        elif not self.rating_reopen_used:
            to = S.DISPATCHED
            self.rating_reopen_used = True
            self.rework_count += 1
            self.closed_at = self.ended_at = self.feedback = self.handled_at = None
            if rework_due_at is not None:
                self.due_at = require_aware(rework_due_at, "rework_due_at")
        else:
            to = S.COMMUNITY_REVIEW
        self.ratings.append(Rating(score, comment, at, actor.actor_id))
        self._record(
            action,
            actor,
            at,
            to,
            ev.CaseRated,
            note=comment,
            score=score,
            comment=comment,
            satisfied=satisfied,
            rework_count=self.rework_count,
            data={"score": score},
        )
        return to

    def auto_evaluate(
        self,
        actor: Actor,
        at: datetime,
        expected_version: int,
        *,
        window: timedelta = RATING_WINDOW,
    ) -> None:
        """Mark a case nobody rated within ``window`` after closing as evaluated (默认满意)."""
        self._check("auto_evaluate", actor, at, expected_version)
        assert self.closed_at is not None
        if at < self.closed_at + window:
            raise Conflict(
                "rating_window_open",
                "the reporter can still rate this case",
                "反映人仍可评价该案件",
                until=(self.closed_at + window).isoformat(),
            )
        self.auto_evaluated = True
        self._record(
            "auto_evaluate",
            actor,
            at,
            S.EVALUATED,
            ev.CaseAutoEvaluated,
            note="not rated in time: evaluated automatically",
        )

    def conclude_review(
        self, actor: Actor, at: datetime, expected_version: int, *, note: str
    ) -> None:
        """The community reviewed a twice-unsatisfied case and upholds the handling."""
        self._check("conclude_review", actor, at, expected_version)
        note = require_text(note, "note", max_len=MAX_NOTE)
        self._record("conclude_review", actor, at, S.EVALUATED, ev.CaseReviewUpheld, note=note)

    def review_rework(
        self,
        actor: Actor,
        at: datetime,
        expected_version: int,
        *,
        note: str,
        rework_due_at: datetime | None = None,
    ) -> None:
        """The community finds the complaint justified and orders another rework."""
        self._check("review_rework", actor, at, expected_version)
        note = require_text(note, "note", max_len=MAX_NOTE)
        if rework_due_at is not None:
            self.due_at = require_aware(rework_due_at, "rework_due_at")
        self.rework_count += 1
        self.closed_at = self.ended_at = self.feedback = self.handled_at = None
        self._record(
            "review_rework",
            actor,
            at,
            S.DISPATCHED,
            ev.CaseReworkOrdered,
            note=note,
            rework_count=self.rework_count,
        )

    # --- asking the reporter -------------------------------------------------------
    def request_info(
        self,
        actor: Actor,
        at: datetime,
        expected_version: int,
        *,
        question: str,
        deadline: datetime,
    ) -> None:
        self._check("request_info", actor, at, expected_version)
        question = require_text(question, "question", max_len=500)
        if require_aware(deadline, "deadline") <= at:
            raise ValidationFailed(
                "deadline_in_past",
                "the answer deadline must be in the future",
                "答复期限必须晚于当前时间",
                deadline=deadline.isoformat(),
            )
        self.info_request = InfoRequest(question, deadline, self.status, actor.actor_id, at)
        self._record(
            "request_info",
            actor,
            at,
            S.AWAITING_INFO,
            ev.InfoRequested,
            note=question,
            question=question,
            deadline=deadline,
            data={"deadline": deadline.isoformat()},
        )

    def provide_info(
        self,
        actor: Actor,
        at: datetime,
        expected_version: int,
        *,
        answer: str,
        attachments: Sequence[str] = (),
    ) -> None:
        self._check("provide_info", actor, at, expected_version)
        self._require_reporter(actor)
        answer = require_text(answer, "answer", max_len=MAX_NOTE)
        files = _attachments(attachments)
        assert self.info_request is not None
        back, self.info_request = self.info_request.return_to, None
        self._record(
            "provide_info", actor, at, back, ev.InfoProvided, note=answer, attachments=files
        )

    def expire_info(self, actor: Actor, at: datetime, expected_version: int) -> None:
        """No answer by the deadline: the case resumes where it was."""
        self._check("expire_info", actor, at, expected_version)
        assert self.info_request is not None
        if at < self.info_request.deadline:
            raise Conflict(
                "info_deadline_not_reached",
                "the reporter can still answer",
                "反映人仍可在期限内补充信息",
                deadline=self.info_request.deadline.isoformat(),
            )
        back, self.info_request = self.info_request.return_to, None
        self._record(
            "expire_info",
            actor,
            at,
            back,
            ev.InfoRequestExpired,
            note="no answer from the reporter by the deadline",
        )

    # --- split, merge, supporters --------------------------------------------------
    def split(
        self,
        actor: Actor,
        at: datetime,
        expected_version: int,
        *,
        parts: Sequence[ChildSpec],
        note: str = "",
    ) -> list[Case]:
        """Split into child cases for several departments; returns the new (accepted) children."""
        self._check("split", actor, at, expected_version)
        note = limit_text(note, "note", max_len=MAX_NOTE)
        ids = [p.case_id for p in parts]
        if (
            len(parts) < 2
            or len(set(ids)) != len(ids)
            or set(ids) & {self.case_id, *self.child_ids}
        ):
            raise ValidationFailed(
                "invalid_split",
                "a split needs at least two parts with new, distinct ids",
                "拆分至少需要两个子案件，且编号互不相同",
                case_ids=ids,
            )
        children = [self._child(p, actor, at) for p in parts]
        self.child_ids.extend(ids)
        self._record(
            "split",
            actor,
            at,
            self.status,
            ev.CaseSplit,
            note=note,
            child_ids=tuple(ids),
            data={"child_ids": ids},
        )
        return children

    def _child(self, part: ChildSpec, actor: Actor, at: datetime) -> Case:
        require_aware(part.due_at, "due_at")
        child = Case(
            case_id=part.case_id,
            source=self.source,
            category=part.category.code,
            title=self.title,
            description=require_text(part.description, "description"),
            sla_class=part.category.sla_class,
            grid_code=self.grid_code,
            jurisdiction_code=self.jurisdiction_code,
            reporter=self.reporter,
            created_at=at,
            public=self.public and part.category.public,
            lat=self.lat,
            lon=self.lon,
            address=self.address,
            media=self.media,
            parent_id=self.case_id,
            accepted_at=at,
            due_at=part.due_at,
        )
        child._record(
            "split_from",
            actor,
            at,
            S.ACCEPTED,
            ev.CaseSubmitted,
            note=f"split from {self.case_id}",
            source=self.source.value,
            parent_id=self.case_id,
            data={"department": part.department},
        )
        return child

    def merge_into(
        self, actor: Actor, at: datetime, expected_version: int, *, target_id: str, note: str = ""
    ) -> list[Supporter]:
        """End this case as a duplicate of ``target_id``; returns the supporters to move there."""
        self._check("merge_into", actor, at, expected_version)
        if target_id == self.case_id:
            raise ValidationFailed(
                "merge_into_self", "a case cannot be merged into itself", "案件不能合并到自身"
            )
        note = limit_text(note, "note", max_len=MAX_NOTE)
        moving = [
            Supporter(self.case_id, self.created_at, self.reporter, None),
            *self.supporters,
        ]
        self.merged_into, self.ended_at, self.info_request = target_id, at, None
        self._record(
            "merge_into",
            actor,
            at,
            S.MERGED,
            ev.CaseMerged,
            note=note,
            into_case_id=target_id,
            data={"into": target_id},
        )
        return moving

    def support(
        self, actor: Actor, at: datetime, expected_version: int, *, supporter: Supporter
    ) -> None:
        """A "me too": one more reporter of the same problem."""
        self._add_supporters("support", actor, at, expected_version, [supporter])

    def absorb(
        self, actor: Actor, at: datetime, expected_version: int, *, supporters: Sequence[Supporter]
    ) -> None:
        """Take over the reporter and supporters of a duplicate merged into this case."""
        self._add_supporters("absorb", actor, at, expected_version, supporters)

    def _add_supporters(
        self,
        action: str,
        actor: Actor,
        at: datetime,
        expected_version: int,
        supporters: Sequence[Supporter],
    ) -> None:
        self._check(action, actor, at, expected_version)
        known = {s.supporter_id for s in self.supporters} | {self.case_id}
        if self.reporter.account_id:
            known.add(self.reporter.account_id)
        new = [s for s in supporters if s.supporter_id not in known]
        ids = [s.supporter_id for s in new]
        if not new or len(set(ids)) != len(ids):
            raise Conflict(
                "already_supporting",
                "these reporters are already linked to the case",
                "这些反映人已关联到该案件",
                supporter_ids=[s.supporter_id for s in supporters],
            )
        self.supporters.extend(new)
        self._record(
            action,
            actor,
            at,
            self.status,
            ev.SupportersAdded,
            supporter_ids=tuple(ids),
            supporter_count=len(self.supporters),
            data={"supporter_count": len(self.supporters)},
        )

    def detach_supporter(
        self,
        actor: Actor,
        at: datetime,
        expected_version: int,
        *,
        supporter_id: str,
        note: str = "",
    ) -> Supporter:
        """Undo a wrong duplicate link; the caller opens a case for the returned supporter."""
        self._check("detach_supporter", actor, at, expected_version)
        found = next((s for s in self.supporters if s.supporter_id == supporter_id), None)
        if found is None:
            raise Conflict(
                "not_a_supporter",
                f"{supporter_id} is not linked to this case",
                f"{supporter_id}未关联到该案件",
                supporter_id=supporter_id,
            )
        note = limit_text(note, "note", max_len=MAX_NOTE)
        self.supporters.remove(found)
        self._record(
            "detach_supporter",
            actor,
            at,
            self.status,
            ev.SupporterDetached,
            note=note,
            supporter_id=supporter_id,
            supporter_count=len(self.supporters),
        )
        return found

    def supervise(self, actor: Actor, at: datetime, expected_version: int, *, note: str) -> None:
        """One-key supervision (一键督办) by a leader: recorded, status unchanged."""
        self._check("supervise", actor, at, expected_version)
        note = require_text(note, "note", max_len=MAX_NOTE)
        self._record("supervise", actor, at, self.status, ev.CaseSupervised, note=note)

    def escalate(
        self,
        actor: Actor,
        at: datetime,
        expected_version: int,
        *,
        jurisdiction_code: str,
        to_level: str,
        from_level: str = "",
        reason: str = "",
        note: str = "",
        deadline: datetime | None = None,
    ) -> None:
        """The command centre moved the case up the ladder: recorded, status unchanged."""
        self._check("escalate", actor, at, expected_version)
        if not self.is_open:
            raise illegal_transition("escalate", self.status.value, self.allowed_actions())
        level_of(jurisdiction_code)  # a valid unified code
        note = limit_text(note, "note", max_len=MAX_NOTE)
        before = self.jurisdiction_code
        self.jurisdiction_code = jurisdiction_code
        data: dict[str, Any] = {
            "from": before,
            "to": jurisdiction_code,
            "to_level": to_level,
            "from_level": from_level,
            "reason": reason,
        }
        if deadline is not None:
            data["deadline"] = require_aware(deadline, "deadline").isoformat()
        self._record(
            "escalate",
            actor,
            at,
            self.status,
            ev.CaseEscalated,
            note=note,
            data=data,
            to_level=to_level,
            reason=reason,
        )

    # --- privacy -------------------------------------------------------------------
    def erase_contact(
        self,
        actor: Actor,
        at: datetime,
        expected_version: int,
        *,
        retention_days: int = CONTACT_RETENTION_DAYS,
    ) -> None:
        """Erase reporters' contact data ``retention_days`` after the case finished."""
        if expected_version != self.version:
            raise version_conflict(expected_version, self.version)
        if self.status not in FINISHED or self.ended_at is None:
            raise illegal_transition("erase_contact", self.status.value, self.allowed_actions())
        self._check("erase_contact", actor, at, expected_version)
        if self.contact_erased_at is not None:
            raise Conflict(
                "contact_already_erased", "contact data were already erased", "联系方式已删除"
            )
        if at < self.ended_at + timedelta(days=retention_days):
            raise Conflict(
                "retention_not_over",
                "the retention period is not over yet",
                "保存期限未满",
                until=(self.ended_at + timedelta(days=retention_days)).isoformat(),
            )
        self.reporter = self.reporter.erased()
        self.supporters = [replace(s, reporter=s.reporter.erased()) for s in self.supporters]
        self.contact_erased_at = at
        self._record(
            "erase_contact",
            actor,
            at,
            self.status,
            ev.ContactErased,
            note=f"reporter contact data erased after {retention_days} days",
        )

    # --- persistence ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot (for the adapter's JSONB column)."""
        data: dict[str, Any] = _ADAPTER.dump_python(self, mode="json")
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Case:
        case: Case = _ADAPTER.validate_python(dict(data))
        case._events = []
        return case


_ADAPTER: TypeAdapter[Case] = TypeAdapter(Case)


def open_case(
    *,
    case_id: str,
    source: Source | str,
    catalogue: CategoryCatalogue,
    category: str,
    description: str,
    grid_code: str | None,
    at: datetime,
    reporter: Reporter,
    actor: Actor | None = None,
    title: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    address: str | None = None,
    attributes: Mapping[str, Any] | None = None,
    media: Sequence[str] = (),
    external_ref: str | None = None,
) -> Case:
    """A new case in ``submitted`` (version 1), validated against its category."""
    source = Source(source)
    cat = catalogue.reportable(category, by_citizen=source in CITIZEN_SOURCES)
    require_aware(at, "at")
    grid = require_grid(grid_code)
    description = require_text(description, "description", max_len=MAX_NOTE)
    if (lat is None) != (lon is None):
        raise ValidationFailed(
            "invalid_coordinates", "give both lat and lon or neither", "经纬度须同时提供"
        )
    if lat is not None and lon is not None:
        lat, lon = require_coordinates(lat, lon)
    if source is Source.HOTLINE and not external_ref:
        raise ValidationFailed(
            "ticket_no_required", "a hotline case needs its ticket number", "热线案件必须有工单编号"
        )
    answers = validate_attributes(cat, attributes or {})
    files = _attachments(media)
    title = limit_text(title or description.splitlines()[0][:60], "title", max_len=200)
    case = Case(
        case_id=case_id,
        source=source,
        category=cat.code,
        title=title,
        description=description,
        sla_class=cat.sla_class,
        grid_code=grid,
        jurisdiction_code=grid,
        reporter=reporter,
        created_at=at,
        public=cat.public,
        lat=lat,
        lon=lon,
        address=limit_text(address, "address", max_len=200) if address else None,
        attributes=answers,
        media=files,
        external_ref=external_ref,
    )
    who = actor or Actor(
        reporter.account_id or source.value,
        Role.CITIZEN if source in CITIZEN_SOURCES else Role.SYSTEM,
    )
    case._record(
        "submit", who, at, S.SUBMITTED, ev.CaseSubmitted, attachments=files, source=source.value
    )
    return case


def close_children(parent: Case, children: Iterable[Case], at: datetime) -> list[Case]:
    """Close the parent's still-open children (system actor); returns those closed."""
    closed = []
    for child in children:
        if child.parent_id == parent.case_id and "close_with_parent" in child.allowed_actions():
            child.close_with_parent(SYSTEM, at, child.version, parent_id=parent.case_id)
            closed.append(child)
    return closed


def auto_evaluate_if_due(case: Case, now: datetime, window: timedelta = RATING_WINDOW) -> bool:
    """Auto-evaluate ``case`` if it has waited ``window`` for a rating; True if it did."""
    if case.status is S.CLOSED and case.closed_at is not None and now >= case.closed_at + window:
        case.auto_evaluate(SYSTEM, now, case.version, window=window)
        return True
    return False


def expire_info_if_due(case: Case, now: datetime) -> bool:
    if case.info_request is not None and now >= case.info_request.deadline:
        case.expire_info(SYSTEM, now, case.version)
        return True
    return False


def erase_contact_if_due(
    case: Case, now: datetime, retention_days: int = CONTACT_RETENTION_DAYS
) -> bool:
    due = (
        case.status in FINISHED
        and case.ended_at is not None
        and case.contact_erased_at is None
        and now >= case.ended_at + timedelta(days=retention_days)
    )
    if due:
        case.erase_contact(SYSTEM, now, case.version, retention_days=retention_days)
    return due


def plan_hotline_import(
    tickets: Iterable[tuple[str, str]], existing_refs: Iterable[str]
) -> tuple[list[str], list[str]]:
    """Split (hotline, ticket_no) rows into refs to create and duplicates (already known or
    repeated in the batch), keeping the batch order. Malformed rows raise ValidationFailed."""
    seen = set(existing_refs)
    new: list[str] = []
    dupes: list[str] = []
    for hotline, ticket in tickets:
        ref = hotline_ref(hotline, ticket)
        (dupes if ref in seen else new).append(ref)
        seen.add(ref)
    return new, dupes
