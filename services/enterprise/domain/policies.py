"""Policy promotion (政策宣传): policies with eligibility attributes, matched both ways.

Each enterprise sees the policies that reach it, with the reason for every rule; officials
see which enterprises a policy reaches and why the others miss it. A policy's empty
attribute means "no restriction".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from yiwang.errors import ValidationFailed
from yiwang.jurisdiction import level_of
from yiwang.text import require_text

from .accounts import Enterprise, EnterpriseSize
from .common import Reason, enum_value, normalise_tags


@dataclass(frozen=True, slots=True)
class Policy:
    policy_id: str
    title: str
    summary: str
    industries: frozenset[str] = frozenset()
    sizes: frozenset[EnterpriseSize] = frozenset()
    district_codes: frozenset[str] = frozenset()  # jurisdiction prefixes (district, street ...)
    min_years_established: int | None = None
    required_tags: frozenset[str] = frozenset()
    valid_from: date | None = None
    valid_until: date | None = None

    @staticmethod
    def create(
        *,
        policy_id: str,
        title: str,
        summary: str,
        industries: Iterable[str] = (),
        sizes: Iterable[str] = (),
        district_codes: Iterable[str] = (),
        min_years_established: int | None = None,
        required_tags: Iterable[str] = (),
        valid_from: date | None = None,
        valid_until: date | None = None,
    ) -> Policy:
        codes = frozenset(district_codes)
        for c in codes:
            level_of(c)
        if min_years_established is not None and (
            isinstance(min_years_established, bool) or not 0 <= min_years_established <= 200
        ):
            raise ValidationFailed(
                "invalid_min_years", "min years must be 0–200", "成立年限须为0到200年"
            )
        if valid_from and valid_until and valid_from > valid_until:
            raise ValidationFailed(
                "invalid_validity", "valid_from is after valid_until", "生效日期晚于失效日期"
            )
        return Policy(
            policy_id=require_text(policy_id, "policy_id", max_len=64),
            title=require_text(title, "title", max_len=200),
            summary=require_text(summary, "summary", max_len=5000),
            industries=normalise_tags(list(industries)),
            sizes=frozenset(enum_value(EnterpriseSize, s, "size") for s in sizes),
            district_codes=codes,
            min_years_established=min_years_established,
            required_tags=normalise_tags(list(required_tags)),
            valid_from=valid_from,
            valid_until=valid_until,
        )

    def in_force(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_until is None or on <= self.valid_until
        )


@dataclass(frozen=True, slots=True)
class Eligibility:
    policy_id: str
    enterprise_id: str
    eligible: bool
    reasons: tuple[Reason, ...]

    @property
    def failed_rules(self) -> tuple[str, ...]:
        return tuple(r.rule for r in self.reasons if not r.ok)


def check_eligibility(policy: Policy, ent: Enterprise, on: date) -> Eligibility:
    """Every rule of ``policy`` against ``ent`` on date ``on``, explained."""
    r: list[Reason] = []
    ok = policy.in_force(on)
    r.append(
        Reason(
            "in_force",
            ok,
            "policy in force" if ok else "policy not in force",
            "政策在有效期内" if ok else "政策不在有效期内",
        )
    )
    if policy.industries:
        ok = ent.industry.lower() in policy.industries
        r.append(
            Reason(
                "industry",
                ok,
                f"industry '{ent.industry}' {'is' if ok else 'is not'} covered",
                f"行业“{ent.industry}”{'属于' if ok else '不属于'}适用行业",
            )
        )
    if policy.sizes:
        ok = ent.size in policy.sizes
        r.append(
            Reason(
                "size",
                ok,
                f"size {ent.size.value} {'is' if ok else 'is not'} covered",
                f"企业规模{ent.size.value}{'符合' if ok else '不符合'}",
            )
        )
    if policy.district_codes:
        ok = any(ent.grid_code.startswith(c) for c in policy.district_codes)
        r.append(
            Reason(
                "district",
                ok,
                f"located {'inside' if ok else 'outside'} the policy's area",
                f"企业{'位于' if ok else '不在'}政策适用区域",
            )
        )
    if policy.min_years_established is not None:
        years = ent.years_established(on)
        ok = years is not None and years >= policy.min_years_established
        shown = "unknown" if years is None else str(years)
        r.append(
            Reason(
                "years_established",
                ok,
                f"established {shown} years, {policy.min_years_established} required",
                f"成立{'未知' if years is None else years}年，要求至少{policy.min_years_established}年",
            )
        )
    if policy.required_tags:
        missing = sorted(policy.required_tags - ent.tags)
        ok = not missing
        r.append(
            Reason(
                "tags",
                ok,
                "holds all required qualifications"
                if ok
                else f"missing qualifications: {', '.join(missing)}",
                "具备全部资质要求" if ok else f"缺少资质：{'、'.join(missing)}",
            )
        )
    return Eligibility(policy.policy_id, ent.enterprise_id, all(x.ok for x in r), tuple(r))


def policies_for(ent: Enterprise, policies: Iterable[Policy], on: date) -> list[Eligibility]:
    """The policies reaching one enterprise (enterprise edition), with reasons."""
    return [e for p in policies if (e := check_eligibility(p, ent, on)).eligible]


@dataclass(frozen=True, slots=True)
class PolicyReach:
    policy_id: str
    enterprise_ids: tuple[str, ...]
    examined: int
    missed_by_rule: dict[str, int]  # how many enterprises each rule excluded


def policy_reach(
    policy: Policy, enterprises: Iterable[Enterprise], on: date, *, verified_only: bool = True
) -> PolicyReach:
    """Which enterprises a policy reaches (government edition) and why the rest miss it."""
    reached: list[str] = []
    missed: Counter[str] = Counter()
    examined = 0
    for ent in enterprises:
        if verified_only and not ent.is_verified:
            continue
        examined += 1
        el = check_eligibility(policy, ent, on)
        if el.eligible:
            reached.append(ent.enterprise_id)
        missed.update(el.failed_rules)
    return PolicyReach(policy.policy_id, tuple(sorted(reached)), examined, dict(missed))
