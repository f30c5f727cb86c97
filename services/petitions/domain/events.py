"""Domain events recorded by the case aggregate (past tense; drained by the service layer
into the outbox). Every event carries the case's new version, so consumers can order them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class CaseEvent:
    case_id: str
    version: int
    occurred_at: datetime
    action: str
    actor_id: str
    role: str
    from_status: str | None
    status: str
    category: str
    jurisdiction_code: str


@dataclass(frozen=True, kw_only=True)
class CaseSubmitted(CaseEvent):
    source: str
    parent_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class CaseAccepted(CaseEvent):
    due_at: datetime


@dataclass(frozen=True, kw_only=True)
class CaseRejected(CaseEvent):
    reason: str


@dataclass(frozen=True, kw_only=True)
class CaseDispatched(CaseEvent):
    department: str
    assignee_id: str | None


@dataclass(frozen=True, kw_only=True)
class CaseSentBack(CaseEvent):
    reason: str


@dataclass(frozen=True, kw_only=True)
class CaseReassigned(CaseEvent):
    department: str
    assignee_id: str | None


@dataclass(frozen=True, kw_only=True)
class CaseStarted(CaseEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class CaseHandled(CaseEvent):
    feedback: str
    files: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class CaseVerified(CaseEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class CaseVerificationFailed(CaseEvent):
    reason: str
    rework_count: int


@dataclass(frozen=True, kw_only=True)
class CaseClosed(CaseEvent):
    child_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class CaseClosedWithParent(CaseEvent):
    parent_id: str


@dataclass(frozen=True, kw_only=True)
class CaseRated(CaseEvent):
    score: int
    comment: str
    satisfied: bool
    rework_count: int


@dataclass(frozen=True, kw_only=True)
class CaseAutoEvaluated(CaseEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class CaseReviewUpheld(CaseEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class CaseReworkOrdered(CaseEvent):
    rework_count: int


@dataclass(frozen=True, kw_only=True)
class InfoRequested(CaseEvent):
    question: str
    deadline: datetime


@dataclass(frozen=True, kw_only=True)
class InfoProvided(CaseEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class InfoRequestExpired(CaseEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class CaseSplit(CaseEvent):
    child_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class CaseForwarded(CaseEvent):
    body: str


@dataclass(frozen=True, kw_only=True)
class CaseMerged(CaseEvent):
    into_case_id: str


@dataclass(frozen=True, kw_only=True)
class SupportersAdded(CaseEvent):
    supporter_ids: tuple[str, ...]
    supporter_count: int


@dataclass(frozen=True, kw_only=True)
class SupporterDetached(CaseEvent):
    supporter_id: str
    supporter_count: int


@dataclass(frozen=True, kw_only=True)
class CaseSupervised(CaseEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class ContactErased(CaseEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class CaseEscalated(CaseEvent):
    to_level: str
    reason: str
