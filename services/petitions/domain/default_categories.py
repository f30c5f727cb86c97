"""The default categories shipped with a new city (editable afterwards through the API)."""

from __future__ import annotations

from .categories import (
    AttributeSpec,
    AttributeValue,
    Category,
    CategoryCatalogue,
    Datatype,
    HandlingLevel,
)

C, S = HandlingLevel.COMMUNITY, HandlingLevel.STREET


def _choice(
    code: str, en: str, zh: str, values: list[tuple[str, str, str]], *, required: bool = True
) -> AttributeSpec:
    return AttributeSpec(
        code,
        Datatype.SINGLEVALUELIST,
        en,
        zh,
        required=required,
        values=tuple(AttributeValue(k, ven, vzh) for k, ven, vzh in values),
    )


def _attr(code: str, dt: Datatype, en: str, zh: str, *, required: bool = False) -> AttributeSpec:
    return AttributeSpec(code, dt, en, zh, required=required)


_SIZE = _choice(
    "size",
    "How large is it?",
    "面积大小？",
    [
        ("small", "under 1 m²", "1平方米以下"),
        ("medium", "1–5 m²", "1至5平方米"),
        ("large", "over 5 m²", "5平方米以上"),
    ],
)
_YES_NO = [("yes", "yes", "是"), ("no", "no", "否")]


def _group(code: str, zh: str, en: str, dept: str, sla: str = "standard_3d") -> Category:
    return Category(code, zh, en, dept, sla, S)


def _leaf(
    code: str,
    zh: str,
    en: str,
    dept: str,
    sla: str,
    level: HandlingLevel,
    *attrs: AttributeSpec,
    public: bool = True,
    citizen: bool = True,
    keywords: tuple[str, ...] = (),
) -> Category:
    ordered = tuple(
        AttributeSpec(
            a.code,
            a.datatype,
            a.description_en,
            a.description_zh,
            a.required,
            a.values,
            i + 1,
            a.variable,
        )
        for i, a in enumerate(attrs)
    )
    return Category(
        code,
        zh,
        en,
        dept,
        sla,
        level,
        public=public,
        citizen_selectable=citizen,
        attributes=ordered,
        keywords=keywords,
    )


