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
    # idle keep-alive connections are kept longer than clients keep them (httpx: 5 s), so
    # the server never closes one just as a client sends on it (a reset, not an answer)
    gateway_keep_alive_s: int = 75
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
    # Prometheus /metrics of a service process on this port (0: off; the gateway serves
    # /metrics on its own port). yiwang/metrics.py
    metrics_port: int = 0

    # "demo" (the quick start) or "production" (refuses to start with demo accounts, weak or
    # missing keys, one-time codes in the log or self-registration by code).
    env: Literal["demo", "production"] = "demo"
    # The keyring (yiwang/keys.py): generated once per installation in the demo; "" means
    # <var_dir>/keys.json. There is no secret in the source.
    keys_file: str = ""

    intake_max_in_flight: int = 64
    rpc_max_pending: int = 2000

    command_sweep_interval_s: float = 5.0
    open311_jurisdiction_id: str = "3299"
    open311_contact: str = "12345 市民服务热线 / open311@yiwang.example"

    # Gateway security (gateway/security): tokens, one-time codes, abuse limits.
    auth_access_ttl_s: int = 900
    auth_refresh_ttl_s: int = 30 * 24 * 3600
    # Redis cache of each account's version (role, unit, active, password); a token of a
    # changed account is refused at the latest this long after a change made outside the API.
    auth_account_cache_s: int = 30
    # Wrong passwords per (account, client) before growing delays (1 s, 2 s, 4 s … capped
    # at auth_login_lockout_s); a burst from this many clients for one account is alerted.
    auth_login_max_failures: int = 5
    auth_login_lockout_s: int = 900
    auth_login_alert_clients: int = 20
    otp_ttl_s: int = 300
    otp_max_attempts: int = 5
    otp_resend_s: int = 60
    otp_log_codes: bool = True  # demo only: production refuses it
    otp_auto_register: bool = True
    otp_sms: bool = False  # send codes by SMS through petitions' delivery core (gateway/reach.py)
    rate_limit_window_s: int = 60
    rate_limit_per_ip: int = 600
    rate_limit_per_account: int = 300
    # Network: proxies whose X-Forwarded-For is believed ("" = none, comma-separated IPs or
    # CIDRs); seconds a client may take to send its request head, and between body chunks;
    # origins allowed cross-origin requests (none: the web apps are same-origin).
    forwarded_allow_ips: str = ""
    http_header_timeout_s: float = 10.0
    http_body_timeout_s: float = 30.0
    cors_origins: list[str] = []
    body_limit_bytes: int = 1024 * 1024
    body_limit_prefixes: dict[str, int] = {"/api/v1/media": 20 * 1024 * 1024}
    idempotency_ttl_s: int = 24 * 3600
    # Live streams (SSE) re-check their token this often: they end soon after a logout,
    # a disabled account or the token's expiry.
    live_auth_recheck_s: float = 5.0

    # Gateway media uploads (gateway/media): who may upload, how much, what is kept.
    media_max_pixels: int = 20_000_000
    media_decode_concurrency: int = 2
    media_decode_memory_mib: int = 384
    media_upload_token_ttl_s: int = 1800
    media_upload_tokens_per_ip_hour: int = 20
    media_quota_files_per_day: int = 100
    media_quota_bytes_per_day: int = 200 * 1024 * 1024
    media_orphan_max_age_s: int = 24 * 3600
    media_purge_interval_s: int = 3600

    # Reach: notification channels and delivery (services/petitions/adapters/channels.py,
    # services/petitions/service_layer/delivery.py); "log" writes messages to the log.
    reach_email_backend: Literal["log", "smtp"] = "log"
    reach_sms_backend: Literal["log", "aliyun", "tencent"] = "log"
    reach_push_backend: Literal["log", "webpush"] = "log"
    reach_rate_per_s: dict[str, int] = {"email": 20, "sms": 20, "push": 100}
    reach_max_attempts: int = 8
    reach_backoff_base_s: float = 5.0
    reach_backoff_max_s: float = 3600.0
    reach_lease_s: float = 120.0
    reach_public_url: str = "http://127.0.0.1:8000"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_ca_file: str | None = None
    smtp_sender: str = "noreply@yiwang.example"
    smtp_timeout_s: float = 10.0
    aliyun_sms_endpoint: str = "https://dysmsapi.aliyuncs.com/"
    aliyun_sms_access_key_id: str = ""
    aliyun_sms_access_key_secret: str = ""
    aliyun_sms_sign_name: str = ""
    aliyun_sms_template_code: str = ""
    tencent_sms_endpoint: str = "https://sms.tencentcloudapi.com/"
    tencent_sms_region: str = "ap-guangzhou"
    tencent_sms_secret_id: str = ""
    tencent_sms_secret_key: str = ""
    tencent_sms_sdk_app_id: str = ""
    tencent_sms_sign_name: str = ""
    tencent_sms_template_id: str = ""
    vapid_private_key: str = ""
    vapid_public_key: str = ""
    vapid_subject: str = "mailto:ops@yiwang.example"
    # 12345/8890 both ways: each hotline's webhook, e.g.
    # YIWANG_HOTLINE_WEBHOOKS='{"12345": {"url": "https://…/yiwang", "secret": "…"}}';
    # a hotline without one gets its changes in the log (the demo)
    hotline_webhooks: dict[str, dict[str, str]] = {}
    hotline_timeout_s: float = 10.0
    hotline_backoff_max_s: float = 600.0

    # Gateway read cache of dashboard reads (gateway/readcache.py); 0 disables it.
    readcache_ttl_s: float = 5.0
    readcache_min_refresh_s: float = 1.0


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (entrypoints only; pass them down explicitly)."""
    return Settings()
