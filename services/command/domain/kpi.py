"""KPIs kept incrementally, plus an independent oracle that recomputes them by a full scan.

Counters are keyed by ``(jurisdiction code, department, day)``: the code is each ancestor
of the case's grid code (city, district, street, community, grid), the department is
``"*"`` (all) and, once the case has been dispatched, also its current handler; the day is
the Asia/Shanghai date of the event. One event therefore touches at most 2 × 5 keys.

Metrics (each an integer counter, counted on the day of the event that causes it):

- ``created``, ``source:<s>``, ``category:<c>`` — on ``case.created``;
- ``accepted``, ``accepted_on_time`` — first ``case.accepted`` (on time: at <= accept_due);
- ``resolved``, ``resolved_on_time``, ``handling_seconds`` — every ``case.closed``
  (on time: at <= the deadline in force; seconds since creation) (按期处置);
- ``overdue`` — every ``case.overdue``; ``escalated:<level>`` — every ``case.escalated``;
- ``returned`` — every ``case.returned`` (退单);
- ``rated``, ``satisfied``, ``rework`` — every ``case.evaluated`` (rework = unsatisfied).

Events of one case are folded in seq order: each case's history starts with
``case.created`` at seq 1; a later seq that arrives early is held until the gap fills;
duplicates are ignored. ``KpiFigures`` derives the rates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from services.command.domain.casefile import (
    CASE_ACCEPTED,
    CASE_CLOSED,
    CASE_CREATED,
    CASE_DISPATCHED,
    CASE_ESCALATED,
    CASE_EVALUATED,
    CASE_OVERDUE,
    CASE_RETURNED,
    CaseEvent,
)
from yiwang.clock import SHANGHAI
from yiwang.jurisdiction import CODE_LENGTHS, ESCALATION_LADDER, code_at

ALL = "*"
KpiKey = tuple[str, str, date]
Counters = dict[KpiKey, dict[str, int]]


@dataclass(frozen=True)
class KpiFigures:
    """Summed counters over a range, with derived rates (None when undefined)."""

    counts: Mapping[str, int]

    def get(self, metric: str) -> int:
        return int(self.counts.get(metric, 0))

    def _rate(self, num: str, den: str) -> float | None:
        d = self.get(den)
        return self.get(num) / d if d else None

    @property
    def on_time_acceptance_rate(self) -> float | None:
        return self._rate("accepted_on_time", "accepted")

    @property
    def on_time_resolution_rate(self) -> float | None:
        """按期处置率: closures within their deadline / closures."""
        return self._rate("resolved_on_time", "resolved")

    @property
    def rework_rate(self) -> float | None:
        """返工率: unsatisfied ratings (sent back) / closures."""
        return self._rate("rework", "resolved")

    @property
    def satisfaction_rate(self) -> float | None:
        return self._rate("satisfied", "rated")

    @property
    def average_handling_seconds(self) -> float | None:
        return self._rate("handling_seconds", "resolved")

    def by_prefix(self, prefix: str) -> dict[str, int]:
        """E.g. ``by_prefix("source:")`` → volume per source."""
        return {k[len(prefix) :]: v for k, v in self.counts.items() if k.startswith(prefix)}


def local_day(at: datetime) -> date:
    return at.astimezone(SHANGHAI).date()


@dataclass
class CaseMemo:
    last_seq: int = 0
    grid_code: str = ""
    created_at: datetime | None = None
    accept_due: datetime | None = None
    due: datetime | None = None
    handler: str | None = None
    accepted: bool = False
    pending: dict[int, CaseEvent] = field(default_factory=dict)


class KpiBook:
    """Incremental KPI counters. ``add(event)`` costs O(levels) per applied event."""

    def __init__(self) -> None:
        self.counters: Counters = defaultdict(dict)
        self._cases: dict[str, CaseMemo] = {}

    def add(self, ev: CaseEvent) -> int:
        """Feed one event; returns how many events were applied (0 if held or duplicate)."""
        memo = self._cases.setdefault(ev.case_id, CaseMemo())
        if ev.seq <= memo.last_seq or ev.seq in memo.pending:
            return 0
        memo.pending[ev.seq] = ev
        applied = 0
        while memo.last_seq + 1 in memo.pending:
            nxt = memo.pending.pop(memo.last_seq + 1)
            memo.last_seq = nxt.seq
            self._apply(memo, nxt)
            applied += 1
        return applied

    def seed(self, case_id: str, memo: CaseMemo) -> None:
        """Resume a case's fold from a persisted memo (adapters keep it beside the case)."""
        self._cases[case_id] = memo

    def memo(self, case_id: str) -> CaseMemo | None:
        return self._cases.get(case_id)

    def add_all(self, events: Iterable[CaseEvent]) -> None:
        for ev in events:
            self.add(ev)

    def _bump(self, memo: CaseMemo, at: datetime, metrics: dict[str, int]) -> None:
        if not memo.grid_code:
            return
        day = local_day(at)
        depts = (ALL,) if memo.handler is None else (ALL, memo.handler)
        for level in ESCALATION_LADDER:
            code = code_at(memo.grid_code, level)
            for dept in depts:
                bucket = self.counters[(code, dept, day)]
                for metric, inc in metrics.items():
                    bucket[metric] = bucket.get(metric, 0) + inc

    def _apply(self, memo: CaseMemo, ev: CaseEvent) -> None:
        d = ev.data
        t = ev.type
        if t == CASE_CREATED:
            memo.grid_code = d["grid_code"]
            memo.created_at = d.get("created_at", ev.at)
            memo.accept_due = d.get("accept_due")
            memo.due = d.get("due")
            self._bump(
                memo,
                ev.at,
                {"created": 1, f"source:{d['source']}": 1, f"category:{d['category']}": 1},
            )
        elif t == CASE_ACCEPTED:
            if not memo.accepted:
                memo.accepted = True
                on_time = memo.accept_due is not None and ev.at <= memo.accept_due
                self._bump(memo, ev.at, {"accepted": 1, "accepted_on_time": int(on_time)})
        elif t == CASE_DISPATCHED:
            memo.handler = d["handler"]
            if d.get("due") is not None:
                memo.due = d["due"]
        elif t == CASE_RETURNED:
            self._bump(memo, ev.at, {"returned": 1})
            memo.handler = None
        elif t == CASE_CLOSED:
            on_time = memo.due is not None and ev.at <= memo.due
            secs = int((ev.at - memo.created_at).total_seconds()) if memo.created_at else 0
            self._bump(
                memo,
                ev.at,
                {"resolved": 1, "resolved_on_time": int(on_time), "handling_seconds": secs},
            )
        elif t == CASE_OVERDUE:
            self._bump(memo, ev.at, {"overdue": 1})
        elif t == CASE_ESCALATED:
            self._bump(memo, ev.at, {f"escalated:{d['to_level']}": 1})
            memo.due = d.get("due")
        elif t == CASE_EVALUATED:
            ok = bool(d["satisfied"])
            self._bump(memo, ev.at, {"rated": 1, "satisfied": int(ok), "rework": int(not ok)})

    # -- queries ------------------------------------------------------------------------
    def figures(self, code: str, start: date, end: date, department: str = ALL) -> KpiFigures:
        """Summed counters for ``code`` and ``department`` over local days [start, end]."""
        total: dict[str, int] = {}
        day = start
        while day <= end:
            bucket = self.counters.get((code, department, day))
            if bucket:
                for k, v in bucket.items():
                    total[k] = total.get(k, 0) + v
            day += timedelta(days=1)
        return KpiFigures(total)

    def series(
        self, code: str, start: date, end: date, department: str = ALL
    ) -> list[tuple[date, KpiFigures]]:
        """One ``KpiFigures`` per local day in [start, end]."""
        out = []
        day = start
        while day <= end:
            out.append((day, KpiFigures(dict(self.counters.get((code, department, day), {})))))
            day += timedelta(days=1)
        return out

    def snapshot(self) -> Counters:
        """Non-empty counters, zero entries dropped (comparable with ``recompute_kpis``)."""
        return _clean(self.counters)


