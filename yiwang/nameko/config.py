"""The nameko config of a service process, built from ``Settings`` (no eventlet here: this
module is imported by tests and tools too; ``yiwang.nameko.run`` monkey-patches and runs)."""

from __future__ import annotations

from typing import Any

from yiwang.config import Settings
from yiwang.dbroles import service_database_url
from yiwang.keys import Keyring
from yiwang.production import checked_keyring


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
            database_url,
            service,
            enabled=settings.database_roles,
            passwords=settings.database_role_passwords,
        )
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
