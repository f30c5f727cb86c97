"""People and places on the grid: workers, buildings, households, residents, key places,
party organisations, and the identity helpers (ID checksum, masking).

``Directory`` keeps the links both ways: "find the people from a house, the house from a
person" (以房找人、以人找房). ID and phone numbers are held here in clear only as values the
adapter decrypts; what leaves the service for ordinary roles is the ``mask_*`` form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from yiwang.errors import Conflict, NotFound, ValidationFailed
from yiwang.jurisdiction import CODE_LENGTHS, Level

from .locate import check_coordinates
from .units import split_household_code, validate_code

# --- identity helpers --------------------------------------------------------------------
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_LANDLINE = re.compile(r"^0[0-9]{2,3}-?[0-9]{7,8}$")


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of an ID number."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def validate_id_number(value: str) -> str:
    """Normalise (upper-case X) and check an 18-character national ID number (GB 11643).

    Raises ``ValidationFailed`` with ``id_number_malformed``, ``id_number_birthdate_invalid``
    or ``id_number_checksum_mismatch``.
    """
    s = str(value).strip().upper()
    if not _ID_SHAPE.match(s):
        raise ValidationFailed(
            "id_number_malformed",
            "an ID number has 17 digits and a digit or X",
            "身份证号应为17位数字加1位数字或X",
        )
    try:
        date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        raise ValidationFailed(
            "id_number_birthdate_invalid",
            "the birth date inside the ID number is not a real date",
            "身份证号中的出生日期无效",
        ) from None
    if id_check_char(s[:17]) != s[17]:
        raise ValidationFailed(
            "id_number_checksum_mismatch",
            "the ID number's check character is wrong",
            "身份证号校验位错误",
        )
    return s


def validate_phone(value: str) -> str:
    """A mainland mobile (11 digits starting 1[3-9]) or a landline with area code."""
    s = re.sub(r"[\s]", "", str(value))
    if s.startswith("+86"):
        s = s[3:]
    if not (_MOBILE.match(s) or _LANDLINE.match(s)):
        raise ValidationFailed(
            "phone_invalid", f"'{value}' is not a phone number", f"“{value}”不是有效的电话号码"
        )
    return s


def mask_id_number(value: str) -> str:
    """``320102199001011234`` → ``3201**********1234`` (first 4 and last 4 kept)."""
    s = str(value)
    if len(s) <= 8:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678`` (first 3 and last 4 kept)."""
    s = str(value)
    if len(s) <= 7:
        return "*" * max(len(s) - 2, 0) + s[-2:]
    return s[:3] + "*" * (len(s) - 7) + s[-4:]


def birth_date_of(id_number: str) -> date:
    s = validate_id_number(id_number)
    return date(int(s[6:10]), int(s[10:12]), int(s[12:14]))


# --- vocabularies ------------------------------------------------------------------------
class WorkerRole(StrEnum):
    LEADER = "leader"  # 网格长
    MEMBER = "member"  # 网格员


class WorkerStatus(StrEnum):
    ON_DUTY = "on_duty"
    OFF_DUTY = "off_duty"
    ON_LEAVE = "on_leave"
    DEPARTED = "departed"


class ResidentTag(StrEnum):
    ELDERLY_ALONE = "elderly_alone"  # 独居老人
    ELDERLY = "elderly"
    DISABLED = "disabled"
    LEFT_BEHIND_CHILD = "left_behind_child"  # 留守儿童
    LOW_INCOME = "low_income"  # 低保
    VETERAN = "veteran"
    SERIOUS_ILLNESS = "serious_illness"


class KeyPlaceKind(StrEnum):
    SCHOOL = "school"
    KINDERGARTEN = "kindergarten"
    MARKET = "market"
    CONSTRUCTION_SITE = "construction_site"
    HOSPITAL = "hospital"
    NURSING_HOME = "nursing_home"
    HAZARDOUS_GOODS = "hazardous_goods"
    RESTAURANT_STREET = "restaurant_street"


