import json
from collections import Counter, defaultdict

import pytest
import shapely

from demo.city import SIZES, DemoCity, generate
from services.grids.domain.geo import area_m2, import_feature_collection
from services.grids.domain.locate import GridIndex
from services.grids.domain.people import (
    Directory,
    ResidentTag,
    WorkerRole,
    validate_id_number,
)
from services.grids.domain.units import AdminTree
from yiwang.jurisdiction import Level, parent_code


@pytest.fixture(scope="module")
def small() -> DemoCity:
    return generate("small", seed=1)


def test_tiny_is_deterministic_and_seed_sensitive() -> None:
    a, b, c = generate("tiny", 7), generate("tiny", 7), generate("tiny", 8)
    dump = json.dumps(a.feature_collection(), sort_keys=True)
    assert dump == json.dumps(b.feature_collection(), sort_keys=True)
    assert dump != json.dumps(c.feature_collection(), sort_keys=True)
    assert a.residents == b.residents and a.workers == b.workers
    assert a.key_places == b.key_places and a.emergency_devices == b.emergency_devices


def test_tiny_loads_through_the_import_path_into_tree_and_directory() -> None:
    city = generate("tiny", 3)
    boundaries = import_feature_collection(city.feature_collection())
    assert len(city.grid_codes) == SIZES["tiny"].grids
    tree = AdminTree()
    for code in sorted(boundaries, key=lambda c: (len(c), c)):
        tree.create(code, boundaries[code].name, boundaries[code].level)
    for b in city.buildings:
        tree.create(b.code, b.name)
    d = Directory()
    for w in city.workers:
        d.add_worker(w)
    for b in city.buildings:
        d.add_building(b)
    for h in city.households:
        d.add_household(h)
    for r in city.residents:
        d.add_resident(r)
    for p in city.key_places:
        d.add_key_place(p)
    for o in city.party_orgs:
        d.add_party_org(o)
    index = GridIndex({c: boundaries[c].geometry for c in city.grid_codes})
    for b in city.buildings:
        assert b.location is not None
        assert index.locate(b.location.lat, b.location.lon) == b.grid_code
    for p in city.key_places:
        assert index.locate(p.location.lat, p.location.lon) == p.grid_code
    for g in city.grid_codes:
        assert d.workers_of_grid(g)[0].grids[g] == WorkerRole.LEADER
    assert tree.search("第1网格")


def test_small_has_1410_grids_that_tile_their_parents(small: DemoCity) -> None:
    assert len(small.grid_codes) == 1410
    assert len(small.codes(Level.COMMUNITY)) == SIZES["small"].communities
    report_boundaries = import_feature_collection(small.feature_collection())
    assert len(report_boundaries) == len(small.geometries)
    # children areas (planar, degrees²) sum to the parent's area, level by level
    by_parent: dict[str, float] = defaultdict(float)
    for code, geom in small.geometries.items():
        par = parent_code(code)
        if par is not None:
            by_parent[par] += geom.area
    assert len(by_parent) == len(small.geometries) - len(small.grid_codes)
    for par, total in by_parent.items():
        assert total == pytest.approx(small.geometries[par].area, rel=1e-9)
    grids = [small.geometries[c] for c in small.grid_codes]
    assert all(g.is_valid and not g.is_empty for g in grids)
    union = shapely.union_all(grids)
    assert area_m2(union.symmetric_difference(small.geometries["3299"])) < 10.0


def test_small_people_and_places(small: DemoCity) -> None:
    assert 700_000 < small.represented_residents < 1_000_000  # ≈600 per grid
    assert len(small.emergency_devices) == 686
    leaders = Counter(
        g for w in small.workers for g, r in w.grids.items() if r == WorkerRole.LEADER
    )
    assert set(leaders) == set(small.grid_codes) and set(leaders.values()) == {1}
    assert any(len(w.grids) > 1 for w in small.workers)
    tags = Counter(t for r in small.residents for t in r.tags)
    for tag in (ResidentTag.ELDERLY_ALONE, ResidentTag.DISABLED, ResidentTag.LEFT_BEHIND_CHILD):
        assert tags[tag] > 0
    assert any(r.relocated for r in small.residents)
    sample = small.residents[::997]
    assert all(validate_id_number(r.id_number) == r.id_number for r in sample)
    assert len({r.id_number for r in small.residents}) == len(small.residents)
    phones = [w.phone for w in small.workers]
    assert len(set(phones)) == len(phones)
    assert all(b.households_represented > 0 for b in small.buildings[:50])
    names = {small.names[c] for c in small.codes(Level.STREET)}
    assert all(n.endswith("街道") for n in names)
