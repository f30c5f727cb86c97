"""Who is calling: roles and the ``Principal`` every route receives from ``require``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from yiwang.errors import DomainError, Forbidden

STAFF_ROLES: frozenset[str] = frozenset(
    {"grid_worker", "community_staff", "street_staff", "district_staff", "city_staff"}
)
ROLES: frozenset[str] = frozenset(
    STAFF_ROLES
    | {
        "citizen",
        "department_handler",
        "leader",
        "volunteer",
        "enterprise_user",
        "institution_user",
        "admin",
    }
)
SYSTEM_ROLE = "system"  # service API keys (other systems, e.g. Open311 clients)
ALL_ROLES: frozenset[str] = frozenset(ROLES | {SYSTEM_ROLE})

# The level a staff account's unit code must have (length of the unified code).
STAFF_CODE_LENGTH: dict[str, int] = {
    "city_staff": 4,
    "district_staff": 6,
    "street_staff": 9,
    "community_staff": 12,
    "grid_worker": 15,
}


class Unauthenticated(DomainError):
    """No, or no valid, credentials (HTTP 401)."""

    status = 401
    code = "unauthenticated"


def outside_jurisdiction(code: str, mine: str) -> Forbidden:
    return Forbidden(
        "outside_jurisdiction",
        f"'{code}' is outside your jurisdiction.",
        f"“{code}”不在您的管辖范围内。",
        requested=code,
    )


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated account (or service API key), as routes see it.

    ``jurisdiction_code`` is the unit code the account is bound to; ``""`` means
    everywhere (administrators, self-registered citizens).
    """

    account_id: str
    role: str
    display_name: str = ""
    jurisdiction_code: str = ""
    department: str | None = None
    enterprise_id: str | None = None
    institution_id: str | None = None
    person_id: str | None = None
    can_unmask: bool = False
    via: Literal["token", "api_key"] = "token"
    actions: frozenset[str] = field(default_factory=frozenset)  # API keys only
    token_id: str | None = None  # the access token's jti
    family_id: str | None = None  # the refresh-token family the access token belongs to
    account_version: str | None = None  # the account's version when the token was issued

    @property
    def is_system(self) -> bool:
        return self.role == SYSTEM_ROLE

    def covers(self, code: str | None) -> bool:
        """True when ``code`` lies inside this account's jurisdiction (prefix rule)."""
        return code is not None and str(code).startswith(self.jurisdiction_code)

    def check_jurisdiction(self, code: str | None) -> None:
        """Forbidden unless ``code`` is inside this account's jurisdiction."""
        if not self.covers(code):
            raise outside_jurisdiction(str(code), self.jurisdiction_code)

    def jurisdiction_prefix(self, requested: str = "") -> str:
        """Narrow a requested code-prefix filter to what this account may see.

        Empty or broader than the account's unit → the account's own code; inside it → the
        request unchanged; elsewhere → Forbidden.
        """
        mine = self.jurisdiction_code
        if not requested or mine.startswith(requested):
            return mine
        if requested.startswith(mine):
            return requested
        raise outside_jurisdiction(requested, mine)

    def actor(self) -> dict[str, Any]:
        """How this principal appears in timelines and audit entries."""
        return {"id": self.account_id, "role": self.role, "name": self.display_name}

    def audit_name(self) -> str:
        return f"apikey:{self.account_id}" if self.via == "api_key" else self.account_id

    def as_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "role": self.role,
            "display_name": self.display_name,
            "jurisdiction_code": self.jurisdiction_code,
            "department": self.department,
            "enterprise_id": self.enterprise_id,
            "institution_id": self.institution_id,
            "person_id": self.person_id,
            "can_unmask": self.can_unmask,
            "via": self.via,
            "actions": sorted(self.actions),
        }
