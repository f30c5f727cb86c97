"""Status messages to reporters: editable templates per category and status, and channels.

Templates are data (zh-CN and English) with ``{placeholder}`` fields from
:data:`PLACEHOLDERS`. The most specific template wins: the case's category, then its
ancestors ("roads.pothole" → "roads"), then ``"*"``. Each reporter and supporter is told
through the channel they chose (SMS or e-mail while a contact is on file); account
holders also get the live page update (SSE).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from yiwang.errors import NotFound, ValidationFailed

from .case import Case, Reporter
from .lifecycle import CaseStatus

PLACEHOLDERS = frozenset(
    {"case_id", "title", "category", "status", "note", "due_at", "department", "supporters"}
)
MAX_MESSAGE = 500
ANY = "*"


class Channel(StrEnum):
    SSE = "sse"
    SMS = "sms"
    EMAIL = "email"


@dataclass(frozen=True, slots=True)
class Template:
    zh: str
    en: str

    def text(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en


def _check_placeholders(text: str) -> None:
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as e:
        raise ValidationFailed(
            "invalid_template", f"malformed template: {e}", "模板格式错误"
        ) from None
    bad = sorted(
        {
            f
            for _, f, spec, conv in parsed
            if f is not None and (f not in PLACEHOLDERS or spec or conv)
        }
    )
    if bad:
        raise ValidationFailed(
            "unknown_placeholder",
            f"unknown placeholders {bad}; allowed: {sorted(PLACEHOLDERS)}",
            f"未知的占位符{bad}；可用：{sorted(PLACEHOLDERS)}",
            placeholders=bad,
        )
    if len(text) > MAX_MESSAGE:
        raise ValidationFailed(
            "template_too_long",
            f"templates are at most {MAX_MESSAGE} characters",
            f"模板最多{MAX_MESSAGE}个字符",
        )


_DEFAULTS: dict[CaseStatus, tuple[str, str]] = {
    CaseStatus.SUBMITTED: (
        "您反映的“{title}”已收到，我们会尽快受理。",
        'We have received your report "{title}".',
    ),
    CaseStatus.ACCEPTED: (
        "您反映的“{title}”已受理，预计{due_at}前办结。",
        'Your report "{title}" was accepted; expected by {due_at}.',
    ),
    CaseStatus.REJECTED: (
        "很抱歉，您反映的“{title}”不予受理：{note}",
        'Sorry, your report "{title}" was not accepted: {note}',
    ),
    CaseStatus.DISPATCHED: (
        "您反映的“{title}”已交{department}办理。",
        'Your report "{title}" was passed to {department}.',
    ),
    CaseStatus.IN_PROGRESS: (
        "{department}正在处理您反映的“{title}”。",
        '{department} is working on "{title}".',
    ),
    CaseStatus.HANDLED: (
        "您反映的“{title}”已处置：{note}",
        '"{title}" has been dealt with: {note}',
    ),
    CaseStatus.VERIFIED: ("您反映的“{title}”已现场核查。", '"{title}" was checked on site.'),
    CaseStatus.CLOSED: (
        "您反映的“{title}”已办结，欢迎评价。",
        '"{title}" is closed. Please rate the result.',
    ),
    CaseStatus.EVALUATED: ("感谢您对“{title}”的评价。", 'Thank you for rating "{title}".'),
    CaseStatus.AWAITING_INFO: (
        "关于“{title}”，请补充信息：{note}",
        'About "{title}", we need more information: {note}',
    ),
    CaseStatus.COMMUNITY_REVIEW: (
        "您对“{title}”的意见已转社区复核。",
        'Your concerns about "{title}" went to the community for review.',
    ),
    CaseStatus.FORWARDED: (
        "您反映的“{title}”已转交{note}办理。",
        '"{title}" was forwarded to {note}.',
    ),
    CaseStatus.MERGED: (
        "您反映的“{title}”与已有诉求相同，已合并办理。",
        '"{title}" duplicates an existing case and was merged with it.',
    ),
}


@dataclass(slots=True)
class TemplateSet:
    templates: dict[tuple[str, str], Template] = field(default_factory=dict)

    @classmethod
    def defaults(cls) -> TemplateSet:
        ts = cls()
        for status, (zh, en) in _DEFAULTS.items():
            ts.set(status, ANY, zh, en)
        ts.set(
            CaseStatus.ACCEPTED,
            "alerts",
            "预警已受理，社区工作人员将在{due_at}前上门查看。",
            "Alert accepted; a community worker will visit by {due_at}.",
        )
        return ts

    def set(self, status: CaseStatus | str, category: str, zh: str, en: str) -> Template:
        status = CaseStatus(status)
        for text in (zh, en):
            if not text.strip():
                raise ValidationFailed(
                    "required", "both languages are required", "中英文模板均不能为空"
                )
            _check_placeholders(text)
        tpl = Template(zh, en)
        self.templates[(status.value, category)] = tpl
        return tpl

    def remove(self, status: CaseStatus | str, category: str) -> None:
        if self.templates.pop((CaseStatus(status).value, category), None) is None:
            raise NotFound("no_template", "no such template", "模板不存在")

    def find(self, status: CaseStatus | str, category: str) -> Template:
        key = CaseStatus(status).value
        parts = category.split(".")
        for cand in [".".join(parts[:i]) for i in range(len(parts), 0, -1)] + [ANY]:
            tpl = self.templates.get((key, cand))
            if tpl is not None:
                return tpl
        raise NotFound(
            "no_template", f"no template for {key}/{category}", f"没有{key}/{category}的模板"
        )

    def render(
        self, status: CaseStatus | str, category: str, lang: str, context: Mapping[str, Any]
    ) -> str:
        values = {k: "" if context.get(k) is None else str(context[k]) for k in PLACEHOLDERS}
        return self.find(status, category).text(lang).format_map(values)[:MAX_MESSAGE]


def channels_for(reporter: Reporter) -> list[Channel]:
    """Where this reporter hears about status changes."""
    out: list[Channel] = []
    if reporter.channel == "sms" and reporter.phone:
        out.append(Channel.SMS)
    elif reporter.channel == "email" and reporter.email:
        out.append(Channel.EMAIL)
    if reporter.account_id:
        out.append(Channel.SSE)
    elif not out and reporter.phone:
        out.append(Channel.SMS)  # anonymous-by-account hotline callers: their phone
    return out


@dataclass(frozen=True, slots=True)
class Notification:
    channel: Channel
    account_id: str | None
    address: str | None  # phone or e-mail (None for SSE)
    text: str


def plan_notifications(
    case: Case,
    templates: TemplateSet,
    *,
    lang: str = "zh",
    category_name: str | None = None,
    department_name: str | None = None,
) -> list[Notification]:
    """Messages for the case's latest step, if it changed the status the reporters see."""
    if not case.timeline:
        return []
    last = case.timeline[-1]
    if last.internal or last.from_status == last.status:
        return []
    ctx = {
        "case_id": case.case_id,
        "title": case.title,
        "category": category_name or case.category,
        "status": case.status.value,
        "note": case.forwarded_to if case.status is CaseStatus.FORWARDED else last.note,
        "due_at": case.due_at.strftime("%Y-%m-%d %H:%M") if case.due_at else "",
        "department": department_name or case.department or "",
        "supporters": case.supporter_count,
    }
    text = templates.render(case.status, case.category, lang, ctx)
    out = []
    for reporter in case.reporters_to_notify():
        for ch in channels_for(reporter):
            addr = {Channel.SMS: reporter.phone, Channel.EMAIL: reporter.email}.get(ch)
            out.append(Notification(ch, reporter.account_id, addr, text))
    return out
