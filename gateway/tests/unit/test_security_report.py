"""SECURITY.md's roles × actions table is the one generated from the policy code."""

from __future__ import annotations

import pytest

from gateway.security import report
from gateway.security.policy import collect_policy, route_modules
from gateway.security.principal import ROLES


def test_security_md_matches_the_policy_code() -> None:
    with open(report.SECURITY_MD, encoding="utf-8") as fh:
        current = fh.read()
    wanted = report.replace_generated(current, report.generated())
    assert current == wanted, (
        "SECURITY.md's roles × actions section differs from the code: "
        "run python -m gateway.security.report"
    )


def test_the_table_has_every_action_and_every_role() -> None:
    policy = collect_policy(route_modules())
    table = report.roles_actions_table(policy)
    lines = table.splitlines()
    assert len(lines) == 2 + len(policy)
    assert {role for role, _ in report.ROLE_COLUMNS} == set(ROLES)
    # each cell says exactly what the policy says
    header = [h.strip() for h in lines[0].strip("|").split("|")][1:]
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        action = cells[0].strip("`")
        allowed = {
            role
            for (role, h), cell in zip(report.ROLE_COLUMNS, cells[1:], strict=True)
            if cell == report.YES and h in header
        }
        assert allowed == set(policy[action]) - {"system"}, action


def test_a_policy_change_changes_the_table() -> None:
    before = report.roles_actions_table({"x.read": {"admin"}})
    after = report.roles_actions_table({"x.read": {"admin", "citizen"}})
    assert before != after
    assert "| `x.read` | ✓ |" in before


def test_replacing_needs_the_markers() -> None:
    text = f"intro\n{report.BEGIN}\nold\n{report.END}\noutro\n"
    assert (
        report.replace_generated(text, "new")
        == f"intro\n{report.BEGIN}\nnew\n{report.END}\noutro\n"
    )
    with pytest.raises(ValueError):
        report.replace_generated("no markers", "new")
