"""Run one nameko service: ``python -m yiwang.nameko.run services.petitions.service:PetitionsService``.

This is each service process's composition root: it monkey-patches eventlet first,
reads ``Settings``, sets up logging and tracing, builds the nameko config and runs the
service until SIGTERM/SIGINT.
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import importlib  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402

from yiwang.config import Settings  # noqa: E402
from yiwang.dbroles import service_database_url  # noqa: E402
from yiwang.keys import Keyring  # noqa: E402
from yiwang.logging import get_logger, setup_logging  # noqa: E402
from yiwang.metrics import serve as serve_metrics  # noqa: E402
from yiwang.production import checked_keyring  # noqa: E402
from yiwang.tracing import setup_tracing  # noqa: E402


def nameko_config(
    settings: Settings, service: str | None = None, keyring: Keyring | None = None
) -> dict[str, Any]:
    """The nameko config. ``KEYS`` is the installation's keyring (yiwang/keys.py), loaded
    and checked here (production refuses weak or missing keys); ``service`` connects to the
    database as that service's role."""
    keyring = keyring if keyring is not None else checked_keyring(settings)
    database_url = settings.database_url
    if service is not None:
        database_url = service_database_url(
            database_url, service, enabled=settings.database_roles,
            passwords=settings.database_role_passwords,
        )  # fmt: skip
    return {
        "AMQP_URI": settings.amqp_uri,
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.redis_url,
        "REDIS_PREFIX": settings.redis_prefix,
        "KEYS": keyring.to_config(),
        "max_workers": settings.service_max_workers,
        "EVENT_PREFETCH": settings.event_prefetch,
        "EVENT_BATCH_MAX": settings.event_batch_max,
        "EVENT_BATCH_CONCURRENCY": settings.event_batch_concurrency,
        "EVENT_MAX_ATTEMPTS": settings.event_max_attempts,
        "EVENT_RETRY_DELAYS_MS": list(settings.event_retry_delays_ms),
        "OUTBOX_BATCH_SIZE": settings.outbox_batch_size,
        "OUTBOX_POLL_INTERVAL_S": settings.outbox_poll_interval_s,
        "HEARTBEAT": 30,
        "serializer": "json",
        "VAR_DIR": settings.var_dir,
        "DEMO_SIZE": settings.demo_size,
        "DEMO_SEED": settings.demo_seed,
        "COMMAND_SWEEP_INTERVAL_S": settings.command_sweep_interval_s,
    }


def load_class(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m yiwang.nameko.run module:ServiceClass", file=sys.stderr)
        return 2
    cls = load_class(argv[0])
    settings = Settings()
    setup_logging(cls.name, settings.log_level, settings.log_format)
    setup_tracing(cls.name, settings.otel_exporter, settings.otel_endpoint, settings.var_dir)
    log = get_logger("yiwang.run")
    runner = ServiceRunner(nameko_config(settings, cls.name))
    runner.add_service(cls)

    def shutdown(signum: int, frame: Any) -> None:
        eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    if settings.metrics_port:
        serve_metrics(settings.metrics_port)
    runner.start()
    log.info("service_started", service=cls.name)
    try:
        runner.wait()
    except KeyboardInterrupt:  # pragma: no cover
        runner.stop()
    log.info("service_stopped", service=cls.name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
