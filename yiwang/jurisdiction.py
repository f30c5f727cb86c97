"""Unified codes (一网一码) and administrative levels, shared by every service.

A code's prefix is its ancestry: city 4 digits (province + prefecture of the national
statistical division code), district 6, street 9, community 12, grid 15, building 18.
"Is X inside my jurisdiction" is ``x.startswith(mine)``.
"""

from __future__ import annotations

import re
from enum import StrEnum

from yiwang.errors import ValidationFailed


class Level(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
    BUILDING = "building"


CODE_LENGTHS: dict[Level, int] = {
    Level.CITY: 4,
    Level.DISTRICT: 6,
    Level.STREET: 9,
    Level.COMMUNITY: 12,
    Level.GRID: 15,
    Level.BUILDING: 18,
}
LEVEL_BY_LENGTH: dict[int, Level] = {n: lvl for lvl, n in CODE_LENGTHS.items()}
ORDER: list[Level] = list(CODE_LENGTHS)  # top (city) to bottom (building)

# The escalation ladder: a case climbs from the grid to the city, one level at a time.
ESCALATION_LADDER: list[Level] = [
    Level.GRID,
    Level.COMMUNITY,
    Level.STREET,
    Level.DISTRICT,
    Level.CITY,
]

_DIGITS = re.compile(r"^[0-9]+$")


def level_of(code: str) -> Level:
    """The level a code denotes; raises ``ValidationFailed`` for a malformed code."""
    if not isinstance(code, str) or not _DIGITS.match(code) or len(code) not in LEVEL_BY_LENGTH:
        raise ValidationFailed(
            "invalid_code",
            f"'{code}' is not a unified code (digits, length 4/6/9/12/15/18)",
            f"“{code}”不是有效的统一编码（数字，长度为4/6/9/12/15/18位）",
            code_value=str(code),
        )
    return LEVEL_BY_LENGTH[len(code)]


def is_valid_code(code: str) -> bool:
    try:
        level_of(code)
    except ValidationFailed:
        return False
    return True


def parent_code(code: str) -> str | None:
    """The code of the unit directly above, or None for a city."""
    idx = ORDER.index(level_of(code))
    if idx == 0:
        return None
    return code[: CODE_LENGTHS[ORDER[idx - 1]]]


def ancestry(code: str) -> list[str]:
    """Codes from the city down to and including ``code``."""
    level = level_of(code)
    return [code[: CODE_LENGTHS[lvl]] for lvl in ORDER[: ORDER.index(level) + 1]]


def code_at(code: str, level: Level) -> str:
    """The ancestor of ``code`` at ``level`` (``code`` itself when it is that level)."""
    own = level_of(code)
    if ORDER.index(level) > ORDER.index(own):
        raise ValidationFailed(
            "level_below_code",
            f"'{code}' ({own}) has no ancestor at level {level}",
            f"编码“{code}”（{own}）没有{level}级上级",
        )
    return code[: CODE_LENGTHS[level]]


def within(code: str, jurisdiction: str) -> bool:
    """True when ``code`` lies inside (or is) ``jurisdiction``."""
    return code.startswith(jurisdiction)


def next_level_up(level: Level) -> Level | None:
    """The next rung of the escalation ladder, or None at the city."""
    if level == Level.BUILDING:
        return Level.GRID
    idx = ESCALATION_LADDER.index(level)
    return ESCALATION_LADDER[idx + 1] if idx + 1 < len(ESCALATION_LADDER) else None
