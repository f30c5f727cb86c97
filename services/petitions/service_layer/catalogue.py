"""The categories catalogue, kept in ``petitions.categories`` (seeded from the defaults)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.petitions.adapters.tables import categories
from services.petitions.domain.categories import Category, CategoryCatalogue, HandlingLevel
from services.petitions.domain.default_categories import DEFAULT_CATEGORIES
from services.petitions.domain.sla import DEFAULT_SLA_CLASSES
from yiwang.contracts.petitions import (
    CategoryList,
    CategoryOut,
    DeactivateCategoryRequest,
    GetCategoryRequest,
    ListCategoriesRequest,
    PutCategoryRequest,
)
from yiwang.errors import Forbidden, ValidationFailed
from yiwang.uow import UnitOfWork

# Where a report whose category is unknown (or no longer reportable) lands: a 202-acknowledged
# report is never lost; staff reclassify it.
UNCLASSIFIED = "other.unclassified"
OTHER_CATEGORIES: tuple[Category, ...] = (
    Category("other", "其他", "Other", "community", "standard_3d", HandlingLevel.STREET),
    Category(
        UNCLASSIFIED,
        "未分类",
        "Unclassified",
        "community",
        "standard_3d",
        HandlingLevel.STREET,
        public=False,
        description_en="reports whose category was unknown at intake",
        description_zh="上报时类别未知的诉求",
    ),
)
ADMIN_ROLES = frozenset({"admin", "city_staff"})
_CATEGORY: TypeAdapter[Category] = TypeAdapter(Category)
_TTL_S = 5.0
_cache: dict[str, tuple[float, CategoryCatalogue]] = {}
_lock = threading.Lock()


def seed_rows() -> list[dict[str, Any]]:
    """The default catalogue as rows of ``petitions.categories``."""
    return [
        {"code": c.code, "data": _CATEGORY.dump_python(c, mode="json"), "active": c.active}
        for c in (*DEFAULT_CATEGORIES, *OTHER_CATEGORIES)
    ]


def seed(s: Session) -> int:
    """Insert the default categories that are missing (an existing edit is kept)."""
    rows = seed_rows()
    res = s.execute(pg_insert(categories).values(rows).on_conflict_do_nothing())
    return int(res.rowcount or 0)  # type: ignore[attr-defined]


def _key(uow: UnitOfWork) -> str:
    bind = uow.session.get_bind()
    return f"{bind.engine.url}|{uow.schema}"


def invalidate() -> None:
    with _lock:
        _cache.clear()


def load(uow: UnitOfWork, *, fresh: bool = False) -> CategoryCatalogue:
    """The catalogue (cached a few seconds per process; seeded when the table is empty)."""
    key = _key(uow)
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit and not fresh and now - hit[0] < _TTL_S:
        return hit[1]
    rows = uow.session.execute(sa.select(categories.c.data)).scalars().all()
    if not rows:
        seed(uow.session)
        rows = uow.session.execute(sa.select(categories.c.data)).scalars().all()
    cat = CategoryCatalogue.of(
        [_CATEGORY.validate_python(r) for r in rows], dict(DEFAULT_SLA_CLASSES)
    )
    with _lock:
        _cache[key] = (now, cat)
    return cat


def out(cat: CategoryCatalogue, c: Category) -> dict[str, Any]:
    data: dict[str, Any] = _CATEGORY.dump_python(c, mode="json")
    data["group"] = cat.is_group(c.code)
    return CategoryOut.model_validate(data).model_dump(mode="json")


def _sla_list() -> list[dict[str, Any]]:
    return [
        {
            "code": s.code,
            "amount": s.amount,
            "unit": s.unit.value,
            "name_en": s.name_en,
            "name_zh": s.name_zh,
        }
        for s in DEFAULT_SLA_CLASSES.values()
    ]


def list_categories(uow: UnitOfWork, req: ListCategoriesRequest) -> dict[str, Any]:
    with uow:
        cat = load(uow)
    items = [
        out(cat, c)
        for c in sorted(cat.categories.values(), key=lambda c: c.code)
        if c.active or req.include_inactive
    ]
    return CategoryList(
        items=[CategoryOut.model_validate(i) for i in items], sla_classes=_sla_list()
    ).model_dump(mode="json")


def get_category(uow: UnitOfWork, req: GetCategoryRequest) -> dict[str, Any]:
    with uow:
        cat = load(uow)
    return out(cat, cat.get(req.code))


def _require_admin(role: str) -> None:
    if role not in ADMIN_ROLES:
        raise Forbidden(
            "role_not_allowed",
            "only administrators manage categories",
            "只有管理员可以管理类别",
            role=role,
        )


def put_category(uow: UnitOfWork, req: PutCategoryRequest, now: datetime) -> dict[str, Any]:
    _require_admin(req.actor.role)
    try:
        new = _CATEGORY.validate_python(req.category)
    except ValidationError as exc:
        raise ValidationFailed(
            "invalid_category",
            "malformed category definition",
            "类别定义格式错误",
            errors=[e["msg"] for e in exc.errors()][:10],
        ) from None
    with uow:
        s = uow.session
        s.execute(sa.text("LOCK TABLE petitions.categories IN SHARE ROW EXCLUSIVE MODE"))
        cat = load(uow, fresh=True)
        if new.code in cat.categories:
            fields = {k: getattr(new, k) for k in new.__dataclass_fields__ if k != "code"}
            cat.update(new.code, **fields)
        else:
            cat.add(new)
        saved = cat.get(new.code)
        data = _CATEGORY.dump_python(saved, mode="json")
        s.execute(
            pg_insert(categories)
            .values(
                code=saved.code,
                data=data,
                active=saved.active,
                updated_at=now,
                updated_by=req.actor.id,
            )
            .on_conflict_do_update(
                index_elements=[categories.c.code],
                set_={
                    "data": data,
                    "active": saved.active,
                    "updated_at": now,
                    "updated_by": req.actor.id,
                    "version": categories.c.version + 1,
                },
            )
        )
        uow.commit()
    invalidate()
    return out(cat, saved)


def deactivate_category(
    uow: UnitOfWork, req: DeactivateCategoryRequest, now: datetime
) -> dict[str, Any]:
    _require_admin(req.actor.role)
    with uow:
        s = uow.session
        s.execute(sa.text("LOCK TABLE petitions.categories IN SHARE ROW EXCLUSIVE MODE"))
        cat = load(uow, fresh=True)
        cat.deactivate(req.code)
        for c in cat.categories.values():
            if c.code == req.code or c.code.startswith(req.code + "."):
                s.execute(
                    categories.update()
                    .where(categories.c.code == c.code)
                    .values(
                        data=_CATEGORY.dump_python(replace(c, active=False), mode="json"),
                        active=False,
                        updated_at=now,
                        updated_by=req.actor.id,
                        version=categories.c.version + 1,
                    )
                )
        uow.commit()
    invalidate()
    return out(cat, cat.get(req.code))
