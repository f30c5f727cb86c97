"""Points (积分): an append-only ledger per account; balance = SUM of its entries.

Writers of one account are serialised with a transaction-scoped advisory lock on the
account, so concurrent redemptions cannot both spend the same points; the per-account
``seq`` unique constraint and ``balance_after >= 0`` check are the database's backstop.
Rows are only ever inserted (a trigger refuses UPDATE/DELETE).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.volunteers.adapters.tables import points_entries as pe
from services.volunteers.domain.points import Account, Entry, EntryKind, HolderKind, Ledger
from services.volunteers.service_layer.common import staff_of, unique_or_conflict
from yiwang import access
from yiwang.clock import SHANGHAI
from yiwang.contracts.volunteers import (
    AdjustPointsRequest,
    PointsAwardedV1,
    PointsBalanceRequest,
    PointsLeaderboardRequest,
    PointsStatementRequest,
    RedeemPointsRequest,
)
from yiwang.errors import NotFound, ValidationFailed
from yiwang.uow import UnitOfWork


def _lock(session: Session, acct: Account) -> None:
    session.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
        {"k": f"volunteers.points:{acct.kind}:{acct.holder_id}"},
    )


def _entry(row: Any) -> Entry:
    return Entry(
        seq=row.seq,
        account=Account(HolderKind(row.holder_kind), row.holder_id),
        kind=EntryKind(row.kind),
        amount=row.amount,
        reason=row.reason,
        at=row.at,
        community_code=row.community_code,
        ref=row.ref,
        by=row.by,
    )


def load_ledger(session: Session, acct: Account, *, lock: bool = False) -> Ledger:
    if lock:
        _lock(session, acct)
    rows = session.execute(
        sa.select(pe)
        .where(pe.c.holder_kind == str(acct.kind), pe.c.holder_id == acct.holder_id)
        .order_by(pe.c.seq)
    ).all()
    return Ledger(acct, (_entry(r) for r in rows))


def _append(session: Session, ledger: Ledger, entry: Entry) -> None:
    with unique_or_conflict(
        "points_concurrent_write", "the ledger changed; retry", "积分流水已变化，请重试"
    ):
        session.execute(
            pe.insert().values(
                holder_kind=str(entry.account.kind),
                holder_id=entry.account.holder_id,
                seq=entry.seq,
                kind=str(entry.kind),
                amount=entry.amount,
                balance_after=ledger.balance,
                reason=entry.reason,
                ref=entry.ref,
                community_code=entry.community_code,
                by=entry.by,
                at=entry.at,
            )
        )


def entry_view(e: Entry) -> dict[str, Any]:
    return dict(
        seq=e.seq,
        kind=str(e.kind),
        amount=e.amount,
        reason=e.reason,
        at=e.at,
        community_code=e.community_code,
        ref=e.ref,
        by=e.by,
    )


def award(
    uow: UnitOfWork,
    *,
    holder_kind: str,
    holder_id: str,
    points: int,
    reason: str,
    ref: str,
    community_code: str,
    now: datetime,
) -> Entry:
    """Credit earned points inside the caller's unit of work and emit ``points.awarded``."""
    acct = Account(HolderKind(holder_kind), holder_id)
    ledger = load_ledger(uow.session, acct, lock=True)
    entry = ledger.earn(points, reason=reason, ref=ref, community_code=community_code, now=now)
    _append(uow.session, ledger, entry)
    uow.emit(
        PointsAwardedV1(
            holder_kind=holder_kind,  # type: ignore[arg-type]
            holder_id=holder_id,
            points=points,  # type: ignore[arg-type]
            reason=entry.reason,
            ref=ref,
            community_code=community_code,
            entry_seq=entry.seq,
            balance=ledger.balance,
            occurred_at=now,
        ),
        jurisdiction_code=community_code,
    )
    return entry


def redeem(uow: UnitOfWork, req: RedeemPointsRequest, now: datetime) -> dict[str, Any]:
    with uow:
        ledger = load_ledger(
            uow.session, Account(HolderKind(req.holder_kind), req.holder_id), lock=True
        )
        entry = ledger.redeem(
            req.amount, reason=req.reason, community_code=req.community_code, now=now, ref=req.ref
        )
        _append(uow.session, ledger, entry)
        uow.commit()
        return {"entry": entry_view(entry), "balance": ledger.balance}


