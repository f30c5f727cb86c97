"""One generic repository for every aggregate: JSONB state + query columns + version."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.enterprise.adapters import tables as t
from services.enterprise.adapters.codec import encode, load
from services.enterprise.domain.accounts import Enterprise, Institution
from services.enterprise.domain.demands import Demand
from services.enterprise.domain.financing import FinancingNeed, FinancingProduct
from services.enterprise.domain.policies import Policy
from services.enterprise.domain.projects import KeyProject
from services.enterprise.domain.talent import JobPosting
from services.enterprise.domain.techsupport import Capability, TechNeed
from yiwang.errors import Conflict, NotFound

A = TypeVar("A")

# unique constraint name → (code, English, zh-CN)
_UNIQUE: dict[str, tuple[str, str, str]] = {
    "uq_enterprises_uscc": (
        "uscc_taken",
        "an enterprise with this USCC is already registered",
        "该统一社会信用代码已注册",
    ),
    "uq_institutions_uscc": (
        "uscc_taken",
        "an institution with this USCC is already registered",
        "该统一社会信用代码已注册",
    ),
}


class Repository(Generic[A]):
    def __init__(
        self,
        table: sa.Table,
        cls: type[A],
        label_en: str,
        label_zh: str,
        columns: Callable[[A], dict[str, Any]],
    ) -> None:
        self.table = table
        self.cls = cls
        self.label_en = label_en
        self.label_zh = label_zh
        self.columns = columns

    def not_found(self, id_: str) -> NotFound:
        code = f"unknown_{self.label_en.replace(' ', '_')}"
        return NotFound(code, f"no {self.label_en} {id_}", f"{self.label_zh}{id_}不存在", id=id_)

    def get(self, session: Session, id_: str, *, for_update: bool = False) -> tuple[A, int]:
        q = sa.select(self.table.c.state, self.table.c.version).where(self.table.c.id == id_)
        if for_update:
            q = q.with_for_update()
        row = session.execute(q).first()
        if row is None:
            raise self.not_found(id_)
        return load(self.cls, row.state), int(row.version)

    def find(
        self,
        session: Session,
        *where: Any,
        order_by: Sequence[Any] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[tuple[A, int]]:
        q = sa.select(self.table.c.state, self.table.c.version).where(sa.true(), *where)
        q = q.order_by(*(order_by or [self.table.c.created_at, self.table.c.id]))
        if limit is not None:
            q = q.limit(limit).offset(offset)
        return [(load(self.cls, r.state), int(r.version)) for r in session.execute(q)]

    def count(self, session: Session, *where: Any) -> int:
        q = sa.select(sa.func.count()).select_from(self.table).where(sa.true(), *where)
        return int(session.execute(q).scalar_one())

    def exists(self, session: Session, id_: str) -> bool:
        q = sa.select(self.table.c.id).where(self.table.c.id == id_)
        return session.execute(q).first() is not None

    def add(self, session: Session, id_: str, obj: A, now: datetime, **extra: Any) -> int:
        values = dict(
            id=id_,
            state=encode(obj),
            version=1,
            created_at=now,
            updated_at=now,
            **self.columns(obj),
            **extra,
        )
        try:
            with session.begin_nested():
                session.execute(self.table.insert().values(**values))
        except IntegrityError as exc:
            raise _integrity(exc, self, id_) from None
        return 1

    def save(
        self, session: Session, id_: str, obj: A, version: int, now: datetime, **extra: Any
    ) -> int:
        """Write ``obj`` if nobody changed it since ``version``; returns the new version."""
        res = session.execute(
            self.table.update()
            .where(self.table.c.id == id_, self.table.c.version == version)
            .values(
                state=encode(obj),
                version=version + 1,
                updated_at=now,
                **self.columns(obj),
                **extra,
            )
        )
        if res.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(
                "version_conflict",
                f"the {self.label_en} was changed by someone else; reload and retry",
                f"{self.label_zh}已被他人修改，请刷新后重试",
                id=id_,
            )
        return version + 1


def _integrity(exc: IntegrityError, repo: Repository[Any], id_: str) -> Conflict:
    text = str(exc.orig)
    for name, (code, en, zh) in _UNIQUE.items():
        if name in text:
            return Conflict(code, en, zh)
    if "_pkey" in text:
        return Conflict(
            "already_exists", f"{repo.label_en} {id_} already exists", f"{repo.label_zh}{id_}已存在"
        )
    return Conflict("integrity_error", "the change conflicts with stored data", "数据冲突")


def _demand_cols(d: Demand) -> dict[str, Any]:
    return dict(
        enterprise_id=d.enterprise_id,
        category=d.category,
        urgency=d.urgency.value,
        grid_code=d.grid_code,
        district_code=d.district_code,
        status=d.status.value,
        leader_id=d.leader_id,
        department=d.department,
        due_at=d.due_at,
        overdue_reported=d.overdue_reported,
    )


def _project_cols(p: KeyProject) -> dict[str, Any]:
    cur = p.current
    nxt = None
    if cur is not None:
        nxt = cur.warn_at if not cur.warned else (cur.due_at if not cur.late_reported else None)
    return dict(
        name=p.name,
        district_code=p.district_code,
        status=p.status.value,
        current_department=cur.department if cur else None,
        next_check_at=nxt,
    )


ENTERPRISES: Repository[Enterprise] = Repository(
    t.enterprises,
    Enterprise,
    "enterprise",
    "企业",
    lambda e: dict(
        uscc=e.uscc,
        name=e.name,
        industry=e.industry,
        size=e.size.value,
        grid_code=e.grid_code,
        district_code=e.district_code,
        status=e.status.value,
    ),
)
INSTITUTIONS: Repository[Institution] = Repository(
    t.institutions,
    Institution,
    "institution",
    "机构",
    lambda i: dict(
        uscc=i.uscc,
        kind=i.kind.value,
        name=i.name,
        district_code=i.district_code,
        status=i.status.value,
    ),
)
DEMANDS: Repository[Demand] = Repository(t.demands, Demand, "demand", "诉求", _demand_cols)
PRODUCTS: Repository[FinancingProduct] = Repository(
    t.financing_products,
    FinancingProduct,
    "product",
    "金融产品",
    lambda p: dict(institution_id=p.institution_id, active=p.active),
)
NEEDS: Repository[FinancingNeed] = Repository(
    t.financing_needs,
    FinancingNeed,
    "financing need",
    "融资需求",
    lambda n: dict(enterprise_id=n.enterprise_id, status=n.status.value),
)
JOBS: Repository[JobPosting] = Repository(
    t.job_postings,
    JobPosting,
    "job posting",
    "岗位",
    lambda j: dict(enterprise_id=j.enterprise_id, status=j.status.value, hires=j.hires),
)
CAPABILITIES: Repository[Capability] = Repository(
    t.capabilities,
    Capability,
    "capability",
    "技术能力",
    lambda c: dict(institution_id=c.institution_id),
)
TECH_NEEDS: Repository[TechNeed] = Repository(
    t.tech_needs,
    TechNeed,
    "tech need",
    "技术需求",
    lambda n: dict(enterprise_id=n.enterprise_id, status=n.status.value),
)
POLICIES: Repository[Policy] = Repository(
    t.policies, Policy, "policy", "政策", lambda p: dict(title=p.title)
)
PROJECTS: Repository[KeyProject] = Repository(
    t.key_projects, KeyProject, "project", "重点项目", _project_cols
)
