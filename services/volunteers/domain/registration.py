"""Registration with the home community (双报到) for party members, volunteers and units.

In-service party members (在职党员) register with the community where they live and name
their work unit; volunteers who are not party members register too; co-building units
(共建单位) register with the community they serve. Community staff approve or reject; only
approved registrants may claim orders (接单/领单).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum

from yiwang.clock import SHANGHAI, require_aware
from yiwang.errors import Forbidden, ValidationFailed
from yiwang.text import require_text

from .common import Staff, TimeWindow, illegal_transition, require_community_code

_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_LANDLINE = re.compile(r"^0[0-9]{2,3}-?[0-9]{7,8}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SKILL = re.compile(r"^[\w\-]{1,40}$")


class VolunteerKind(StrEnum):
    PARTY_MEMBER = "party_member"  # in-service party member (在职党员)
    VOLUNTEER = "volunteer"  # non-member volunteer


class UnitKind(StrEnum):
    AGENCY = "agency"  # 机关
    SOE = "soe"  # 国企
    INSTITUTION = "institution"  # 事业单位 (schools, hospitals)
    COMPANY = "company"
    SOCIAL_ORG = "social_org"


class RegistrationStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class ClaimantKind(StrEnum):
    VOLUNTEER = "volunteer"
    UNIT = "unit"


_TRANSITIONS: dict[RegistrationStatus, dict[str, RegistrationStatus]] = {
    RegistrationStatus.PENDING: {
        "approve": RegistrationStatus.APPROVED,
        "reject": RegistrationStatus.REJECTED,
    },
    RegistrationStatus.APPROVED: {"suspend": RegistrationStatus.SUSPENDED},
    RegistrationStatus.SUSPENDED: {"reinstate": RegistrationStatus.APPROVED},
    RegistrationStatus.REJECTED: {"resubmit": RegistrationStatus.PENDING},
}


@dataclass(frozen=True, slots=True)
class Contact:
    phone: str
    email: str | None = None

    def __post_init__(self) -> None:
        phone = self.phone.replace(" ", "")
        if not (_MOBILE.match(phone) or _LANDLINE.match(phone)):
            raise ValidationFailed(
                "invalid_phone",
                f"'{self.phone}' is not a mainland mobile or landline number",
                f"“{self.phone}”不是有效的手机号或固定电话",
            )
        object.__setattr__(self, "phone", phone)
        if self.email is not None and not _EMAIL.match(self.email):
            raise ValidationFailed(
                "invalid_email", f"'{self.email}' is not an e-mail address", "邮箱格式不正确"
            )


@dataclass(frozen=True, slots=True)
class Availability:
    """A weekly window (Asia/Shanghai wall-clock): weekday 0=Monday .. 6=Sunday."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6 or self.end <= self.start:
            raise ValidationFailed(
                "invalid_availability",
                "availability needs a weekday 0-6 and an end after the start",
                "可服务时间需要星期（0-6）且结束晚于开始",
            )

    def covers(self, window: TimeWindow) -> bool:
        """True when ``window`` lies inside this weekly slot on one local day."""
        start = window.start.astimezone(SHANGHAI)
        end = window.end.astimezone(SHANGHAI)
        return (
            start.weekday() == self.weekday
            and end.date() == start.date()
            and self.start <= start.time()
            and end.time() <= self.end
        )


def normalise_skills(
    skills: frozenset[str] | set[str] | list[str] | tuple[str, ...],
) -> frozenset[str]:
    out: set[str] = set()
    for raw in skills:
        skill = raw.strip().lower()
        if not _SKILL.match(skill):
            raise ValidationFailed(
                "invalid_skill", f"'{raw}' is not a valid skill tag", f"“{raw}”不是有效的技能标签"
            )
        out.add(skill)
    return frozenset(out)


