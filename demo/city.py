"""A deterministic demo city, generated from a seed with ``random.Random(seed)``.

Boundaries are a nested Voronoi partition: each parent's area is split by
``shapely.voronoi_polygons`` of seeded points and every cell is clipped to the parent, so
children tile their parent exactly (no gaps, no overlaps beyond float noise). The result is
a GeoJSON FeatureCollection (city → district → street → community → grid) that goes through
the same import path users use (``geo.import_feature_collection``), plus plain lists of
buildings, households, residents, workers, key places and party organisations.

Sizes:

- ``tiny``: 1 district, 2 streets, 3 communities, 8 grids; everyone materialised.
- ``small``: a county-level city of 1,410 grids (seed 001), ~600 residents per grid
  *represented*; households and residents are materialised for one sampled building per
  grid (about 42,000 households, 100,000 residents).
- ``city10m``: ≈17,000 grids for 10 million residents *represented at household level*
  (``Building.households_represented``); residents are materialised only for one sampled
  building in every tenth grid. Polygons take a few seconds.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from services.grids.domain.geo import feature
from services.grids.domain.people import (
    Building,
    GridWorker,
    Household,
    KeyPlace,
    KeyPlaceKind,
    Location,
    PartyOrg,
    PartyOrgKind,
    Resident,
    ResidentTag,
    WorkerRole,
    id_check_char,
)
from services.grids.domain.sensors import HouseholdBinding
from yiwang.jurisdiction import Level


@dataclass(frozen=True)
class SizeSpec:
    districts: int
    streets: int
    communities: int
    grids: int
    radius_deg: float
    buildings_per_grid: int
    households_per_building: int
    sample_every_nth_grid: int  # materialise people in one building of every nth grid
    emergency_devices: int


SIZES: dict[str, SizeSpec] = {
    "tiny": SizeSpec(1, 2, 3, 8, 0.02, 3, 12, 1, 3),
    "small": SizeSpec(3, 14, 141, 1410, 0.22, 10, 24, 1, 686),
    "city10m": SizeSpec(12, 240, 1700, 17000, 0.65, 10, 24, 10, 5000),
}
AVERAGE_HOUSEHOLD_SIZE = 2.45
CENTRE = (118.8, 32.0)  # lon, lat

_CITY_NAMES = ["临川市", "云州市", "宁江市", "青阳市", "安平市"]
_DISTRICT_WORDS = [
    "和平",
    "长安",
    "新华",
    "鼓楼",
    "东城",
    "西湖",
    "南山",
    "北塘",
    "青山",
    "白云",
    "金水",
    "龙湖",
    "凤凰",
    "临江",
    "高新",
    "秦淮",
    "玄武",
    "栖霞",
    "江宁",
    "雨花",
]
_PLACE_WORDS = [
    "春晖",
    "朝阳",
    "东湖",
    "光明",
    "友谊",
    "幸福",
    "建设",
    "人民",
    "解放",
    "中山",
    "文化",
    "迎宾",
    "花园",
    "滨江",
    "桃园",
    "翠竹",
    "锦绣",
    "金桥",
    "梅园",
    "莲花",
    "清风",
    "明月",
    "松涛",
    "枫林",
    "丽景",
    "和睦",
    "安康",
    "太平",
    "永安",
    "兴隆",
    "前进",
    "红旗",
    "书香",
    "湖滨",
    "泰和",
    "望江",
    "虹桥",
    "紫荆",
    "银杏",
    "香山",
]
_ROADS = ["人民路", "中山路", "建设路", "解放路", "文化路", "光明路", "和平路", "朝阳路", "幸福路"]
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
)
_GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉梅海燕文辉欣怡子轩浩然雨涵"
)
_PLACE_KIND_NAMES: dict[KeyPlaceKind, str] = {
    KeyPlaceKind.SCHOOL: "小学",
    KeyPlaceKind.KINDERGARTEN: "幼儿园",
    KeyPlaceKind.MARKET: "农贸市场",
    KeyPlaceKind.CONSTRUCTION_SITE: "建筑工地",
    KeyPlaceKind.HOSPITAL: "社区卫生服务中心",
    KeyPlaceKind.NURSING_HOME: "养老院",
    KeyPlaceKind.HAZARDOUS_GOODS: "加油站",
    KeyPlaceKind.RESTAURANT_STREET: "美食街",
}


@dataclass
class DemoCity:
    seed: int
    size: str
    city_code: str
    city_name: str
    geometries: dict[str, BaseGeometry]
    names: dict[str, str]
    buildings: list[Building] = field(default_factory=list)
    households: list[Household] = field(default_factory=list)
    residents: list[Resident] = field(default_factory=list)
    workers: list[GridWorker] = field(default_factory=list)
    key_places: list[KeyPlace] = field(default_factory=list)
    party_orgs: list[PartyOrg] = field(default_factory=list)
    water_meters: dict[str, HouseholdBinding] = field(default_factory=dict)
    emergency_devices: dict[str, HouseholdBinding] = field(default_factory=dict)

    def codes(self, level: Level) -> list[str]:
        n = {Level.CITY: 4, Level.DISTRICT: 6, Level.STREET: 9, Level.COMMUNITY: 12}
        want = n.get(level, 15)
        return sorted(c for c in self.geometries if len(c) == want)

    @property
    def grid_codes(self) -> list[str]:
        return self.codes(Level.GRID)

    @property
    def represented_households(self) -> int:
        """Households the city stands for (also when generated without people)."""
        if self.buildings:
            return sum(b.households_represented for b in self.buildings)
        spec = SIZES[self.size]
        return len(self.grid_codes) * spec.buildings_per_grid * spec.households_per_building

    @property
    def represented_residents(self) -> int:
        return round(self.represented_households * AVERAGE_HOUSEHOLD_SIZE)

    def feature_collection(self) -> dict[str, Any]:
        """All boundaries, city to grids, ordered by code."""
        return {
            "type": "FeatureCollection",
            "features": [
                feature(code, self.names[code], self.geometries[code])
                for code in sorted(self.geometries, key=lambda c: (len(c), c))
            ],
        }


# --- geometry ---------------------------------------------------------------------------
def _outline(rng: random.Random, radius: float) -> Polygon:
    lon0, lat0 = CENTRE
    k = math.cos(math.radians(lat0))
    pts = []
    for i in range(28):
        a = 2 * math.pi * i / 28
        r = radius * (0.8 + 0.35 * rng.random())
        pts.append((lon0 + r * math.cos(a) / k, lat0 + r * math.sin(a)))
    return Polygon(pts)


def _points_in(geom: BaseGeometry, n: int, rng: random.Random) -> list[tuple[float, float]]:
    """``n`` uniform random points inside ``geom`` (rejection sampling, vectorised test)."""
    minx, miny, maxx, maxy = geom.bounds
    out: list[tuple[float, float]] = []
    shapely.prepare(geom)
    while len(out) < n:
        m = max(16, 3 * (n - len(out)))
        xs = np.array([minx + (maxx - minx) * rng.random() for _ in range(m)])
        ys = np.array([miny + (maxy - miny) * rng.random() for _ in range(m)])
        inside = shapely.contains_xy(geom, xs, ys)
        out.extend(zip(xs[inside].tolist(), ys[inside].tolist(), strict=True))
    return out[:n]


def _spread_points(geom: BaseGeometry, n: int, rng: random.Random) -> list[tuple[float, float]]:
    """Best-candidate sampling: evenly spread seeds give even, real-looking cells."""
    cands = _points_in(geom, n * 6, rng)
    chosen = [cands[0]]
    pool = cands[1:]
    while len(chosen) < n:
        best_i, best_d = 0, -1.0
        for i in range(0, len(pool), 1):
            x, y = pool[i]
            d = min((x - a) ** 2 + (y - b) ** 2 for a, b in chosen)
            if d > best_d:
                best_i, best_d = i, d
            if i >= 5 * len(chosen) + 5:
                break
        chosen.append(pool.pop(best_i))
    return chosen


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
    if len(parts) == 1:
        return parts[0]
    return MultiPolygon(parts)


def _partition(parent: BaseGeometry, n: int, rng: random.Random) -> list[BaseGeometry]:
    """Split ``parent`` into ``n`` cells that tile it, ordered north-west first."""
    if n == 1:
        return [parent]
    seeds = _spread_points(parent, n, rng)
    seeds.sort(key=lambda p: (-round(p[1], 3), p[0]))
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=parent, ordered=True)
    )
    clipped = shapely.intersection(cells, parent)
    return [_polygonal(c) for c in clipped]


def _split_count(total: int, parts: int, rng: random.Random) -> list[int]:
    """``total`` split into ``parts`` positive integers with mild random variation."""
    weights = [0.7 + 0.6 * rng.random() for _ in range(parts)]
    spare = total - parts
    raw = [spare * w / sum(weights) for w in weights]
    counts = [1 + int(r) for r in raw]
    order = sorted(range(parts), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


# --- people ------------------------------------------------------------------------------
class _People:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.ids: set[str] = set()
        self.phones: set[str] = set()
        self.seq = 0

    def name(self) -> str:
        r = self.rng
        given = "".join(r.choice(_GIVEN) for _ in range(r.choice((1, 2, 2))))
        return r.choice(_SURNAMES) + given

    def phone(self) -> str:
        while True:
            p = "1" + self.rng.choice("3578") + f"{self.rng.randrange(10**9):09d}"
            if p not in self.phones:
                self.phones.add(p)
                return p

    def id_number(self, region: str, age: int) -> str:
        r = self.rng
        while True:
            year = 2025 - age
            body = f"{region}{year:04d}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"
            body += f"{r.randrange(1000):03d}"
            idn = body + id_check_char(body)
            if idn not in self.ids:
                self.ids.add(idn)
                return idn


def generate(size: str = "tiny", seed: int = 1, *, with_people: bool = True) -> DemoCity:
    """Build the demo city for ``size`` (``tiny``/``small``/``city10m``) from ``seed``."""
    spec = SIZES[size]
    rng = random.Random(seed)
    city_code = "3299"
    city_name = rng.choice(_CITY_NAMES)
    geoms: dict[str, BaseGeometry] = {city_code: _outline(rng, spec.radius_deg)}
    names: dict[str, str] = {city_code: city_name}

    districts = _partition(geoms[city_code], spec.districts, rng)
    d_words = rng.sample(_DISTRICT_WORDS, spec.districts)
    street_counts = _split_count(spec.streets, spec.districts, rng)
    streets: list[str] = []
    for i, (g, word, ns) in enumerate(zip(districts, d_words, street_counts, strict=True)):
        code = f"{city_code}{i + 1:02d}"
        geoms[code], names[code] = g, f"{word}区"
        words = _unique_words(rng, ns)
        for j, cell in enumerate(_partition(g, ns, rng)):
            s = f"{code}{j + 1:03d}"
            geoms[s], names[s] = cell, f"{words[j]}街道"
            streets.append(s)

    community_counts = _split_count(spec.communities, len(streets), rng)
    communities: list[str] = []
    for s, nc in zip(streets, community_counts, strict=True):
        words = _unique_words(rng, nc)
        for j, cell in enumerate(_partition(geoms[s], nc, rng)):
            c = f"{s}{j + 1:03d}"
            geoms[c], names[c] = cell, f"{words[j]}社区"
            communities.append(c)

    grid_counts = _split_count(spec.grids, len(communities), rng)
    for c, ng in zip(communities, grid_counts, strict=True):
        for j, cell in enumerate(_partition(geoms[c], ng, rng)):
            g = f"{c}{j + 1:03d}"
            geoms[g], names[g] = cell, f"第{j + 1}网格"

    city = DemoCity(seed, size, city_code, city_name, geoms, names)
    if with_people:
        _populate(city, spec, communities, grid_counts, rng)
    return city


def _unique_words(rng: random.Random, n: int) -> list[str]:
    if n <= len(_PLACE_WORDS):
        return rng.sample(_PLACE_WORDS, n)
    combos = [a + b[0] for a in _PLACE_WORDS for b in _PLACE_WORDS if a != b]
    return rng.sample(combos, n)


def _populate(
    city: DemoCity,
    spec: SizeSpec,
    communities: list[str],
    grid_counts: list[int],
    rng: random.Random,
) -> None:
    people = _People(rng)
    vulnerable: list[HouseholdBinding] = []
    grid_index = 0
    for c, ng in zip(communities, grid_counts, strict=True):
        word = city.names[c].removesuffix("社区")
        road = rng.choice([*_ROADS, f"{word}路"])
        city.party_orgs.append(
            PartyOrg(f"P{c}", PartyOrgKind.COMMUNITY_COMMITTEE, c, f"{word}社区党委")
        )
        pool = [
            GridWorker(f"W{c}M{k + 1:02d}", people.name(), people.phone())
            for k in range(max(1, (2 * ng) // 3))
        ]
        grids = [f"{c}{j + 1:03d}" for j in range(ng)]
        for j, g in enumerate(grids):
            leader = GridWorker(
                f"W{g}L", people.name(), people.phone(), grids={g: WorkerRole.LEADER}
            )
            city.workers.append(leader)
            m = pool[j % len(pool)]
            pool[j % len(pool)] = GridWorker(
                m.worker_id, m.name, m.phone, m.status, {**m.grids, g: WorkerRole.MEMBER}
            )
            city.party_orgs.append(
                PartyOrg(f"P{g}", PartyOrgKind.GRID_BRANCH, g, f"{word}社区第{j + 1}网格党支部")
            )
            geom = city.geometries[g]
            for k, kind in enumerate(rng.sample(list(KeyPlaceKind), rng.choice((0, 1, 1, 2)))):
                (x, y) = _points_in(geom, 1, rng)[0]
                city.key_places.append(
                    KeyPlace(
                        f"K{g}{k + 1:02d}",
                        kind,
                        f"{word}{_PLACE_KIND_NAMES[kind]}",
                        g,
                        Location(round(y, 6), round(x, 6)),
                    )
                )
            spots = _points_in(geom, spec.buildings_per_grid, rng)
            sampled = grid_index % spec.sample_every_nth_grid == 0
            grid_index += 1
            for b, (x, y) in enumerate(spots):
                code = f"{g}{b + 1:03d}"
                building = Building(
                    code,
                    f"{city.names[c[:9]]}{road}{rng.randint(1, 300)}号{b + 1}栋",
                    Location(round(y, 6), round(x, 6)),
                    f"{b + 1}栋",
                    spec.households_per_building,
                )
                city.buildings.append(building)
                if sampled and (b == 0 or spec.buildings_per_grid <= 3):
                    _residents(city, building, spec, communities, people, vulnerable)
        city.workers.extend(pool)
    _devices(city, spec, vulnerable, rng)


def _residents(
    city: DemoCity,
    building: Building,
    spec: SizeSpec,
    communities: list[str],
    people: _People,
    vulnerable: list[HouseholdBinding],
) -> None:
    rng = people.rng
    region = building.code[:6]
    has_member = False
    assert building.location is not None
    for h in range(spec.households_per_building):
        room = f"{h // 2 + 1}{h % 2 + 1:02d}"
        hcode = f"{building.code}-{room}"
        roll = rng.random()
        if roll < 0.10:
            ages = [rng.randint(68, 92)]  # elderly living alone
        elif roll < 0.14:
            ages = [rng.randint(60, 80), rng.randint(60, 80), rng.randint(5, 14)]  # left behind
        else:
            n = rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5))
            ages = [rng.randint(22, 60) for _ in range(min(n, 2))]
            ages += [rng.randint(0, 20) for _ in range(n - len(ages))]
        family = people.phone()
        members: list[Resident] = []
        for k, age in enumerate(ages):
            tags: set[ResidentTag] = set()
            if age >= 60:
                tags.add(ResidentTag.ELDERLY)
            if len(ages) == 1 and age >= 65:
                tags.add(ResidentTag.ELDERLY_ALONE)
            if roll >= 0.10 and roll < 0.14 and age < 16:
                tags.add(ResidentTag.LEFT_BEHIND_CHILD)
            if rng.random() < 0.02:
                tags.add(ResidentTag.DISABLED)
            if rng.random() < 0.03:
                tags.add(ResidentTag.LOW_INCOME)
            living = hcode[:12]
            registered = living
            if rng.random() < 0.03 and len(communities) > 1:
                registered = rng.choice([c for c in communities[:50] if c != living] or [living])
            member = age >= 18 and rng.random() < 0.08
            has_member = has_member or member
            members.append(
                Resident(
                    f"R{hcode}-{k + 1}",
                    people.name(),
                    people.id_number(region, age),
                    hcode,
                    people.phone() if age >= 16 else None,
                    frozenset(tags),
                    registered,
                    member,
                    family if (ResidentTag.ELDERLY_ALONE in tags) else None,
                )
            )
        pm_household = any(m.party_member for m in members) and rng.random() < 0.3
        city.households.append(Household(hcode, members[0].phone or family, pm_household))
        city.residents.extend(members)
        tags_here = frozenset(t for m in members for t in m.tags)
        binding = HouseholdBinding(hcode, building.grid_code, building.location, family, tags_here)
        if ResidentTag.ELDERLY_ALONE in tags_here:
            city.water_meters[f"WM-{hcode}"] = binding
        if tags_here & {ResidentTag.ELDERLY_ALONE, ResidentTag.DISABLED}:
            vulnerable.append(binding)
    if has_member:
        city.party_orgs.append(
            PartyOrg(
                f"P{building.code}",
                PartyOrgKind.BUILDING_GROUP,
                building.code,
                f"{building.name}党小组",
            )
        )


def _devices(
    city: DemoCity, spec: SizeSpec, vulnerable: list[HouseholdBinding], rng: random.Random
) -> None:
    chosen = rng.sample(vulnerable, min(spec.emergency_devices, len(vulnerable)))
    for i, binding in enumerate(sorted(chosen, key=lambda b: b.household_code)):
        city.emergency_devices[f"SOS-{i + 1:05d}"] = binding
