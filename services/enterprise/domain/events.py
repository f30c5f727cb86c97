"""Domain events of the enterprise service (past tense), published through the outbox.

``DemandOverdue`` and ``ApprovalStepLate`` are escalated by the command centre like any
overdue case; ``DemandRated`` and ``DemandAnswered`` feed its satisfaction and
response-time KPIs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    occurred_at: datetime

    @property
    def name(self) -> str:
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly payload: datetimes as ISO 8601, decimals as strings."""

        def conv(v: Any) -> Any:
            if isinstance(v, datetime):
                return v.isoformat()
            if isinstance(v, Decimal):
                return str(v)
            if isinstance(v, (list, tuple)):
                return [conv(x) for x in v]
            return v

        return {"event": self.name, **{k: conv(v) for k, v in asdict(self).items()}}


# --- accounts -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EnterpriseRegistered(Event):
    enterprise_id: str
    uscc: str
    district_code: str


@dataclass(frozen=True, slots=True)
class EnterpriseVerified(Event):
    enterprise_id: str
    verified_by: str


@dataclass(frozen=True, slots=True)
class EnterpriseRejected(Event):
    enterprise_id: str
    rejected_by: str
    reason: str


@dataclass(frozen=True, slots=True)
class InstitutionRegistered(Event):
    institution_id: str
    kind: str


@dataclass(frozen=True, slots=True)
class InstitutionVerified(Event):
    institution_id: str
    verified_by: str


# --- demands --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DemandFiled(Event):
    demand_id: str
    enterprise_id: str
    district_code: str
    category: str
    urgency: str


@dataclass(frozen=True, slots=True)
class DemandAssigned(Event):
    demand_id: str
    district_code: str
    leader_id: str
    department: str
    due_at: datetime
    rework: int = 0


@dataclass(frozen=True, slots=True)
class DemandAnswered(Event):
    demand_id: str
    answered_by: str
    response_seconds: float  # from assignment (or rework) to the answer, wall clock
    within_sla: bool


@dataclass(frozen=True, slots=True)
class DemandRated(Event):
    demand_id: str
    enterprise_id: str
    score: int
    satisfied: bool


@dataclass(frozen=True, slots=True)
class DemandOverdue(Event):
    demand_id: str
    district_code: str
    grid_code: str
    leader_id: str
    department: str
    due_at: datetime
    overdue_seconds: float


@dataclass(frozen=True, slots=True)
class DemandClosed(Event):
    demand_id: str
    score: int


# --- financing ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FinancingResponded(Event):
    need_id: str
    product_id: str
    institution_id: str
    response: str


@dataclass(frozen=True, slots=True)
class FinancingGranted(Event):
    need_id: str
    product_id: str
    institution_id: str
    enterprise_id: str
    granted_amount: Decimal


# --- talent ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CandidateHired(Event):
    posting_id: str
    application_id: str
    enterprise_id: str


# --- key projects ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ApprovalStepStarted(Event):
    project_id: str
    step_index: int
    step_name: str
    department: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class ApprovalStepApproved(Event):
    project_id: str
    step_index: int
    approved_by: str
    late: bool


@dataclass(frozen=True, slots=True)
class ApprovalStepWarned(Event):
    project_id: str
    district_code: str
    step_index: int
    step_name: str
    department: str
    due_at: datetime
    share_elapsed: float


@dataclass(frozen=True, slots=True)
class ApprovalStepLate(Event):
    project_id: str
    district_code: str
    step_index: int
    step_name: str
    department: str
    due_at: datetime
    late_seconds: float


@dataclass(frozen=True, slots=True)
class ProjectApprovalsCompleted(Event):
    project_id: str
    late_steps: list[int] = field(default_factory=list)