@dataclass(kw_only=True)
class _Registration:
    """Status and audit fields shared by volunteers and units."""

    community_code: str
    contact: Contact
    skills: frozenset[str] = frozenset()
    availability: tuple[Availability, ...] = ()
    capacity: int = 2  # concurrent open orders
    status: RegistrationStatus = RegistrationStatus.PENDING
    registered_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_note: str | None = None
    version: int = 1

    def _validate_common(self) -> None:
        require_community_code(self.community_code)
        require_aware(self.registered_at, "registered_at")
        self.skills = normalise_skills(self.skills)
        if not 1 <= self.capacity <= 50:
            raise ValidationFailed(
                "invalid_capacity",
                "capacity must be between 1 and 50 concurrent orders",
                "同时接单上限必须在1到50之间",
            )

    def _move(self, action: str, staff: Staff, now: datetime, note: str | None) -> None:
        staff.require_covers(self.community_code)
        allowed = _TRANSITIONS.get(self.status, {})
        if action not in allowed:
            raise illegal_transition(action, self.status, list(allowed))
        self.status = allowed[action]
        self.decided_at = require_aware(now, "now")
        self.decided_by = staff.staff_id
        self.decision_note = note
        self.version += 1

    def approve(self, staff: Staff, now: datetime) -> None:
        self._move("approve", staff, now, None)

    def reject(self, staff: Staff, reason: str, now: datetime) -> None:
        self._move("reject", staff, now, require_text(reason, "reason"))

    def suspend(self, staff: Staff, reason: str, now: datetime) -> None:
        self._move("suspend", staff, now, require_text(reason, "reason"))

    def reinstate(self, staff: Staff, now: datetime) -> None:
        self._move("reinstate", staff, now, None)

    def resubmit(self, staff: Staff, now: datetime) -> None:
        """Put a rejected registration back in the queue (after the registrant fixed it)."""
        self._move("resubmit", staff, now, None)

    @property
    def is_approved(self) -> bool:
        return self.status is RegistrationStatus.APPROVED

    def require_can_claim(self) -> None:
        if not self.is_approved:
            raise Forbidden(
                "claimant_not_approved",
                "only volunteers and units approved by the community may claim orders",
                "只有经社区审核通过的志愿者或单位才能接单",
                status_now=str(self.status),
            )

    def has_skill(self, skill: str | None) -> bool:
        return skill is None or skill.lower() in self.skills

    def is_available_for(self, window: TimeWindow) -> bool:
        """No declared windows means "any time"; otherwise one weekly slot must cover it."""
        return not self.availability or any(a.covers(window) for a in self.availability)


@dataclass(kw_only=True)
class Volunteer(_Registration):
    """A party member or volunteer registered with their home community."""

    volunteer_id: str
    person_id: str
    name: str
    kind: VolunteerKind
    work_unit: str | None = None  # required for in-service party members
    unit_id: str | None = None  # their co-building unit, when it is registered
    claimant_kind: ClaimantKind = field(default=ClaimantKind.VOLUNTEER, init=False)

    @property
    def claimant_id(self) -> str:
        return self.volunteer_id

    @property
    def points_holder(self) -> str:
        return self.person_id


@dataclass(kw_only=True)
class CoBuildingUnit(_Registration):
    """A co-building unit (共建单位) linked to a community; it may claim orders too (单位领单)."""

    unit_id: str
    name: str
    kind: UnitKind
    party_org: str | None = None  # its party organisation, if any
    claimant_kind: ClaimantKind = field(default=ClaimantKind.UNIT, init=False)

    @property
    def claimant_id(self) -> str:
        return self.unit_id

    @property
    def points_holder(self) -> str:
        return self.unit_id


Claimant = Volunteer | CoBuildingUnit


def register_volunteer(
    *,
    volunteer_id: str,
    person_id: str,
    name: str,
    kind: VolunteerKind,
    community_code: str,
    contact: Contact,
    now: datetime,
    work_unit: str | None = None,
    unit_id: str | None = None,
    skills: frozenset[str] | set[str] | list[str] = frozenset(),
    availability: tuple[Availability, ...] = (),
    capacity: int = 2,
) -> Volunteer:
    """Register a party member or volunteer (status pending until staff approve)."""
    if kind is VolunteerKind.PARTY_MEMBER and not (work_unit or "").strip():
        raise ValidationFailed(
            "work_unit_required",
            "an in-service party member must name their work unit",
            "在职党员报到须填写工作单位",
        )
    vol = Volunteer(
        volunteer_id=require_text(volunteer_id, "volunteer_id", max_len=64),
        person_id=require_text(person_id, "person_id", max_len=64),
        name=require_text(name, "name", max_len=64),
        kind=kind,
        work_unit=work_unit.strip() if work_unit else None,
        unit_id=unit_id,
        community_code=community_code,
        contact=contact,
        skills=frozenset(skills),
        availability=tuple(availability),
        capacity=capacity,
        registered_at=now,
    )
    vol._validate_common()
    return vol


def register_unit(
    *,
    unit_id: str,
    name: str,
    kind: UnitKind,
    community_code: str,
    contact: Contact,
    now: datetime,
    party_org: str | None = None,
    skills: frozenset[str] | set[str] | list[str] = frozenset(),
    availability: tuple[Availability, ...] = (),
    capacity: int = 5,
) -> CoBuildingUnit:
    """Register a co-building unit with a community (status pending until staff approve)."""
    unit = CoBuildingUnit(
        unit_id=require_text(unit_id, "unit_id", max_len=64),
        name=require_text(name, "name", max_len=128),
        kind=kind,
        party_org=party_org,
        community_code=community_code,
        contact=contact,
        skills=frozenset(skills),
        availability=tuple(availability),
        capacity=capacity,
        registered_at=now,
    )
    unit._validate_common()
    return unit
