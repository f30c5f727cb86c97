"""The unified dispatch view: fold case events into ``case_view``; page through it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.command.adapters.tables import case_view
from yiwang.contracts import Envelope
from yiwang.contracts.command import ListCasesRequest
from yiwang.contracts.petitions import CaseCreatedV1
from yiwang.uow import UnitOfWork

CONSUMER = "command.handle_case_event"


def apply_case_created(uow: UnitOfWork, env: Envelope, ev: CaseCreatedV1, now: datetime) -> bool:
    """Insert or refresh the case's row; older or repeated events change nothing."""
    with uow:
        if not uow.claim_event(CONSUMER, env.id, env.type):
            return False
        values = dict(
            case_id=ev.case_id, source=ev.source, category=ev.category, title=ev.title,
            grid_code=ev.grid_code, jurisdiction_code=ev.jurisdiction_code, level=ev.level,
            status=ev.status, last_seq=ev.seq, created_at=ev.created_at, updated_at=now,
        )
        stmt = pg_insert(case_view).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[case_view.c.case_id],
            set_={k: stmt.excluded[k] for k in values if k != "case_id"},
            where=case_view.c.last_seq < stmt.excluded.last_seq,
        )
        uow.session.execute(stmt)
        uow.commit()
        return True


def list_cases(uow: UnitOfWork, req: ListCasesRequest) -> dict[str, Any]:
    cv = case_view
    conds: list[Any] = []
    if req.jurisdiction_prefix:
        conds.append(cv.c.jurisdiction_code.startswith(req.jurisdiction_prefix, autoescape=True))
    for field in ("status", "source", "category", "overdue", "supervised"):
        value = getattr(req, field)
        if value is not None:
            conds.append(cv.c[field] == value)
    where = sa.and_(sa.true(), *conds)
    with uow:
        total = uow.session.execute(sa.select(sa.func.count()).select_from(cv).where(where)).scalar_one()
        rows = uow.session.execute(
            sa.select(cv).where(where)
            .order_by(cv.c.created_at.desc(), cv.c.case_id)
            .limit(req.page_size).offset((req.page - 1) * req.page_size)
        ).mappings().all()
    items = [{k: v for k, v in r.items() if k != "last_seq"} for r in rows]
    return {"items": items, "total": total, "page": req.page, "page_size": req.page_size}
