"""Enterprise and third-party institution accounts (enterprise / third-party editions).

An enterprise registers with its USCC and is located to a grid; district staff verify it
(pending → verified | rejected; a rejected one may correct and resubmit). Only a verified
enterprise may use the platforms. Several users act for one enterprise; at least one admin
always remains. Institutions (banks, research institutes, recruiters, others) are verified
the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from yiwang.clock import require_aware
from yiwang.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yiwang.jurisdiction import Level
from yiwang.text import require_text as _text

from .common import Official, illegal_transition, normalise_tags, require_code_at
from .common import enum_value as _enum
from .events import (
    EnterpriseRegistered,
    EnterpriseRejected,
    EnterpriseVerified,
    Event,
    InstitutionRegistered,
    InstitutionVerified,
)
from .uscc import validate_uscc


class EnterpriseSize(StrEnum):
    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


class VerificationStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class UserRole(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"


class InstitutionKind(StrEnum):
    BANK = "bank"
    RESEARCH_INSTITUTE = "research_institute"
    RECRUITER = "recruiter"
    OTHER = "other"


@dataclass(slots=True)
class _Verifiable:
    status: VerificationStatus = VerificationStatus.PENDING
    users: dict[str, UserRole] = field(default_factory=dict)
    verified_by: str | None = None
    verified_at: datetime | None = None
    rejection_reason: str | None = None

    def _check_pending(self, action: str) -> None:
        if self.status is not VerificationStatus.PENDING:
            raise illegal_transition(action, self.status.value, ["pending"])

    def has_user(self, user_id: str) -> bool:
        return user_id in self.users

    def require_user(self, user_id: str) -> None:
        if user_id not in self.users:
            raise Forbidden(
                "not_account_user",
                f"user {user_id} does not act for this account",
                f"用户{user_id}不属于该账户",
                user_id=user_id,
            )

    def require_admin(self, user_id: str) -> None:
        self.require_user(user_id)
        if self.users[user_id] is not UserRole.ADMIN:
            raise Forbidden(
                "not_account_admin", "only an account admin may do this", "仅账户管理员可操作"
            )

    def add_user(self, by_user_id: str, user_id: str, role: str = "member") -> None:
        """An admin adds a user (or changes their role)."""
        self.require_admin(by_user_id)
        self.users[_text(user_id, "user_id", max_len=64)] = _enum(UserRole, role, "role")

    def remove_user(self, by_user_id: str, user_id: str) -> None:
        self.require_admin(by_user_id)
        if user_id not in self.users:
            raise NotFound(
                "unknown_user", f"user {user_id} is not on this account", f"账户中没有用户{user_id}"
            )
        admins = [u for u, r in self.users.items() if r is UserRole.ADMIN]
        if admins == [user_id]:
            raise Conflict(
                "last_admin", "the last admin cannot be removed", "不能移除最后一位管理员"
            )
        del self.users[user_id]


@dataclass(slots=True)
class Enterprise(_Verifiable):
    enterprise_id: str = ""
    uscc: str = ""
    name: str = ""
    industry: str = ""
    address: str = ""
    grid_code: str = ""
    size: EnterpriseSize = EnterpriseSize.SMALL
    established_on: date | None = None
    tags: frozenset[str] = frozenset()  # qualifications, e.g. "high_tech", "专精特新"
    registered_at: datetime | None = None

    @property
    def district_code(self) -> str:
        return self.grid_code[:6]

    @property
    def is_verified(self) -> bool:
        return self.status is VerificationStatus.VERIFIED

    def require_verified(self) -> None:
        if not self.is_verified:
            raise Forbidden(
                "enterprise_not_verified",
                "the enterprise has not been verified by the district yet",
                "企业尚未通过区里的审核认证",
                enterprise_id=self.enterprise_id,
                verification_status=self.status.value,
            )

    def years_established(self, on: date) -> int | None:
        """Whole years since establishment on ``on`` (None when unknown)."""
        if self.established_on is None:
            return None
        d = self.established_on
        years = on.year - d.year - ((on.month, on.day) < (d.month, d.day))
        return max(years, 0)

    def verify(self, staff: Official, now: datetime) -> EnterpriseVerified:
        staff.require_within(self.grid_code)
        self._check_pending("verify")
        self.status = VerificationStatus.VERIFIED
        self.verified_by, self.verified_at = staff.official_id, require_aware(now)
        self.rejection_reason = None
        return EnterpriseVerified(
            occurred_at=now, enterprise_id=self.enterprise_id, verified_by=staff.official_id
        )

    def reject(self, staff: Official, reason: str, now: datetime) -> EnterpriseRejected:
        staff.require_within(self.grid_code)
        self._check_pending("reject")
        text = _text(reason, "reason", max_len=500)
        self.status = VerificationStatus.REJECTED
        self.rejection_reason = text
        self.verified_by, self.verified_at = staff.official_id, require_aware(now)
        return EnterpriseRejected(
            occurred_at=now,
            enterprise_id=self.enterprise_id,
            rejected_by=staff.official_id,
            reason=text,
        )

    def resubmit(
        self,
        by_user_id: str,
        *,
        name: str | None = None,
        address: str | None = None,
        grid_code: str | None = None,
        industry: str | None = None,
    ) -> None:
        """A rejected enterprise corrects its data and goes back to pending."""
        self.require_admin(by_user_id)
        if self.status is not VerificationStatus.REJECTED:
            raise illegal_transition("resubmit", self.status.value, ["rejected"])
        if name is not None:
            self.name = _text(name, "name", max_len=200)
        if address is not None:
            self.address = _text(address, "address", max_len=300)
        if grid_code is not None:
            self.grid_code = require_code_at(grid_code, Level.GRID, "grid_code")
        if industry is not None:
            self.industry = _text(industry, "industry", max_len=64)
        self.status = VerificationStatus.PENDING
        self.verified_by = self.verified_at = None


def register_enterprise(
    *,
    enterprise_id: str,
    uscc: str,
    name: str,
    industry: str,
    address: str,
    grid_code: str,
    size: str,
    admin_user_id: str,
    now: datetime,
    established_on: date | None = None,
    tags: list[str] | frozenset[str] = frozenset(),
) -> tuple[Enterprise, list[Event]]:
    """A new enterprise account, pending verification, with its first (admin) user.

    USCC uniqueness is the repository's job (unique index → Conflict ``uscc_taken``).
    """
    require_aware(now)
    if established_on is not None and established_on > now.date():
        raise ValidationFailed(
            "established_in_future",
            "the establishment date lies in the future",
            "成立日期不能晚于今天",
        )
    ent = Enterprise(
        enterprise_id=_text(enterprise_id, "enterprise_id", max_len=64),
        uscc=validate_uscc(uscc),
        name=_text(name, "name", max_len=200),
        industry=_text(industry, "industry", max_len=64),
        address=_text(address, "address", max_len=300),
        grid_code=require_code_at(grid_code, Level.GRID, "grid_code"),
        size=_enum(EnterpriseSize, size, "size"),
        established_on=established_on,
        tags=normalise_tags(tags),
        registered_at=now,
        users={_text(admin_user_id, "user_id", max_len=64): UserRole.ADMIN},
    )
    return ent, [
        EnterpriseRegistered(
            occurred_at=now,
            enterprise_id=ent.enterprise_id,
            uscc=ent.uscc,
            district_code=ent.district_code,
        )
    ]


@dataclass(slots=True)
class Institution(_Verifiable):
    """A bank, research institute, recruiter or other service institution (third-party edition)."""

    institution_id: str = ""
    kind: InstitutionKind = InstitutionKind.OTHER
    name: str = ""
    uscc: str = ""
    district_code: str = ""  # the district platform it joined
    registered_at: datetime | None = None

    def require_verified(self, kind: InstitutionKind | None = None) -> None:
        if self.status is not VerificationStatus.VERIFIED:
            raise Forbidden(
                "institution_not_verified",
                "the institution has not been verified yet",
                "机构尚未通过审核认证",
                institution_id=self.institution_id,
            )
        if kind is not None and self.kind is not kind:
            raise Forbidden(
                "wrong_institution_kind",
                f"only a {kind.value} may do this",
                f"仅{kind.value}类机构可操作",
                kind=self.kind.value,
            )

    def verify(self, staff: Official, now: datetime) -> InstitutionVerified:
        staff.require_within(self.district_code)
        self._check_pending("verify")
        self.status = VerificationStatus.VERIFIED
        self.verified_by, self.verified_at = staff.official_id, require_aware(now)
        return InstitutionVerified(
            occurred_at=now, institution_id=self.institution_id, verified_by=staff.official_id
        )

    def reject(self, staff: Official, reason: str, now: datetime) -> None:
        staff.require_within(self.district_code)
        self._check_pending("reject")
        self.status = VerificationStatus.REJECTED
        self.rejection_reason = _text(reason, "reason", max_len=500)
        self.verified_by, self.verified_at = staff.official_id, require_aware(now)


def register_institution(
    *,
    institution_id: str,
    kind: str,
    name: str,
    uscc: str,
    district_code: str,
    admin_user_id: str,
    now: datetime,
) -> tuple[Institution, list[Event]]:
    inst = Institution(
        institution_id=_text(institution_id, "institution_id", max_len=64),
        kind=_enum(InstitutionKind, kind, "kind"),
        name=_text(name, "name", max_len=200),
        uscc=validate_uscc(uscc),
        district_code=require_code_at(district_code, Level.DISTRICT, "district_code"),
        registered_at=require_aware(now),
        users={_text(admin_user_id, "user_id", max_len=64): UserRole.ADMIN},
    )
    return inst, [
        InstitutionRegistered(
            occurred_at=now, institution_id=inst.institution_id, kind=inst.kind.value
        )
    ]
