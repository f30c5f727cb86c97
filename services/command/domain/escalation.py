"""Closed-loop escalation (上报/流转) and the due-time index that drives the SLA sweep.

``escalate`` moves a case one rung up the ladder grid → community → street → district →
city, to the ancestor of its grid code at that level, with that level's new deadline.

``DueIndex`` keeps every open case's *next* due instant (its warning time, then its
deadline) in a min-heap, so ``sweep(now)`` pops only entries that are due: O(k log n) for
k due entries among n open cases. The database adapter mirrors it with an indexed
``next_due_at`` column (``WHERE next_due_at <= :now ORDER BY next_due_at``), updated in
the same transaction as the case; this in-memory index is the reference behaviour and
serves simulations.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.command.domain.casefile import CLOSED_STATUSES
from services.command.domain.sla import Deadline, SlaPolicy, SlaState
from yiwang.clock import require_aware
from yiwang.errors import Conflict, ValidationFailed
from yiwang.jurisdiction import ESCALATION_LADDER, Level, code_at, level_of, next_level_up


class EscalationReason(StrEnum):
    OVERDUE = "overdue"
    CANNOT_SOLVE = "cannot_solve"


@dataclass(frozen=True)
class EscalationSubject:
    """What escalation needs to know about a case."""

    case_id: str
    status: str
    level: Level
    grid_code: str
    sla_class: str


@dataclass(frozen=True)
class Escalation:
    """The decision; the caller records it as a ``case.escalated`` event and a timeline entry."""

    case_id: str
    from_level: Level
    to_level: Level
    jurisdiction_code: str
    reason: EscalationReason
    at: datetime
    deadline: Deadline

    def event_data(self) -> dict[str, object]:
        return {
            "from_level": str(self.from_level),
            "to_level": str(self.to_level),
            "jurisdiction_code": self.jurisdiction_code,
            "reason": str(self.reason),
            "due": self.deadline.due,
            "warn_at": self.deadline.warn_at,
        }


def escalate(case: EscalationSubject, reason: str, now: datetime, policy: SlaPolicy) -> Escalation:
    """One level up, or a refusal (closed case, already at the city, bad reason)."""
    require_aware(now, "now")
    try:
        why = EscalationReason(reason)
    except ValueError:
        raise ValidationFailed(
            "invalid_escalation_reason",
            f"reason must be one of {[r.value for r in EscalationReason]}",
            "上报原因必须是 overdue（超期）或 cannot_solve（本级无法解决）",
            reason=reason,
        ) from None
    if case.status in CLOSED_STATUSES:
        raise Conflict(
            "case_closed",
            "a closed case cannot be escalated",
            "已结案的案件不能上报",
            case_id=case.case_id,
        )
    if level_of(case.grid_code) not in (Level.GRID, Level.BUILDING):
        raise ValidationFailed(
            "invalid_grid_code",
            "grid_code must be a grid code",
            "网格编码无效",
            grid_code=case.grid_code,
        )
    level = Level(case.level)
    if level not in ESCALATION_LADDER and level != Level.BUILDING:
        raise ValidationFailed(
            "invalid_level", f"level {level} is not on the ladder", f"层级{level}不在上报链上"
        )
    up = next_level_up(level)
    if up is None:
        raise Conflict(
            "already_at_top",
            "the case is already at the city level",
            "案件已在市级，无法继续上报",
            case_id=case.case_id,
        )
    deadline = policy.handling_deadline(case.sla_class, up, now, escalated=True)
    return Escalation(
        case_id=case.case_id,
        from_level=level,
        to_level=up,
        jurisdiction_code=code_at(case.grid_code, up),
        reason=why,
        at=now,
        deadline=deadline,
    )


@dataclass(frozen=True)
class DueItem:
    """A swept entry: ``kind`` is ``warning`` or ``overdue``; ``deadline`` as scheduled."""

    case_id: str
    kind: SlaState
    when: datetime
    deadline: Deadline


class DueIndex:
    """Min-heap of each case's next due instant, with lazy deletion.

    ``schedule`` replaces a case's entry; ``remove`` drops it (case closed or handled).
    ``sweep(now)`` returns, per due case, the most severe state reached: a case whose
    deadline passed yields ``overdue`` and leaves the index (escalating reschedules it);
    a case only past its warning yields ``warning`` and stays, re-keyed on its deadline.
    ``last_sweep_pops`` counts heap pops of the last sweep (due + stale entries).
    """

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, str]] = []
        self._live: dict[str, tuple[int, Deadline, bool]] = {}  # id -> (token, deadline, warned)
        self._tokens = itertools.count()
        self.last_sweep_pops = 0

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, case_id: object) -> bool:
        return case_id in self._live

    def schedule(self, case_id: str, deadline: Deadline, *, warned: bool = False) -> None:
        token = next(self._tokens)
        self._live[case_id] = (token, deadline, warned)
        when = deadline.due if warned else deadline.warn_at
        heapq.heappush(self._heap, (when, token, case_id))
        self._compact_if_needed()

    def remove(self, case_id: str) -> None:
        self._live.pop(case_id, None)
        self._compact_if_needed()

    def next_due(self) -> datetime | None:
        while self._heap and not self._is_live(self._heap[0]):
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def sweep(self, now: datetime) -> list[DueItem]:
        require_aware(now, "now")
        out: list[DueItem] = []
        pops = 0
        rekey: list[tuple[str, Deadline]] = []
        while self._heap and self._heap[0][0] <= now:
            entry = heapq.heappop(self._heap)
            pops += 1
            if not self._is_live(entry):
                continue
            _, _, case_id = entry
            _, deadline, _ = self._live[case_id]
            if deadline.due <= now:
                del self._live[case_id]
                out.append(DueItem(case_id, SlaState.OVERDUE, deadline.due, deadline))
            else:
                out.append(DueItem(case_id, SlaState.WARNING, deadline.warn_at, deadline))
                rekey.append((case_id, deadline))
        for case_id, deadline in rekey:
            self.schedule(case_id, deadline, warned=True)
        self.last_sweep_pops = pops
        return out

    def _is_live(self, entry: tuple[datetime, int, str]) -> bool:
        live = self._live.get(entry[2])
        return live is not None and live[0] == entry[1]

    def _compact_if_needed(self) -> None:
        if len(self._heap) > 64 and len(self._heap) > 2 * len(self._live):
            self._heap = [e for e in self._heap if self._is_live(e)]
            heapq.heapify(self._heap)