def _clean(counters: Mapping[KpiKey, Mapping[str, int]]) -> Counters:
    out: Counters = {}
    for key, bucket in counters.items():
        kept = {m: v for m, v in bucket.items() if v}
        if kept:
            out[key] = kept
    return out


def recompute_kpis(event_log: Iterable[CaseEvent]) -> Counters:
    """ORACLE: the same counters from a full scan of the raw log, computed naively.

    Deduplicates by (case, seq), sorts each case's events, keeps the gap-free prefix from
    seq 1, replays each case on local variables, then spreads every fact over the five
    code prefixes by string slicing.
    """
    by_case: dict[str, dict[int, CaseEvent]] = {}
    for ev in event_log:
        by_case.setdefault(ev.case_id, {}).setdefault(ev.seq, ev)
    prefix_lengths = sorted(CODE_LENGTHS[lvl] for lvl in ESCALATION_LADDER)
    facts: list[tuple[str, str | None, date, str, int]] = []
    for events in by_case.values():
        history: list[CaseEvent] = []
        n = 1
        while n in events:
            history.append(events[n])
            n += 1
        if not history or history[0].type != CASE_CREATED:
            continue
        created = history[0]
        grid = created.data["grid_code"]
        created_at = created.data.get("created_at", created.at)
        for i, ev in enumerate(history):
            earlier = history[:i]
            # Who handles the case when ``ev`` happens: the last dispatch not followed by a return.
            handler: str | None = None
            for e in earlier:
                if e.type == CASE_DISPATCHED:
                    handler = e.data["handler"]
                elif e.type == CASE_RETURNED:
                    handler = None
            # Deadline in force: the latest of created/dispatched-with-due/escalated.
            due = created.data.get("due")
            for e in earlier:
                if e.type == CASE_ESCALATED or (
                    e.type == CASE_DISPATCHED and e.data.get("due") is not None
                ):
                    due = e.data.get("due")
            day = ev.at.astimezone(SHANGHAI).date()

            def fact(metric: str, value: int, who: str | None = handler) -> None:
                facts.append((grid, who, day, metric, value))  # noqa: B023

            if ev.type == CASE_CREATED:
                fact("created", 1, None)
                fact("source:" + ev.data["source"], 1, None)
                fact("category:" + ev.data["category"], 1, None)
            elif ev.type == CASE_ACCEPTED:
                if not any(e.type == CASE_ACCEPTED for e in earlier):
                    fact("accepted", 1)
                    acc = created.data.get("accept_due")
                    fact("accepted_on_time", 1 if acc is not None and ev.at <= acc else 0)
            elif ev.type == CASE_RETURNED:
                fact("returned", 1)
            elif ev.type == CASE_CLOSED:
                fact("resolved", 1)
                fact("resolved_on_time", 1 if due is not None and ev.at <= due else 0)
                fact("handling_seconds", int((ev.at - created_at).total_seconds()))
            elif ev.type == CASE_OVERDUE:
                fact("overdue", 1)
            elif ev.type == CASE_ESCALATED:
                fact("escalated:" + ev.data["to_level"], 1)
            elif ev.type == CASE_EVALUATED:
                fact("rated", 1)
                fact("satisfied", 1 if ev.data["satisfied"] else 0)
                fact("rework", 0 if ev.data["satisfied"] else 1)
    result: dict[KpiKey, dict[str, int]] = {}
    for grid, who, day, metric, value in facts:
        for n in prefix_lengths:
            for dept in [ALL] if who is None else [ALL, who]:
                bucket = result.setdefault((grid[:n], dept, day), {})
                bucket[metric] = bucket.get(metric, 0) + value
    return _clean(result)
