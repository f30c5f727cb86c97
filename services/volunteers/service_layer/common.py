"""Helpers shared by the volunteers command handlers: staff, policy, keys, conflicts."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.volunteers.domain.common import Staff
from services.volunteers.domain.order import OrderPolicy
from services.volunteers.domain.points import PointRules
from yiwang.contracts.volunteers import StaffRef
from yiwang.errors import Conflict, DomainError
from yiwang.uow import UnitOfWork

UowFactory = Callable[[], UnitOfWork]

# The default ordering rules (rules as data; a deployment may pass its own policy).
DEFAULT_POLICY = OrderPolicy(
    street_review_categories=frozenset({"legal_aid", "mediation"}),
    required_skill_by_category={"repair": "electrician", "medical": "medical"},
    claim_limit=timedelta(hours=24),
    escalation_limit=timedelta(hours=24),
    rating_limit=timedelta(days=7),
    point_rules=PointRules(
        base_by_category={"repair": 20, "medical": 20}, default_base=10, five_star_bonus=5
    ),
)


def staff_of(ref: StaffRef, target_code: str) -> Staff:
    """The acting staff member. An account bound to no unit (``""``: administrators) acts
    with the authority of the target's street, which covers the target community."""
    code = ref.jurisdiction_code or target_code[:9]
    return Staff(ref.staff_id, code)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def qr_keys_from_secret(secret: str, kid: str = "k1") -> dict[str, bytes]:
    """The QR signing key, derived from the deployment secret (never the secret itself)."""
    return {
        kid: hmac.new(secret.encode(), f"volunteers.qr.{kid}".encode(), hashlib.sha256).digest()
    }


def qr_keys_from_keyset(keys: Mapping[str, bytes]) -> dict[str, bytes]:
    """QR signing keys for every keyring ``qr`` key id, each derived from its key."""
    return {
        kid: hmac.new(k, f"volunteers.qr.{kid}".encode(), hashlib.sha256).digest()
        for kid, k in keys.items()
    }


@contextmanager
def unique_or_conflict(code: str, en: str, zh: str, **details: Any) -> Iterator[None]:
    """Translate a unique/exclusion violation raised inside the block into a Conflict."""
    try:
        yield
    except IntegrityError as exc:
        raise Conflict(code, en, zh, **details) from exc


__all__ = [
    "DEFAULT_POLICY",
    "DomainError",
    "UowFactory",
    "new_id",
    "qr_keys_from_keyset",
    "qr_keys_from_secret",
    "staff_of",
    "unique_or_conflict",
]
