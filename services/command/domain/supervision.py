"""One-key supervision (一键督办): a leader supervises a case, or a department's overdue set.

Only inside the leader's jurisdiction (prefix test). Handlers answer with text, photos or
video; the answers form a timeline and ``roster`` shows who answered, late, or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Literal

from yiwang.clock import require_aware
from yiwang.errors import Forbidden, ValidationFailed
from yiwang.jurisdiction import is_valid_code, within

AnswerKind = Literal["text", "photo", "video"]


@dataclass(frozen=True)
class Leader:
    actor_id: str
    jurisdiction_code: str


@dataclass(frozen=True)
class Answer:
    handler: str
    kind: AnswerKind
    at: datetime
    text: str = ""
    media: tuple[str, ...] = ()


@dataclass(frozen=True)
class Supervision:
    supervision_id: str
    case_id: str
    leader: str
    handlers: tuple[str, ...]
    deadline: datetime
    note: str
    at: datetime
    timeline: tuple[Answer, ...] = ()


class AnswerState(StrEnum):
    ANSWERED = "answered"
    LATE = "late"
    WAITING = "waiting"
    NOT_ANSWERED = "not_answered"  # deadline passed without an answer


def _check_jurisdiction(leader: Leader, case_code: str) -> None:
    if not is_valid_code(case_code) or not within(case_code, leader.jurisdiction_code):
        raise Forbidden(
            "outside_jurisdiction",
            "the case is outside the leader's jurisdiction",
            "该案件不在您的管辖范围内",
            case_code=case_code,
            jurisdiction=leader.jurisdiction_code,
        )


def supervise_case(
    leader: Leader,
    *,
    supervision_id: str,
    case_id: str,
    case_jurisdiction: str,
    handlers: Iterable[str],
    deadline: datetime,
    note: str,
    now: datetime,
) -> Supervision:
    require_aware(now, "now")
    require_aware(deadline, "deadline")
    _check_jurisdiction(leader, case_jurisdiction)
    who = tuple(dict.fromkeys(h for h in handlers if h))
    if not who:
        raise ValidationFailed("no_handlers", "name at least one handler", "至少指定一个承办人")
    if deadline <= now:
        raise ValidationFailed(
            "deadline_in_past", "deadline must be in the future", "督办时限必须晚于当前时间"
        )
    text = (note or "").strip()
    if not text or len(text) > 1000:
        raise ValidationFailed(
            "invalid_note", "a note of 1–1000 characters is required", "督办说明须为1至1000字"
        )
    return Supervision(supervision_id, case_id, leader.actor_id, who, deadline, text, now)


def supervise_overdue_set(
    leader: Leader,
    *,
    department: str,
    cases: Iterable[tuple[str, str]],
    deadline: datetime,
    note: str,
    now: datetime,
    id_prefix: str,
) -> list[Supervision]:
    """Supervise each (case_id, jurisdiction_code) of a department's overdue set.

    All cases must lie inside the leader's jurisdiction; one outside refuses the whole set.
    """
    items = list(cases)
    for _, code in items:
        _check_jurisdiction(leader, code)
    return [
        supervise_case(
            leader,
            supervision_id=f"{id_prefix}:{case_id}",
            case_id=case_id,
            case_jurisdiction=code,
            handlers=[department],
            deadline=deadline,
            note=note,
            now=now,
        )
        for case_id, code in items
    ]


def answer(
    sup: Supervision,
    *,
    handler: str,
    kind: str,
    now: datetime,
    text: str = "",
    media: Iterable[str] = (),
) -> Supervision:
    """Add an answer to the timeline. Photos/videos need media references."""
    require_aware(now, "now")
    if handler not in sup.handlers:
        raise Forbidden(
            "not_a_handler", "only the supervised handlers may answer", "只有被督办的承办人可以回复"
        )
    if kind not in ("text", "photo", "video"):
        raise ValidationFailed(
            "invalid_answer_kind", "kind is text, photo or video", "回复类型须为文字、图片或视频"
        )
    refs = tuple(media)
    body = (text or "").strip()
    if kind == "text" and not body:
        raise ValidationFailed("empty_answer", "a text answer needs text", "文字回复不能为空")
    if kind != "text" and not refs:
        raise ValidationFailed(
            "media_required", f"a {kind} answer needs media", "图片/视频回复须附带文件"
        )
    entry = Answer(handler=handler, kind=kind, at=now, text=body, media=refs)  # type: ignore[arg-type]
    timeline = tuple(sorted((*sup.timeline, entry), key=lambda a: a.at))
    return replace(sup, timeline=timeline)


def roster(sup: Supervision, now: datetime) -> dict[str, AnswerState]:
    """Per handler: answered (on time), late, waiting, or not answered."""
    out: dict[str, AnswerState] = {}
    for h in sup.handlers:
        first = next((a.at for a in sup.timeline if a.handler == h), None)
        if first is not None:
            out[h] = AnswerState.ANSWERED if first <= sup.deadline else AnswerState.LATE
        else:
            out[h] = AnswerState.NOT_ANSWERED if now > sup.deadline else AnswerState.WAITING
    return out
