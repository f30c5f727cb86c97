"""The periodic sweeps (nameko ``@timer``, or ``run_sweeps`` RPC) with an injected ``now``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.enterprise.service_layer import demands, projects
from yiwang.uow import UnitOfWork


def run_sweeps(uow_factory: Callable[[], UnitOfWork], now: datetime) -> dict[str, Any]:
    """Demand SLA overdue and key-project approval warnings/lateness, each reported once."""
    overdue = demands.sweep_overdue(uow_factory, now)
    approvals = projects.sweep_approvals(uow_factory, now)
    return {
        "demands_overdue": overdue,
        "steps_warned": approvals["warned"],
        "steps_late": approvals["late"],
        "at": now,
    }
