"""Before a command write or read touches a case: object access (decided in
:mod:`yiwang.access`) and the expected version (``last_seq`` of the dispatch view, which
every event folded into the row, and every write of the command centre, moves on)."""

from __future__ import annotations

from typing import Any

from services.command.domain.casefile import CaseView
from yiwang import access
from yiwang.errors import Conflict, NotFound


def case_not_found(case_id: Any) -> NotFound:
    return NotFound(
        "case_not_found", f"case {case_id} not found", "案件不存在", case_id=str(case_id)
    )


def facts(view: CaseView) -> access.CaseFacts:
    whistled = {d for w in view.whistles.values() for d in w.get("departments", ())}
    return access.CaseFacts(
        jurisdiction_code=view.grid_code or view.jurisdiction_code or "",
        department=access.department_of_handler(view.handler),
        whistled=frozenset(whistled),
    )


def check_case(actor: Any, view: CaseView) -> None:
    """May ``actor`` (the RPC actor) see or act on this case? (yiwang.access.check_case)"""
    access.check_case(
        access.Accessor.of(actor), facts(view), unknown=lambda: case_not_found(view.case_id)
    )


def check_version(view: CaseView, expected: int | None) -> None:
    """409 ``version_conflict`` unless ``expected`` is the view's current version
    (``None``: an in-process driver that does not check, e.g. the simulation)."""
    if expected is not None and expected != view.last_seq:
        raise Conflict(
            "version_conflict",
            f"the case changed (version {view.last_seq}, you sent {expected}); reload it",
            f"案件已被更新（当前版本{view.last_seq}，提交版本{expected}），请刷新后重试",
            expected_version=expected,
            actual_version=view.last_seq,
            case_status=view.status,
        )


def check_write(actor: Any, view: CaseView, expected: int | None) -> None:
    """Access first (nothing revealed to whom may not see the case), then the version."""
    check_case(actor, view)
    check_version(view, expected)
