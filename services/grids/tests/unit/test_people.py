from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.grids.domain.people import (
    Building,
    Directory,
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
    WorkerStatus,
    birth_date_of,
    id_check_char,
    mask_id_number,
    mask_phone,
    validate_id_number,
    validate_phone,
)
from yiwang.errors import Conflict, NotFound, ValidationFailed

GRID = "329901001001001"
GRID2 = "329901001001002"
BUILDING = GRID + "001"
OTHER_COMMUNITY = "329901001002"


def valid_id(body17: str = "32010219900101123") -> str:
    return body17 + id_check_char(body17)


def test_masking() -> None:
    assert mask_id_number("320102199001011234") == "3201**********1234"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("025-84561234") == "025*****1234"
    assert mask_id_number("1234") == "****"


def test_known_valid_id_number_and_x_check() -> None:
    # the GB 11643 standard's example number
    assert validate_id_number("11010519491231002x") == "11010519491231002X"
    body = "32010219900101123"
    assert validate_id_number(body + id_check_char(body)).startswith(body)
    assert birth_date_of(valid_id()).isoformat() == "1990-01-01"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("320102199001011234", "id_number_checksum_mismatch"),
        ("32010219900101123", "id_number_malformed"),
        ("3201021990010112X4", "id_number_malformed"),
        ("320102199002301239", "id_number_birthdate_invalid"),
    ],
)
def test_invalid_id_numbers(value: str, code: str) -> None:
    if code == "id_number_birthdate_invalid":
        value = value[:17] + id_check_char(value[:17])
    with pytest.raises(ValidationFailed) as exc:
        validate_id_number(value)
    assert exc.value.code == code


digits = "0123456789"


@given(
    st.text(alphabet=digits, min_size=6, max_size=6),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)),
    st.text(alphabet=digits, min_size=3, max_size=3),
    st.sampled_from("0123456789X"),
)
def test_exactly_one_check_char_is_accepted(region: str, born: date, seq: str, check: str) -> None:
    body = f"{region}{born:%Y%m%d}{seq}"
    if check == id_check_char(body):
        assert validate_id_number(body + check.lower()) == body + check
    else:
        with pytest.raises(ValidationFailed) as exc:
            validate_id_number(body + check)
        assert exc.value.code == "id_number_checksum_mismatch"


def test_phone_validation() -> None:
    assert validate_phone("+86 138 1234 5678") == "13812345678"
    assert validate_phone("025-84561234") == "025-84561234"
    with pytest.raises(ValidationFailed):
        validate_phone("12345")


def directory() -> Directory:
    d = Directory()
    d.add_building(Building(BUILDING, "和平街道人民路1号1栋", Location(32.0, 118.8)))
    d.add_household(Household(BUILDING + "-101"))
    d.add_household(Household(BUILDING + "-102"))
    return d


def test_people_from_house_and_house_from_person() -> None:
    d = directory()
    a = d.add_resident(Resident("r1", "王芳", valid_id(), BUILDING + "-101", "13812345678"))
    b = d.add_resident(
        Resident("r2", "李强", valid_id("32010219550505001"), BUILDING + "-101", party_member=True)
    )
    assert [r.resident_id for r in d.people_in(BUILDING + "-101")] == ["r1", "r2"]
    household, building = d.house_of("r1")
    assert household.code == BUILDING + "-101"
    assert building.code == BUILDING
    assert a.registered_community == GRID[:12] and not a.relocated
    d.move_resident("r2", BUILDING + "-102")
    assert [r.resident_id for r in d.people_in(BUILDING + "-101")] == ["r1"]
    assert d.house_of("r2")[0].code == BUILDING + "-102"
    assert b.resident_id == "r2"


