from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.enterprise.domain.uscc import (
    ALPHABET,
    generate_uscc,
    is_valid_uscc,
    org_code_check_char,
    parse_uscc,
    uscc_check_char,
    uscc_generator,
    validate_uscc,
)
from yiwang.errors import ValidationFailed

# Published codes of well-known companies (business licences), checked by hand:
# e.g. 600037341 → GB 11714 sum 6*3+0+0+0+3*5+7*8+3*4+4*2 = 109, 11 - 109 % 11 = 1 ✓.
REAL = [
    "91110000600037341L",
    "9144030071526726XG",  # org code check 'X' (= 10)
    "914403001922038216",
    "91110108551385082Q",
    "91110000802100433B",
    "91330100716105852F",
]


@pytest.mark.parametrize("code", REAL)
def test_real_codes_are_valid(code: str) -> None:
    assert validate_uscc(code) == code


def test_parts_and_normalisation() -> None:
    parts = parse_uscc(" 9144-0300 7152 6726xg ")
    assert parts.code == "9144030071526726XG"
    assert (parts.authority, parts.organisation_type, parts.division_code) == ("9", "1", "440300")
    assert parts.organisation_code == "71526726X"
    assert parts.organisation_type_name == "企业"


def test_alphabet_has_31_characters_without_ioszv() -> None:
    assert len(ALPHABET) == 31 and not set("IOSVZ") & set(ALPHABET)


def test_check_char_examples() -> None:
    assert uscc_check_char("91110000600037341") == "L"
    assert org_code_check_char("71526726") == "X"


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("9111000060003734", "uscc_length"),
        ("91110000600037341LL", "uscc_length"),
        ("", "uscc_length"),
        ("91110000600O37341L", "uscc_charset"),  # letter O
        ("9111000060003734IL", "uscc_charset"),
        ("B1110000600037341L", "uscc_registration_authority"),
        ("94110000600037341L", "uscc_organisation_type"),  # 9 has types 1-3 only
        ("91990000600037341L", "uscc_admin_division"),
        ("911A0000600037341L", "uscc_admin_division"),
        ("91110000600037342L", "uscc_organisation_code_checksum"),
        ("91110000600037341K", "uscc_checksum"),
        ("91101000600037341L", "uscc_checksum"),  # division digits swapped
    ],
)
def test_invalid_codes(code: str, error: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        validate_uscc(code)
    assert exc.value.code == error
    assert exc.value.status == 422
    assert exc.value.message_zh and exc.value.message_en
    assert not is_valid_uscc(code)


def test_generator_is_seeded_distinct_and_valid() -> None:
    a = uscc_generator(seed=3)
    b = uscc_generator(seed=3)
    first = [next(a) for _ in range(200)]
    assert first == [next(b) for _ in range(200)]
    assert len(set(first)) == 200
    assert all(is_valid_uscc(c) and c[2:8] == "211103" for c in first)
    assert any(c[8:10] == "MA" for c in first) and any(c[8:16].isdigit() for c in first)


valid_codes = st.integers(0, 2**32).map(lambda s: generate_uscc(random.Random(s)))


@settings(max_examples=300, deadline=None)
@given(
    code=st.one_of(valid_codes, st.sampled_from(REAL)),
    pos=st.integers(0, 17),
    ch=st.characters(min_codepoint=33, max_codepoint=0x9FFF),
)
def test_any_single_character_change_is_rejected(code: str, pos: int, ch: str) -> None:
    if ch.upper() == code[pos] or ch in "-" or ch.isspace():
        return  # not a change after normalisation (case, separators)
    changed = code[:pos] + ch + code[pos + 1 :]
    assert not is_valid_uscc(changed)


@settings(max_examples=200, deadline=None)
@given(code=valid_codes, pos=st.integers(0, 15))  # 3**i weights: always caught
def test_adjacent_transpositions_are_caught(code: str, pos: int) -> None:
    swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2 :]
    if swapped != code:
        assert not is_valid_uscc(swapped)
