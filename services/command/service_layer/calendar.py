"""The working-day calendar kept as data per year (``calendar_years``), and the per-process
cache every deadline computation reads.

Administrators list, read and replace years through ``list_years``/``get_year``/``put_year``
(one unit of work each; every change is appended to the audit trail as
``calendar:<year>`` / ``calendar.put``).

Deadlines never read the table: they use ``LIVE_CALENDAR``, the one ``WorkingCalendar`` of
the process (``fold.POLICY`` is built on it). ``CACHE.refresh_due`` checks the calendar's
revision (``max(revision)``, one indexed row count of at most a few dozen rows) at most once
every ``REFRESH_S`` seconds and reloads the years only when it changed, so an edit made on
one command process reaches every other within a few seconds, and the SLA sweep costs
nothing per case. The process that saves an edit reloads at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.command.adapters.tables import calendar_years
from services.command.domain.calendar import CalendarDay, CalendarYear, WorkingCalendar
from services.command.service_layer import audit
from yiwang.contracts.command import Actor, PutCalendarYearRequest
from yiwang.errors import Conflict
from yiwang.logging import get_logger
from yiwang.uow import UnitOfWork

log = get_logger(__name__)

REFRESH_S = 2.0  # the longest an edit made elsewhere takes to reach this process


class LiveCalendar(WorkingCalendar):
    """The process's working calendar. It is the one ``WorkingCalendar`` whose days change:
    ``CalendarCache`` swaps them in with ``_take`` (three assignments, no I/O in between, so
    no green thread ever sees half an update). Office hours and zone never change."""

    def _take(self, other: WorkingCalendar) -> None:
        object.__setattr__(self, "holidays", other.holidays)
        object.__setattr__(self, "makeup_workdays", other.makeup_workdays)
        object.__setattr__(self, "year_statuses", other.year_statuses)


def _initial() -> LiveCalendar:
    base = WorkingCalendar.from_data()  # HOLIDAY_DATA, the table's seed, until the first load
    return LiveCalendar(base.holidays, base.makeup_workdays, dict(base.year_statuses))


LIVE_CALENDAR = _initial()


def _year_of(row: Mapping[Any, Any]) -> CalendarYear:
    return CalendarYear.from_data(
        {
            "year": row["year"],
            "status": row["status"],
            "source": row["source"],
            "holidays": row["holidays"],
            "makeup_workdays": row["makeup_workdays"],
        }
    )


class CalendarCache:
    """Keeps ``LIVE_CALENDAR`` equal to the table (per process)."""

    def __init__(self, live: LiveCalendar, refresh_s: float = REFRESH_S) -> None:
        self.live = live
        self.refresh_s = refresh_s
        self.revision = -1  # -1: the seed data, nothing loaded from the table yet
        self._checked = float("-inf")
        self._busy = False

    def due(self) -> bool:
        return time.monotonic() - self._checked >= self.refresh_s

    def refresh(self, session: Session, *, force: bool = False) -> bool:
        """Reload the years if the calendar's revision changed; True if it did."""
        if (not force and not self.due()) or self._busy:
            return False
        self._busy = True
        self._checked = time.monotonic()
        try:
            rev = int(
                session.execute(
                    sa.select(sa.func.coalesce(sa.func.max(calendar_years.c.revision), 0))
                ).scalar_one()
            )
            if rev == self.revision:
                return False
            rows = session.execute(sa.select(calendar_years)).mappings().all()
            self.install(rev, [_year_of(r) for r in rows])
            return True
        finally:
            self._busy = False

    def refresh_due(self, factory: Callable[[], UnitOfWork]) -> None:
        """``refresh`` in its own unit of work when due (called before each worker runs);
        a failure keeps the current calendar and is retried after ``refresh_s``."""
        if not self.due() or self._busy:
            return
        try:
            with factory() as uow:
                if self.refresh(uow.session):
                    log.info("calendar_reloaded", revision=self.revision)
        except Exception as exc:  # noqa: BLE001 - deadlines keep the last good calendar
            log.warning("calendar_refresh_failed", error=str(exc)[:200])

    def install(self, revision: int, years: Iterable[CalendarYear]) -> None:
        self.live._take(WorkingCalendar.from_years(years))
        self.revision = revision

    def reset(self) -> None:
        """Back to the seed data (tests that edit the calendar in-process)."""
        self.live._take(WorkingCalendar.from_data())
        self.revision = -1
        self._checked = float("-inf")


