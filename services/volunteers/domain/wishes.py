"""Micro-wishes (微心愿) on a community's wish tree.

posted → verified (by the community) → claimed (by a party member, unit or person)
→ fulfilled (with proof) → lit (confirmed by the community; the leaf lights up).
A claimer may release before fulfilling (back to verified); staff may reject a posted
wish; the poster may withdraw it until it is claimed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from yiwang.clock import require_aware
from yiwang.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yiwang.text import require_text

from .common import Staff, illegal_transition, require_community_code


class WishStatus(StrEnum):
    POSTED = "posted"
    VERIFIED = "verified"
    CLAIMED = "claimed"
    FULFILLED = "fulfilled"
    LIT = "lit"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class ClaimerKind(StrEnum):
    MEMBER = "member"  # party member
    UNIT = "unit"  # public institution, company, co-building unit
    PERSON = "person"  # any individual


W = WishStatus
_MOVES: dict[str, dict[WishStatus, WishStatus]] = {
    "verify": {W.POSTED: W.VERIFIED},
    "reject": {W.POSTED: W.REJECTED},
    "withdraw": {W.POSTED: W.WITHDRAWN, W.VERIFIED: W.WITHDRAWN},
    "claim": {W.VERIFIED: W.CLAIMED},
    "release": {W.CLAIMED: W.VERIFIED},
    "fulfil": {W.CLAIMED: W.FULFILLED},
    "light": {W.FULFILLED: W.LIT},
}


@dataclass(frozen=True, kw_only=True)
class WishEvent:
    wish_id: str
    community_code: str
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True)
class WishClaimed(WishEvent):
    claimer_kind: str
    claimer_id: str


@dataclass(frozen=True, kw_only=True)
class WishFulfilled(WishEvent):
    claimer_kind: str
    claimer_id: str


@dataclass(frozen=True, kw_only=True)
class WishLit(WishEvent):
    claimer_kind: str
    claimer_id: str


@dataclass(kw_only=True)
class Wish:
    wish_id: str
    community_code: str
    poster_id: str  # the person in difficulty, or staff posting for them
    beneficiary: str  # a display name, e.g. "Grandma Li, building 3"
    title: str
    description: str
    value_fen: int | None
    posted_at: datetime
    status: WishStatus = WishStatus.POSTED
    verified_by: str | None = None
    claimer_kind: ClaimerKind | None = None
    claimer_id: str | None = None
    claimed_at: datetime | None = None
    proof_note: str | None = None
    proof_photos: tuple[str, ...] = ()
    fulfilled_at: datetime | None = None
    lit_at: datetime | None = None
    reason: str | None = None
    version: int = 1
    _events: list[WishEvent] = field(default_factory=list, repr=False)

    def pull_events(self) -> list[WishEvent]:
        events, self._events = self._events, []
        return events

    def _target(self, action: str) -> WishStatus:
        moves = _MOVES[action]
        if self.status not in moves:
            allowed = [a for a, m in _MOVES.items() if self.status in m]
            raise illegal_transition(action, self.status, allowed)
        return moves[self.status]

    def _commit(self, target: WishStatus) -> None:
        self.status = target
        self.version += 1

    def verify(self, staff: Staff, now: datetime) -> None:
        target = self._target("verify")
        staff.require_covers(self.community_code)
        require_aware(now)
        self.verified_by = staff.staff_id
        self._commit(target)

    def reject(self, staff: Staff, reason: str, now: datetime) -> None:
        target = self._target("reject")
        staff.require_covers(self.community_code)
        require_aware(now)
        self.reason = require_text(reason, "reason", max_len=500)
        self._commit(target)

    def withdraw(self, poster_id: str, now: datetime) -> None:
        target = self._target("withdraw")
        if poster_id != self.poster_id:
            raise Forbidden("not_the_poster", "only the poster may withdraw", "只有发布人可以撤回")
        require_aware(now)
        self._commit(target)

    def claim(self, claimer_kind: ClaimerKind, claimer_id: str, now: datetime) -> None:
        """Tap a leaf (认领). A second claimer gets ``wish_already_claimed``."""
        if self.status in (W.CLAIMED, W.FULFILLED, W.LIT):
            raise Conflict("wish_already_claimed", "this wish is already claimed", "该心愿已被认领")
        target = self._target("claim")
        if claimer_id == self.poster_id:
            raise Forbidden("own_wish", "one cannot claim one's own wish", "不能认领自己的心愿")
        self.claimer_kind = claimer_kind
        self.claimer_id = require_text(claimer_id, "claimer_id", max_len=64)
        self.claimed_at = require_aware(now)
        self._commit(target)
        self._events.append(self._ev(WishClaimed, now))

    def release(self, claimer_id: str, now: datetime) -> None:
        target = self._target("release")
        self._require_claimer(claimer_id)
        require_aware(now)
        self.claimer_kind = None
        self.claimer_id = self.claimed_at = None
        self._commit(target)

    def fulfil(
        self, claimer_id: str, proof_note: str, now: datetime, photos: tuple[str, ...] = ()
    ) -> None:
        target = self._target("fulfil")
        self._require_claimer(claimer_id)
        note = require_text(proof_note, "proof_note", max_len=1000)
        if not photos:
            raise ValidationFailed(
                "proof_required",
                "a fulfilled wish needs at least one photo",
                "完成心愿需上传至少一张照片",
            )
        self.proof_note, self.proof_photos = note, tuple(photos)
        self.fulfilled_at = require_aware(now)
        self._commit(target)
        self._events.append(self._ev(WishFulfilled, now))

    def light(self, staff: Staff, now: datetime) -> None:
        """The community confirms the proof and the leaf lights up (点亮)."""
        target = self._target("light")
        staff.require_covers(self.community_code)
        self.lit_at = require_aware(now)
        self._commit(target)
        self._events.append(self._ev(WishLit, now))

    def _require_claimer(self, claimer_id: str) -> None:
        if claimer_id != self.claimer_id:
            raise Forbidden(
                "not_the_claimer", "only the claimer may do this", "只有认领人可以执行此操作"
            )

    def _ev(
        self, cls: type[WishClaimed] | type[WishFulfilled] | type[WishLit], now: datetime
    ) -> WishEvent:
        assert self.claimer_kind is not None and self.claimer_id is not None
        return cls(
            wish_id=self.wish_id,
            community_code=self.community_code,
            occurred_at=now,
            claimer_kind=str(self.claimer_kind),
            claimer_id=self.claimer_id,
        )


@dataclass
class WishTree:
    """One community's wish tree: the leaves residents see and its counters."""

    community_code: str
    wishes: dict[str, Wish] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_community_code(self.community_code)

    def post(
        self,
        *,
        wish_id: str,
        poster_id: str,
        beneficiary: str,
        title: str,
        description: str,
        now: datetime,
        value_fen: int | None = None,
    ) -> Wish:
        if wish_id in self.wishes:
            raise Conflict("duplicate_wish", f"wish {wish_id} exists", f"心愿{wish_id}已存在")
        if value_fen is not None and not 0 < value_fen <= 100_000:
            raise ValidationFailed(
                "invalid_value",
                "a micro-wish is worth 0.01 to 1,000 yuan",
                "微心愿价值须在0.01至1000元之间",
            )
        wish = Wish(
            wish_id=require_text(wish_id, "wish_id", max_len=64),
            community_code=self.community_code,
            poster_id=require_text(poster_id, "poster_id", max_len=64),
            beneficiary=require_text(beneficiary, "beneficiary", max_len=64),
            title=require_text(title, "title", max_len=100),
            description=require_text(description, "description", max_len=1000),
            value_fen=value_fen,
            posted_at=require_aware(now),
        )
        self.wishes[wish.wish_id] = wish
        return wish

    def get(self, wish_id: str) -> Wish:
        try:
            return self.wishes[wish_id]
        except KeyError:
            raise NotFound("wish_not_found", f"no wish {wish_id}", f"心愿{wish_id}不存在") from None

    def leaves(self) -> list[Wish]:
        """What the public tree shows: verified, claimed, fulfilled and lit wishes."""
        shown = (W.VERIFIED, W.CLAIMED, W.FULFILLED, W.LIT)
        return sorted(
            (w for w in self.wishes.values() if w.status in shown),
            key=lambda w: (w.posted_at, w.wish_id),
        )

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in WishStatus}
        for w in self.wishes.values():
            out[w.status.value] += 1
        return out
