"""Points (积分): an append-only ledger per person and per unit, rules as data, statements.

The balance is never stored apart from the entries: it is their sum, kept as a running
figure that is checked against them. Refused operations leave the ledger untouched.
Yearly statements (Asia/Shanghai calendar years) feed members' annual evaluation;
leaderboards rank points earned inside a community (12 digits) or a street (9 digits).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from yiwang.clock import SHANGHAI, require_aware
from yiwang.errors import Conflict, ValidationFailed
from yiwang.jurisdiction import Level, level_of
from yiwang.text import require_text

from .common import Staff, require_community_code


class HolderKind(StrEnum):
    PERSON = "person"
    UNIT = "unit"


class EntryKind(StrEnum):
    EARN = "earn"
    REDEEM = "redeem"
    ADJUST = "adjust"


@dataclass(frozen=True, slots=True)
class Account:
    kind: HolderKind
    holder_id: str


@dataclass(frozen=True, slots=True)
class PointRules:
    """How many points a served order earns; pure data so it can live in configuration.

    ``base_by_category`` overrides ``default_base``; a 5-star rating adds ``five_star_bonus``;
    a rating at or below ``no_points_at_or_below`` earns nothing; an order closed without
    a rating earns the base only.
    """

    base_by_category: Mapping[str, int] = field(default_factory=dict)
    default_base: int = 10
    five_star_bonus: int = 5
    no_points_at_or_below: int = 1

    def __post_init__(self) -> None:
        values = [self.default_base, self.five_star_bonus, *self.base_by_category.values()]
        if any(v < 0 for v in values) or not 0 <= self.no_points_at_or_below <= 5:
            raise ValidationFailed(
                "invalid_point_rules", "point rules must be non-negative", "积分规则不能为负数"
            )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PointRules:
        return cls(
            base_by_category=dict(data.get("base_by_category", {})),
            default_base=int(data.get("default_base", 10)),
            five_star_bonus=int(data.get("five_star_bonus", 5)),
            no_points_at_or_below=int(data.get("no_points_at_or_below", 1)),
        )

    def points_for_order(self, category: str, stars: int | None) -> int:
        if stars is not None and stars <= self.no_points_at_or_below:
            return 0
        base = self.base_by_category.get(category, self.default_base)
        return base + (self.five_star_bonus if stars == 5 else 0)


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    account: Account
    kind: EntryKind
    amount: int  # signed: earn > 0, redeem < 0, adjust either way
    reason: str
    at: datetime
    community_code: str
    ref: str | None = None  # idempotency reference (order id, wish id, ...)
    by: str | None = None  # staff id for adjustments


def _insufficient(balance: int, wanted: int) -> Conflict:
    return Conflict(
        "insufficient_points",
        f"balance {balance} is less than {wanted}",
        f"积分余额{balance}不足{wanted}",
        balance=balance,
        requested=wanted,
    )


class Ledger:
    """The append-only ledger of one account. ``entries`` is a read-only view."""

    def __init__(self, account: Account, entries: Iterable[Entry] = ()) -> None:
        self.account = account
        self._entries: list[Entry] = []
        self._balance = 0
        self._refs: set[str] = set()
        for e in entries:  # rehydrate from storage, re-checking the invariant
            if e.account != account or e.seq != len(self._entries) + 1:
                raise ValidationFailed(
                    "corrupt_ledger", "ledger entries out of order", "积分流水顺序错误"
                )
            self._append(e)
            if self._balance < 0:
                raise ValidationFailed("corrupt_ledger", "negative balance", "积分余额为负")

    @property
    def entries(self) -> tuple[Entry, ...]:
        return tuple(self._entries)

    @property
    def balance(self) -> int:
        return self._balance

    def _append(self, entry: Entry) -> None:
        self._entries.append(entry)
        self._balance += entry.amount
        if entry.ref is not None:
            self._refs.add(entry.ref)

    def _new(
        self,
        kind: EntryKind,
        amount: int,
        reason: str,
        now: datetime,
        community_code: str,
        ref: str | None,
        by: str | None,
    ) -> Entry:
        require_aware(now, "now")
        require_community_code(community_code)
        if ref is not None and ref in self._refs:
            raise Conflict(
                "points_already_recorded",
                f"an entry for '{ref}' is already in the ledger",
                f"“{ref}”的积分已入账",
                ref=ref,
            )
        entry = Entry(
            seq=len(self._entries) + 1,
            account=self.account,
            kind=kind,
            amount=amount,
            reason=require_text(reason, "reason", max_len=200),
            at=now,
            community_code=community_code,
            ref=ref,
            by=by,
        )
        self._append(entry)
        return entry

    def earn(
        self, amount: int, *, reason: str, ref: str, community_code: str, now: datetime
    ) -> Entry:
        """Credit points earned by a rule; ``ref`` makes it idempotent (one award per order)."""
        if amount <= 0:
            raise ValidationFailed(
                "invalid_amount", "earned points must be positive", "获得的积分必须为正数"
            )
        return self._new(EntryKind.EARN, amount, reason, now, community_code, ref, None)

    def redeem(
        self,
        amount: int,
        *,
        reason: str,
        community_code: str,
        now: datetime,
        ref: str | None = None,
    ) -> Entry:
        """Spend points; refused beyond the balance (``insufficient_points``)."""
        if amount <= 0:
            raise ValidationFailed(
                "invalid_amount", "redeemed points must be positive", "兑换积分必须为正数"
            )
        if amount > self._balance:
            raise _insufficient(self._balance, amount)
        return self._new(EntryKind.REDEEM, -amount, reason, now, community_code, ref, None)

    def adjust(
        self, amount: int, *, reason: str, staff: Staff, community_code: str, now: datetime
    ) -> Entry:
        """A staff correction with a mandatory reason; may not drive the balance negative."""
        staff.require_covers(community_code)
        if amount == 0:
            raise ValidationFailed(
                "invalid_amount", "an adjustment must change the balance", "调整积分不能为0"
            )
        if self._balance + amount < 0:
            raise _insufficient(self._balance, -amount)
        return self._new(
            EntryKind.ADJUST, amount, reason, now, community_code, None, staff.staff_id
        )

    def statement(self, year: int) -> YearlyStatement:
        """Points movements in calendar ``year`` (Asia/Shanghai) with opening/closing balances."""
        opening = 0
        in_year: list[Entry] = []
        for e in self._entries:
            y = e.at.astimezone(SHANGHAI).year
            if y < year:
                opening += e.amount
            elif y == year:
                in_year.append(e)
        totals = {k: sum(e.amount for e in in_year if e.kind is k) for k in EntryKind}
        return YearlyStatement(
            account=self.account,
            year=year,
            opening_balance=opening,
            earned=totals[EntryKind.EARN],
            redeemed=-totals[EntryKind.REDEEM],
            adjusted=totals[EntryKind.ADJUST],
            closing_balance=opening + sum(e.amount for e in in_year),
            entries=tuple(in_year),
        )


@dataclass(frozen=True, slots=True)
class YearlyStatement:
    account: Account
    year: int
    opening_balance: int
    earned: int
    redeemed: int  # positive number of points spent
    adjusted: int  # net staff adjustments
    closing_balance: int
    entries: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class LeaderboardRow:
    rank: int
    account: Account
    points: int


def leaderboard(
    entries: Iterable[Entry],
    scope_code: str,
    *,
    year: int | None = None,
    top: int = 20,
    holder_kind: HolderKind | None = None,
) -> list[LeaderboardRow]:
    """Rank accounts by points earned (earn + adjustments; redemptions don't lower rank)
    inside a community (12-digit code) or street (9-digit code), optionally for one year.

    Ties share a rank (1, 2, 2, 4); ties are listed by holder id for a stable order.
    """
    if level_of(scope_code) not in (Level.COMMUNITY, Level.STREET):
        raise ValidationFailed(
            "invalid_leaderboard_scope",
            "a leaderboard is per community (12 digits) or street (9 digits)",
            "排行榜范围须为社区（12位）或街道（9位）",
        )
    totals: dict[Account, int] = {}
    for e in entries:
        if e.kind is EntryKind.REDEEM or not e.community_code.startswith(scope_code):
            continue
        if year is not None and e.at.astimezone(SHANGHAI).year != year:
            continue
        if holder_kind is not None and e.account.kind is not holder_kind:
            continue
        totals[e.account] = totals.get(e.account, 0) + e.amount
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0].kind, kv[0].holder_id))
    rows: list[LeaderboardRow] = []
    for i, (acct, pts) in enumerate(ordered[:top]):
        rank = rows[-1].rank if rows and rows[-1].points == pts else i + 1
        rows.append(LeaderboardRow(rank=rank, account=acct, points=pts))
    return rows
