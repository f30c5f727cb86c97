"""Query parameters shared by several routes, declared once with their description and example.

Each alias keeps the validation its routes had; the text says what the value means (zh-CN
terms in parentheses) and the example comes from the demo city 安平市 (code 3299: district
329901, street 329901001, community 329901001001, grid 329901001001001).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Query

Jurisdiction = Annotated[
    str,
    Query(
        pattern=r"^[0-9]{0,18}$",
        max_length=18,
        description=(
            "Unified code prefix of the unit to look into (区划代码前缀, 一网一码): district 6 "
            "digits, street 9, community 12, grid 15. Empty, or a code above your own unit, "
            "means your own unit; a code outside it is refused (403)."
        ),
        examples=["329901001"],
    ),
]

# -- the dispatch view's filters (list and export) --------------------------------------------
CaseStatus = Annotated[
    str | None,
    Query(
        max_length=32,
        description=(
            "Only cases in this status (案件状态): submitted, accepted, dispatched (已派遣), "
            "in_progress, handled, verified, closed (已结案), evaluated, rejected, "
            "awaiting_info, community_review, forwarded, merged."
        ),
        examples=["dispatched"],
    ),
]
CaseSource = Annotated[
    str | None,
    Query(
        max_length=32,
        description=(
            "Only cases from this source (来源): citizen (市民随手拍), open311, patrol (网格巡查), "
            "sensor, hotline (12345 热线), suggestion_box (网上意见箱), enterprise, "
            "volunteer_order, agency (微代办)."
        ),
        examples=["citizen"],
    ),
]
CaseCategory = Annotated[
    str | None,
    Query(
        max_length=64,
        description="Only cases of exactly this category code (事件类别): appearance.litter is 暴露垃圾.",
        examples=["appearance.litter"],
    ),
]
CaseDepartment = Annotated[
    str | None,
    Query(
        max_length=64,
        description=(
            "Only cases dispatched to this department (职能部门代码), e.g. urban_management "
            "(城市管理), transport, ecology_environment. Department handlers always see their "
            "own department, whatever is asked."
        ),
        examples=["urban_management"],
    ),
]
CreatedFrom = Annotated[
    datetime | None,
    Query(
        description="Only cases created at or after this instant (ISO 8601 with offset).",
        examples=["2026-11-01T00:00:00+08:00"],
    ),
]
CreatedTo = Annotated[
    datetime | None,
    Query(
        description="Only cases created before this instant (exclusive; ISO 8601 with offset).",
        examples=["2026-12-01T00:00:00+08:00"],
    ),
]
CaseText = Annotated[
    str | None,
    Query(
        max_length=100,
        description="Text search (全文检索): cases whose title or description contains it.",
        examples=["垃圾"],
    ),
]

# -- KPIs ------------------------------------------------------------------------------------
DayFrom = Annotated[
    date,
    Query(
        description="First day of the range, inclusive (local day, Asia/Shanghai).",
        examples=["2026-11-01"],
    ),
]
DayTo = Annotated[
    date,
    Query(
        description="Last day of the range, inclusive (at most 10 years after day_from).",
        examples=["2026-11-30"],
    ),
]
KpiDepartment = Annotated[
    str,
    Query(
        max_length=64,
        description=(
            'Department code (职能部门), or "*" for all departments together (the default). '
            "Department handlers always get their own department."
        ),
        examples=["urban_management"],
    ),
]
