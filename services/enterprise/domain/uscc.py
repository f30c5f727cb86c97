"""Unified social credit code (统一社会信用代码, GB 32100-2015): validation and a seeded generator.

Layout of the 18 characters::

    9 1 211103 MA0ABCDE6 Q
    | | |      |         └ check character over the 17 before it (mod 31)
    | | |      └ organisation code (主体标识码, GB 11714: 8 characters + its own mod-11 check)
    | | └ administrative division code of the registering authority (6 digits)
    | └ organisation type (机构类别), meaningful per authority
    └ registration authority (登记管理部门: 9 = market regulation, 5 = civil affairs ...)

Characters come from the 31-character alphabet ``0-9 A-Z`` without I, O, S, V, Z.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from yiwang.errors import ValidationFailed

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
assert len(ALPHABET) == 31
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3**i mod 31
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714-1997

# Registration authority → (name, {organisation type → name}); GB 32100-2015 appendix A.
AUTHORITIES: dict[str, tuple[str, dict[str, str]]] = {
    "1": (
        "机构编制",
        {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"},
    ),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": (
        "司法行政",
        {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": (
        "旅游",
        {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地代表机构", "9": "其他"},
    ),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("市场监管（工商）", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": (
        "农业",
        {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"},
    ),
    "Y": ("其他", {"1": "其他"}),
}

# First two digits of a division code: provinces (GB/T 2260) plus 10 for national registrations.
PROVINCE_PREFIXES = frozenset(
    [
        "10",
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)


@dataclass(frozen=True, slots=True)
class UsccParts:
    code: str
    authority: str
    authority_name: str
    organisation_type: str
    organisation_type_name: str
    division_code: str
    organisation_code: str
    check: str


def _fail(code: str, en: str, zh: str, value: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(code, en, zh, field="uscc", value=value, **details)


def normalise_uscc(raw: str) -> str:
    """Drop blanks and hyphens, upper-case: what users type on a phone becomes the code."""
    if not isinstance(raw, str):
        raise _fail("uscc_charset", "the USCC must be text", "统一社会信用代码必须为文本", str(raw))
    return "".join(ch for ch in raw if not ch.isspace() and ch != "-").upper()


def uscc_check_char(first17: str) -> str:
    """The 18th character for 17 characters of the alphabet."""
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def _org_value(ch: str) -> int:
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def org_code_check_char(body8: str) -> str:
    """GB 11714 check character of an 8-character organisation code body ('X' = 10)."""
    total = sum(_org_value(ch) * w for ch, w in zip(body8, ORG_CODE_WEIGHTS, strict=True))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def parse_uscc(raw: str) -> UsccParts:
    """Validate and split a USCC; raises ``ValidationFailed`` with a ``uscc_*`` code."""
    code = normalise_uscc(raw)
    if len(code) != 18:
        raise _fail(
            "uscc_length",
            f"a USCC has 18 characters, got {len(code)}",
            f"统一社会信用代码应为18位，实际为{len(code)}位",
            code,
            length=len(code),
        )
    bad = sorted({ch for ch in code if ch not in _VALUE})
    if bad:
        raise _fail(
            "uscc_charset",
            f"characters not allowed in a USCC: {''.join(bad)} (no I, O, S, V, Z)",
            f"统一社会信用代码含非法字符：{''.join(bad)}（不使用I、O、S、V、Z）",
            code,
            characters=bad,
        )
    authority, org_type = code[0], code[1]
    if authority not in AUTHORITIES:
        raise _fail(
            "uscc_registration_authority",
            f"unknown registration authority code '{authority}'",
            f"登记管理部门代码“{authority}”不存在",
            code,
        )
    authority_name, types = AUTHORITIES[authority]
    if org_type not in types:
        raise _fail(
            "uscc_organisation_type",
            f"organisation type '{org_type}' does not exist under authority '{authority}'",
            f"登记管理部门“{authority}”下不存在机构类别代码“{org_type}”",
            code,
        )
    division = code[2:8]
    if not division.isdigit() or division[:2] not in PROVINCE_PREFIXES:
        raise _fail(
            "uscc_admin_division",
            f"'{division}' is not an administrative division code",
            f"“{division}”不是有效的行政区划代码",
            code,
        )
    org_code = code[8:17]
    if org_code_check_char(org_code[:8]) != org_code[8]:
        raise _fail(
            "uscc_organisation_code_checksum",
            f"the organisation code {org_code} fails its GB 11714 check",
            f"组织机构代码{org_code}校验位错误",
            code,
        )
    if uscc_check_char(code[:17]) != code[17]:
        raise _fail(
            "uscc_checksum",
            "the USCC check character is wrong (mistyped character?)",
            "统一社会信用代码校验码错误（可能输错了字符）",
            code,
        )
    return UsccParts(
        code=code,
        authority=authority,
        authority_name=authority_name,
        organisation_type=org_type,
        organisation_type_name=types[org_type],
        division_code=division,
        organisation_code=org_code,
        check=code[17],
    )


def validate_uscc(raw: str) -> str:
    """The normalised code when valid; raises ``ValidationFailed`` otherwise."""
    return parse_uscc(raw).code


def is_valid_uscc(raw: str) -> bool:
    try:
        parse_uscc(raw)
    except ValidationFailed:
        return False
    return True


_BODY_LETTERS = "ABCDEFGHJKLMNPQRTUWXY"


def generate_uscc(
    rng: random.Random,
    *,
    authority: str = "9",
    organisation_type: str = "1",
    division_code: str = "211103",
) -> str:
    """A valid, random USCC (for demo data and tests). Reproducible for a seeded ``rng``.

    Organisation codes follow the two real shapes: 8 digits (pre-2015 codes) or the
    ``MA`` series with letters, as issued since 2015.
    """
    if rng.random() < 0.5:
        body = "".join(rng.choice("0123456789") for _ in range(8))
    else:
        body = "MA" + "".join(rng.choice("0123456789" + _BODY_LETTERS) for _ in range(6))
    first17 = authority + organisation_type + division_code + body + org_code_check_char(body)
    code = first17 + uscc_check_char(first17)
    return parse_uscc(code).code


def uscc_generator(seed: int, **kwargs: str) -> UsccSource:
    """An endless, seeded source of distinct valid codes."""
    return UsccSource(random.Random(seed), kwargs)


class UsccSource:
    def __init__(self, rng: random.Random, kwargs: dict[str, str]) -> None:
        self._rng = rng
        self._kwargs = kwargs
        self._seen: set[str] = set()

    def __iter__(self) -> UsccSource:
        return self

    def __next__(self) -> str:
        while True:
            code = generate_uscc(self._rng, **self._kwargs)
            if code not in self._seen:
                self._seen.add(code)
                return code
