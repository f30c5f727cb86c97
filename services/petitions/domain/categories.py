"""The case categories catalogue: a tree of categories with departments, SLA classes and attributes.

Codes are dotted paths ("appearance.litter"); a category's parent is its code without the
last segment, so the tree needs no separate parent column. Groups (categories with
children) organise the tree; citizens report against leaves. Attributes follow Open311
GeoReport v2 service definitions (datatypes string, number, datetime, text,
singlevaluelist, multivaluelist) so the Open311 mapping is one-to-one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from yiwang.contracts.base import strict_float
from yiwang.errors import Conflict, NotFound, ValidationFailed

from .sla import DEFAULT_SLA_CLASSES, SlaClass, sla_class

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}(\.[a-z][a-z0-9_]{0,31}){0,3}$")
_ATTR_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_STRING = 200
MAX_TEXT = 2000


class Datatype(StrEnum):
    STRING = "string"
    NUMBER = "number"
    DATETIME = "datetime"
    TEXT = "text"
    SINGLEVALUELIST = "singlevaluelist"
    MULTIVALUELIST = "multivaluelist"


class HandlingLevel(StrEnum):
    """Who handles by default: the community (小事不出社区) or the street and above."""

    COMMUNITY = "community"
    STREET = "street"


@dataclass(frozen=True, slots=True)
class AttributeValue:
    key: str
    name_en: str
    name_zh: str


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    """One question a report of the category answers (an Open311 attribute)."""

    code: str
    datatype: Datatype
    description_en: str
    description_zh: str
    required: bool = False
    values: tuple[AttributeValue, ...] = ()
    order: int = 0
    variable: bool = True  # False: informational text only, no answer expected

    def value_keys(self) -> list[str]:
        return [v.key for v in self.values]


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    name_zh: str
    name_en: str
    department: str  # default handling department code, e.g. "urban_management"
    sla_class: str
    handling_level: HandlingLevel = HandlingLevel.STREET
    public: bool = True  # may appear on the public map / Open311 listings
    citizen_selectable: bool = True  # False for system sources (sensor alerts, emergency calls)
    attributes: tuple[AttributeSpec, ...] = ()
    description_en: str = ""
    description_zh: str = ""
    keywords: tuple[str, ...] = ()
    active: bool = True

    @property
    def parent(self) -> str | None:
        return self.code.rsplit(".", 1)[0] if "." in self.code else None

    def attribute(self, code: str) -> AttributeSpec | None:
        return next((a for a in self.attributes if a.code == code), None)

    def name(self, lang: str = "zh") -> str:
        return self.name_zh if lang.startswith("zh") else self.name_en


def _invalid(code: str, en: str, zh: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(code, en, zh, **details)


def check_category(cat: Category, sla_classes: Mapping[str, SlaClass]) -> None:
    """Refuse a malformed category definition."""
    if not _CODE.match(cat.code):
        raise _invalid(
            "invalid_category_code",
            f"'{cat.code}' is not a category code (lower-case dotted path, at most 4 levels)",
            f"“{cat.code}”不是有效的类别编码（小写点分路径，最多4级）",
            category=cat.code,
        )
    if not cat.name_zh.strip() or not cat.name_en.strip() or not cat.department.strip():
        raise _invalid(
            "incomplete_category",
            "a category needs a Chinese name, an English name and a department",
            "类别必须有中文名、英文名和处置部门",
            category=cat.code,
        )
    sla_class(cat.sla_class, dict(sla_classes))
    seen: set[str] = set()
    for attr in cat.attributes:
        if not _ATTR_CODE.match(attr.code) or attr.code in seen:
            raise _invalid(
                "invalid_attribute_code",
                f"attribute code '{attr.code}' is malformed or repeated",
                f"属性编码“{attr.code}”格式错误或重复",
                category=cat.code,
                attribute=attr.code,
            )
        seen.add(attr.code)
        is_list = attr.datatype in (Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST)
        if is_list != bool(attr.values):
            raise _invalid(
                "invalid_attribute_values",
                f"attribute '{attr.code}': list datatypes need values, others must have none",
                f"属性“{attr.code}”：列表类型必须提供取值，其他类型不得提供",
                category=cat.code,
                attribute=attr.code,
            )


@dataclass(slots=True)
class CategoryCatalogue:
    """The editable catalogue. Mutations validate first, then change (all or nothing)."""

    categories: dict[str, Category] = field(default_factory=dict)
    sla_classes: dict[str, SlaClass] = field(default_factory=lambda: dict(DEFAULT_SLA_CLASSES))

    @classmethod
    def of(
        cls, categories: Iterable[Category], sla_classes: Mapping[str, SlaClass] | None = None
    ) -> CategoryCatalogue:
        cat = cls(sla_classes=dict(sla_classes or DEFAULT_SLA_CLASSES))
        for c in sorted(categories, key=lambda c: c.code.count(".")):
            cat.add(c)
        return cat

    # --- queries -------------------------------------------------------------------
    def get(self, code: str) -> Category:
        found = self.categories.get(code)
        if found is None:
            raise NotFound(
                "unknown_category",
                f"unknown category '{code}'",
                f"未知的类别“{code}”",
                category=code,
            )
        return found

    def children(self, code: str | None) -> list[Category]:
        return sorted(
            (c for c in self.categories.values() if c.parent == code), key=lambda c: c.code
        )

    def is_group(self, code: str) -> bool:
        return any(c.parent == code for c in self.categories.values())

    def leaves(self, *, only_active: bool = True) -> list[Category]:
        return sorted(
            (
                c
                for c in self.categories.values()
                if not self.is_group(c.code) and (c.active or not only_active)
            ),
            key=lambda c: c.code,
        )

    def reportable(self, code: str, *, by_citizen: bool = True) -> Category:
        """The category a new report may use: an active leaf (citizen-selectable if asked)."""
        cat = self.get(code)
        if not cat.active or self.is_group(code) or (by_citizen and not cat.citizen_selectable):
            raise _invalid(
                "category_not_reportable",
                f"category '{code}' cannot be chosen for a report",
                f"类别“{code}”不能用于上报",
                category=code,
            )
        return cat

    def sla(self, code: str) -> SlaClass:
        return sla_class(self.get(code).sla_class, self.sla_classes)

    def group_of(self, code: str) -> Category | None:
        parent = self.get(code).parent
        return self.categories.get(parent) if parent else None

    # --- mutations -----------------------------------------------------------------
    def add(self, cat: Category) -> Category:
        check_category(cat, self.sla_classes)
        if cat.code in self.categories:
            raise Conflict(
                "category_exists",
                f"category '{cat.code}' already exists",
                f"类别“{cat.code}”已存在",
                category=cat.code,
            )
        if cat.parent is not None and cat.parent not in self.categories:
            raise _invalid(
                "unknown_parent_category",
                f"parent category '{cat.parent}' does not exist",
                f"上级类别“{cat.parent}”不存在",
                category=cat.code,
            )
        self.categories[cat.code] = cat
        return cat

    def update(self, code: str, /, **changes: Any) -> Category:
        if "code" in changes and changes["code"] != code:
            raise _invalid(
                "category_code_immutable",
                "a category's code cannot change",
                "类别编码不可修改",
                category=code,
            )
        new = replace(self.get(code), **changes)
        check_category(new, self.sla_classes)
        self.categories[code] = new
        return new

    def deactivate(self, code: str) -> Category:
        """Hide a category (and its subtree) from new reports; existing cases keep it."""
        self.get(code)
        for c in list(self.categories.values()):
            if c.code == code or c.code.startswith(code + "."):
                self.categories[c.code] = replace(c, active=False)
        return self.categories[code]


# --- attribute validation ---------------------------------------------------------------


def _bad_value(cat: Category, attr: AttributeSpec, why_en: str, why_zh: str) -> ValidationFailed:
    return _invalid(
        "invalid_attribute",
        f"attribute '{attr.code}' of '{cat.code}': {why_en}",
        f"类别“{cat.code}”的属性“{attr.code}”：{why_zh}",
        category=cat.code,
        attribute=attr.code,
    )


def _coerce(cat: Category, attr: AttributeSpec, raw: Any) -> Any:
    dt = attr.datatype
    if dt in (Datatype.STRING, Datatype.TEXT):
        limit = MAX_STRING if dt is Datatype.STRING else MAX_TEXT
        if not isinstance(raw, str | int | float) or isinstance(raw, bool):
            raise _bad_value(cat, attr, "expected text", "应为文本")
        text = str(raw).strip()
        if len(text) > limit:
            raise _bad_value(cat, attr, f"longer than {limit} characters", f"超过{limit}个字符")
        return text
    if dt is Datatype.NUMBER:
        try:
            num = strict_float(raw)  # no "1_0", no full-width digits, no booleans
        except (TypeError, ValueError):
            raise _bad_value(cat, attr, "expected a number", "应为数字") from None
        if not math.isfinite(num):
            raise _bad_value(cat, attr, "expected a finite number", "应为有限数字")
        return int(num) if num.is_integer() else num
    if dt is Datatype.DATETIME:
        try:
            when = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
        except ValueError:
            raise _bad_value(
                cat, attr, "expected an ISO 8601 datetime", "应为ISO 8601时间"
            ) from None
        if when.tzinfo is None:
            raise _bad_value(cat, attr, "the datetime needs a UTC offset", "时间必须带时区")
        return when.isoformat()
    keys = attr.value_keys()
    if dt is Datatype.SINGLEVALUELIST:
        if isinstance(raw, list | tuple):
            if len(raw) != 1:
                raise _bad_value(cat, attr, "expected exactly one value", "只能选择一个值")
            raw = raw[0]
        if str(raw) not in keys:
            raise _bad_value(cat, attr, f"'{raw}' is not one of {keys}", f"“{raw}”不在{keys}中")
        return str(raw)
    items = list(raw) if isinstance(raw, list | tuple) else [raw]
    chosen = [str(v) for v in items]
    wrong = [v for v in chosen if v not in keys]
    if wrong:
        raise _bad_value(cat, attr, f"{wrong} not among {keys}", f"{wrong}不在{keys}中")
    return sorted(set(chosen), key=keys.index)


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str | list | tuple) and len(raw) == 0)


def validate_attributes(cat: Category, attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Normalised attribute answers for ``cat``; refuses unknown, missing or wrong values."""
    known = {a.code: a for a in cat.attributes if a.variable}
    unknown = sorted(set(attributes) - set(known))
    if unknown:
        raise _invalid(
            "unknown_attribute",
            f"category '{cat.code}' has no attribute(s) {unknown}",
            f"类别“{cat.code}”没有属性{unknown}",
            category=cat.code,
            attributes=unknown,
        )
    missing = sorted(
        code
        for code, a in known.items()
        if a.required and (_blank(attributes.get(code)) or str(attributes.get(code)).strip() == "")
    )
    if missing:
        raise _invalid(
            "missing_attribute",
            f"category '{cat.code}' requires {missing}",
            f"类别“{cat.code}”必须填写{missing}",
            category=cat.code,
            attributes=missing,
        )
    out: dict[str, Any] = {}
    for code, raw in attributes.items():
        if _blank(raw):
            continue
        out[code] = _coerce(cat, known[code], raw)
    return out
