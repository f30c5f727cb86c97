"""Seeded demo data: the seed's 23 key projects under a standard compressed procedure."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from .common import require_aware
from .projects import KeyProject, StepSpec, create_project

# Investment-project approval in compressed working-day limits (审批服务变审批任务).
STANDARD_PROCEDURE: tuple[StepSpec, ...] = (
    StepSpec("项目备案", "development_reform", 1),
    StepSpec("用地预审与选址意见", "natural_resources", 5),
    StepSpec("建设用地规划许可", "natural_resources", 3),
    StepSpec("建设工程规划许可", "natural_resources", 5),
    StepSpec("施工图审查", "housing_construction", 5),
    StepSpec("施工许可", "housing_construction", 3),
    StepSpec("竣工联合验收", "housing_construction", 5),
)
KEY_PROJECT_COUNT = 23  # seed 004
_KINDS = (
    "智能制造产业园",
    "石化新材料",
    "物流中心",
    "数据中心",
    "商业综合体",
    "医药研发基地",
    "新能源装备",
)


def demo_key_projects(
    *,
    district_code: str,
    leader_id: str,
    start: datetime,
    seed: int = 4,
    count: int = KEY_PROJECT_COUNT,
) -> list[KeyProject]:
    """``count`` planned projects (start them with ``KeyProject.start``), reproducible per seed."""
    require_aware(start)
    rng = random.Random(seed)
    projects = []
    for i in range(count):
        name = f"重点项目{i + 1:02d}：{rng.choice(_KINDS)}"
        projects.append(
            create_project(
                project_id=f"KP{i + 1:03d}",
                name=name,
                district_code=district_code,
                leader_id=leader_id,
                steps=STANDARD_PROCEDURE,
            )
        )
    return projects


def demo_start_times(
    start: datetime, count: int = KEY_PROJECT_COUNT, seed: int = 4
) -> list[datetime]:
    """Staggered procedure start times over the 30 days after ``start``."""
    rng = random.Random(seed)
    return [
        start + timedelta(days=rng.randint(0, 29), hours=rng.randint(0, 8)) for _ in range(count)
    ]