class PartyOrgKind(StrEnum):
    STREET_WORKING_COMMITTEE = "street_working_committee"  # 街道党工委
    COMMUNITY_COMMITTEE = "community_committee"  # 社区党委
    GRID_BRANCH = "grid_branch"  # 网格党支部
    BUILDING_GROUP = "building_group"  # 楼栋党小组


PARTY_ORG_LEVEL: dict[PartyOrgKind, Level] = {
    PartyOrgKind.STREET_WORKING_COMMITTEE: Level.STREET,
    PartyOrgKind.COMMUNITY_COMMITTEE: Level.COMMUNITY,
    PartyOrgKind.GRID_BRANCH: Level.GRID,
    PartyOrgKind.BUILDING_GROUP: Level.BUILDING,
}


# --- records -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Location:
    lat: float
    lon: float

    def __post_init__(self) -> None:
        check_coordinates(self.lat, self.lon)


@dataclass(frozen=True)
class GridWorker:
    """A grid worker (网格员). ``grids`` maps grid code → role on that grid."""

    worker_id: str
    name: str
    phone: str
    status: WorkerStatus = WorkerStatus.ON_DUTY
    grids: dict[str, WorkerRole] = field(default_factory=dict)

    @property
    def working(self) -> bool:
        return self.status == WorkerStatus.ON_DUTY


@dataclass(frozen=True)
class Building:
    code: str  # 18 digits
    address: str
    location: Location | None = None
    name: str = ""
    households_represented: int = 0  # households counted in statistics (sampled cities)

    @property
    def grid_code(self) -> str:
        return self.code[: CODE_LENGTHS[Level.GRID]]


@dataclass(frozen=True)
class Household:
    code: str  # <building code>-<room>
    contact_phone: str | None = None
    party_member_household: bool = False  # 党员中心户

    @property
    def building_code(self) -> str:
        return self.code.partition("-")[0]

    @property
    def room(self) -> str:
        return self.code.partition("-")[2]

    @property
    def grid_code(self) -> str:
        return self.code[: CODE_LENGTHS[Level.GRID]]

    @property
    def community_code(self) -> str:
        return self.code[: CODE_LENGTHS[Level.COMMUNITY]]


@dataclass(frozen=True)
class Resident:
    """A resident living in ``household_code``; ``registered_community`` is where they are
    registered and served (defaults to where they live; differs for relocated residents)."""

    resident_id: str
    name: str
    id_number: str
    household_code: str
    phone: str | None = None
    tags: frozenset[ResidentTag] = frozenset()
    registered_community: str = ""
    party_member: bool = False
    family_contact: str | None = None

    @property
    def living_community(self) -> str:
        return self.household_code[: CODE_LENGTHS[Level.COMMUNITY]]

    @property
    def relocated(self) -> bool:
        return self.registered_community != self.living_community


@dataclass(frozen=True)
class KeyPlace:
    place_id: str
    kind: KeyPlaceKind
    name: str
    grid_code: str
    location: Location


@dataclass(frozen=True)
class PartyOrg:
    org_id: str
    kind: PartyOrgKind
    unit_code: str
    name: str
    secretary: str = ""


def _missing(what: str, key: str) -> NotFound:
    zh = {"worker": "网格员", "building": "楼栋", "household": "住户", "resident": "居民"}
    return NotFound(f"{what}_not_found", f"no {what} '{key}'", f"{zh.get(what, what)}“{key}”不存在")


