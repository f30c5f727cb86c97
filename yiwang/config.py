"""One ``Settings`` object for every process, read from the environment and ``.env``.

Every setting is listed in the README's configuration table. Processes build their
dependencies from a ``Settings`` instance in their composition root; nothing here is
read at import time by other modules.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YIWANG_", env_file=".env", extra="ignore")

    amqp_uri: str = "amqp://guest:guest@127.0.0.1:5672/"
    database_url: str = "postgresql+psycopg2://postgres@127.0.0.1:5432/yiwang"
    # Least privilege (yiwang/dbroles.py): the URL above is the owner's (migrations); each
    # service process connects as its own role yiwang_<service>, passwords {"<service>": ...}
    database_roles: bool = True
    database_role_passwords: dict[str, str] = {}
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "yiwang:"
    redis_max_connections: int = 200

    otel_exporter: Literal["none", "console", "otlp", "memory", "file"] = "none"
    otel_endpoint: str = "http://127.0.0.1:4318/v1/traces"
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"

    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    rpc_timeout_s: float = 5.0

    service_max_workers: int = 10
    event_prefetch: int = 100
    event_batch_max: int = 50
    event_batch_concurrency: int = 2
    event_max_attempts: int = 4
    event_retry_delays_ms: tuple[int, ...] = (1000, 5000, 30000)
    outbox_poll_interval_s: float = 0.2
    outbox_batch_size: int = 200

    demo_size: Literal["tiny", "small", "city10m"] = "small"
    demo_seed: int = 20261123
    var_dir: str = "var"

    secret_key: str = "change-me-in-production-yiwang-demo-secret"

    intake_max_in_flight: int = 64
    rpc_max_pending: int = 2000

    command_sweep_interval_s: float = 5.0
    open311_jurisdiction_id: str = "3299"
    open311_contact: str = "12345 市民服务热线 / open311@yiwang.example"

    # Gateway security (gateway/security): tokens, one-time codes, abuse limits.
    auth_access_ttl_s: int = 900
    auth_refresh_ttl_s: int = 30 * 24 * 3600
    auth_login_max_failures: int = 10
    auth_login_lockout_s: int = 900
    otp_ttl_s: int = 300
    otp_max_attempts: int = 5
    otp_resend_s: int = 60
    otp_log_codes: bool = True
    otp_auto_register: bool = True
    rate_limit_window_s: int = 60
    rate_limit_per_ip: int = 600
    rate_limit_per_account: int = 300
    body_limit_bytes: int = 1024 * 1024
    body_limit_prefixes: dict[str, int] = {"/api/v1/media": 20 * 1024 * 1024}
    idempotency_ttl_s: int = 24 * 3600

    # Gateway read cache of dashboard reads (gateway/readcache.py); 0 disables it.
    readcache_ttl_s: float = 5.0
    readcache_min_refresh_s: float = 1.0


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (entrypoints only; pass them down explicitly)."""
    return Settings()
