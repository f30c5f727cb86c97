"""Object-level access: where it is decided who may see or act on one object.

Role-level access (may this role call this route at all) is the gateway's POLICY tables
(``gateway/security/policy.py``). Whether *this* account may touch *this* case,
supervision, whistle, points statement or access-log entry is decided here and nowhere
else: the owning service's service layer loads the object's facts (its jurisdiction code,
its department, the departments whistled to it, whether the caller reported it), asks one
function of this module first — before it checks a version, a status, or returns anything —
and raises what the function raises. The accessor is the actor the gateway passes over RPC
(its account id, role, unit code and department, from the signed-in principal).

The rules:

- ``admin`` and ``system`` (service keys) bound to no unit code: everywhere; bound to one,
  like staff. Staff and leaders bound to no unit code: everywhere too.
- Department handlers (部门经办): only cases dispatched to their department, or whistled
  (吹哨) to it, inside their unit code. Anything else looks *unknown* (404): another
  department's cases are not theirs to learn about.
- Citizens: only their own cases (as the reporter or a "me too" supporter); anything else
  looks unknown (404), before any version or status is revealed.
- Staff and leaders: only inside their jurisdiction subtree (unit-code prefix); outside it
  403 ``outside_jurisdiction`` (the dispatch view shows staff what exists in their area).
- Points statements: the holder themselves, or staff whose jurisdiction covers one of the
  communities the holder earned points in; anything else looks unknown (404).
- The unmask access log: entries whose subject lies inside the reader's jurisdiction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from yiwang.errors import DomainError, Forbidden

EVERYWHERE_ROLES = frozenset({"admin", "system"})
DEPARTMENT = "department_handler"
CITIZEN = "citizen"

Unknown = Callable[[], DomainError]


@dataclass(frozen=True, slots=True)
class Accessor:
    """Who asks: the actor the gateway passes over RPC."""

    id: str
    role: str
    jurisdiction_code: str = ""
    department: str | None = None

    @classmethod
    def of(cls, actor: Any) -> Accessor:
        """From an RPC actor model (or a mapping) with ``id``, ``role``, optional
        ``jurisdiction_code`` and ``department``."""
        get = actor.get if isinstance(actor, dict) else (lambda k: getattr(actor, k, None))
        return cls(
            id=str(get("id") or ""),
            role=str(get("role") or ""),
            jurisdiction_code=str(get("jurisdiction_code") or ""),
            department=get("department") or None,
        )

    @property
    def everywhere(self) -> bool:
        """Administrators and service keys bound to no unit."""
        return self.role in EVERYWHERE_ROLES and not self.jurisdiction_code

    def covers(self, code: str | None) -> bool:
        """True when ``code`` lies inside this accessor's unit (prefix rule)."""
        if not self.jurisdiction_code:
            return True
        return bool(code) and str(code).startswith(self.jurisdiction_code)


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What access to one case depends on (read by the owning service, never returned)."""

    jurisdiction_code: str
    department: str | None = None
    whistled: frozenset[str] = frozenset()
    own: bool = False  # the accessor reported the case or supports it ("me too")


def outside_jurisdiction(code: str, mine: str) -> Forbidden:
    return Forbidden(
        "outside_jurisdiction",
        "the case is outside your jurisdiction",
        "该案件不在您的管辖范围内",
        case_code=code,
        jurisdiction=mine,
    )


def department_of_handler(handler: str | None) -> str | None:
    """The department a case is dispatched to, from a dispatch-view ``handler``
    (``"worker:<id>"`` is a grid worker, not a department)."""
    if not handler or handler.startswith("worker:"):
        return None
    return handler


def check_case(acc: Accessor, case: CaseFacts, *, unknown: Unknown) -> None:
    """May ``acc`` see or act on this case? Raises ``unknown()`` (the service's own
    not-found error) where existence is sensitive, ``outside_jurisdiction`` otherwise."""
    if acc.everywhere:
        return
    if acc.role == CITIZEN:
        if not case.own:
            raise unknown()
        return
    if acc.role == DEPARTMENT:
        mine = acc.department
        if not mine or (mine != case.department and mine not in case.whistled):
            raise unknown()
        if not acc.covers(case.jurisdiction_code):
            raise unknown()
        return
    if not acc.covers(case.jurisdiction_code):
        raise outside_jurisdiction(case.jurisdiction_code, acc.jurisdiction_code)


def not_a_handler() -> Forbidden:
    return Forbidden(
        "not_a_handler",
        "you may only answer for your own department or unit",
        "只能以本部门或本单位名义回复",
    )


def check_supervision_answer(
    acc: Accessor, handler: str, handlers: Iterable[str], case: CaseFacts, *, unknown: Unknown
) -> None:
    """May ``acc`` answer a supervision of ``case`` in the name of ``handler``?

    A department answers for itself only, and only a supervision that names it (or on a
    case of its own); other supervisions look unknown. Staff answer only on cases inside
    their jurisdiction (like reading it), and only for a unit inside it, never in the name
    of a department.
    """
    named = set(handlers)
    if acc.role == DEPARTMENT:
        if not acc.department or (
            acc.department not in named
            and acc.department != case.department
            and acc.department not in case.whistled
        ):
            raise unknown()
        if handler != acc.department:
            raise not_a_handler()
        return
    check_case(acc, case, unknown=unknown)
    if acc.everywhere:
        return
    if acc.department:  # staff bound to a department answer for it
        if handler != acc.department:
            raise not_a_handler()
        return
    if not (handler.isdigit() and acc.covers(handler)) and handler != f"worker:{acc.id}":
        raise not_a_handler()


def check_duty_report(
    acc: Accessor, department: str, summoned: Iterable[str], case_code: str, *, unknown: Unknown
) -> None:
    """May ``acc`` report for duty (报到) for ``department`` on a whistle that summoned
    ``summoned`` for a case at ``case_code``? Only a department summoned, for itself."""
    if acc.everywhere:
        return
    if not acc.department or acc.department not in set(summoned) or not acc.covers(case_code):
        raise unknown()
    if department != acc.department:
        raise Forbidden(
            "not_your_department", "you may only report for your own department", "只能为本部门报到"
        )


def check_statement(
    acc: Accessor, holder_id: str, communities: Iterable[str], *, unknown: Unknown
) -> None:
    """May ``acc`` read the points statement of ``holder_id``, who earned points in
    ``communities``? The holder themselves, or staff covering one of those communities."""
    if acc.id and acc.id == holder_id:
        return
    if acc.everywhere:
        return
    if not any(acc.covers(c) for c in communities if c):
        raise unknown()


def log_prefix(acc: Accessor) -> str:
    """The code prefix the subjects of the access-log entries a reader may see lie in:
    the reader's own unit (a district reads its district's unmasked reads, not the city's)."""
    return "" if acc.everywhere else acc.jurisdiction_code


__all__ = [
    "Accessor",
    "CaseFacts",
    "check_case",
    "check_duty_report",
    "check_statement",
    "check_supervision_answer",
    "department_of_handler",
    "log_prefix",
]
