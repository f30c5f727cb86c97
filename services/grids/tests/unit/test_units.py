import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from services.grids.domain.units import (
    AdminTree,
    Unit,
    UnitCreated,
    UnitMoved,
    _rank,
    _rank_any,
    household_code,
    pinyin_initials,
    split_household_code,
    validate_code,
)
from yiwang.errors import Conflict, NotFound, ValidationFailed
from yiwang.jurisdiction import Level


def small_tree() -> AdminTree:
    t = AdminTree()
    t.create("3299", "临川市")
    t.create("329901", "和平区")
    t.create("329902", "长安区")
    t.create("329901001", "和平街道")
    t.create("329901001001", "东湖社区")
    t.create("329901001001001", "第1网格")
    t.create("329901001001002", "第2网格")
    t.create("329901001001001001", "1栋")
    return t


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("3299", Level.CITY),
        ("329901", Level.DISTRICT),
        ("329901001", Level.STREET),
        ("329901001001", Level.COMMUNITY),
        ("329901001001001", Level.GRID),
        ("329901001001001001", Level.BUILDING),
    ],
)
def test_level_by_length(code: str, level: Level) -> None:
    assert validate_code(code) == level


@pytest.mark.parametrize(
    ("code", "err"),
    [
        ("32990", "invalid_code"),
        ("32a901", "invalid_code"),
        ("", "invalid_code"),
        ("329900", "invalid_code_segment"),
        ("329901000", "invalid_code_segment"),
    ],
)
def test_malformed_codes_refused(code: str, err: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        validate_code(code)
    assert exc.value.code == err


def test_level_mismatch_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        validate_code("329901", Level.STREET)
    assert exc.value.code == "code_level_mismatch"


def test_household_codes() -> None:
    h = household_code("329901001001001001", "301")
    assert h == "329901001001001001-301"
    assert split_household_code(h) == ("329901001001001001", "301")
    with pytest.raises(ValidationFailed):
        household_code("329901001001001", "301")  # a grid, not a building
    with pytest.raises(ValidationFailed) as exc:
        split_household_code("329901001001001001")
    assert exc.value.code == "invalid_household_code"


def test_create_requires_existing_active_parent() -> None:
    t = small_tree()
    with pytest.raises(NotFound) as nf:
        t.create("329903001", "无主街道")
    assert nf.value.code == "parent_not_found"
    with pytest.raises(Conflict) as dup:
        t.create("329901", "重复区")
    assert dup.value.code == "unit_exists"
    with pytest.raises(ValidationFailed) as mismatch:
        t.create("329902001", "错位街道", parent="329901")
    assert mismatch.value.code == "code_parent_mismatch"
    with pytest.raises(ValidationFailed):
        t.create("329902001", "   ")
    t.retire("329902")
    with pytest.raises(Conflict) as retired:
        t.create("329902001", "新街道")
    assert retired.value.code == "parent_retired"


def test_children_and_ancestry() -> None:
    t = small_tree()
    assert [u.code for u in t.children("329901001001")] == ["329901001001001", "329901001001002"]
    chain = [u.code for u in t.ancestry("329901001001001001")]
    assert chain == [
        "3299",
        "329901",
        "329901001",
        "329901001001",
        "329901001001001",
        "329901001001001001",
    ]
    with pytest.raises(NotFound):
        t.ancestry("329909")


def test_retire_refused_with_active_children_then_allowed() -> None:
    t = small_tree()
    with pytest.raises(Conflict) as exc:
        t.retire("329901001001")
    assert exc.value.code == "unit_has_active_children"
    assert not t.get("329901001001").retired
    t.retire("329901001001001001")
    t.retire("329901001001001")
    t.retire("329901001001002")
    assert t.retire("329901001001").retired
    assert t.children("329901001") == []
    assert len(t.children("329901001", include_retired=True)) == 1


def test_rename_updates_initials() -> None:
    t = small_tree()
    u = t.rename("329901001001", "春晖社区")
    assert u.pinyin_initials == "chsq"
    assert t.search("chsq")[0].code == "329901001001"


def test_move_recodes_subtree_and_reports_mapping() -> None:
    t = small_tree()
    t.create("329902001", "长安街道")
    t.pull_events()
    mapping = t.move("329901001001", "329902001")
    assert mapping == {
        "329901001001": "329902001001",
        "329901001001001": "329902001001001",
        "329901001001002": "329902001001002",
        "329901001001001001": "329902001001001001",
    }
    assert "329901001001" not in t
    assert t.get("329902001001001001").parent_code == "329902001001001"
    assert [u.code for u in t.children("329902001")] == ["329902001001"]
    assert t.children("329901001") == []
    events = t.pull_events()
    assert events == [UnitMoved("329901001001", "329902001001", mapping)]


def test_move_refusals() -> None:
    t = small_tree()
    t.create("329902001", "长安街道")
    t.create("329902001001", "已有社区")
    with pytest.raises(Conflict):  # the same segment is taken
        t.move("329901001001", "329902001")
    with pytest.raises(ValidationFailed):  # a grid cannot sit under a district
        t.move("329901001001001", "329902")
    with pytest.raises(ValidationFailed):
        t.move("3299", "329901")
    mapping = t.move("329901001001", "329902001", new_segment="002")
    assert mapping["329901001001"] == "329902001002"


def test_search_chinese_and_initials() -> None:
    t = small_tree()
    assert [u.code for u in t.search("hpjd")] == ["329901001"]
    assert [u.code for u in t.search("和平")] == ["329901", "329901001"]
    assert t.search("HP")[0].code == "329901"  # prefix, case-insensitive, higher level first
    assert [u.code for u in t.search("dhsq", within="329901")] == ["329901001001"]
    assert t.search("dhsq", within="329902") == []
    assert t.search("  ") == []
    assert pinyin_initials("和平街道") == "hpjd"


def test_events_on_create() -> None:
    t = AdminTree()
    t.create("3299", "临川市")
    assert t.pull_events() == [UnitCreated("3299", "临川市", "city", None)]
    assert t.pull_events() == []


def test_from_units_round_trip() -> None:
    t = small_tree()
    again = AdminTree.from_units(reversed(list(t)))
    assert sorted(u.code for u in again) == sorted(u.code for u in t)
    assert again.events == []


class TreeMachine(RuleBasedStateMachine):
    """Random creates, moves and retires keep the tree consistent."""

    def __init__(self) -> None:
        super().__init__()
        self.tree = AdminTree()
        self.tree.create("3299", "临川市")
        for d in ("01", "02"):
            self.tree.create("3299" + d, f"区{d}")
            for s in ("001", "002"):
                self.tree.create(f"3299{d}{s}", f"街道{d}{s}")

    def _codes(self, length: int) -> list[str]:
        return sorted(u.code for u in self.tree if len(u.code) == length and not u.retired)

    @rule(i=st.integers(0, 50), seg=st.integers(1, 5))
    def create_community(self, i: int, seg: int) -> None:
        streets = self._codes(9)
        if not streets:
            return
        code = f"{streets[i % len(streets)]}{seg:03d}"
        if code in self.tree:
            with pytest.raises(Conflict):
                self.tree.create(code, "社区")
        else:
            self.tree.create(code, "社区")

    @rule(i=st.integers(0, 50), seg=st.integers(1, 3))
    def create_grid(self, i: int, seg: int) -> None:
        comms = self._codes(12)
        if comms:
            code = f"{comms[i % len(comms)]}{seg:03d}"
            if code not in self.tree:
                self.tree.create(code, "网格")

    @rule(i=st.integers(0, 50), j=st.integers(0, 50))
    def move_community(self, i: int, j: int) -> None:
        comms, streets = self._codes(12), self._codes(9)
        if not comms or not streets:
            return
        src, dst = comms[i % len(comms)], streets[j % len(streets)]
        before = len(self.tree)
        try:
            mapping = self.tree.move(src, dst)
        except Conflict:
            assert len(self.tree) == before
            return
        assert len(self.tree) == before
        assert all(new.startswith(dst) for new in mapping.values())

    @rule(i=st.integers(0, 50))
    def retire_any(self, i: int) -> None:
        codes = sorted(u.code for u in self.tree if len(u.code) > 4)
        if not codes:
            return
        code = codes[i % len(codes)]
        try:
            self.tree.retire(code)
        except Conflict:
            assert self.tree.children(code)

    @invariant()
    def consistent(self) -> None:
        for u in self.tree:
            if u.parent_code is not None:
                assert u.code.startswith(u.parent_code)
                assert u.parent_code in self.tree
                assert u in self.tree.children(u.parent_code, include_retired=True)
                if not u.retired:
                    assert not self.tree.get(u.parent_code).retired


TestTreeMachine = TreeMachine.TestCase
TestTreeMachine.settings = settings(max_examples=30, stateful_step_count=25, deadline=None)


def test_stored_variants_make_search_work_without_the_pinyin_dictionary() -> None:
    """Loading a tree from stored units (what the service does) must not import pypinyin
    (~55 MB of dictionaries); polyphonic readings still match."""
    code = (
        "import sys\n"
        "from services.grids.domain.units import AdminTree, Unit\n"
        "from yiwang.jurisdiction import Level\n"
        "t = AdminTree.from_units([\n"
        "    Unit('3299', '临川市', Level.CITY, None, False, 'lcs', 'lcs'),\n"
        "    Unit('329901', '长安区', Level.DISTRICT, '3299', False, 'caq', 'caq zaq'),\n"
        "])\n"
        "assert [u.code for u in t.search('zaq')] == ['329901']\n"
        "assert [u.code for u in t.search('caq')] == ['329901']\n"
        "assert 'pypinyin' not in sys.modules, 'pypinyin imported'\n"
        "import services.grids.service\n"
        "assert 'pypinyin' not in sys.modules, 'pypinyin imported by the service module'\n"
    )
    root = Path(__file__).resolve().parents[4]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr[-2000:]


def test_new_unit_carries_every_reading() -> None:
    u = Unit.new("329901", "长安区")
    assert u.pinyin_variants.split()[0] == u.pinyin_initials
    assert u.pinyin_variants == "caq cao"  # 长安 is a phrase (cháng); 区 qū / ōu
    t = AdminTree()
    t.create("3299", "临川市")
    t.create("329901", "长安区")
    assert [x.code for x in t.search("cao")] == ["329901"]
    assert t.rename("329901", "乐平区").pinyin_initials == "lpq"
    assert {"lpq", "ypq"} <= set(t.get("329901").pinyin_variants.split())
    assert [x.code for x in t.search("ypq")] == ["329901"]


@pytest.mark.parametrize(
    ("query", "keys", "rank"),
    [("cq", "cq zq", 0), ("zq", "cq zq", 0), ("z", "cq zq", 1), ("q", "cq zq", 2), ("x", "cq", 3)],
)
def test_rank_over_stored_variants(query: str, keys: str, rank: int) -> None:
    assert _rank_any(query, keys) == rank == min(_rank(query, k) for k in keys.split())
