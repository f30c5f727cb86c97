"""Technical support (技术支持): enterprise needs matched to research institutions' capabilities.

A need's terms are its tags plus any capability tag that appears verbatim in its title or
description (works for Chinese text without word segmentation). The score of a capability
is the share of the need's terms it covers (0–1); ties break on the Jaccard overlap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from yiwang.clock import require_aware
from yiwang.errors import Forbidden, ValidationFailed
from yiwang.text import require_text

from .accounts import Enterprise, Institution, InstitutionKind
from .common import illegal_transition, normalise_tags


@dataclass(frozen=True, slots=True)
class Capability:
    capability_id: str
    institution_id: str
    name: str
    tags: frozenset[str]
    description: str = ""

    @staticmethod
    def create(
        *,
        capability_id: str,
        institution: Institution,
        name: str,
        tags: Iterable[str],
        description: str = "",
    ) -> Capability:
        """A capability published by a verified research institute."""
        institution.require_verified(InstitutionKind.RESEARCH_INSTITUTE)
        norm = normalise_tags(list(tags))
        if not norm:
            raise ValidationFailed(
                "tags_required", "a capability needs at least one tag", "技术能力至少需要一个标签"
            )
        return Capability(
            require_text(capability_id, "capability_id", max_len=64),
            institution.institution_id,
            require_text(name, "name", max_len=200),
            norm,
            description.strip(),
        )


class TechNeedStatus(StrEnum):
    OPEN = "open"
    ENGAGED = "engaged"
    RESOLVED = "resolved"


@dataclass(slots=True)
class TechNeed:
    need_id: str
    enterprise_id: str
    title: str
    description: str
    tags: frozenset[str]
    created_at: datetime
    status: TechNeedStatus = TechNeedStatus.OPEN
    engaged_institution_id: str | None = None

    def terms_for(self, capability: Capability) -> frozenset[str]:
        text = f"{self.title} {self.description}".lower()
        return self.tags | frozenset(t for t in capability.tags if t in text)

    def engage(self, institution: Institution, user_id: str) -> None:
        """A research institute takes the need on."""
        institution.require_verified(InstitutionKind.RESEARCH_INSTITUTE)
        institution.require_user(user_id)
        if self.status is not TechNeedStatus.OPEN:
            raise illegal_transition("engage", self.status.value, ["open"])
        self.status, self.engaged_institution_id = (
            TechNeedStatus.ENGAGED,
            institution.institution_id,
        )

    def resolve(self, enterprise: Enterprise, user_id: str) -> None:
        if enterprise.enterprise_id != self.enterprise_id:
            raise Forbidden(
                "not_own_need", "this need belongs to another enterprise", "该需求属于其他企业"
            )
        enterprise.require_user(user_id)
        if self.status is TechNeedStatus.RESOLVED:
            raise illegal_transition("resolve", self.status.value, ["open", "engaged"])
        self.status = TechNeedStatus.RESOLVED


def post_tech_need(
    *,
    need_id: str,
    enterprise: Enterprise,
    user_id: str,
    title: str,
    description: str,
    tags: Iterable[str],
    now: datetime,
) -> TechNeed:
    enterprise.require_verified()
    enterprise.require_user(user_id)
    return TechNeed(
        need_id=require_text(need_id, "need_id", max_len=64),
        enterprise_id=enterprise.enterprise_id,
        title=require_text(title, "title", max_len=200),
        description=require_text(description, "description", max_len=5000),
        tags=normalise_tags(list(tags)),
        created_at=require_aware(now),
    )


@dataclass(frozen=True, slots=True)
class TechMatch:
    capability_id: str
    institution_id: str
    score: float  # share of the need's terms covered, 0–1
    jaccard: float
    shared_tags: tuple[str, ...]


def score_capability(need: TechNeed, capability: Capability) -> TechMatch:
    terms = need.terms_for(capability)
    shared = terms & capability.tags
    union = terms | capability.tags
    return TechMatch(
        capability.capability_id,
        capability.institution_id,
        round(len(shared) / len(terms), 4) if terms else 0.0,
        round(len(shared) / len(union), 4) if union else 0.0,
        tuple(sorted(shared)),
    )


def match_capabilities(
    need: TechNeed, capabilities: Iterable[Capability], *, min_score: float = 0.01, limit: int = 10
) -> list[TechMatch]:
    """Best capabilities for a need, highest score first (only those at or above ``min_score``)."""
    matches = [
        m
        for c in capabilities
        if (m := score_capability(need, c)).score >= min_score and m.shared_tags
    ]
    matches.sort(key=lambda m: (-m.score, -m.jaccard, m.capability_id))
    return matches[:limit]
