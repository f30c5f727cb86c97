"""Agency applications (微代办): a resident books an appointment or submits materials online,
a community worker handles the item for them (seed 000, 002).

Each application goes accept → handle → feed back → close (受理 → 办理 → 反馈 → 办结);
items handled inside the community close within 1 working day (``quick_1d``), items that
need the street or above within 3 (``standard_3d``). Incomplete materials are returned for
correction (退回补正) and resubmitted; the resident may withdraw before handling starts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from yiwang.clock import require_aware
from yiwang.errors import Forbidden, NotFound, ValidationFailed
from yiwang.text import limit_text, require_text

from .categories import HandlingLevel
from .common import illegal_transition, version_conflict
from .lifecycle import Role

MATERIALS: dict[str, tuple[str, str]] = {
    "id_card": ("居民身份证", "Resident identity card"),
    "household_register": ("户口簿", "Household register"),
    "photo": ("近期免冠照片", "Recent ID photo"),
    "marriage_cert": ("结婚证", "Marriage certificate"),
    "birth_medical_cert": ("出生医学证明", "Medical birth certificate"),
    "application_form": ("申请表", "Application form"),
    "income_proof": ("家庭收入证明", "Household income statement"),
    "bank_card": ("本人银行卡", "Own bank card"),
    "disability_cert": ("残疾人证", "Disability certificate"),
    "medical_records": ("医院诊断证明", "Hospital diagnosis"),
    "death_cert": ("死亡证明", "Death certificate"),
    "housing_proof": ("房产证或租赁合同", "Property deed or lease"),
    "labour_contract": ("劳动合同或解除证明", "Labour contract or termination proof"),
    "party_letter": ("党组织关系介绍信", "Party organisation transfer letter"),
    "veteran_cert": ("退役军人证件", "Veteran's certificate"),
    "business_plan": ("创业计划书", "Business plan"),
    "owners_consent": ("业主同意书", "Owners' consent"),
    "vaccination_proof": ("犬只免疫证明", "Dog vaccination certificate"),
    "purchase_invoice": ("购车发票", "Purchase invoice"),
    "guardian_proof": ("监护关系证明", "Proof of guardianship"),
}


@dataclass(frozen=True, slots=True)
class ServiceItem:
    code: str
    name_zh: str
    name_en: str
    domain: str  # family_planning, civil_affairs, employment, party, residence, community
    level: HandlingLevel
    department: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def sla_class(self) -> str:
        return "quick_1d" if self.level is HandlingLevel.COMMUNITY else "standard_3d"


C, S = HandlingLevel.COMMUNITY, HandlingLevel.STREET
_ID = ("id_card",)
_IDH = ("id_card", "household_register")


def _i(
    code: str,
    zh: str,
    en: str,
    domain: str,
    level: HandlingLevel,
    dept: str,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
) -> ServiceItem:
    return ServiceItem(code, zh, en, domain, level, dept, required, optional)


DEFAULT_ITEMS: tuple[ServiceItem, ...] = (
    _i(
        "birth_registration",
        "生育登记",
        "Birth registration",
        "family_planning",
        C,
        "health",
        (*_IDH, "marriage_cert"),
    ),
    _i(
        "only_child_certificate",
        "独生子女父母光荣证",
        "Only-child parents' certificate",
        "family_planning",
        S,
        "health",
        (*_IDH, "marriage_cert", "birth_medical_cert"),
    ),
    _i(
        "family_planning_reward",
        "计划生育奖励扶助",
        "Family-planning reward",
        "family_planning",
        S,
        "health",
        (*_IDH, "application_form"),
    ),
    _i(
        "family_planning_special_aid",
        "计生特殊家庭扶助",
        "Aid for special family-planning families",
        "family_planning",
        S,
        "health",
        (*_IDH, "application_form"),
        ("death_cert", "disability_cert"),
    ),
    _i(
        "maternal_health_book",
        "母子健康手册建册",
        "Mother and child health book",
        "family_planning",
        C,
        "health",
        (*_ID, "marriage_cert"),
    ),
    _i(
        "vaccination_booking",
        "儿童预防接种预约",
        "Child vaccination appointment",
        "family_planning",
        C,
        "health",
        ("birth_medical_cert",),
    ),
    _i(
        "minimum_living_allowance",
        "最低生活保障申请",
        "Minimum living allowance",
        "civil_affairs",
        S,
        "civil_affairs",
        (*_IDH, "income_proof", "application_form"),
        ("bank_card",),
    ),
    _i(
        "low_income_certification",
        "低收入家庭认定",
        "Low-income household certification",
        "civil_affairs",
        S,
        "civil_affairs",
        (*_IDH, "income_proof"),
    ),
    _i(
        "temporary_assistance",
        "临时救助申请",
        "Temporary assistance",
        "civil_affairs",
        S,
        "civil_affairs",
        (*_ID, "application_form"),
        ("medical_records",),
    ),
    _i(
        "old_age_allowance",
        "高龄津贴申领",
        "Old-age allowance",
        "civil_affairs",
        S,
        "civil_affairs",
        (*_IDH, "bank_card"),
    ),
    _i(
        "disability_subsidies",
        "残疾人两项补贴",
        "Disability living and care subsidies",
        "civil_affairs",
        S,
        "disabled_persons",
        (*_ID, "disability_cert", "bank_card"),
    ),
    _i(
        "disability_certificate",
        "残疾人证申办",
        "Disability certificate application",
        "civil_affairs",
        S,
        "disabled_persons",
        (*_IDH, "photo", "medical_records"),
    ),
    _i(
        "senior_card",
        "老年人优待证",
        "Senior citizen card",
        "civil_affairs",
        C,
        "civil_affairs",
        (*_ID, "photo"),
    ),
    _i(
        "home_care_service",
        "居家养老服务申请",
        "Home care for the elderly",
        "civil_affairs",
        C,
        "civil_affairs",
        _ID,
        ("medical_records",),
    ),
    _i(
        "funeral_subsidy",
        "惠民殡葬补贴",
        "Funeral subsidy",
        "civil_affairs",
        S,
        "civil_affairs",
        (*_IDH, "death_cert", "bank_card"),
    ),
    _i(
        "veteran_benefits",
        "退役军人优待",
        "Veteran benefits",
        "civil_affairs",
        S,
        "veterans_affairs",
        (*_ID, "veteran_cert"),
    ),
    _i(
        "children_in_difficulty",
        "困境儿童保障",
        "Support for children in difficulty",
        "civil_affairs",
        S,
        "civil_affairs",
        (*_IDH, "guardian_proof", "application_form"),
    ),
    _i(
        "unemployment_registration",
        "失业登记",
        "Unemployment registration",
        "employment",
        C,
        "human_resources",
        (*_ID, "labour_contract"),
    ),
    _i(
        "employment_registration",
        "就业登记",
        "Employment registration",
        "employment",
        C,
        "human_resources",
        (*_ID, "labour_contract"),
    ),
    _i(
        "flexible_employment_insurance",
        "灵活就业人员参保登记",
        "Social insurance for flexible workers",
        "employment",
        S,
        "human_resources",
        _IDH,
    ),
    _i(
        "resident_pension_enrolment",
        "城乡居民养老保险参保",
        "Resident pension insurance enrolment",
        "employment",
        C,
        "human_resources",
        _IDH,
    ),
    _i(
        "pension_eligibility_check",
        "养老金领取资格认证",
        "Pension eligibility check",
        "employment",
        C,
        "human_resources",
        _ID,
        ("photo",),
    ),
    _i(
        "resident_medical_insurance",
        "城乡居民医保参保缴费",
        "Resident medical insurance",
        "employment",
        C,
        "medical_security",
        _IDH,
    ),
    _i(
        "employment_difficulty_certification",
        "就业困难人员认定",
        "Hard-to-employ certification",
        "employment",
        S,
        "human_resources",
        (*_IDH, "application_form"),
        ("disability_cert",),
    ),
    _i(
        "vocational_training",
        "职业技能培训报名",
        "Vocational training sign-up",
        "employment",
        C,
        "human_resources",
        _ID,
    ),
    _i(
        "startup_guarantee_loan",
        "创业担保贷款申请",
        "Start-up guaranteed loan",
        "employment",
        S,
        "human_resources",
        (*_IDH, "business_plan", "application_form"),
    ),
    _i(
        "party_relation_transfer",
        "党组织关系转接",
        "Party membership transfer",
        "party",
        S,
        "organisation",
        (*_ID, "party_letter"),
    ),
    _i(
        "in_service_member_report",
        "在职党员到社区报到",
        "In-service party member registration",
        "party",
        C,
        "organisation",
        _ID,
    ),
    _i(
        "party_dues_certificate",
        "党费缴纳证明",
        "Party dues certificate",
        "party",
        C,
        "organisation",
        _ID,
    ),
    _i(
        "party_member_hardship_aid",
        "困难党员帮扶",
        "Aid for party members in hardship",
        "party",
        S,
        "organisation",
        (*_ID, "application_form"),
        ("income_proof", "medical_records"),
    ),
    _i(
        "residence_permit",
        "居住证申领",
        "Residence permit",
        "residence",
        S,
        "public_security",
        (*_ID, "photo", "housing_proof"),
    ),
    _i(
        "residence_proof",
        "居住情况证明",
        "Proof of residence",
        "residence",
        C,
        "community",
        (*_ID, "housing_proof"),
    ),
    _i(
        "household_transfer",
        "户口迁移材料代办",
        "Household registration transfer",
        "residence",
        S,
        "public_security",
        _IDH,
        ("marriage_cert", "housing_proof"),
    ),
    _i(
        "rental_registration",
        "出租房屋登记",
        "Rental housing registration",
        "residence",
        C,
        "public_security",
        (*_ID, "housing_proof"),
    ),
    _i(
        "venue_booking",
        "社区活动场所预约",
        "Community venue booking",
        "community",
        C,
        "community",
        _ID,
    ),
    _i(
        "mediation_request",
        "人民调解申请",
        "People's mediation request",
        "community",
        C,
        "justice",
        _ID,
    ),
    _i(
        "legal_aid",
        "法律援助申请",
        "Legal aid",
        "community",
        S,
        "justice",
        (*_ID, "income_proof", "application_form"),
    ),
    _i(
        "volunteer_registration",
        "志愿者注册",
        "Volunteer registration",
        "community",
        C,
        "community",
        _ID,
    ),
    _i(
        "student_hardship_proof",
        "家庭经济困难学生认定",
        "Student family hardship certification",
        "community",
        C,
        "education",
        (*_IDH, "income_proof"),
    ),
    _i(
        "public_rental_housing",
        "公共租赁住房申请",
        "Public rental housing",
        "community",
        S,
        "housing",
        (*_IDH, "income_proof", "application_form"),
    ),
    _i(
        "elevator_retrofit",
        "老旧小区加装电梯申请",
        "Lift retrofit in an old estate",
        "community",
        S,
        "housing",
        ("owners_consent", "application_form", "housing_proof"),
    ),
    _i(
        "individual_business_licence",
        "个体工商户登记代办",
        "Sole-trader business licence",
        "community",
        S,
        "market_supervision",
        (*_ID, "housing_proof"),
    ),
    _i(
        "dog_registration",
        "犬只登记",
        "Dog registration",
        "community",
        S,
        "public_security",
        (*_ID, "vaccination_proof", "photo"),
    ),
    _i(
        "e_bike_registration",
        "电动自行车登记上牌",
        "E-bike registration",
        "community",
        S,
        "public_security",
        (*_ID, "purchase_invoice"),
    ),
)


def service_item(code: str, items: Sequence[ServiceItem] = DEFAULT_ITEMS) -> ServiceItem:
    found = next((i for i in items if i.code == code), None)
    if found is None:
        raise NotFound(
            "unknown_service_item",
            f"unknown service item '{code}'",
            f"未知的代办事项“{code}”",
            item=code,
        )
    return found


def validate_materials(
    item: ServiceItem, materials: Mapping[str, Sequence[str]], *, complete: bool = True
) -> dict[str, tuple[str, ...]]:
    """Normalised materials (code → file keys). Unknown codes are refused; with ``complete``
    every required material needs at least one file."""
    allowed = set(item.required) | set(item.optional)
    unknown = sorted(set(materials) - allowed)
    if unknown:
        raise ValidationFailed(
            "unknown_material",
            f"'{item.code}' does not take {unknown}",
            f"事项“{item.code}”不需要材料{unknown}",
            materials=unknown,
        )
    out = {k: tuple(str(f).strip() for f in v if str(f).strip()) for k, v in materials.items()}
    if any(len(v) > 9 for v in out.values()):
        raise ValidationFailed(
            "too_many_files", "at most 9 files per material", "每项材料最多9个文件"
        )
    missing = [m for m in item.required if not out.get(m)]
    if complete and missing:
        raise ValidationFailed(
            "missing_materials",
            f"missing required materials: {missing}",
            f"缺少必需材料：{[MATERIALS[m][0] for m in missing]}",
            materials=missing,
        )
    return {k: v for k, v in out.items() if v}


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    RETURNED = "returned"  # materials returned for correction
    ACCEPTED = "accepted"
    HANDLING = "handling"
    FED_BACK = "fed_back"
    CLOSED = "closed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


A = ApplicationStatus
_STAFF = frozenset({Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.DISTRICT_STAFF})
TRANSITIONS: dict[str, tuple[frozenset[ApplicationStatus], ApplicationStatus, frozenset[Role]]] = {
    "accept": (frozenset({A.SUBMITTED}), A.ACCEPTED, _STAFF),
    "return_materials": (frozenset({A.SUBMITTED, A.ACCEPTED}), A.RETURNED, _STAFF),
    "resubmit": (frozenset({A.RETURNED}), A.SUBMITTED, frozenset({Role.CITIZEN})),
    "handle": (frozenset({A.ACCEPTED}), A.HANDLING, _STAFF),
    "feed_back": (frozenset({A.HANDLING}), A.FED_BACK, _STAFF),
    "close": (frozenset({A.FED_BACK}), A.CLOSED, _STAFF),
    "reject": (frozenset({A.SUBMITTED, A.ACCEPTED}), A.REJECTED, _STAFF),
    "withdraw": (
        frozenset({A.SUBMITTED, A.RETURNED, A.ACCEPTED}),
        A.WITHDRAWN,
        frozenset({Role.CITIZEN}),
    ),
}
APPLICATION_TERMINAL = frozenset({A.CLOSED, A.REJECTED, A.WITHDRAWN})


@dataclass(frozen=True, slots=True)
class ApplicationStep:
    seq: int
    action: str
    status: ApplicationStatus
    actor_id: str
    role: Role
    at: datetime
    note: str = ""
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ApplicationChanged:
    """The one event type of this aggregate: ``action`` says what happened (past tense
    names in :data:`EVENT_NAMES`)."""

    application_id: str
    item_code: str
    community_code: str
    version: int
    action: str
    status: str
    occurred_at: datetime
    actor_id: str
    due_at: datetime | None = None

    @property
    def name(self) -> str:
        return EVENT_NAMES[self.action]


EVENT_NAMES = {
    "submit": "ApplicationSubmitted",
    "accept": "ApplicationAccepted",
    "return_materials": "ApplicationReturned",
    "resubmit": "ApplicationResubmitted",
    "handle": "ApplicationHandlingStarted",
    "feed_back": "ApplicationFedBack",
    "close": "ApplicationClosed",
    "reject": "ApplicationRejected",
    "withdraw": "ApplicationWithdrawn",
}


@dataclass(eq=False)
class AgencyApplication:
    application_id: str
    item: ServiceItem
    community_code: str
    applicant_id: str
    materials: dict[str, tuple[str, ...]]
    created_at: datetime
    appointment_at: datetime | None = None
    status: ApplicationStatus = A.SUBMITTED
    version: int = 0
    steps: list[ApplicationStep] = field(default_factory=list)
    due_at: datetime | None = None
    accepted_at: datetime | None = None
    result: str | None = None
    closed_at: datetime | None = None
    returned_materials: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self._events: list[ApplicationChanged] = []

    def pull_events(self) -> list[ApplicationChanged]:
        out, self._events = self._events, []
        return out

    def allowed_actions(self) -> list[str]:
        return sorted(a for a, (src, _, _) in TRANSITIONS.items() if self.status in src)

    def _check(self, action: str, actor_id: str, role: Role, at: datetime, expected: int) -> None:
        if expected != self.version:
            raise version_conflict(expected, self.version)
        sources, _, roles = TRANSITIONS[action]
        if self.status not in sources:
            raise illegal_transition(action, self.status.value, self.allowed_actions())
        if role not in roles:
            raise Forbidden(
                "role_not_allowed",
                f"role {role.value} may not {action}",
                f"角色“{role.value}”无权执行“{action}”",
                action=action,
            )
        if role is Role.CITIZEN and actor_id != self.applicant_id:
            raise Forbidden(
                "not_applicant", "only the applicant may do this", "只有申请人可以执行此操作"
            )
        require_aware(at, "at")

    def _record(
        self,
        action: str,
        to: ApplicationStatus,
        actor_id: str,
        role: Role,
        at: datetime,
        note: str = "",
        attachments: Sequence[str] = (),
    ) -> None:
        self.status = to
        self.version += 1
        self.steps.append(
            ApplicationStep(self.version, action, to, actor_id, role, at, note, tuple(attachments))
        )
        self._events.append(
            ApplicationChanged(
                application_id=self.application_id,
                item_code=self.item.code,
                community_code=self.community_code,
                version=self.version,
                action=action,
                status=to.value,
                occurred_at=at,
                actor_id=actor_id,
                due_at=self.due_at,
            )
        )

    def accept(
        self, actor_id: str, role: Role, at: datetime, expected_version: int, *, due_at: datetime
    ) -> None:
        """受理. ``due_at`` from :func:`.sla.expected_datetime` for ``item.sla_class``."""
        self._check("accept", actor_id, role, at, expected_version)
        if self.appointment_at is None:
            validate_materials(self.item, self.materials)
        self.accepted_at, self.due_at = at, require_aware(due_at, "due_at")
        self._record("accept", A.ACCEPTED, actor_id, role, at)

    def return_materials(
        self,
        actor_id: str,
        role: Role,
        at: datetime,
        expected_version: int,
        *,
        materials: Sequence[str],
        note: str,
    ) -> None:
        self._check("return_materials", actor_id, role, at, expected_version)
        wrong = [m for m in materials if m not in (*self.item.required, *self.item.optional)]
        if not materials or wrong:
            raise ValidationFailed(
                "invalid_materials",
                "name the item's materials to correct",
                "请指明需补正的本事项材料",
                materials=list(materials),
            )
        note = require_text(note, "note", max_len=500)
        self.returned_materials = tuple(materials)
        self._record("return_materials", A.RETURNED, actor_id, role, at, note)

    def resubmit(
        self,
        actor_id: str,
        at: datetime,
        expected_version: int,
        *,
        materials: Mapping[str, Sequence[str]],
    ) -> None:
        self._check("resubmit", actor_id, Role.CITIZEN, at, expected_version)
        merged = {**self.materials, **validate_materials(self.item, materials, complete=False)}
        if self.appointment_at is None:
            validate_materials(self.item, merged)
        self.materials, self.returned_materials = merged, ()
        self._record("resubmit", A.SUBMITTED, actor_id, Role.CITIZEN, at)

    def handle(
        self, actor_id: str, role: Role, at: datetime, expected_version: int, *, note: str = ""
    ) -> None:
        self._check("handle", actor_id, role, at, expected_version)
        self._record(
            "handle", A.HANDLING, actor_id, role, at, limit_text(note, "note", max_len=500)
        )

    def feed_back(
        self,
        actor_id: str,
        role: Role,
        at: datetime,
        expected_version: int,
        *,
        result: str,
        attachments: Sequence[str] = (),
    ) -> None:
        self._check("feed_back", actor_id, role, at, expected_version)
        self.result = require_text(result, "result", max_len=2000)
        self._record("feed_back", A.FED_BACK, actor_id, role, at, self.result, attachments)

    def close(self, actor_id: str, role: Role, at: datetime, expected_version: int) -> None:
        self._check("close", actor_id, role, at, expected_version)
        self.closed_at = at
        self._record("close", A.CLOSED, actor_id, role, at)

    def reject(
        self, actor_id: str, role: Role, at: datetime, expected_version: int, *, reason: str
    ) -> None:
        self._check("reject", actor_id, role, at, expected_version)
        self._record(
            "reject", A.REJECTED, actor_id, role, at, require_text(reason, "reason", max_len=500)
        )

    def withdraw(self, actor_id: str, at: datetime, expected_version: int) -> None:
        self._check("withdraw", actor_id, Role.CITIZEN, at, expected_version)
        self._record("withdraw", A.WITHDRAWN, actor_id, Role.CITIZEN, at)

    def on_time(self) -> bool | None:
        """For KPIs: closed by the deadline (None while open or never accepted)."""
        if self.closed_at is None or self.due_at is None:
            return None
        return self.closed_at <= self.due_at


def apply_for(
    *,
    application_id: str,
    item: ServiceItem,
    community_code: str,
    applicant_id: str,
    at: datetime,
    materials: Mapping[str, Sequence[str]] | None = None,
    appointment_at: datetime | None = None,
) -> AgencyApplication:
    """Submit materials online (all required ones), or book an appointment and bring them."""
    require_aware(at, "at")
    if appointment_at is not None and require_aware(appointment_at, "appointment_at") <= at:
        raise ValidationFailed(
            "appointment_in_past",
            "the appointment must be in the future",
            "预约时间必须晚于当前时间",
        )
    docs = validate_materials(item, materials or {}, complete=appointment_at is None)
    app = AgencyApplication(
        application_id,
        item,
        community_code,
        require_text(applicant_id, "applicant_id", max_len=64),
        docs,
        at,
        appointment_at,
    )
    app._record("submit", A.SUBMITTED, applicant_id, Role.CITIZEN, at)
    return app