def test_resident_refusals() -> None:
    d = directory()
    with pytest.raises(NotFound):
        d.add_resident(Resident("r1", "王芳", valid_id(), BUILDING + "-999"))
    with pytest.raises(ValidationFailed):
        d.add_resident(Resident("r1", "王芳", "320102199001011234", BUILDING + "-101"))
    d.add_resident(Resident("r1", "王芳", valid_id(), BUILDING + "-101"))
    with pytest.raises(Conflict) as exc:
        d.add_resident(Resident("r9", "王芳", valid_id(), BUILDING + "-102"))
    assert exc.value.code == "id_number_registered"
    with pytest.raises(NotFound):
        d.add_household(Household(GRID + "002-101"))  # unknown building


def test_relocated_residents_are_served_by_their_old_community() -> None:
    d = directory()
    d.add_resident(
        Resident(
            "r1",
            "张伟",
            valid_id(),
            BUILDING + "-101",
            registered_community=OTHER_COMMUNITY,
            tags=frozenset({ResidentTag.ELDERLY_ALONE}),
        )
    )
    r = d.resident("r1")
    assert r.relocated
    assert [x.resident_id for x in d.served_by(OTHER_COMMUNITY)] == ["r1"]
    assert d.served_by(GRID[:12]) == []
    assert [x.resident_id for x in d.residents_within(GRID, tag="elderly_alone")] == ["r1"]
    assert d.residents_within(GRID, tag=ResidentTag.DISABLED) == []


def test_workers_several_grids_and_one_leader() -> None:
    d = Directory()
    d.add_worker(GridWorker("w1", "赵敏", "13900000001", grids={GRID: WorkerRole.LEADER}))
    d.add_worker(GridWorker("w2", "孙磊", "13900000002"))
    d.assign("w2", GRID, WorkerRole.MEMBER)
    d.assign("w2", GRID2, "member")
    with pytest.raises(Conflict) as exc:
        d.assign("w2", GRID, WorkerRole.LEADER)
    assert exc.value.code == "grid_has_leader"
    assert [w.worker_id for w in d.workers_of_grid(GRID)] == ["w1", "w2"]
    assert set(d.worker("w2").grids) == {GRID, GRID2}
    d.set_status("w1", WorkerStatus.ON_LEAVE)
    assert [w.worker_id for w in d.workers_of_grid(GRID, working_only=True)] == ["w2"]
    d.unassign("w2", GRID)
    assert set(d.worker("w2").grids) == {GRID2}
    with pytest.raises(ValidationFailed):
        d.assign("w2", "3299", WorkerRole.MEMBER)
    with pytest.raises(NotFound):
        d.assign("nobody", GRID, WorkerRole.MEMBER)


def test_party_organisations_follow_the_tree() -> None:
    d = directory()
    d.add_party_org(PartyOrg("p1", PartyOrgKind.COMMUNITY_COMMITTEE, GRID[:12], "东湖社区党委"))
    d.add_party_org(PartyOrg("p2", PartyOrgKind.GRID_BRANCH, GRID, "第1网格党支部"))
    d.add_party_org(PartyOrg("p3", PartyOrgKind.BUILDING_GROUP, BUILDING, "1栋党小组"))
    with pytest.raises(ValidationFailed):
        d.add_party_org(PartyOrg("p4", PartyOrgKind.GRID_BRANCH, GRID[:12], "错级"))
    assert [o.org_id for o in d.party_orgs_within(GRID[:12])] == ["p1", "p2", "p3"]
    with pytest.raises(Conflict):
        d.designate_party_member_household(BUILDING + "-101")
    d.add_resident(Resident("r1", "李强", valid_id(), BUILDING + "-101", party_member=True))
    assert d.designate_party_member_household(BUILDING + "-101").party_member_household


def test_key_places() -> None:
    d = Directory()
    d.add_key_place(KeyPlace("k1", KeyPlaceKind.SCHOOL, "东湖小学", GRID, Location(32.0, 118.8)))
    d.add_key_place(KeyPlace("k2", KeyPlaceKind.MARKET, "菜场", GRID2, Location(32.0, 118.8)))
    assert [p.place_id for p in d.key_places_of_grid(GRID)] == ["k1"]
    with pytest.raises(ValidationFailed):
        Location(100.0, 0.0)