CACHE = CalendarCache(LIVE_CALENDAR)


# -- the RPCs -------------------------------------------------------------------------------
def _out(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "year": row["year"],
        "status": row["status"],
        "source": row["source"],
        "holidays": list(row["holidays"]),
        "makeup_workdays": list(row["makeup_workdays"]),
        "revision": int(row["revision"]),
        "updated_at": row["updated_at"],
        "updated_by": row["updated_by"],
    }


def list_years(uow: UnitOfWork) -> dict[str, Any]:
    with uow:
        rows = (
            uow.session.execute(sa.select(calendar_years).order_by(calendar_years.c.year))
            .mappings()
            .all()
        )
    items = [
        {**_out(r), "holidays": len(r["holidays"]), "makeup_workdays": len(r["makeup_workdays"])}
        for r in rows
    ]
    return {"items": items, "revision": max((i["revision"] for i in items), default=0)}


def get_year(uow: UnitOfWork, year: int) -> dict[str, Any]:
    """The year as kept; a year without data answers ``fallback_weekdays`` (Mon–Fri)."""
    with uow:
        row = (
            uow.session.execute(sa.select(calendar_years).where(calendar_years.c.year == year))
            .mappings()
            .first()
        )
    if row is None:
        return {
            "year": year,
            "status": "fallback_weekdays",
            "source": "",
            "holidays": [],
            "makeup_workdays": [],
            "revision": 0,
            "updated_at": None,
            "updated_by": "",
        }
    return _out(row)


def _days(items: Iterable[Any]) -> list[CalendarDay]:
    return [
        CalendarDay(d.day if isinstance(d.day, date) else date.fromisoformat(d.day), d.name)
        for d in items
    ]


def put_year(uow: UnitOfWork, req: PutCalendarYearRequest, now: datetime) -> dict[str, Any]:
    """Replace one year (validated by ``CalendarYear.of``), audited; optimistic concurrency
    by ``expected_revision`` (0 = the year must not exist yet)."""
    year = CalendarYear.of(
        req.year, req.status, _days(req.holidays), _days(req.makeup_workdays), req.source
    )
    data = year.to_data()
    actor = req.actor or Actor(id="system", role="system")
    with uow:
        s = uow.session
        before = (
            s.execute(
                sa.select(calendar_years)
                .where(calendar_years.c.year == year.year)
                .with_for_update()
            )
            .mappings()
            .first()
        )
        current = int(before["revision"]) if before else 0
        if req.expected_revision is not None and req.expected_revision != current:
            raise Conflict(
                "calendar_year_changed",
                f"the calendar of {year.year} changed since you loaded it "
                f"(revision {current}, not {req.expected_revision}); reload it",
                f"{year.year}年日历已被他人修改（版本{current}），请刷新后再编辑",
                year=year.year,
                revision=current,
            )
        values = {k: data[k] for k in ("status", "source", "holidays", "makeup_workdays")}
        stmt = pg_insert(calendar_years).values(
            year=year.year,
            **values,
            updated_at=now,
            updated_by=actor.id,
            revision=sa.func.nextval(sa.literal_column("'command.calendar_revision_seq'")),
        )
        upsert = stmt.on_conflict_do_update(
            index_elements=[calendar_years.c.year],
            set_={
                **{k: stmt.excluded[k] for k in values},
                "updated_at": now,
                "updated_by": actor.id,
                "revision": stmt.excluded.revision,
            },
        ).returning(*calendar_years.c)
        row = s.execute(upsert).mappings().one()
        prior = {k: before[k] for k in values} if before else {}
        audit.append(
            s,
            [
                audit.AuditItem(
                    f"calendar:{year.year}",
                    actor.id,
                    actor.role,
                    "calendar.put",
                    now,
                    prior,
                    values,
                )
            ],
        )
        out = _out(row)
        uow.commit()
    with uow:  # this process uses the edit at once; the others within REFRESH_S
        CACHE.refresh(uow.session, force=True)
    log.info("calendar_year_saved", year=year.year, revision=out["revision"], actor=actor.id)
    return out
