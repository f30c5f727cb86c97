"""Cases in PostgreSQL: the aggregate's JSONB snapshot plus indexed columns.

``save`` is optimistic: ``UPDATE … WHERE id = :id AND version = :expected``; zero rows means
someone else saved first (``Conflict('version_conflict')``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.petitions.adapters.tables import case_followers, case_reports, cases
from services.petitions.domain.case import Case
from services.petitions.domain.common import version_conflict
from services.petitions.domain.duplicates import (
    INDEX_PRECISION,
    Candidate,
    candidate_cells,
    geohash,
)
from services.petitions.domain.lifecycle import OPEN
from yiwang.errors import NotFound


def not_found(case_id: Any) -> NotFound:
    return NotFound(
        "case_not_found", f"case {case_id} not found", f"案件{case_id}不存在", case_id=str(case_id)
    )


def _columns(case: Case) -> dict[str, Any]:
    gh = (
        geohash(case.lat, case.lon, INDEX_PRECISION)
        if case.lat is not None and case.lon is not None
        else None
    )
    return {
        "category": case.category,
        "title": case.title[:200],
        "grid_code": case.grid_code,
        "jurisdiction_code": case.jurisdiction_code,
        "status": case.status.value,
        "lat": case.lat,
        "lon": case.lon,
        "geohash": gh,
        "public": case.public,
        "account_id": case.reporter.account_id,
        "parent_id": uuid.UUID(case.parent_id) if case.parent_id else None,
        "due_at": case.due_at,
        "closed_at": case.closed_at,
        "ended_at": case.ended_at,
        "info_deadline": case.info_request.deadline if case.info_request else None,
        "contact_erased_at": case.contact_erased_at,
        "supporter_count": case.supporter_count,
        "version": case.version,
        "state": case.to_dict(),
    }


def insert(s: Session, case: Case, *, report_id: uuid.UUID | None, now: datetime) -> None:
    s.execute(
        cases.insert(),
        {
            "id": uuid.UUID(case.case_id),
            "report_id": report_id,
            "source": case.source.value,
            "external_ref": case.external_ref,
            "created_at": case.created_at,
            "updated_at": now,
            **_columns(case),
        },
    )
    if case.reporter.account_id:
        follow(s, case.reporter.account_id, case.case_id, "reporter", case.created_at)


# optimistic concurrency: the row changes only if nobody saved the case meanwhile
_SAVE = cases.update().where(
    cases.c.id == sa.bindparam("b_id"), cases.c.version == sa.bindparam("b_expected")
)


def save(s: Session, case: Case, expected_version: int, now: datetime) -> None:
    res = s.execute(
        _SAVE,
        {
            "b_id": uuid.UUID(case.case_id),
            "b_expected": expected_version,
            "updated_at": now,
            **_columns(case),
        },
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        actual = s.execute(
            sa.select(cases.c.version).where(cases.c.id == uuid.UUID(case.case_id))
        ).scalar()
        raise version_conflict(expected_version, int(actual or 0))


def load(s: Session, case_id: uuid.UUID | str, *, for_update: bool = False) -> Case:
    stmt = sa.select(cases.c.state).where(cases.c.id == uuid.UUID(str(case_id)))
    if for_update:
        stmt = stmt.with_for_update()
    state = s.execute(stmt).scalar()
    if state is None:
        raise not_found(case_id)
    return Case.from_dict(state)


def load_many(s: Session, ids: Iterable[str]) -> list[Case]:
    keys = [uuid.UUID(str(i)) for i in ids]
    if not keys:
        return []
    rows = s.execute(sa.select(cases.c.state).where(cases.c.id.in_(keys))).scalars()
    return [Case.from_dict(r) for r in rows]


# statements built once: executed with parameters apart, they are compiled once per process
_FOLLOW = pg_insert(case_followers).on_conflict_do_nothing()
_LINK_REPORT = pg_insert(case_reports).on_conflict_do_nothing()


def follow(s: Session, account_id: str, case_id: str, relation: str, at: datetime) -> None:
    s.execute(
        _FOLLOW,
        {"account_id": account_id, "case_id": uuid.UUID(case_id), "relation": relation, "at": at},
    )


def link_report(
    s: Session,
    report_id: uuid.UUID,
    case_id: str,
    outcome: str,
    account_id: str | None,
    at: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    s.execute(
        _LINK_REPORT,
        {
            "report_id": report_id,
            "case_id": uuid.UUID(case_id),
            "outcome": outcome,
            "account_id": account_id,
            "at": at,
            "details": details,
        },
    )


DUPLICATE_LOCK_RADIUS_M = 60.0  # above the 50 m duplicate radius


def duplicate_candidates(
    s: Session, category: str, cells: Iterable[str], since: datetime
) -> list[Candidate]:
    rows = s.execute(
        sa.select(
            cases.c.id,
            cases.c.category,
            cases.c.lat,
            cases.c.lon,
            cases.c.created_at,
            cases.c.status,
        ).where(
            cases.c.category == category,
            cases.c.geohash.in_(sorted(cells)),
            cases.c.created_at >= since,
            cases.c.status.in_([st.value for st in OPEN]),
        )
    ).all()
    return [
        Candidate(str(r.id), r.category, r.lat, r.lon, r.created_at, True)
        for r in rows
        if r.lat is not None
    ]


def lock_duplicate_bucket(s: Session, category: str, lat: float, lon: float) -> None:
    """Serialise duplicate checks of one category around one spot (transaction locks).

    One lock per ~1.2 km x 0.6 km geohash cell that the duplicate radius touches, taken in
    sorted order (no deadlocks): two reports that could be duplicates of each other always
    share a cell, while reports far apart never wait for each other.
    """
    for key in duplicate_lock_keys(category, lat, lon):
        s.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


def duplicate_lock_keys(category: str, lat: float, lon: float) -> list[str]:
    """The duplicate-check locks of a report at (lat, lon), in their one sorted order."""
    cells = candidate_cells(lat, lon, DUPLICATE_LOCK_RADIUS_M, precision=6)
    return sorted(f"petitions:dup:{category}:{cell}" for cell in cells)


def lock_in_order(s: Session, keys: list[str]) -> None:
    """Take the transaction locks ``keys`` one after the other in sorted order, in one
    statement (a batch of reports takes all its locks before its first report, so two
    batches never hold them in opposite orders)."""
    if keys:
        s.execute(
            sa.text(
                "SELECT count(pg_advisory_xact_lock(hashtext(k))) "
                "FROM (SELECT k FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k) AS ordered"
            ),
            {"keys": sorted(set(keys))},
        )


def due_ids(s: Session, column: str, before: datetime, limit: int = 200) -> list[uuid.UUID]:
    col = cases.c[column]
    conds: list[Any] = [col.is_not(None), col <= before]
    if column == "closed_at":
        conds.append(cases.c.status == "closed")
    if column == "ended_at":
        conds.append(cases.c.contact_erased_at.is_(None))
    return list(s.execute(sa.select(cases.c.id).where(*conds).order_by(col).limit(limit)).scalars())