DEFAULT_CATEGORIES: tuple[Category, ...] = (
    _group("appearance", "市容环境", "City appearance", "urban_management"),
    _leaf(
        "appearance.litter",
        "暴露垃圾",
        "Exposed litter",
        "urban_management",
        "quick_1d",
        C,
        _SIZE,
        keywords=("garbage", "垃圾"),
    ),
    _leaf(
        "appearance.illegal_ads",
        "乱张贴小广告",
        "Illegal posters and flyers",
        "urban_management",
        "quick_1d",
        C,
    ),
    _leaf(
        "appearance.street_vending",
        "占道经营",
        "Street vending on the road",
        "urban_management",
        "standard_3d",
        S,
    ),
    _leaf(
        "appearance.construction_waste",
        "建筑垃圾乱倒",
        "Dumped construction waste",
        "urban_management",
        "standard_3d",
        S,
        _SIZE,
    ),
    _leaf(
        "appearance.illegal_building",
        "违法建设",
        "Illegal construction",
        "urban_management",
        "complex_7d",
        S,
        _choice("stage", "Is it being built now?", "是否正在施工？", _YES_NO),
    ),
    _group("roads", "道路交通", "Roads and traffic", "transport"),
    _leaf(
        "roads.pothole",
        "路面破损",
        "Pothole or broken road surface",
        "transport",
        "standard_3d",
        S,
        _SIZE,
    ),
    _leaf(
        "roads.manhole_cover",
        "井盖缺失破损",
        "Missing or broken manhole cover",
        "urban_management",
        "urgent_2h",
        S,
        _choice(
            "cover_state",
            "What is wrong with the cover?",
            "井盖情况？",
            [
                ("missing", "missing", "缺失"),
                ("broken", "broken", "破损"),
                ("displaced", "displaced", "移位"),
            ],
        ),
    ),
    _leaf(
        "roads.streetlight",
        "路灯不亮",
        "Street light out",
        "urban_management",
        "standard_3d",
        S,
        _attr("pole_number", Datatype.STRING, "Number on the pole, if visible", "灯杆编号"),
    ),
    _leaf(
        "roads.illegal_parking",
        "违章停车",
        "Illegal parking",
        "public_security",
        "urgent_2h",
        S,
        _attr("plate_number", Datatype.STRING, "Licence plate", "车牌号"),
    ),
    _leaf(
        "roads.traffic_signal",
        "信号灯故障",
        "Traffic signal fault",
        "public_security",
        "urgent_2h",
        S,
    ),
    _group("environment", "生态环境", "Environment", "ecology_environment"),
    _leaf(
        "environment.noise",
        "噪声扰民",
        "Noise nuisance",
        "ecology_environment",
        "standard_3d",
        S,
        _choice(
            "period",
            "When does it happen?",
            "发生时段？",
            [("day", "daytime", "白天"), ("night", "at night (22:00–06:00)", "夜间")],
        ),
        _choice(
            "source",
            "Source of the noise",
            "噪声来源",
            [
                ("construction", "construction", "施工"),
                ("business", "shop or bar", "商户"),
                ("residential", "residents", "居民"),
                ("traffic", "traffic", "交通"),
            ],
            required=False,
        ),
    ),
    _leaf(
        "environment.cooking_fumes",
        "餐饮油烟",
        "Restaurant fumes",
        "ecology_environment",
        "standard_3d",
        S,
    ),
    _leaf(
        "environment.water_pollution",
        "水体污染",
        "Polluted water body",
        "ecology_environment",
        "complex_7d",
        S,
    ),
    _leaf(
        "environment.greenery_damage",
        "绿化损坏",
        "Damaged greenery or trees",
        "urban_management",
        "standard_3d",
        S,
    ),
    _group("public_safety", "公共安全", "Public safety", "emergency_management", "urgent_2h"),
    _leaf(
        "public_safety.fire_hazard",
        "消防隐患",
        "Fire hazard (blocked exits, e-bike charging)",
        "fire_rescue",
        "urgent_2h",
        S,
    ),
    _leaf("public_safety.gas_leak", "燃气泄漏", "Gas leak", "gas", "urgent_2h", S),
    _leaf(
        "public_safety.falling_objects",
        "高空坠物隐患",
        "Risk of falling objects",
        "housing",
        "urgent_2h",
        S,
    ),
    _leaf(
        "public_safety.waterlogging",
        "积水内涝",
        "Flooded road or waterlogging",
        "water",
        "urgent_2h",
        S,
    ),
    _group("disputes", "矛盾纠纷", "Disputes", "community", "quick_1d"),
    _leaf(
        "disputes.neighbour",
        "邻里纠纷",
        "Neighbour dispute",
        "community",
        "quick_1d",
        C,
        public=False,
    ),
    _leaf(
        "disputes.family", "家庭纠纷", "Family dispute", "community", "quick_1d", C, public=False
    ),
    _leaf(
        "disputes.wage_arrears",
        "拖欠工资",
        "Unpaid wages",
        "human_resources",
        "complex_7d",
        S,
        _attr("employer", Datatype.STRING, "Employer's name", "用人单位名称", required=True),
        _attr("workers", Datatype.NUMBER, "Number of workers affected", "涉及人数"),
        public=False,
    ),
    _group("property", "物业管理", "Property management", "housing"),
    _leaf(
        "property.elevator",
        "电梯故障",
        "Lift out of order",
        "market_supervision",
        "urgent_2h",
        S,
        _attr("building", Datatype.STRING, "Building and unit", "楼栋单元", required=True),
        _choice("trapped", "Is anyone trapped?", "是否有人被困？", _YES_NO),
    ),
    _leaf(
        "property.facilities",
        "小区公共设施损坏",
        "Damaged estate facilities",
        "community",
        "quick_1d",
        C,
    ),
    _leaf(
        "property.service",
        "物业服务问题",
        "Property management service",
        "housing",
        "standard_3d",
        S,
    ),
    _leaf(
        "property.rural_repair", "农村物业维修", "Rural property repair", "community", "slow_2d", C
    ),
    _group("utilities", "水电气暖", "Utilities", "utilities"),
    _leaf(
        "utilities.water_outage",
        "停水",
        "No water supply",
        "water",
        "urgent_2h",
        S,
        _attr("households", Datatype.NUMBER, "Households affected", "影响户数"),
    ),
    _leaf("utilities.power_outage", "停电", "Power cut", "power", "urgent_2h", S),
    _leaf(
        "utilities.heating",
        "供暖不热",
        "Insufficient heating",
        "heating",
        "quick_1d",
        S,
        _attr("indoor_temperature", Datatype.NUMBER, "Indoor temperature (°C)", "室内温度"),
    ),
    _group("social", "社会救助", "Social assistance", "civil_affairs", "complex_7d"),
    _leaf(
        "social.hardship",
        "困难救助",
        "Hardship assistance",
        "civil_affairs",
        "complex_7d",
        S,
        public=False,
    ),
    _leaf(
        "social.elderly_care",
        "独居老人关爱",
        "Care for an elderly person living alone",
        "community",
        "quick_1d",
        C,
        public=False,
    ),
    _group("suggestion", "意见建议", "Opinions and suggestions", "community", "complex_7d"),
    _leaf(
        "suggestion.opinion",
        "意见建议",
        "Opinion or suggestion",
        "community",
        "complex_7d",
        C,
        public=False,
    ),
    _leaf(
        "suggestion.supervision",
        "监督举报",
        "Supervision report",
        "discipline_inspection",
        "complex_7d",
        S,
        public=False,
    ),
    _group("alerts", "感知预警", "Sensor and emergency alerts", "community", "urgent_2h"),
    _leaf(
        "alerts.elderly_no_water",
        "独居老人用水异常",
        "Elderly person: no water use",
        "community",
        "urgent_2h",
        C,
        _attr("meter_id", Datatype.STRING, "Water meter", "水表编号", required=True),
        _attr(
            "hours_without_use",
            Datatype.NUMBER,
            "Hours without water use",
            "未用水时长",
            required=True,
        ),
        public=False,
        citizen=False,
    ),
    _leaf(
        "alerts.emergency_call",
        "一键呼救",
        "One-key emergency call",
        "community",
        "urgent_2h",
        C,
        _attr("device_id", Datatype.STRING, "Caller device", "呼叫器编号", required=True),
        public=False,
        citizen=False,
    ),
)


def default_catalogue() -> CategoryCatalogue:
    """A fresh catalogue holding the default categories and SLA classes."""
    return CategoryCatalogue.of(DEFAULT_CATEGORIES)