# --- the directory -----------------------------------------------------------------------
@dataclass
class Directory:
    """People, houses, places and party organisations of one jurisdiction, linked both ways."""

    workers: dict[str, GridWorker] = field(default_factory=dict)
    buildings: dict[str, Building] = field(default_factory=dict)
    households: dict[str, Household] = field(default_factory=dict)
    residents: dict[str, Resident] = field(default_factory=dict)
    key_places: dict[str, KeyPlace] = field(default_factory=dict)
    party_orgs: dict[str, PartyOrg] = field(default_factory=dict)
    _by_household: dict[str, set[str]] = field(default_factory=dict)
    _by_id_number: dict[str, str] = field(default_factory=dict)

    # workers
    def add_worker(self, worker: GridWorker) -> GridWorker:
        if worker.worker_id in self.workers:
            raise Conflict("worker_exists", f"worker '{worker.worker_id}' exists", "网格员已存在")
        w = replace(worker, phone=validate_phone(worker.phone), grids={})
        self.workers[w.worker_id] = w
        for grid, role in worker.grids.items():
            self.assign(w.worker_id, grid, role)
        return self.workers[w.worker_id]

    def worker(self, worker_id: str) -> GridWorker:
        try:
            return self.workers[worker_id]
        except KeyError:
            raise _missing("worker", worker_id) from None

    def assign(self, worker_id: str, grid_code: str, role: WorkerRole | str) -> GridWorker:
        """Put a worker on a grid; a grid has at most one leader."""
        validate_code(grid_code, Level.GRID)
        w = self.worker(worker_id)
        role = WorkerRole(role)
        if role == WorkerRole.LEADER:
            for other in self.workers.values():
                if other.worker_id != worker_id and other.grids.get(grid_code) == WorkerRole.LEADER:
                    raise Conflict(
                        "grid_has_leader",
                        f"grid {grid_code} already has leader {other.worker_id}",
                        f"网格{grid_code}已有网格长{other.name}",
                        leader=other.worker_id,
                    )
        w = replace(w, grids={**w.grids, grid_code: role})
        self.workers[worker_id] = w
        return w

    def unassign(self, worker_id: str, grid_code: str) -> GridWorker:
        w = self.worker(worker_id)
        w = replace(w, grids={g: r for g, r in w.grids.items() if g != grid_code})
        self.workers[worker_id] = w
        return w

    def set_status(self, worker_id: str, status: WorkerStatus | str) -> GridWorker:
        w = replace(self.worker(worker_id), status=WorkerStatus(status))
        self.workers[worker_id] = w
        return w

    def workers_of_grid(self, grid_code: str, *, working_only: bool = False) -> list[GridWorker]:
        """Workers on a grid, leader first."""
        found = [
            w
            for w in self.workers.values()
            if grid_code in w.grids and (w.working or not working_only)
        ]
        return sorted(found, key=lambda w: (w.grids[grid_code] != WorkerRole.LEADER, w.worker_id))

    # buildings and households
    def add_building(self, building: Building) -> Building:
        validate_code(building.code, Level.BUILDING)
        if building.code in self.buildings:
            raise Conflict("building_exists", f"building '{building.code}' exists", "楼栋已存在")
        if not building.address.strip():
            raise ValidationFailed(
                "address_required", "a building needs an address", "楼栋须填写地址"
            )
        self.buildings[building.code] = building
        return building

    def add_household(self, household: Household) -> Household:
        building, _ = split_household_code(household.code)
        if building not in self.buildings:
            raise _missing("building", building)
        if household.code in self.households:
            raise Conflict("household_exists", f"household '{household.code}' exists", "住户已存在")
        if household.contact_phone:
            household = replace(household, contact_phone=validate_phone(household.contact_phone))
        self.households[household.code] = household
        self._by_household.setdefault(household.code, set())
        return household

    def household(self, code: str) -> Household:
        try:
            return self.households[code]
        except KeyError:
            raise _missing("household", code) from None

    # residents
    def add_resident(self, resident: Resident) -> Resident:
        self.household(resident.household_code)
        if resident.resident_id in self.residents:
            raise Conflict("resident_exists", "resident exists", "居民已存在")
        idn = validate_id_number(resident.id_number)
        if idn in self._by_id_number:
            raise Conflict(
                "id_number_registered",
                "a resident with this ID number is already registered",
                "该身份证号已登记",
                resident_id=self._by_id_number[idn],
            )
        registered = resident.registered_community or resident.living_community
        validate_code(registered, Level.COMMUNITY)
        r = replace(
            resident,
            id_number=idn,
            registered_community=registered,
            phone=validate_phone(resident.phone) if resident.phone else None,
        )
        self.residents[r.resident_id] = r
        self._by_id_number[idn] = r.resident_id
        self._by_household[r.household_code].add(r.resident_id)
        return r

    def resident(self, resident_id: str) -> Resident:
        try:
            return self.residents[resident_id]
        except KeyError:
            raise _missing("resident", resident_id) from None

    def move_resident(self, resident_id: str, household_code: str) -> Resident:
        """The resident moves house; their registration community stays as it was."""
        r = self.resident(resident_id)
        self.household(household_code)
        self._by_household[r.household_code].discard(resident_id)
        r = replace(r, household_code=household_code)
        self.residents[resident_id] = r
        self._by_household[household_code].add(resident_id)
        return r

    def tag_resident(self, resident_id: str, tags: Iterable[ResidentTag | str]) -> Resident:
        r = self.resident(resident_id)
        r = replace(r, tags=frozenset(ResidentTag(t) for t in tags))
        self.residents[resident_id] = r
        return r

    def people_in(self, household_code: str) -> list[Resident]:
        """以房找人: residents living in a household."""
        self.household(household_code)
        return [self.residents[i] for i in sorted(self._by_household[household_code])]

    def house_of(self, resident_id: str) -> tuple[Household, Building]:
        """以人找房: the household and building a resident lives in."""
        h = self.household(self.resident(resident_id).household_code)
        return h, self.buildings[h.building_code]

    def residents_within(
        self, code: str, *, tag: ResidentTag | str | None = None
    ) -> list[Resident]:
        """Residents living inside a jurisdiction code (any level), optionally with a tag."""
        want = ResidentTag(tag) if tag is not None else None
        return sorted(
            (
                r
                for r in self.residents.values()
                if r.household_code.startswith(code) and (want is None or want in r.tags)
            ),
            key=lambda r: r.resident_id,
        )

    def served_by(self, community_code: str) -> list[Resident]:
        """Residents registered with a community, wherever they live now."""
        return sorted(
            (r for r in self.residents.values() if r.registered_community == community_code),
            key=lambda r: r.resident_id,
        )

    # places and party organisations
    def add_key_place(self, place: KeyPlace) -> KeyPlace:
        validate_code(place.grid_code, Level.GRID)
        if place.place_id in self.key_places:
            raise Conflict("key_place_exists", "key place exists", "重点场所已存在")
        self.key_places[place.place_id] = place
        return place

    def key_places_of_grid(self, grid_code: str) -> list[KeyPlace]:
        return sorted(
            (p for p in self.key_places.values() if p.grid_code == grid_code),
            key=lambda p: p.place_id,
        )

    def add_party_org(self, org: PartyOrg) -> PartyOrg:
        """A party organisation on the tree; its kind fixes the level of its unit."""
        validate_code(org.unit_code, PARTY_ORG_LEVEL[PartyOrgKind(org.kind)])
        if org.org_id in self.party_orgs:
            raise Conflict("party_org_exists", "party organisation exists", "党组织已存在")
        self.party_orgs[org.org_id] = org
        return org

    def party_orgs_within(self, code: str) -> list[PartyOrg]:
        return sorted(
            (o for o in self.party_orgs.values() if o.unit_code.startswith(code)),
            key=lambda o: (len(o.unit_code), o.unit_code, o.org_id),
        )

    def designate_party_member_household(self, household_code: str) -> Household:
        """Mark a household as a party-member household (党员中心户); needs a member in it."""
        if not any(r.party_member for r in self.people_in(household_code)):
            raise Conflict(
                "no_party_member_in_household",
                "no party member lives in this household",
                "该住户中没有党员，不能设为党员中心户",
            )
        h = replace(self.household(household_code), party_member_household=True)
        self.households[household_code] = h
        return h
