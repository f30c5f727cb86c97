"""The object-access rules (yiwang.access), pure: who may see or act on which case,
supervision, whistle, points statement and access-log entry."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yiwang import access
from yiwang.access import Accessor, CaseFacts
from yiwang.errors import DomainError, Forbidden, NotFound

CASE = CaseFacts(
    jurisdiction_code="329901001001001", department="transport", whistled=frozenset({"police"})
)


def unknown() -> NotFound:
    return NotFound("case_not_found", "case not found", "案件不存在")


def verdict(acc: Accessor, case: CaseFacts = CASE) -> str:
    try:
        access.check_case(acc, case, unknown=unknown)
    except NotFound:
        return "404"
    except Forbidden as e:
        return e.code
    return "ok"


@pytest.mark.parametrize(
    ("acc", "expected"),
    [
        (Accessor("u", "department_handler", "3299", "transport"), "ok"),
        (Accessor("u", "department_handler", "3299", "police"), "ok"),  # whistled to it
        (Accessor("u", "department_handler", "3299", "urban_management"), "404"),
        (Accessor("u", "department_handler", "3299", None), "404"),
        (Accessor("u", "department_handler", "329902", "transport"), "404"),
        (Accessor("u", "citizen", "3299"), "404"),
        (Accessor("u", "street_staff", "329901001"), "ok"),
        (Accessor("u", "street_staff", "329901002"), "outside_jurisdiction"),
        (Accessor("u", "leader", "3299"), "ok"),
        (Accessor("u", "admin", ""), "ok"),
        (Accessor("u", "admin", "329902"), "outside_jurisdiction"),
        (Accessor("u", "system", "329902"), "outside_jurisdiction"),
    ],
)
def test_case_access(acc: Accessor, expected: str) -> None:
    assert verdict(acc) == expected


def test_a_citizen_sees_their_own_case_only() -> None:
    own = CaseFacts(jurisdiction_code="329901001001001", own=True)
    assert verdict(Accessor("c", "citizen", "3299"), own) == "ok"
    assert verdict(Accessor("c", "citizen", ""), CaseFacts("329901001001001")) == "404"


@given(
    role=st.sampled_from(["citizen", "department_handler"]),
    dept=st.one_of(st.none(), st.sampled_from(["water", "urban_management", "transport"])),
    code=st.sampled_from(["", "3299", "329901", "329902001"]),
)
def test_where_existence_is_sensitive_forbidden_looks_like_unknown(
    role: str, dept: str | None, code: str
) -> None:
    """Citizens and departments never learn that a case they may not touch exists."""
    assert verdict(Accessor("x", role, code, dept)) in ("ok", "404")


def test_supervision_answers() -> None:
    def answer(acc: Accessor, handler: str, handlers: tuple[str, ...] = ("transport",)) -> str:
        try:
            access.check_supervision_answer(acc, handler, handlers, CASE, unknown=unknown)
        except NotFound:
            return "404"
        except DomainError as e:
            return e.code
        return "ok"

    transport = Accessor("t", "department_handler", "3299", "transport")
    assert answer(transport, "transport") == "ok"
    assert answer(transport, "water") == "not_a_handler"
    water = Accessor("w", "department_handler", "3299", "water")
    assert answer(water, "water") == "404"  # not named, not its case
    assert answer(water, "water", ("transport", "water")) == "ok"
    far = Accessor("f", "district_staff", "329902")
    assert answer(far, "transport") == "outside_jurisdiction"
    near = Accessor("n", "street_staff", "329901001")
    assert answer(near, "transport") == "not_a_handler"
    assert answer(near, "329901001001", ("329901001001",)) == "ok"
    assert answer(near, "329902001001", ("329902001001",)) == "not_a_handler"


def test_duty_reports_and_statements_and_the_log() -> None:
    police = Accessor("p", "department_handler", "3299", "police")
    access.check_duty_report(police, "police", ["police"], "329901001001001", unknown=unknown)
    with pytest.raises(NotFound):
        access.check_duty_report(police, "police", ["water"], "329901001001001", unknown=unknown)
    with pytest.raises(Forbidden):
        access.check_duty_report(police, "water", ["police", "water"], "3299", unknown=unknown)
    staff = Accessor("s", "staff", "329901001001")
    access.check_statement(staff, "P-1", ["329901001001"], unknown=unknown)
    access.check_statement(Accessor("P-1", "citizen"), "P-1", [], unknown=unknown)
    for communities in ([], ["329901001002"]):
        with pytest.raises(NotFound):
            access.check_statement(staff, "P-1", communities, unknown=unknown)
    assert access.log_prefix(Accessor("d", "district_staff", "329901")) == "329901"
    assert access.log_prefix(Accessor("a", "admin", "")) == ""
    assert access.department_of_handler("worker:w1") is None
    assert access.department_of_handler("water") == "water"