def adjust(uow: UnitOfWork, req: AdjustPointsRequest, now: datetime) -> dict[str, Any]:
    with uow:
        ledger = load_ledger(
            uow.session, Account(HolderKind(req.holder_kind), req.holder_id), lock=True
        )
        entry = ledger.adjust(
            req.amount,
            reason=req.reason,
            staff=staff_of(req.staff, req.community_code),
            community_code=req.community_code,
            now=now,
        )
        _append(uow.session, ledger, entry)
        uow.commit()
        return {"entry": entry_view(entry), "balance": ledger.balance}


def balance(uow: UnitOfWork, req: PointsBalanceRequest) -> dict[str, Any]:
    with uow:
        total, n = uow.session.execute(
            sa.select(sa.func.coalesce(sa.func.sum(pe.c.amount), 0), sa.func.count()).where(
                pe.c.holder_kind == req.holder_kind, pe.c.holder_id == req.holder_id
            )
        ).one()
    return {
        "holder_kind": req.holder_kind,
        "holder_id": req.holder_id,
        "balance": int(total),
        "entries": int(n),
    }


def _holder_not_found(holder_id: str) -> NotFound:
    return NotFound(
        "holder_not_found",
        f"no points holder {holder_id}",
        f"积分账户{holder_id}不存在",
        holder_id=holder_id,
    )


def statement(uow: UnitOfWork, req: PointsStatementRequest) -> dict[str, Any]:
    with uow:
        if req.reader is not None:  # staff: only a holder of a community inside their unit
            communities = (
                uow.session.execute(
                    sa.select(pe.c.community_code)
                    .distinct()
                    .where(pe.c.holder_kind == req.holder_kind, pe.c.holder_id == req.holder_id)
                )
                .scalars()
                .all()
            )
            reader = access.Accessor(req.reader.staff_id, "staff", req.reader.jurisdiction_code)
            access.check_statement(
                reader, req.holder_id, communities, unknown=lambda: _holder_not_found(req.holder_id)
            )
        ledger = load_ledger(uow.session, Account(HolderKind(req.holder_kind), req.holder_id))
    st = ledger.statement(req.year)
    return dict(
        holder_kind=req.holder_kind,
        holder_id=req.holder_id,
        year=st.year,
        opening_balance=st.opening_balance,
        earned=st.earned,
        redeemed=st.redeemed,
        adjusted=st.adjusted,
        closing_balance=st.closing_balance,
        entries=[entry_view(e) for e in st.entries],
    )


def leaderboard(uow: UnitOfWork, req: PointsLeaderboardRequest) -> dict[str, Any]:
    """Points earned (earn + adjust; redemptions don't lower a rank) inside a community or
    street, optionally in one Asia/Shanghai year; ties share a rank (1, 2, 2, 4)."""
    if len(req.scope_code) not in (9, 12):
        raise ValidationFailed("invalid_leaderboard_scope", "9 or 12 digits", "须为9或12位编码")
    conds = [pe.c.kind != "redeem", pe.c.community_code.startswith(req.scope_code, autoescape=True)]
    if req.year is not None:
        y0 = datetime(req.year, 1, 1, tzinfo=SHANGHAI)
        y1 = datetime(req.year + 1, 1, 1, tzinfo=SHANGHAI)
        conds += [pe.c.at >= y0, pe.c.at < y1]
    if req.holder_kind is not None:
        conds.append(pe.c.holder_kind == req.holder_kind)
    total = sa.func.sum(pe.c.amount).label("points")
    with uow:
        rows = uow.session.execute(
            sa.select(pe.c.holder_kind, pe.c.holder_id, total)
            .where(*conds)
            .group_by(pe.c.holder_kind, pe.c.holder_id)
            .order_by(total.desc(), pe.c.holder_kind, pe.c.holder_id)
            .limit(req.top)
        ).all()
    out: list[dict[str, Any]] = []
    for i, r in enumerate(rows):
        pts = int(r.points)
        rank = out[-1]["rank"] if out and out[-1]["points"] == pts else i + 1
        out.append(
            {"rank": rank, "holder_kind": r.holder_kind, "holder_id": r.holder_id, "points": pts}
        )
    return {"scope_code": req.scope_code, "year": req.year, "rows": out}
