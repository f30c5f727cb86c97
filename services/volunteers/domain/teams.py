"""Volunteer teams (志愿服务队) and their monthly activities.

A team has one or more leaders. Leaders plan and publish activities; residents sign up
within capacity (``activity_full``; a second sign-up is ``already_signed_up``), check in
around the start, and rate the activity once after checking in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from yiwang.clock import SHANGHAI, require_aware
from yiwang.errors import Conflict, Forbidden, ValidationFailed
from yiwang.text import require_text

from .common import Staff, TimeWindow, illegal_transition, require_community_code

CHECKIN_OPENS_BEFORE = timedelta(minutes=30)
RATING_CLOSES_AFTER = timedelta(days=7)


@dataclass(kw_only=True)
class Team:
    team_id: str
    community_code: str
    name: str
    leader_ids: set[str]
    member_ids: set[str] = field(default_factory=set)
    version: int = 1

    def __post_init__(self) -> None:
        require_community_code(self.community_code)
        require_text(self.name, "name", max_len=64)
        if not self.leader_ids:
            raise ValidationFailed(
                "leader_required", "a team needs a leader", "服务队至少需要一名队长"
            )
        self.member_ids |= self.leader_ids

    def require_leader(self, person_id: str) -> None:
        if person_id not in self.leader_ids:
            raise Forbidden(
                "not_a_team_leader", "only a team leader may do this", "只有队长可以执行此操作"
            )

    def add_member(self, by: str, person_id: str) -> None:
        self.require_leader(by)
        if person_id in self.member_ids:
            raise Conflict("already_member", "already a team member", "已是服务队成员")
        self.member_ids.add(require_text(person_id, "person_id", max_len=64))
        self.version += 1

    def remove_member(self, by: str, person_id: str) -> None:
        self.require_leader(by)
        if person_id in self.leader_ids and len(self.leader_ids) == 1:
            raise Conflict(
                "last_leader", "the last leader cannot leave the team", "最后一名队长不能离队"
            )
        self.member_ids.discard(person_id)
        self.leader_ids.discard(person_id)
        self.version += 1

    def appoint_leader(self, staff: Staff, person_id: str) -> None:
        """Community staff appoint leaders (the team belongs to the community)."""
        staff.require_covers(self.community_code)
        if person_id not in self.member_ids:
            raise ValidationFailed(
                "not_a_member", "leaders are chosen from members", "队长须为服务队成员"
            )
        self.leader_ids.add(person_id)
        self.version += 1

    def dismiss_leader(self, staff: Staff, person_id: str) -> None:
        staff.require_covers(self.community_code)
        if person_id in self.leader_ids and len(self.leader_ids) == 1:
            raise Conflict("last_leader", "a team needs a leader", "服务队至少需要一名队长")
        self.leader_ids.discard(person_id)
        self.version += 1


class ActivityStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


@dataclass(kw_only=True)
class Participant:
    person_id: str
    signed_up_at: datetime
    checked_in_at: datetime | None = None
    stars: int | None = None


@dataclass(kw_only=True)
class Activity:
    activity_id: str
    team_id: str
    community_code: str
    title: str
    description: str
    window: TimeWindow
    place: str
    capacity: int
    status: ActivityStatus = ActivityStatus.DRAFT
    participants: dict[str, Participant] = field(default_factory=dict)
    version: int = 1

    @property
    def month(self) -> tuple[int, int]:
        local = self.window.start.astimezone(SHANGHAI)
        return local.year, local.month

    @property
    def seats_left(self) -> int:
        return self.capacity - len(self.participants)

    def _require_team(self, team: Team, by: str) -> None:
        if team.team_id != self.team_id:
            raise Forbidden(
                "wrong_team", "the activity belongs to another team", "活动不属于该服务队"
            )
        team.require_leader(by)

    def publish(self, team: Team, by: str, now: datetime) -> None:
        self._require_team(team, by)
        if self.status is not ActivityStatus.DRAFT:
            raise illegal_transition(
                "publish",
                self.status,
                ["cancel"] if self.status is ActivityStatus.PUBLISHED else [],
            )
        if require_aware(now) >= self.window.start:
            raise ValidationFailed(
                "activity_started", "the activity has already started", "活动已开始"
            )
        self.status = ActivityStatus.PUBLISHED
        self.version += 1

    def cancel(self, team: Team, by: str, now: datetime) -> None:
        self._require_team(team, by)
        if self.status is ActivityStatus.CANCELLED:
            raise illegal_transition("cancel", self.status, [])
        require_aware(now)
        self.status = ActivityStatus.CANCELLED
        self.version += 1

    def _require_open(self, action: str) -> None:
        if self.status is not ActivityStatus.PUBLISHED:
            raise illegal_transition(
                action, self.status, ["publish"] if self.status is ActivityStatus.DRAFT else []
            )

    def sign_up(self, person_id: str, now: datetime) -> None:
        self._require_open("sign_up")
        if person_id in self.participants:
            raise Conflict("already_signed_up", "already signed up", "已报名")
        if require_aware(now) >= self.window.start:
            raise Conflict(
                "signup_closed", "sign-up closes when the activity starts", "活动已开始，报名已截止"
            )
        if self.seats_left <= 0:
            raise Conflict(
                "activity_full", "the activity is full", "活动名额已满", capacity=self.capacity
            )
        self.participants[person_id] = Participant(
            person_id=require_text(person_id, "person_id", max_len=64), signed_up_at=now
        )
        self.version += 1

    def withdraw(self, person_id: str, now: datetime) -> None:
        self._require_open("withdraw")
        if person_id not in self.participants:
            raise Conflict("not_signed_up", "not signed up", "未报名")
        if require_aware(now) >= self.window.start:
            raise Conflict("signup_closed", "the activity has started", "活动已开始，不能取消报名")
        del self.participants[person_id]
        self.version += 1

    def check_in(self, person_id: str, now: datetime) -> None:
        self._require_open("check_in")
        p = self._participant(person_id)
        if p.checked_in_at is not None:
            raise Conflict("already_checked_in", "already checked in", "已签到")
        if not (self.window.start - CHECKIN_OPENS_BEFORE <= require_aware(now) < self.window.end):
            raise ValidationFailed(
                "checkin_outside_window",
                "check-in opens 30 minutes before the start and closes at the end",
                "签到时间为活动开始前30分钟至活动结束",
            )
        p.checked_in_at = now
        self.version += 1

    def rate(self, person_id: str, stars: int, now: datetime) -> None:
        self._require_open("rate")
        p = self._participant(person_id)
        if p.checked_in_at is None:
            raise Forbidden(
                "not_checked_in", "only participants who checked in may rate", "签到后才能评价"
            )
        if p.stars is not None:
            raise Conflict("already_rated", "already rated", "已评价")
        if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
            raise ValidationFailed("invalid_rating", "stars must be 1 to 5", "评分必须为1到5星")
        if require_aware(now) > self.window.end + RATING_CLOSES_AFTER:
            raise Conflict(
                "rating_closed",
                "rating closes 7 days after the activity",
                "活动结束7天后不能再评价",
            )
        p.stars = stars
        self.version += 1

    def _participant(self, person_id: str) -> Participant:
        p = self.participants.get(person_id)
        if p is None:
            raise Forbidden("not_signed_up", "not signed up for this activity", "未报名此活动")
        return p

    @property
    def average_stars(self) -> float | None:
        stars = [p.stars for p in self.participants.values() if p.stars is not None]
        return round(sum(stars) / len(stars), 2) if stars else None


def plan_activity(
    team: Team,
    by: str,
    *,
    activity_id: str,
    title: str,
    description: str,
    window: TimeWindow,
    place: str,
    capacity: int,
) -> Activity:
    """A leader drafts an activity for their team."""
    team.require_leader(by)
    if not 1 <= capacity <= 10_000:
        raise ValidationFailed(
            "invalid_capacity", "capacity must be 1 to 10,000", "人数上限须在1到10000之间"
        )
    return Activity(
        activity_id=require_text(activity_id, "activity_id", max_len=64),
        team_id=team.team_id,
        community_code=team.community_code,
        title=require_text(title, "title", max_len=100),
        description=require_text(description, "description", max_len=2000),
        window=window,
        place=require_text(place, "place", max_len=200),
        capacity=capacity,
    )


def monthly_programme(
    activities: Iterable[Activity], community_code: str, year: int, month: int
) -> list[Activity]:
    """Published activities of a community starting in a local (Asia/Shanghai) month."""
    return sorted(
        (
            a
            for a in activities
            if a.community_code == community_code
            and a.status is ActivityStatus.PUBLISHED
            and a.month == (year, month)
        ),
        key=lambda a: (a.window.start, a.activity_id),
    )
