"""The roles × actions table of SECURITY.md, generated from the policy code.

``python -m gateway.security.report`` rewrites the generated part of SECURITY.md (between
``BEGIN`` and ``END`` markers) from the route modules' merged ``POLICY`` tables and the
app's routes; ``--check`` only compares and exits 1 when SECURITY.md is out of date (the
test gateway/tests/unit/test_security_report.py does the same).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping

from fastapi import FastAPI

from gateway.security.policy import (
    collect_policy,
    iter_api_routes,
    route_actions,
    route_is_optional,
    route_modules,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECURITY_MD = os.path.join(ROOT, "SECURITY.md")
BEGIN = "<!-- BEGIN GENERATED roles-actions: python -m gateway.security.report -->"
END = "<!-- END GENERATED roles-actions -->"

# column order and header of every role (the demo accounts of the README, one per role)
ROLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("admin", "admin"),
    ("leader", "leader"),
    ("city_staff", "city"),
    ("district_staff", "district"),
    ("street_staff", "street"),
    ("community_staff", "community"),
    ("grid_worker", "grid"),
    ("department_handler", "dept"),
    ("volunteer", "volunteer"),
    ("citizen", "citizen"),
    ("enterprise_user", "enterprise"),
    ("institution_user", "institution"),
)
YES = "✓"


def roles_actions_table(policy: Mapping[str, Iterable[str]]) -> str:
    """One row per action, one column per role, ✓ where the role may perform it."""
    head = "| action | " + " | ".join(h for _, h in ROLE_COLUMNS) + " |"
    rule = "| --- |" + " :-: |" * len(ROLE_COLUMNS)
    rows = []
    for action in sorted(policy):
        roles = set(policy[action])
        cells = " | ".join(YES if role in roles else " " for role, _ in ROLE_COLUMNS)
        rows.append(f"| `{action}` | {cells} |")
    return "\n".join([head, rule, *rows])


def open_operations(app: FastAPI) -> str:
    """Documented operations that require no action: open to anonymous callers."""
    rows = []
    for path, methods, route in iter_api_routes(app):
        if route_actions(route) or not route.include_in_schema:
            continue
        how = "sign-in optional (more with it)" if route_is_optional(route) else "open"
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            rows.append((path, method, how))
    lines = ["| operation | access |", "| --- | --- |"]
    lines += [f"| `{m} {p}` | {how} |" for p, m, how in sorted(rows)]
    return "\n".join(lines)


def generated(app: FastAPI | None = None) -> str:
    """The generated part of SECURITY.md (without the markers)."""
    if app is None:
        from gateway.main import create_app

        app = create_app()
    policy = collect_policy(route_modules())
    return (
        f"{len(policy)} actions. A service API key (role `system`, header `X-API-Key`) may "
        "perform exactly the actions listed on the key (`area.*` = every action of the "
        "area); the demo Open311 key has `reports.*` and `open311.*`. Beyond the role, "
        "routes check the account's jurisdiction (unit code) and, where they apply, its "
        "department, enterprise or institution.\n\n"
        f"{roles_actions_table(policy)}\n\n"
        "Operations that require no action of the policy (anyone may call them; rate "
        "limits apply; Open311 `POST requests` checks its own `api_key`, as GeoReport v2 "
        "asks):\n\n"
        f"{open_operations(app)}"
    )


def replace_generated(text: str, body: str) -> str:
    """``text`` with everything between the markers replaced by ``body``."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"SECURITY.md lacks the markers {BEGIN!r} … {END!r}")
    return text[: start + len(BEGIN)] + "\n" + body + "\n" + text[end:]


def main(argv: list[str]) -> int:
    with open(SECURITY_MD, encoding="utf-8") as fh:
        current = fh.read()
    wanted = replace_generated(current, generated())
    if "--check" in argv:
        if wanted != current:
            print("SECURITY.md is out of date: run python -m gateway.security.report")
            return 1
        return 0
    if wanted != current:
        with open(SECURITY_MD, "w", encoding="utf-8") as fh:
            fh.write(wanted)
        print("SECURITY.md updated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
