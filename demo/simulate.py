"""A month of the demo city through the command service, checked by an independent oracle.

``python -m demo.simulate`` (= ``make simulate``): case arrivals by source and
category on the demo city's grids, handlers that sometimes miss deadlines, send cases
back, or get bad ratings; a FakeClock advances from one step to the next and the SLA sweep
runs before every step (and at the end). The petitions service is played by this module:
it feeds ``case.created`` / ``case.transitioned`` envelopes to the service layer exactly as
the broker would, and dispatches each accepted case to the department the command routed
it to (read from the command's outbox).

Then an oracle, independent of the service layer, recomputes from the raw petitions events
(plus the explicit escalation commands) which cases must have gone overdue and escalated,
to which level, when and with which deadline; and every KPI counter
(``domain.kpi.recompute_kpis``) from those facts. Both must equal what the command service
stored: ``case_events`` (overdue/escalated) and ``kpi_counters``.
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from demo.city import generate as generate_city
from services.command.adapters.tables import case_events, kpi_counters
from services.command.domain import casefile as cf
from services.command.domain.kpi import recompute_kpis
from services.command.domain.sla import SlaPolicy
from services.command.service_layer import dispatch as dispatch_sl
from services.command.service_layer import engage, sla, view
from yiwang.clock import SHANGHAI, FakeClock
from yiwang.contracts import new_envelope
from yiwang.contracts.command import Actor, DispatchCaseRequest, SuperviseCaseRequest
from yiwang.contracts.petitions import CaseCreatedV1, CaseTransitionedV1
from yiwang.errors import DomainError
from yiwang.jurisdiction import Level, code_at, next_level_up
from yiwang.uow import UnitOfWork

# (category, sla class, default department, weight)
CATEGORIES = [
    ("appearance.litter", "quick_1d", "urban_management", 20),
    ("appearance.illegal_building", "complex_7d", "urban_management", 4),
    ("roads.pothole", "standard_3d", "transport", 10),
    ("roads.streetlight", "standard_3d", "urban_management", 8),
    ("roads.illegal_parking", "urgent_2h", "public_security", 8),
    ("environment.noise", "quick_1d", "ecology_environment", 10),
    ("disputes.neighbour", "quick_1d", "community", 8),
    ("disputes.wage_arrears", "complex_7d", "human_resources", 3),
    ("property.elevator", "slow_2d", "market_supervision", 5),
    ("utilities.water_outage", "urgent_2h", "water", 4),
    ("social.hardship", "complex_7d", "civil_affairs", 3),
    ("public_safety.waterlogging", "standard_3d", "water", 3),
]
SOURCES = [
    ("citizen", 40),
    ("hotline", 25),
    ("patrol", 20),
    ("sensor", 5),
    ("suggestion_box", 5),
    ("open311", 5),
]
RUNNING = frozenset({"submitted", "accepted", "dispatched", "in_progress"})
FINISHED = frozenset({"closed", "evaluated", "rejected", "forwarded", "merged"})
DISPATCH_ACTIONS = frozenset({"dispatch", "reassign", "review_rework"})
KPI_TYPES = {
    "accept": cf.CASE_ACCEPTED,
    "dispatch": cf.CASE_DISPATCHED,
    "reassign": cf.CASE_DISPATCHED,
    "review_rework": cf.CASE_DISPATCHED,
    "send_back": cf.CASE_RETURNED,
    "handle": cf.CASE_HANDLED,
    "close": cf.CASE_CLOSED,
    "rate": cf.CASE_EVALUATED,
    "auto_evaluate": cf.CASE_EVALUATED,
}
LEADER = Actor(id="leader-1", role="leader", name="市领导", jurisdiction_code="")


@dataclass
class Fed:
    """One petitions event as fed (the oracle's input)."""

    seq: int
    action: str
    status: str
    at: datetime
    department: str | None = None
    rating: int | None = None


@dataclass
class SimCase:
    case_id: uuid.UUID
    grid: str
    category: str
    sla_class: str
    department: str
    source: str
    created_at: datetime
    slow: bool
    events: list[Fed] = field(default_factory=list)
    manual_escalations: list[datetime] = field(default_factory=list)
    status: str = "submitted"
    seq: int = 1
    rated: int = 0
    handler: str | None = None


def _pick(rng: random.Random, table: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    return rng.choices(table, weights=[t[-1] for t in table])[0]


class Simulation:
    def __init__(
        self,
        factory: Callable[[], UnitOfWork],
        grids: list[str],
        *,
        days: int,
        seed: int,
        start: datetime,
        cases_per_grid_day: float,
    ) -> None:
        self.factory = factory
        self.grids = grids
        self.days = days
        self.rng = random.Random(seed)
        self.start = start
        self.end = start + timedelta(days=days)
        self.rate = cases_per_grid_day
        self.clock = FakeClock(start)
        self.cases: dict[uuid.UUID, SimCase] = {}
        self.queue: list[tuple[datetime, int, str, uuid.UUID]] = []
        self._n = 0
        self.fed = 0
        self.duplicates = 0
        self.sweeps = 0
        self.swept = Counter[str]()

    # -- scheduling ------------------------------------------------------------------------------
    def _at(self, t: datetime, step: str, cid: uuid.UUID) -> None:
        t = t + timedelta(microseconds=self.rng.randint(1, 999_999))
        if t < self.end:
            self._n += 1
            heapq.heappush(self.queue, (t, self._n, step, cid))

    def _after(self, cid: uuid.UUID, step: str, lo_h: float, hi_h: float) -> None:
        now = self.clock.now()
        self._at(now + timedelta(hours=self.rng.uniform(lo_h, hi_h)), step, cid)

    def arrivals(self) -> None:
        n = int(len(self.grids) * self.days * self.rate)
        span = (self.end - self.start).total_seconds()
        for _ in range(n):
            cat, cls, dept, _w = _pick(self.rng, CATEGORIES)
            src = _pick(self.rng, SOURCES)[0]
            t = self.start + timedelta(seconds=self.rng.uniform(0, span * 0.95))
            cid = uuid.UUID(int=self.rng.getrandbits(128), version=4)
            self.cases[cid] = SimCase(
                cid,
                self.rng.choice(self.grids),
                cat,
                cls,
                dept,
                src,
                t,
                slow=self.rng.random() < 0.2,
            )
            self._at(t, "create", cid)

    # -- feeding the service layer ------------------------------------------------------------
    def _feed(self, payload: Any, jurisdiction: str) -> None:
        env = new_envelope(
            payload,
            producer="petitions",
            jurisdiction_code=jurisdiction,
            occurred_at=self.clock.now(),
        )
        now = self.clock.now()
        fn = (
            view.apply_case_created
            if isinstance(payload, CaseCreatedV1)
            else (view.apply_case_transitioned)
        )
        fn(self.factory(), env, payload, now)
        self.fed += 1
        if self.rng.random() < 0.03:  # the broker redelivers now and then
            fn(self.factory(), env, payload, now)
            self.duplicates += 1

    def _step(
        self,
        c: SimCase,
        action: str,
        status: str,
        *,
        department: str | None = None,
        rating: int | None = None,
        rework: bool = False,
        note: str = "",
    ) -> None:
        c.seq += 1
        prev, c.status = c.status, status
        at = self.clock.now()
        c.events.append(Fed(c.seq, action, status, at, department, rating))
        self._feed(
            CaseTransitionedV1(
                case_id=c.case_id,
                seq=c.seq,
                action=action,
                status=status,
                previous_status=prev,
                actor_id="sim",
                actor_role="system",
                at=at,
                jurisdiction_code=c.grid,
                category=c.category,
                source=c.source,
                department=department,
                rating=rating,  # type: ignore[arg-type]
                rework=rework,
                note=note,
            ),
            c.grid,
        )

    def _routed_department(self, c: SimCase) -> str | None:
        with self.factory() as uow:
            body = uow.session.execute(
                sa.text(
                    "SELECT body FROM command.outbox WHERE routing_key = 'case.routed' "
                    "AND body::jsonb->'payload'->>'case_id' = :c ORDER BY seq DESC LIMIT 1"
                ),
                {"c": str(c.case_id)},
            ).scalar()
        if body is None:
            return None
        return json.loads(body)["payload"].get("department")

    def _handle_hours(self, c: SimCase) -> tuple[float, float]:
        base = {
            "urgent_2h": 2,
            "quick_1d": 24,
            "slow_2d": 48,
            "standard_3d": 72,
            "complex_7d": 168,
        }[c.sla_class]
        return (base * 1.2, base * 4) if c.slow else (base * 0.05, base * 0.8)

    def run_step(self, step: str, cid: uuid.UUID) -> None:
        c = self.cases[cid]
        r = self.rng.random()
        if step == "create":
            c.events.append(Fed(1, "create", "submitted", c.created_at))
            self._feed(
                CaseCreatedV1(
                    case_id=c.case_id,
                    seq=1,
                    source=c.source,
                    category=c.category,  # type: ignore[arg-type]
                    title=f"{c.category} 问题 {str(cid)[:8]}",
                    grid_code=c.grid,
                    jurisdiction_code=c.grid,
                    level="grid",
                    status="submitted",
                    created_at=c.created_at,
                    sla_class=c.sla_class,
                    department=c.department,
                    attributes={"description": "居民反映：" + c.category},
                ),
                c.grid,
            )
            self._after(cid, "accept", 0.05, 5 if c.slow else 2)
        elif step == "accept":
            self._step(c, "accept", "accepted")
            if self.rng.random() < 0.03:
                self._after(cid, "cannot_solve", 0.5, 3)
            if self.rng.random() < 0.03:
                self._after(cid, "supervise", 0.5, 6)
            self._after(cid, "dispatch", 0.02, 0.5)
        elif step == "dispatch":
            if c.status != "accepted":
                return
            dept = self._routed_department(c) or c.department
            c.handler = dept
            self._step(c, "dispatch", "dispatched", department=dept)
            if r < 0.07:
                self._after(cid, "send_back", 0.5, 12)
            else:
                self._after(cid, "start", 0.1, 6)
        elif step == "send_back":
            self._step(c, "send_back", "accepted", note="不属于本部门职责")
            self._after(cid, "redispatch", 0.2, 4)
        elif step == "redispatch":
            other = "civil_affairs" if c.handler != "civil_affairs" else "community"
            with_actor = Actor(id="dispatcher-1", role="city_staff", jurisdiction_code="")
            dispatch_sl.dispatch_case(
                self.factory(),
                DispatchCaseRequest(case_id=cid, department=other, actor=with_actor),
                self.clock.now(),
            )
            c.handler = other
            self._step(c, "dispatch", "dispatched", department=other)
            self._after(cid, "start", 0.1, 6)
        elif step == "start":
            self._step(c, "start", "in_progress")
            lo, hi = self._handle_hours(c)
            self._after(cid, "handle", lo, hi)
        elif step == "handle":
            self._step(c, "handle", "handled")
            self._after(cid, "verify", 0.2, 8)
        elif step == "verify":
            if r < 0.05:
                self._step(c, "fail_verification", "in_progress")
                lo, hi = self._handle_hours(c)
                self._after(cid, "handle", lo / 2, hi / 2)
            else:
                self._step(c, "verify", "verified")
                self._after(cid, "close", 0.1, 3)
        elif step == "close":
            self._step(c, "close", "closed")
            if r < 0.25:
                self._after(cid, "auto_evaluate", 72, 73)
            else:
                self._after(cid, "rate", 0.5, 48)
        elif step == "auto_evaluate":
            self._step(c, "auto_evaluate", "evaluated")
        elif step == "rate":
            rating = self.rng.choice([1, 2, 3, 4, 5, 5, 5, 4])
            c.rated += 1
            if rating >= 3:
                self._step(c, "rate", "evaluated", rating=rating)
            elif c.rated == 1:
                self._step(c, "rate", "dispatched", rating=rating, rework=True)
                self._after(cid, "start", 0.2, 8)
            else:
                self._step(c, "rate", "community_review", rating=rating)
                self._after(cid, "conclude_review", 2, 24)
        elif step == "conclude_review":
            self._step(c, "conclude_review", "evaluated")
        elif step == "cannot_solve":
            actor = Actor(id="street-1", role="street_staff", jurisdiction_code=c.grid[:9])
            try:
                sla.escalate_case(self.factory(), cid, actor, "本级无法解决", self.clock.now())
                c.manual_escalations.append(self.clock.now())
            except DomainError:
                pass
        elif step == "supervise":
            try:
                engage.supervise_case(
                    self.factory(),
                    SuperviseCaseRequest(
                        case_id=cid, note="请尽快办理", deadline_hours=24, actor=LEADER
                    ),
                    self.clock.now(),
                )
            except DomainError:
                pass

    def sweep(self) -> None:
        res = sla.sweep(self.factory(), self.clock.now())
        self.sweeps += 1
        self.swept.update({k: v for k, v in res.items() if k != "rows"})

    def run(self) -> None:
        self.arrivals()
        while self.queue:
            t, _, step, cid = heapq.heappop(self.queue)
            self.clock.set(t)
            self.sweep()
            self.run_step(step, cid)
        self.clock.set(self.end)
        self.sweep()


# -- the oracle -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ExpectedEscalation:
    case_id: str
    no: int
    to_level: str
    jurisdiction_code: str
    at: datetime
    due: datetime
    reason: str


def oracle(
    cases: list[SimCase], end: datetime, policy: SlaPolicy | None = None
) -> tuple[list[ExpectedEscalation], list[tuple[str, datetime]], list[cf.CaseEvent]]:
    """From the fed events alone: escalations, overdue marks, and the KPI event log."""
    policy = policy or SlaPolicy()
    escalations: list[ExpectedEscalation] = []
    overdues: list[tuple[str, datetime]] = []
    kpi_log: list[cf.CaseEvent] = []
    for c in cases:
        if c.events:
            kpi_log.extend(_oracle_case(c, end, policy, escalations, overdues))
    return escalations, overdues, kpi_log


def _oracle_case(
    c: SimCase,
    end: datetime,
    policy: SlaPolicy,
    escalations: list[ExpectedEscalation],
    overdues: list[tuple[str, datetime]],
) -> list[cf.CaseEvent]:
    cid = str(c.case_id)
    level = Level.GRID
    escalated = False
    cls = c.sla_class
    d0 = policy.handling_deadline(cls, level, c.created_at)
    due = d0.due
    running, stuck, last_at, handler = True, False, c.created_at, None
    n = 0
    log: list[cf.CaseEvent] = []

    def add(type_: str, at: datetime, **data: Any) -> None:
        nonlocal n
        n += 1
        log.append(cf.CaseEvent(cid, n, type_, at, data))  # noqa: B023

    def fire(limit: datetime) -> None:
        nonlocal level, escalated, due, stuck
        while running and not stuck:
            f = max(due, last_at)
            if f > limit:
                return
            overdues.append((cid, f))
            add(cf.CASE_OVERDUE, f)
            up = next_level_up(level)
            if up is None:
                stuck = True
                return
            new = policy.handling_deadline(cls, up, f, escalated=True)
            escalations.append(
                ExpectedEscalation(
                    cid,
                    len([e for e in escalations if e.case_id == cid]) + 1,
                    str(up),
                    code_at(c.grid, up),
                    f,
                    new.due,
                    "overdue",
                )
            )
            add(cf.CASE_ESCALATED, f, to_level=str(up), due=new.due)
            level, escalated, due = up, True, new.due

    acc = policy.accept_deadline(cls, c.created_at)
    add(
        cf.CASE_CREATED,
        c.created_at,
        grid_code=c.grid,
        created_at=c.created_at,
        accept_due=acc.due,
        due=d0.due,
        source=c.source,
        category=c.category,
    )
    manual = sorted(c.manual_escalations)
    steps: list[tuple[datetime, int, Any]] = [(e.at, 1, e) for e in c.events[1:]]
    steps += [(m, 0, None) for m in manual]
    steps.sort(key=lambda s: (s[0], s[1]))
    status = "submitted"
    for at, _kind, e in steps:
        fire(at)
        if e is None:  # explicit "cannot solve" (recorded only when it succeeded)
            up = next_level_up(level)
            assert up is not None and status not in FINISHED
            new = policy.handling_deadline(cls, up, at, escalated=True)
            escalations.append(
                ExpectedEscalation(
                    cid,
                    len([x for x in escalations if x.case_id == cid]) + 1,
                    str(up),
                    code_at(c.grid, up),
                    at,
                    new.due,
                    "cannot_solve",
                )
            )
            add(cf.CASE_ESCALATED, at, to_level=str(up), due=new.due)
            level, escalated, due, stuck = up, True, new.due, False
            continue
        status = e.status
        type_ = KPI_TYPES.get(e.action)
        if e.action in DISPATCH_ACTIONS:
            due = policy.handling_deadline(cls, level, e.at, escalated=escalated).due
            stuck = False
            handler = e.department
            add(cf.CASE_DISPATCHED, e.at, handler=handler, due=due)
        elif type_ == cf.CASE_EVALUATED:
            ok = e.rating >= 3 if e.rating is not None else True
            add(type_, e.at, satisfied=ok)
        elif type_ == cf.CASE_RETURNED:
            add(type_, e.at, reason="x")
        elif type_ is not None:
            add(type_, e.at)
        else:
            add(cf.CASE_STEPPED, e.at)
        running = status in RUNNING
        last_at = e.at
    fire(end)
    return log


def stored_escalations(factory: Callable[[], UnitOfWork]) -> list[ExpectedEscalation]:
    ce = case_events
    with factory() as uow:
        rows = uow.session.execute(
            sa.select(ce.c.case_id, ce.c.at, ce.c.data).where(ce.c.type == cf.CASE_ESCALATED)
        ).all()
    return [
        ExpectedEscalation(
            str(r.case_id),
            int(r.data["escalation_no"]),
            r.data["to_level"],
            r.data["jurisdiction_code"],
            r.at,
            datetime.fromisoformat(r.data["due"]),
            r.data["reason"],
        )
        for r in rows
    ]


def stored_overdues(factory: Callable[[], UnitOfWork]) -> list[tuple[str, datetime]]:
    ce = case_events
    with factory() as uow:
        rows = uow.session.execute(
            sa.select(ce.c.case_id, ce.c.at).where(ce.c.type == cf.CASE_OVERDUE)
        ).all()
    return [(str(r.case_id), r.at) for r in rows]


def stored_kpis(factory: Callable[[], UnitOfWork]) -> dict[Any, dict[str, int]]:
    k = kpi_counters
    out: dict[Any, dict[str, int]] = {}
    with factory() as uow:
        for code, dept, day, metric, value in uow.session.execute(
            sa.select(
                k.c.code, k.c.department, k.c.day, k.c.metric, sa.func.sum(k.c.value)
            ).group_by(k.c.code, k.c.department, k.c.day, k.c.metric)
        ):
            if value:
                out.setdefault((code, dept, day), {})[metric] = int(value)
    return out


def _norm(items: list[Any]) -> list[Any]:
    def key(x: Any) -> tuple[Any, ...]:
        if isinstance(x, tuple):
            return (x[0], x[1].timestamp())
        return (x.case_id, x.no, x.at.timestamp())

    return sorted(items, key=key)


@dataclass
class Report:
    cases: int
    events_fed: int
    duplicates: int
    sweeps: int
    swept: dict[str, int]
    escalations: int
    escalations_by_level: dict[str, int]
    overdue: int
    kpi_keys: int
    escalations_equal: bool
    overdue_equal: bool
    kpis_equal: bool
    seconds: float
    mismatches: list[str]


def run(
    factory: Callable[[], UnitOfWork],
    grids: list[str],
    *,
    days: int,
    seed: int = 7,
    start: datetime | None = None,
    cases_per_grid_day: float = 0.1,
) -> Report:
    t0 = time.monotonic()
    start = start or datetime(2026, 3, 2, 0, 0, tzinfo=SHANGHAI)
    sim = Simulation(
        factory, grids, days=days, seed=seed, start=start, cases_per_grid_day=cases_per_grid_day
    )
    sim.run()
    exp_esc, exp_over, kpi_log = oracle(list(sim.cases.values()), sim.end)
    got_esc, got_over = stored_escalations(factory), stored_overdues(factory)
    want_kpis, got_kpis = recompute_kpis(kpi_log), stored_kpis(factory)
    mismatches = []
    e_ok = _norm(exp_esc) == _norm(got_esc)
    if not e_ok:
        a, b = set(exp_esc), set(got_esc)
        mismatches += [f"escalation expected, missing: {x}" for x in list(a - b)[:5]]
        mismatches += [f"escalation stored, unexpected: {x}" for x in list(b - a)[:5]]
    o_ok = _norm(exp_over) == _norm(got_over)
    if not o_ok:
        mismatches.append(f"overdue: expected {len(exp_over)}, stored {len(got_over)}")
    k_ok = want_kpis == got_kpis
    if not k_ok:
        keys = set(want_kpis) | set(got_kpis)
        for key in sorted(keys, key=repr)[:2000]:
            if want_kpis.get(key) != got_kpis.get(key):
                mismatches.append(
                    f"kpi {key}: oracle {want_kpis.get(key)} stored {got_kpis.get(key)}"
                )
                if len(mismatches) > 12:
                    break
    return Report(
        cases=len(sim.cases),
        events_fed=sim.fed,
        duplicates=sim.duplicates,
        sweeps=sim.sweeps,
        swept=dict(sim.swept),
        escalations=len(got_esc),
        escalations_by_level=dict(Counter(e.to_level for e in got_esc)),
        overdue=len(got_over),
        kpi_keys=len(got_kpis),
        escalations_equal=e_ok,
        overdue_equal=o_ok,
        kpis_equal=k_ok,
        seconds=round(time.monotonic() - t0, 1),
        mismatches=mismatches,
    )


def reset(factory: Callable[[], UnitOfWork]) -> None:
    """Empty the command's case data (not its rules and departments)."""
    with factory() as uow:
        uow.session.execute(
            sa.text(
                "TRUNCATE command.case_view, command.case_events, command.kpi_counters, "
                "command.whistles, command.supervisions, command.alerts, command.outbox, "
                "command.inbox"
            )
        )
        uow.session.execute(sa.text("ALTER TABLE command.audit_log DISABLE TRIGGER USER"))
        uow.session.execute(sa.text("TRUNCATE command.audit_log"))
        uow.session.execute(sa.text("ALTER TABLE command.audit_log ENABLE TRIGGER USER"))
        uow.commit()


def main(argv: list[str] | None = None) -> int:
    from yiwang.config import Settings
    from yiwang.db import ensure_database, make_engine
    from yiwang.migrate import upgrade
    from yiwang.uow import uow_factory

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--grids", type=int, default=0, help="use only the first N grids (0 = all)")
    p.add_argument("--rate", type=float, default=0.03, help="cases per grid per day")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--database-url", default="")
    args = p.parse_args(argv)
    url = args.database_url or Settings().database_url.rsplit("/", 1)[0] + "/yiwang_simulation"
    ensure_database(url)
    upgrade(url)
    engine = make_engine(url, pool_size=4)
    factory = uow_factory(engine, producer="command", schema="command")
    reset(factory)
    city = generate_city("small", args.seed, with_people=False)
    grids = city.grid_codes[: args.grids] if args.grids else city.grid_codes
    print(f"simulating {args.days} days of {len(grids)} grids ({url.rsplit('/', 1)[1]}) ...")
    rep = run(factory, grids, days=args.days, seed=args.seed, cases_per_grid_day=args.rate)
    for k, v in vars(rep).items():
        if k != "mismatches":
            print(f"  {k:22} {v}")
    for m in rep.mismatches:
        print("  MISMATCH", m)
    ok = rep.escalations_equal and rep.overdue_equal and rep.kpis_equal
    print("oracle:", "EQUAL" if ok else "DIFFERENT")
    engine.dispose()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
