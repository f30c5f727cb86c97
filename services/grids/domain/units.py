"""The administrative tree (区划树): units with unified codes, and pure operations on it.

city (4 digits) → district (6) → street (9) → community (12) → grid (15) → building (18).
A unit's parent is its code prefix (``yiwang.jurisdiction``). Households are not units:
they are keyed under a building as ``<building code>-<room>`` (see ``household_code``).

``AdminTree`` is an in-memory tree; every mutation validates first and changes nothing when
it refuses. Mutations append domain events (``UnitCreated`` …) to ``tree.events``; the
service layer drains them with ``pull_events()`` into the outbox.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import product
from typing import Any

from yiwang.errors import Conflict, NotFound, ValidationFailed
from yiwang.jurisdiction import CODE_LENGTHS, ORDER, Level, level_of, parent_code

MAX_NAME_LENGTH = 64
_ROOM = re.compile(r"^[0-9A-Za-z]{1,8}$")
_CJK = re.compile(r"[\u3400-\u9fff]")
_MAX_INITIAL_VARIANTS = 16


def validate_code(code: str, level: Level | str | None = None) -> Level:
    """Check a unified code (digits, known length, no all-zero segment); return its level.

    Raises ``ValidationFailed``: ``invalid_code`` (shape), ``invalid_code_segment`` (a
    segment of zeros, which in statistical codes means "the parent itself"),
    ``invalid_level`` (``level`` is not a level), ``code_level_mismatch`` (``level`` given
    and different from the code's length).
    """
    own = level_of(code)
    idx = ORDER.index(own)
    if idx > 0:
        segment = code[CODE_LENGTHS[ORDER[idx - 1]] :]
        if set(segment) == {"0"}:
            raise ValidationFailed(
                "invalid_code_segment",
                f"'{code}': the {own} segment '{segment}' must not be all zeros",
                f"编码“{code}”的{own}段“{segment}”不能全为0",
                code_value=code,
            )
    if level is None:
        return own
    try:
        wanted = Level(level)
    except ValueError:
        known = ", ".join(str(lv) for lv in ORDER)
        raise ValidationFailed(
            "invalid_level",
            f"unknown level '{level}' (one of {known})",
            f"未知层级“{level}”（可选：{known}）",
            level=str(level),
        ) from None
    if wanted != own:
        raise ValidationFailed(
            "code_level_mismatch",
            f"'{code}' is a {own} code, not {wanted}",
            f"编码“{code}”是{own}级编码，不是{wanted}级",
            code_value=code,
            expected_level=str(wanted),
        )
    return own


def household_code(building_code: str, room: str) -> str:
    """The key of a household: ``<18-digit building code>-<room>`` (room: 1–8 letters/digits)."""
    validate_code(building_code, Level.BUILDING)
    if not _ROOM.match(room):
        raise ValidationFailed(
            "invalid_room",
            f"room '{room}' must be 1-8 letters or digits",
            f"房号“{room}”必须为1至8位字母或数字",
            room=room,
        )
    return f"{building_code}-{room}"


def split_household_code(code: str) -> tuple[str, str]:
    """``(building_code, room)`` of a household code; raises ``invalid_household_code``."""
    building, sep, room = code.partition("-")
    if not sep:
        raise ValidationFailed(
            "invalid_household_code",
            f"'{code}' is not a household code (<building code>-<room>)",
            f"“{code}”不是有效的住户编码（楼栋编码-房号）",
            code_value=code,
        )
    household_code(building, room)
    return building, room


def _pypinyin() -> Any:
    """pypinyin, imported on first use: its dictionaries take ~55 MB of memory, needed only
    when a unit is created or renamed (search reads the stored initials and variants)."""
    import pypinyin

    return pypinyin


def pinyin_initials(name: str) -> str:
    """Lower-case pinyin initials of a name, e.g. 和平街道 → ``hpjd`` (other chars kept)."""
    py = _pypinyin()
    return "".join(py.lazy_pinyin(name, style=py.Style.FIRST_LETTER)).lower()


def initials_variants(name: str) -> tuple[str, ...]:
    """All initials for polyphonic characters (长 → c/z), capped to a few combinations;
    the usual reading (``pinyin_initials``) first, the others sorted."""
    py = _pypinyin()
    options = [
        sorted({s[:1].lower() for s in syl if s}) or [""]
        for syl in py.pinyin(name, style=py.Style.FIRST_LETTER, heteronym=True)
    ]
    first = pinyin_initials(name)
    out: set[str] = {first}
    for combo in product(*options):
        out.add("".join(combo))
        if len(out) >= _MAX_INITIAL_VARIANTS:
            break
    out.discard(first)
    return (first, *sorted(out))


def _clean_name(name: str) -> str:
    cleaned = " ".join(str(name).split())
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH:
        raise ValidationFailed(
            "invalid_name",
            f"a unit name must have 1 to {MAX_NAME_LENGTH} characters",
            f"区划名称长度须为1至{MAX_NAME_LENGTH}个字符",
        )
    return cleaned


@dataclass(frozen=True, slots=True)
class Unit:
    """One node of the tree. ``pinyin_initials`` (usual reading) and ``pinyin_variants``
    (every reading of polyphonic characters, usual first) are derived from the name when
    it is set and stored with the unit, so loading a tree needs no pinyin dictionary."""

    code: str
    name: str
    level: Level
    parent_code: str | None
    retired: bool = False
    pinyin_initials: str = ""
    pinyin_variants: str = ""  # space-separated: one string per unit, not a tuple of many

    @classmethod
    def new(cls, code: str, name: str, level: Level | str | None = None) -> Unit:
        lvl = validate_code(code, level)
        clean = _clean_name(name)
        variants = initials_variants(clean)
        return cls(code, clean, lvl, parent_code(code), False, variants[0], " ".join(variants))


@dataclass(frozen=True)
class UnitCreated:
    code: str
    name: str
    level: str
    parent_code: str | None


@dataclass(frozen=True)
class UnitRenamed:
    code: str
    old_name: str
    new_name: str


@dataclass(frozen=True)
class UnitMoved:
    """``mapping`` holds old → new codes for the unit and its whole subtree."""

    old_code: str
    new_code: str
    mapping: dict[str, str]


@dataclass(frozen=True)
class UnitRetired:
    code: str


@dataclass(frozen=True)
class UnitReinstated:
    code: str


UnitEvent = UnitCreated | UnitRenamed | UnitMoved | UnitRetired | UnitReinstated


def _not_found(code: str) -> NotFound:
    return NotFound(
        "unit_not_found", f"no unit with code '{code}'", f"区划编码“{code}”不存在", code_value=code
    )


@dataclass
class AdminTree:
    """The tree of units, indexed by code and by parent."""

    _units: dict[str, Unit] = field(default_factory=dict)
    _children: dict[str, set[str]] = field(default_factory=dict)
    events: list[UnitEvent] = field(default_factory=list)

    @classmethod
    def from_units(cls, units: Iterable[Unit]) -> AdminTree:
        """Rebuild a tree from stored units (parents first or not); no events recorded."""
        tree = cls()
        for unit in sorted(units, key=lambda u: (len(u.code), u.code)):
            if unit.parent_code is not None and unit.parent_code not in tree._units:
                raise _not_found(unit.parent_code)
            tree._put(unit)
        return tree

    # -- reads ---------------------------------------------------------------------------
    def active_names(self) -> dict[str, str]:
        """Code → name of every active unit (the same string objects as the tree's)."""
        return {u.code: u.name for u in self._units.values() if not u.retired}

    def __contains__(self, code: object) -> bool:
        return code in self._units

    def __len__(self) -> int:
        return len(self._units)

    def __iter__(self) -> Iterator[Unit]:
        return iter(self._units.values())

    def get(self, code: str) -> Unit:
        try:
            return self._units[code]
        except KeyError:
            raise _not_found(code) from None

    def children(self, code: str, *, include_retired: bool = False) -> list[Unit]:
        self.get(code)
        kids = (self._units[c] for c in sorted(self._children.get(code, ())))
        return [u for u in kids if include_retired or not u.retired]

    def descendants(self, code: str) -> list[Unit]:
        """Every unit below ``code`` (retired included), parents before children."""
        self.get(code)
        out: list[Unit] = []
        stack = [code]
        while stack:
            for child in sorted(self._children.get(stack.pop(), ()), reverse=True):
                out.append(self._units[child])
                stack.append(child)
        return out

    def ancestry(self, code: str) -> list[Unit]:
        """Units from the top of the tree down to and including ``code``."""
        chain = [self.get(code)]
        while chain[-1].parent_code is not None and chain[-1].parent_code in self._units:
            chain.append(self._units[chain[-1].parent_code])
        return chain[::-1]

    def search(self, query: str, *, limit: int = 20, within: str | None = None) -> list[Unit]:
        """Find active units by Chinese name substring or pinyin initials (e.g. ``hpjd``).

        Exact matches rank first, then prefix matches, then substrings; ties by level
        (higher first) and code. ``within`` restricts to a jurisdiction prefix.
        """
        q = "".join(query.split()).lower()
        if not q:
            return []
        chinese = bool(_CJK.search(q))
        scored: list[tuple[int, int, str]] = []
        for unit in self._units.values():
            if unit.retired or (within is not None and not unit.code.startswith(within)):
                continue
            if chinese:
                rank = _rank(q, unit.name.lower())
            else:
                rank = _rank_any(q, unit.pinyin_variants or unit.pinyin_initials)
            if rank < 3:
                scored.append((rank, ORDER.index(unit.level), unit.code))
        scored.sort()
        return [self._units[c] for _, _, c in scored[:limit]]

    # -- mutations -----------------------------------------------------------------------
    def create(
        self,
        code: str,
        name: str,
        level: Level | str | None = None,
        parent: str | None = None,
    ) -> Unit:
        """Add a unit. Its parent (the code prefix) must exist and be active."""
        unit = Unit.new(code, name, level)
        if parent is not None and parent != unit.parent_code:
            raise ValidationFailed(
                "code_parent_mismatch",
                f"'{code}' does not extend parent code '{parent}'",
                f"编码“{code}”与上级编码“{parent}”不一致",
                code_value=code,
                parent_code=parent,
            )
        if code in self._units:
            raise Conflict(
                "unit_exists",
                f"unit '{code}' already exists",
                f"区划“{code}”已存在",
                code_value=code,
            )
        if unit.parent_code is not None:
            self._require_active_parent(unit.parent_code)
        self._put(unit)
        self.events.append(UnitCreated(code, unit.name, str(unit.level), unit.parent_code))
        return unit

    def rename(self, code: str, name: str) -> Unit:
        unit = self.get(code)
        clean = _clean_name(name)
        if clean == unit.name:
            return unit
        variants = initials_variants(clean)
        renamed = replace(
            unit, name=clean, pinyin_initials=variants[0], pinyin_variants=" ".join(variants)
        )
        self._put(renamed)
        self.events.append(UnitRenamed(code, unit.name, clean))
        return renamed

    def move(self, code: str, new_parent: str, new_segment: str | None = None) -> dict[str, str]:
        """Move a unit under another parent of the same level, re-coding its subtree.

        The new code is ``new_parent + segment`` (the unit's own last segment unless
        ``new_segment`` is given). Returns the old → new code mapping for every unit moved.
        """
        unit = self.get(code)
        if unit.parent_code is None:
            raise ValidationFailed(
                "cannot_move_root", "a city cannot be moved", "市级区划不能移动", code_value=code
            )
        parent_unit = self._require_active_parent(new_parent)
        segment = code[len(unit.parent_code) :] if new_segment is None else new_segment
        new_code = new_parent + segment
        validate_code(new_code, unit.level)
        if parent_code(new_code) != parent_unit.code:
            raise ValidationFailed(
                "code_parent_mismatch",
                f"'{new_parent}' cannot be the parent of a {unit.level}",
                f"“{new_parent}”不能作为{unit.level}级区划的上级",
                code_value=new_code,
                parent_code=new_parent,
            )
        if new_code == code:
            return {}
        if new_code in self._units:
            raise Conflict(
                "unit_exists",
                f"unit '{new_code}' already exists",
                f"区划“{new_code}”已存在",
                code_value=new_code,
            )
        subtree = [unit, *self.descendants(code)]
        mapping = {u.code: new_code + u.code[len(code) :] for u in subtree}
        for old in reversed(subtree):
            self._drop(old.code)
        for old in subtree:
            new = mapping[old.code]
            self._put(replace(old, code=new, parent_code=parent_code(new)))
        self.events.append(UnitMoved(code, new_code, mapping))
        return mapping

    def retire(self, code: str) -> Unit:
        """Retire a unit; refused while it still has active children."""
        unit = self.get(code)
        active = [u.code for u in self.children(code)]
        if active:
            raise Conflict(
                "unit_has_active_children",
                f"unit '{code}' still has {len(active)} active children",
                f"区划“{code}”下仍有{len(active)}个在用下级，不能撤销",
                code_value=code,
                children=active[:20],
            )
        if unit.retired:
            return unit
        retired = replace(unit, retired=True)
        self._put(retired)
        self.events.append(UnitRetired(code))
        return retired

    def reinstate(self, code: str) -> Unit:
        """Bring a retired unit back; its parent must be active."""
        unit = self.get(code)
        if not unit.retired:
            return unit
        if unit.parent_code is not None:
            self._require_active_parent(unit.parent_code)
        back = replace(unit, retired=False)
        self._put(back)
        self.events.append(UnitReinstated(code))
        return back

    def pull_events(self) -> list[UnitEvent]:
        out, self.events = self.events, []
        return out

    # -- internals -----------------------------------------------------------------------
    def _require_active_parent(self, code: str) -> Unit:
        try:
            parent = self._units[code]
        except KeyError:
            raise NotFound(
                "parent_not_found",
                f"parent unit '{code}' does not exist",
                f"上级区划“{code}”不存在",
                parent_code=code,
            ) from None
        if parent.retired:
            raise Conflict(
                "parent_retired",
                f"parent unit '{code}' is retired",
                f"上级区划“{code}”已撤销",
                parent_code=code,
            )
        return parent

    def _put(self, unit: Unit) -> None:
        self._units[unit.code] = unit
        if unit.parent_code is not None:
            self._children.setdefault(unit.parent_code, set()).add(unit.code)

    def _drop(self, code: str) -> None:
        unit = self._units.pop(code)
        if not self._children.get(code):
            self._children.pop(code, None)
        if unit.parent_code is not None:
            self._children.get(unit.parent_code, set()).discard(code)


def _rank_any(query: str, keys: str) -> int:
    """``_rank`` of the best of space-separated ``keys`` (``query`` has no spaces)."""
    padded = f" {keys} "
    if f" {query} " in padded:
        return 0
    if f" {query}" in padded:
        return 1
    if query in keys:
        return 2
    return 3


def _rank(query: str, key: str) -> int:
    if key == query:
        return 0
    if key.startswith(query):
        return 1
    if query in key:
        return 2
    return 3
