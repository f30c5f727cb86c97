"""The three lists (三张清单) of a community: demands, resources and service projects.

Each item has a status (draft → published ⇄ unpublished; published → in_progress → done;
withdrawn from any open state). Residents see published items; staff see all.
Search matches every whitespace-separated term against title, description and tags
(case-insensitive substring, so Chinese text works without word splitting).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from yiwang.clock import require_aware
from yiwang.errors import Conflict, NotFound, ValidationFailed
from yiwang.text import require_text

from .common import Staff, illegal_transition, require_community_code


class ListKind(StrEnum):
    DEMAND = "demand"  # 需求清单
    RESOURCE = "resource"  # 资源清单
    PROJECT = "project"  # 项目/服务清单


class ResourceType(StrEnum):
    PEOPLE = "people"
    UNIT = "unit"
    VENUE = "venue"
    MONEY = "money"


class ItemStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    WITHDRAWN = "withdrawn"


IS = ItemStatus
_MOVES: dict[str, dict[ItemStatus, ItemStatus]] = {
    "publish": {IS.DRAFT: IS.PUBLISHED, IS.UNPUBLISHED: IS.PUBLISHED},
    "unpublish": {IS.PUBLISHED: IS.UNPUBLISHED},
    "start": {IS.PUBLISHED: IS.IN_PROGRESS},
    "finish": {IS.IN_PROGRESS: IS.DONE},
    "withdraw": {s: IS.WITHDRAWN for s in (IS.DRAFT, IS.PUBLISHED, IS.UNPUBLISHED, IS.IN_PROGRESS)},
}


def _allowed(status: ItemStatus) -> list[str]:
    return [a for a, m in _MOVES.items() if status in m]


def _tags(tags: Iterable[str]) -> frozenset[str]:
    out = frozenset(t.strip().lower() for t in tags if t.strip())
    if any(len(t) > 30 for t in out) or len(out) > 20:
        raise ValidationFailed(
            "invalid_tags", "at most 20 tags of 30 characters", "标签最多20个，每个不超过30字"
        )
    return out


@dataclass(kw_only=True)
class ListItem:
    item_id: str
    community_code: str
    kind: ListKind
    title: str
    description: str
    tags: frozenset[str]
    submitted_by: str
    created_at: datetime
    resource_type: ResourceType | None = None
    quantity: int | None = None  # people count, or money in fen (分)
    status: ItemStatus = ItemStatus.DRAFT
    updated_at: datetime | None = None
    updated_by: str | None = None
    version: int = 1

    def _move(self, action: str, staff: Staff, now: datetime) -> None:
        staff.require_covers(self.community_code)
        moves = _MOVES[action]
        if self.status not in moves:
            raise illegal_transition(action, self.status, _allowed(self.status))
        self.status = moves[self.status]
        self.updated_at = require_aware(now)
        self.updated_by = staff.staff_id
        self.version += 1

    def publish(self, staff: Staff, now: datetime) -> None:
        self._move("publish", staff, now)

    def unpublish(self, staff: Staff, now: datetime) -> None:
        self._move("unpublish", staff, now)

    def start(self, staff: Staff, now: datetime) -> None:
        self._move("start", staff, now)

    def finish(self, staff: Staff, now: datetime) -> None:
        self._move("finish", staff, now)

    def withdraw(self, staff: Staff, now: datetime) -> None:
        self._move("withdraw", staff, now)

    @property
    def is_public(self) -> bool:
        return self.status in (IS.PUBLISHED, IS.IN_PROGRESS, IS.DONE)

    def matches(self, terms: list[str], tags: frozenset[str]) -> bool:
        hay = f"{self.title}\n{self.description}\n{' '.join(sorted(self.tags))}".lower()
        return all(t in hay for t in terms) and tags <= self.tags


@dataclass
class CommunityLists:
    """All three lists of one community."""

    community_code: str
    items: dict[str, ListItem] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_community_code(self.community_code)

    def add(
        self,
        *,
        item_id: str,
        kind: ListKind,
        title: str,
        description: str,
        submitted_by: str,
        now: datetime,
        tags: Iterable[str] = (),
        resource_type: ResourceType | None = None,
        quantity: int | None = None,
    ) -> ListItem:
        """Add a draft item; resources must say whether they are people, units, venues or money."""
        if item_id in self.items:
            raise Conflict("duplicate_item", f"item {item_id} exists", f"清单项{item_id}已存在")
        if (kind is ListKind.RESOURCE) != (resource_type is not None):
            raise ValidationFailed(
                "resource_type_mismatch",
                "resource items need a resource type; other items must not have one",
                "资源清单项必须指定资源类型，其他清单项不得指定",
            )
        if quantity is not None and quantity <= 0:
            raise ValidationFailed(
                "invalid_quantity", "quantity must be positive", "数量必须为正数"
            )
        item = ListItem(
            item_id=require_text(item_id, "item_id", max_len=64),
            community_code=self.community_code,
            kind=kind,
            title=require_text(title, "title", max_len=100),
            description=require_text(description, "description", max_len=4000),
            tags=_tags(tags),
            submitted_by=require_text(submitted_by, "submitted_by", max_len=64),
            created_at=require_aware(now),
            updated_at=now,
            resource_type=resource_type,
            quantity=quantity,
        )
        self.items[item.item_id] = item
        return item

    def get(self, item_id: str) -> ListItem:
        try:
            return self.items[item_id]
        except KeyError:
            raise NotFound(
                "item_not_found", f"no list item {item_id}", f"清单项{item_id}不存在"
            ) from None

    def search(
        self,
        text: str = "",
        *,
        tags: Iterable[str] = (),
        kind: ListKind | None = None,
        statuses: Iterable[ItemStatus] | None = None,
        public_only: bool = True,
        resource_type: ResourceType | None = None,
    ) -> list[ListItem]:
        """Items matching all terms and all tags, newest first."""
        terms = [t for t in text.lower().split() if t]
        wanted_tags = _tags(tags)
        wanted_status = frozenset(statuses) if statuses is not None else None
        found = [
            it
            for it in self.items.values()
            if (kind is None or it.kind is kind)
            and (not public_only or it.is_public)
            and (wanted_status is None or it.status in wanted_status)
            and (resource_type is None or it.resource_type is resource_type)
            and it.matches(terms, wanted_tags)
        ]
        return sorted(found, key=lambda it: (it.created_at, it.item_id), reverse=True)
