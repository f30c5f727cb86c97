"""Bank–enterprise cooperation (银企合作): financing needs matched to institutions' products.

Matching is explainable: every rule (amount range, term range, sector, product active)
yields a ``Reason`` saying why it held or not. Banks respond per product (interested,
declined, offer); the enterprise's outcome (granted amount) is recorded against an offer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from yiwang.clock import require_aware
from yiwang.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yiwang.text import require_text

from .accounts import Enterprise, Institution, InstitutionKind
from .common import Reason, enum_value, illegal_transition, normalise_tags, require_positive_amount
from .events import FinancingGranted, FinancingResponded

MAX_TERM_MONTHS = 360


def _term(value: int, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TERM_MONTHS:
        raise ValidationFailed(
            "invalid_term",
            f"{field_name} must be 1–{MAX_TERM_MONTHS} months",
            f"{field_name}必须为1到{MAX_TERM_MONTHS}个月",
            field=field_name,
        )
    return value


def _rate(value: Decimal | str) -> Decimal:
    try:
        rate = Decimal(str(value))
    except ArithmeticError:
        rate = Decimal("NaN")
    if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(36):
        raise ValidationFailed(
            "invalid_rate", "annual rate must be 0–36 %", "年利率必须在0%到36%之间"
        )
    return rate


@dataclass(frozen=True, slots=True)
class FinancingProduct:
    product_id: str
    institution_id: str
    name: str
    min_amount: Decimal
    max_amount: Decimal
    min_term_months: int
    max_term_months: int
    sectors: frozenset[str]  # industries served; empty = all
    annual_rate_pct: Decimal
    active: bool = True

    @staticmethod
    def create(
        *,
        product_id: str,
        institution: Institution,
        name: str,
        min_amount: Decimal | int | str,
        max_amount: Decimal | int | str,
        min_term_months: int,
        max_term_months: int,
        sectors: Iterable[str] = (),
        annual_rate_pct: Decimal | str,
    ) -> FinancingProduct:
        """A product published by a verified bank."""
        institution.require_verified(InstitutionKind.BANK)
        lo, hi = (
            require_positive_amount(min_amount, "min_amount"),
            require_positive_amount(max_amount, "max_amount"),
        )
        tlo, thi = (
            _term(min_term_months, "min_term_months"),
            _term(max_term_months, "max_term_months"),
        )
        if lo > hi or tlo > thi:
            raise ValidationFailed(
                "invalid_range", "a range's minimum exceeds its maximum", "范围下限大于上限"
            )
        rate = _rate(annual_rate_pct)
        return FinancingProduct(
            product_id=require_text(product_id, "product_id", max_len=64),
            institution_id=institution.institution_id,
            name=require_text(name, "name", max_len=200),
            min_amount=lo,
            max_amount=hi,
            min_term_months=tlo,
            max_term_months=thi,
            sectors=normalise_tags(list(sectors)),
            annual_rate_pct=rate,
        )


class NeedStatus(StrEnum):
    OPEN = "open"
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"


class ResponseKind(StrEnum):
    INTERESTED = "interested"
    DECLINED = "declined"
    OFFER = "offer"


@dataclass(frozen=True, slots=True)
class InstitutionResponse:
    product_id: str
    institution_id: str
    kind: ResponseKind
    at: datetime
    offer_amount: Decimal | None = None
    offer_rate_pct: Decimal | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class MatchResult:
    product_id: str
    institution_id: str
    matched: bool
    annual_rate_pct: Decimal
    reasons: tuple[Reason, ...]


@dataclass(slots=True)
class FinancingNeed:
    need_id: str
    enterprise_id: str
    amount: Decimal
    term_months: int
    purpose: str
    industry: str
    created_at: datetime
    status: NeedStatus = NeedStatus.OPEN
    responses: dict[str, InstitutionResponse] = field(default_factory=dict)  # by product id
    granted_product_id: str | None = None
    granted_amount: Decimal | None = None
    granted_at: datetime | None = None

    def respond(
        self,
        *,
        catalogue: Mapping[str, FinancingProduct],
        product_id: str,
        institution: Institution,
        user_id: str,
        response: str,
        now: datetime,
        offer_amount: Decimal | int | str | None = None,
        offer_rate_pct: Decimal | str | None = None,
        note: str = "",
    ) -> FinancingResponded:
        """A bank answers the need for one of its products; a later answer replaces an earlier."""
        product = get_product(catalogue, product_id)
        institution.require_verified(InstitutionKind.BANK)
        institution.require_user(user_id)
        if product.institution_id != institution.institution_id:
            raise Forbidden(
                "not_product_owner",
                "the product belongs to another institution",
                "该产品属于其他机构",
            )
        if self.status is not NeedStatus.OPEN:
            raise illegal_transition("respond", self.status.value, ["open"])
        kind = enum_value(ResponseKind, response, "response")
        amount = rate = None
        if kind is ResponseKind.OFFER:
            if offer_amount is None:
                raise ValidationFailed(
                    "offer_amount_required", "an offer needs an amount", "授信意向须填写金额"
                )
            amount = require_positive_amount(offer_amount, "offer_amount")
            if not product.min_amount <= amount <= product.max_amount:
                raise ValidationFailed(
                    "offer_outside_product",
                    "the offered amount is outside the product's range",
                    "意向金额超出产品额度范围",
                )
            rate = _rate(offer_rate_pct) if offer_rate_pct is not None else product.annual_rate_pct
        self.responses[product.product_id] = InstitutionResponse(
            product.product_id,
            institution.institution_id,
            kind,
            require_aware(now),
            amount,
            rate,
            note.strip(),
        )
        return FinancingResponded(
            occurred_at=now,
            need_id=self.need_id,
            product_id=product.product_id,
            institution_id=institution.institution_id,
            response=kind.value,
        )

    def record_outcome(
        self,
        *,
        catalogue: Mapping[str, FinancingProduct],
        product_id: str,
        granted_amount: Decimal | int | str,
        now: datetime,
    ) -> FinancingGranted:
        """The loan was granted under an offer: record the amount (≤ the offer)."""
        product = get_product(catalogue, product_id)
        if self.status is not NeedStatus.OPEN:
            raise illegal_transition("record_outcome", self.status.value, ["open"])
        offer = self.responses.get(product_id)
        if offer is None or offer.kind is not ResponseKind.OFFER or offer.offer_amount is None:
            raise Conflict(
                "no_offer", "there is no offer for this product", "该产品尚未给出授信意向"
            )
        amount = require_positive_amount(granted_amount, "granted_amount")
        if amount > offer.offer_amount:
            raise ValidationFailed(
                "granted_exceeds_offer", "granted amount exceeds the offer", "放款金额超过意向金额"
            )
        self.status = NeedStatus.GRANTED
        self.granted_product_id, self.granted_amount, self.granted_at = (
            product_id,
            amount,
            require_aware(now),
        )
        return FinancingGranted(
            occurred_at=now,
            need_id=self.need_id,
            product_id=product_id,
            institution_id=product.institution_id,
            enterprise_id=self.enterprise_id,
            granted_amount=amount,
        )

    def withdraw(self, enterprise: Enterprise, user_id: str) -> None:
        if enterprise.enterprise_id != self.enterprise_id:
            raise Forbidden(
                "not_own_need", "this need belongs to another enterprise", "该需求属于其他企业"
            )
        enterprise.require_user(user_id)
        if self.status is not NeedStatus.OPEN:
            raise illegal_transition("withdraw", self.status.value, ["open"])
        self.status = NeedStatus.WITHDRAWN


def post_need(
    *,
    need_id: str,
    enterprise: Enterprise,
    user_id: str,
    amount: Decimal | int | str,
    term_months: int,
    purpose: str,
    now: datetime,
    industry: str | None = None,
) -> FinancingNeed:
    """A verified enterprise publishes a financing need (industry defaults to its own)."""
    enterprise.require_verified()
    enterprise.require_user(user_id)
    return FinancingNeed(
        need_id=require_text(need_id, "need_id", max_len=64),
        enterprise_id=enterprise.enterprise_id,
        amount=require_positive_amount(amount, "amount"),
        term_months=_term(term_months, "term_months"),
        purpose=require_text(purpose, "purpose", max_len=1000),
        industry=require_text(industry or enterprise.industry, "industry", max_len=64).lower(),
        created_at=require_aware(now),
    )


def get_product(catalogue: Mapping[str, FinancingProduct], product_id: str) -> FinancingProduct:
    product = catalogue.get(product_id)
    if product is None:
        raise NotFound(
            "unknown_product",
            f"no financing product {product_id}",
            f"金融产品{product_id}不存在",
            product_id=product_id,
        )
    return product


def match_product(need: FinancingNeed, product: FinancingProduct) -> MatchResult:
    """Check every rule and explain each; matched only when all hold."""
    r: list[Reason] = []
    ok = product.min_amount <= need.amount <= product.max_amount
    r.append(
        Reason(
            "amount",
            ok,
            f"amount {need.amount} {'within' if ok else 'outside'} {product.min_amount}–{product.max_amount}",
            f"金额{need.amount}元{'在' if ok else '不在'}产品额度{product.min_amount}–{product.max_amount}元内",
        )
    )
    ok = product.min_term_months <= need.term_months <= product.max_term_months
    r.append(
        Reason(
            "term",
            ok,
            f"term {need.term_months} months {'within' if ok else 'outside'} {product.min_term_months}–{product.max_term_months}",
            f"期限{need.term_months}个月{'在' if ok else '不在'}产品期限{product.min_term_months}–{product.max_term_months}个月内",
        )
    )
    ok = not product.sectors or need.industry in product.sectors
    r.append(
        Reason(
            "sector",
            ok,
            "product serves all sectors"
            if not product.sectors
            else f"industry '{need.industry}' {'is' if ok else 'is not'} served",
            "产品面向所有行业"
            if not product.sectors
            else f"行业“{need.industry}”{'属于' if ok else '不属于'}产品服务范围",
        )
    )
    r.append(
        Reason(
            "active",
            product.active,
            "product is on offer" if product.active else "product is withdrawn",
            "产品在售" if product.active else "产品已下架",
        )
    )
    return MatchResult(
        product.product_id,
        product.institution_id,
        all(x.ok for x in r),
        product.annual_rate_pct,
        tuple(r),
    )


def match_need(
    need: FinancingNeed, products: Iterable[FinancingProduct], *, only_matched: bool = True
) -> list[MatchResult]:
    """Products for a need, matched first, then by lowest rate."""
    results = [match_product(need, p) for p in products]
    if only_matched:
        results = [m for m in results if m.matched]
    return sorted(results, key=lambda m: (not m.matched, m.annual_rate_pct, m.product_id))


def explain_match(
    need: FinancingNeed, catalogue: Mapping[str, FinancingProduct], product_id: str
) -> MatchResult:
    """Why one product does or does not match; NotFound ``unknown_product`` if absent."""
    return match_product(need, get_product(catalogue, product_id))
