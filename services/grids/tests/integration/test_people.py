"""People and places: masking by default, unmasking only when permitted (and logged),
encrypted columns, both-way links, relocated residents, workers and their events."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from demo.city import DemoCity
from services.grids.adapters.crypto import PiiCipher
from services.grids.service_layer import people
from services.grids.service_layer.people import ReadAccess
from services.grids.tests.integration.conftest import T0, outbox
from yiwang.contracts.grids import WorkerAssignedV1
from yiwang.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yiwang.uow import UnitOfWork

OFFICER = {"id": "acc-community-1", "role": "community_staff", "name": "张主任"}


def test_resident_is_masked_by_default_and_unmasked_only_when_permitted(
    city: DemoCity, factory: Callable[[], UnitOfWork], pii: PiiCipher
) -> None:
    r = next(x for x in city.residents if x.phone)
    masked = people.get_resident(factory(), pii, r.resident_id, ReadAccess(), T0)
    assert masked["id_number"] == r.id_number[:4] + "*" * 10 + r.id_number[-4:]
    assert masked["phone"] == r.phone[:3] + "****" + r.phone[-4:]
    assert not masked["unmasked"]
    before = people.access_log(factory(), r.resident_id, None, 10)["entries"]
    with pytest.raises(Forbidden) as err:
        people.get_resident(
            factory(),
            pii,
            r.resident_id,
            ReadAccess(unmask=True, can_unmask=False, actor=OFFICER),
            T0,
        )
    assert err.value.code == "unmask_not_permitted"
    assert people.access_log(factory(), r.resident_id, None, 10)["entries"] == before
    clear = people.get_resident(
        factory(),
        pii,
        r.resident_id,
        ReadAccess(unmask=True, can_unmask=True, actor=OFFICER, purpose="上门核实"),
        T0,
    )
    assert clear["id_number"] == r.id_number and clear["phone"] == r.phone and clear["unmasked"]
    log = people.access_log(factory(), r.resident_id, None, 10)["entries"]
    assert len(log) == len(before) + 1
    assert log[0]["actor_id"] == OFFICER["id"] and log[0]["purpose"] == "上门核实"
    assert "id_number" in log[0]["fields"]


def test_encrypted_columns_do_not_contain_the_plaintext(
    city: DemoCity, engine: Engine, pii: PiiCipher
) -> None:
    r = next(x for x in city.residents if x.phone)
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT * FROM grids.residents WHERE resident_id = :i"), {"i": r.resident_id}
        ).one()
        dump = conn.execute(
            sa.text("SELECT row_to_json(r)::text FROM grids.residents r WHERE resident_id = :i"),
            {"i": r.resident_id},
        ).scalar_one()
    for secret in (r.id_number, r.phone):
        assert secret.encode() not in bytes(row.id_number_enc)
        assert secret.encode() not in bytes(row.phone_enc)
        assert secret not in dump
    assert row.id_number_hash != r.id_number and len(row.id_number_hash) == 64
    assert pii.decrypt(row.id_number_enc, "resident.id_number") == r.id_number
    # bound to its column: a ciphertext moved to another field does not decrypt
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
        pii.decrypt(row.id_number_enc, "resident.phone")
    # a different key cannot read it
    with pytest.raises(Exception):  # noqa: B017
        PiiCipher("another-key").decrypt(row.id_number_enc, "resident.id_number")


def test_find_by_id_number_uses_the_keyed_hash(
    city: DemoCity, factory: Callable[[], UnitOfWork], pii: PiiCipher
) -> None:
    r = city.residents[3]
    found = people.find_residents(factory(), pii, r.id_number, None, ReadAccess(), T0)
    assert [x["resident_id"] for x in found["residents"]] == [r.resident_id]
    with pytest.raises(ValidationFailed):
        people.find_residents(factory(), pii, "123", None, ReadAccess(), T0)


def test_people_from_house_and_house_from_person(
    city: DemoCity, factory: Callable[[], UnitOfWork], pii: PiiCipher
) -> None:
    h = city.households[0]
    living = sorted(r.resident_id for r in city.residents if r.household_code == h.code)
    got = people.people_in_household(factory(), pii, h.code, ReadAccess(), T0)
    assert [x["resident_id"] for x in got["residents"]] == living
    assert got["building"]["code"] == h.building_code
    back = people.house_of_resident(factory(), pii, living[0], ReadAccess(), T0)
    assert back["household"]["code"] == h.code
    assert "*" in (back["household"]["contact_phone"] or "*")


def test_relocated_residents_are_served_by_their_old_community(
    city: DemoCity, factory: Callable[[], UnitOfWork], pii: PiiCipher
) -> None:
    r = city.residents[0]
    other = next(c for c in {g[:12] for g in city.grid_codes} if c != r.household_code[:12])
    house = next(h for h in city.households if h.code.startswith(other))
    moved = people.move_resident(factory(), pii, r.resident_id, house.code, T0)
    assert moved["relocated"] and moved["registered_community"] == r.household_code[:12]
    served = people.served_by(factory(), pii, r.household_code[:12], True, 1, 50, ReadAccess(), T0)
    assert r.resident_id in [x["resident_id"] for x in served["residents"]]
    people.move_resident(factory(), pii, r.resident_id, r.household_code, T0)


def test_tags_and_listing_by_tag(
    city: DemoCity, factory: Callable[[], UnitOfWork], pii: PiiCipher
) -> None:
    alone = [r for r in city.residents if "elderly_alone" in r.tags]
    page = people.list_residents(
        factory(), pii, city.city_code, "elderly_alone", 1, 500, ReadAccess(), T0
    )
    assert page["total"] == len(alone)
    with pytest.raises(ValidationFailed):
        people.tag_resident(factory(), pii, alone[0].resident_id, ["vip"], T0)


def test_add_resident_validates_and_refuses_duplicates(
    city: DemoCity, factory: Callable[[], UnitOfWork], pii: PiiCipher
) -> None:
    h = city.households[1]
    existing = city.residents[5]
    with pytest.raises(Conflict) as err:
        people.add_resident(
            factory(),
            pii,
            resident_id=None,
            name="重复",
            household_code=h.code,
            id_number=existing.id_number,
            phone=None,
            tags=[],
            registered_community=None,
            party_member=False,
            family_contact=None,
            now=T0,
        )
    assert err.value.code == "id_number_registered"
    with pytest.raises(ValidationFailed) as bad:
        people.add_resident(
            factory(),
            pii,
            resident_id=None,
            name="坏号",
            household_code=h.code,
            id_number="320102199001011235",
            phone=None,
            tags=[],
            registered_community=None,
            party_member=False,
            family_contact=None,
            now=T0,
        )
    assert bad.value.code == "id_number_checksum_mismatch"
    with pytest.raises(NotFound):
        people.add_resident(
            factory(),
            pii,
            resident_id=None,
            name="无房",
            id_number="11010519491231002X",
            household_code=h.code[:18] + "-Z99",
            phone=None,
            tags=[],
            registered_community=None,
            party_member=False,
            family_contact=None,
            now=T0,
        )


def test_assigning_workers_emits_events_and_keeps_one_leader(
    city: DemoCity, factory: Callable[[], UnitOfWork], engine: Engine
) -> None:
    grid = city.grid_codes[2]
    people.add_worker(factory(), "W-NEW-1", "新网格员", "13900001111", "on_duty", "acc-w-1", T0)
    out = people.assign_worker(factory(), "acc-w-1", grid, "member", T0)
    assert out["grids"] == {grid: "member"}
    ev = outbox(engine, "worker.assigned")[-1]
    assert WorkerAssignedV1.model_validate(ev["payload"]).grid_code == grid
    with pytest.raises(Conflict) as err:
        people.assign_worker(factory(), "W-NEW-1", grid, "leader", T0)
    assert err.value.code == "grid_has_leader"
    people.unassign_worker(factory(), "W-NEW-1", grid, T0)
    assert outbox(engine, "worker.unassigned")[-1]["payload"]["worker_id"] == "W-NEW-1"
    with pytest.raises(NotFound):
        people.assign_worker(factory(), "W-NEW-1", "329999999999999", "member", T0)


def test_a_district_reads_only_its_own_part_of_the_unmask_access_log(
    city: DemoCity, factory: Callable[[], UnitOfWork], pii: PiiCipher
) -> None:
    """The attack: district staff reading the city-wide log of unmasked reads. The log a
    reader gets holds only reads of subjects inside the reader's unit."""
    with_phone = [x for x in city.residents if x.phone]
    here = with_phone[0]
    # the broadest unit (district, street, community) the test city has two of
    n = next(
        n
        for n in (6, 9, 12, 15)
        if any(x.household_code[:n] != here.household_code[:n] for x in with_phone)
    )
    there = next(x for x in with_phone if x.household_code[:n] != here.household_code[:n])
    clear = ReadAccess(unmask=True, can_unmask=True, actor=OFFICER, purpose="核实")
    for r in (here, there):
        people.get_resident(factory(), pii, r.resident_id, clear, T0)
    district = here.household_code[:n]

    def subjects(prefix: str) -> set[str]:
        return {
            e["subject_id"]
            for e in people.access_log(factory(), None, None, 1000, prefix)["entries"]
        }

    everything = subjects("")
    assert {here.resident_id, there.resident_id} <= everything
    mine = subjects(district)
    assert here.resident_id in mine and there.resident_id not in mine
    # naming the other district's resident does not help either
    log = people.access_log(factory(), there.resident_id, None, 10, district)
    assert log["entries"] == []
    assert subjects(there.household_code[:n]).isdisjoint(mine)
