"""Talent recruitment (人才招聘): job postings, applications, hires counted.

    application: applied → shortlisted → hired
                 applied | shortlisted → rejected;  applied | shortlisted → withdrawn

A posting closes by itself when its headcount is filled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from yiwang.clock import require_aware
from yiwang.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yiwang.text import require_text

from .accounts import Enterprise
from .common import illegal_transition
from .events import CandidateHired


class PostingStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ApplicationStatus(StrEnum):
    APPLIED = "applied"
    SHORTLISTED = "shortlisted"
    HIRED = "hired"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


_ACTIVE = frozenset({ApplicationStatus.APPLIED, ApplicationStatus.SHORTLISTED})


@dataclass(slots=True)
class Application:
    application_id: str
    candidate_id: str
    candidate_name: str
    contact: str
    applied_at: datetime
    status: ApplicationStatus = ApplicationStatus.APPLIED
    decided_at: datetime | None = None


@dataclass(slots=True)
class JobPosting:
    posting_id: str
    enterprise_id: str
    title: str
    description: str
    headcount: int
    posted_at: datetime
    status: PostingStatus = PostingStatus.OPEN
    applications: dict[str, Application] = field(default_factory=dict)

    @property
    def hires(self) -> int:
        return sum(1 for a in self.applications.values() if a.status is ApplicationStatus.HIRED)

    def apply(
        self,
        *,
        application_id: str,
        candidate_id: str,
        candidate_name: str,
        contact: str,
        now: datetime,
    ) -> Application:
        if self.status is not PostingStatus.OPEN:
            raise illegal_transition("apply", self.status.value, ["open"])
        if any(
            a.candidate_id == candidate_id and a.status is not ApplicationStatus.WITHDRAWN
            for a in self.applications.values()
        ):
            raise Conflict(
                "already_applied", "the candidate has already applied", "该求职者已投递过此岗位"
            )
        if application_id in self.applications:
            raise Conflict(
                "duplicate_application_id", "application id already used", "投递编号重复"
            )
        app = Application(
            application_id=require_text(application_id, "application_id", max_len=64),
            candidate_id=require_text(candidate_id, "candidate_id", max_len=64),
            candidate_name=require_text(candidate_name, "candidate_name", max_len=100),
            contact=require_text(contact, "contact", max_len=200),
            applied_at=require_aware(now),
        )
        self.applications[app.application_id] = app
        return app

    def _app(self, application_id: str) -> Application:
        app = self.applications.get(application_id)
        if app is None:
            raise NotFound(
                "unknown_application",
                f"no application {application_id}",
                f"投递记录{application_id}不存在",
            )
        return app

    def _require_owner(self, enterprise: Enterprise, user_id: str) -> None:
        if enterprise.enterprise_id != self.enterprise_id:
            raise Forbidden(
                "not_own_posting",
                "this posting belongs to another enterprise",
                "该岗位属于其他企业",
            )
        enterprise.require_user(user_id)

    def shortlist(
        self, enterprise: Enterprise, user_id: str, application_id: str, now: datetime
    ) -> None:
        self._require_owner(enterprise, user_id)
        app = self._app(application_id)
        if app.status is not ApplicationStatus.APPLIED:
            raise illegal_transition("shortlist", app.status.value, ["applied"])
        app.status, app.decided_at = ApplicationStatus.SHORTLISTED, require_aware(now)

    def reject(
        self, enterprise: Enterprise, user_id: str, application_id: str, now: datetime
    ) -> None:
        self._require_owner(enterprise, user_id)
        app = self._app(application_id)
        if app.status not in _ACTIVE:
            raise illegal_transition("reject", app.status.value, sorted(_ACTIVE))
        app.status, app.decided_at = ApplicationStatus.REJECTED, require_aware(now)

    def withdraw(self, candidate_id: str, application_id: str, now: datetime) -> None:
        app = self._app(application_id)
        if app.candidate_id != candidate_id:
            raise Forbidden("not_own_application", "not your application", "不是您的投递")
        if app.status not in _ACTIVE:
            raise illegal_transition("withdraw", app.status.value, sorted(_ACTIVE))
        app.status, app.decided_at = ApplicationStatus.WITHDRAWN, require_aware(now)

    def hire(
        self, enterprise: Enterprise, user_id: str, application_id: str, now: datetime
    ) -> CandidateHired:
        """Hire a shortlisted candidate; the posting closes when the headcount is filled."""
        self._require_owner(enterprise, user_id)
        app = self._app(application_id)
        if app.status is not ApplicationStatus.SHORTLISTED:
            raise illegal_transition("hire", app.status.value, ["shortlisted"])
        if self.hires >= self.headcount:
            raise Conflict(
                "headcount_filled", "the posting's headcount is filled", "该岗位招聘人数已满"
            )
        app.status, app.decided_at = ApplicationStatus.HIRED, require_aware(now)
        if self.hires >= self.headcount:
            self.status = PostingStatus.CLOSED
        return CandidateHired(
            occurred_at=now,
            posting_id=self.posting_id,
            application_id=app.application_id,
            enterprise_id=self.enterprise_id,
        )

    def close(self, enterprise: Enterprise, user_id: str) -> None:
        self._require_owner(enterprise, user_id)
        self.status = PostingStatus.CLOSED


def post_job(
    *,
    posting_id: str,
    enterprise: Enterprise,
    user_id: str,
    title: str,
    description: str,
    headcount: int,
    now: datetime,
) -> JobPosting:
    enterprise.require_verified()
    enterprise.require_user(user_id)
    if (
        isinstance(headcount, bool)
        or not isinstance(headcount, int)
        or not 1 <= headcount <= 10_000
    ):
        raise ValidationFailed(
            "invalid_headcount", "headcount must be 1–10000", "招聘人数必须为1到10000"
        )
    return JobPosting(
        posting_id=require_text(posting_id, "posting_id", max_len=64),
        enterprise_id=enterprise.enterprise_id,
        title=require_text(title, "title", max_len=200),
        description=require_text(description, "description", max_len=5000),
        headcount=headcount,
        posted_at=require_aware(now),
    )


@dataclass(frozen=True, slots=True)
class HireCounts:
    total: int
    by_enterprise: dict[str, int]


def count_hires(postings: Iterable[JobPosting]) -> HireCounts:
    """Hires per enterprise and in total (the seed's "6,000+ hires" figure)."""
    per: Counter[str] = Counter()
    for p in postings:
        per[p.enterprise_id] += p.hires
    by = {k: v for k, v in per.items() if v}
    return HireCounts(total=sum(by.values()), by_enterprise=by)
