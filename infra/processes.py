"""The table of processes that make up Yiwang: one place, used by the runner, the
end-to-end tests and the docker-compose consistency test."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProcSpec:
    name: str
    argv: tuple[str, ...]
    port: int | None = None
    env: dict[str, str] = field(default_factory=dict)


def nameko(name: str, cls: str) -> ProcSpec:
    return ProcSpec(
        name, (sys.executable, "-m", "yiwang.nameko.run", f"services.{name}.service:{cls}")
    )


SERVICES: list[ProcSpec] = [
    nameko("grids", "GridsService"),
    nameko("petitions", "PetitionsService"),
    nameko("command", "CommandService"),
    nameko("volunteers", "VolunteersService"),
    nameko("enterprise", "EnterpriseService"),
]
GATEWAY = ProcSpec("gateway", (sys.executable, "-m", "gateway.main"), port=8000)
ALL: list[ProcSpec] = [*SERVICES, GATEWAY]

# Settings every process needs (documented in the README's configuration table).
SHARED_ENV_KEYS = (
    "YIWANG_AMQP_URI",
    "YIWANG_DATABASE_URL",
    "YIWANG_REDIS_URL",
    "YIWANG_REDIS_PREFIX",
    "YIWANG_OTEL_EXPORTER",
    "YIWANG_OTEL_ENDPOINT",
)
