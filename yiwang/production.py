"""Production mode (``YIWANG_ENV=production``): refuse to start with a demo configuration.

The quick start (``make up``) is the demo; a production process calls ``check`` in its
composition root and stops with every reason at once.
"""

from __future__ import annotations

from yiwang.config import Settings
from yiwang.keys import Keyring, KeyringError, load_keyring


class StartupRefused(RuntimeError):
    """The configuration is not fit for production (the process must not start)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("refusing to start in production: " + "; ".join(problems))


def problems(settings: Settings, keyring: Keyring | None, demo_accounts: bool = False) -> list[str]:
    """Every reason ``settings`` (and the keys, and the accounts found) are unfit for
    production; empty outside production mode."""
    if settings.env != "production":
        return []
    out: list[str] = []
    if keyring is None:
        out.append("no keyring (YIWANG_KEYS_FILE): create one with `python -m infra.keys init`")
    else:
        out.extend(keyring.weaknesses())
    if demo_accounts:
        out.append("demo accounts or the demo API key exist (remove them)")
    if settings.otp_log_codes:
        out.append("YIWANG_OTP_LOG_CODES is on (one-time codes would be written to the log)")
    if settings.otp_auto_register:
        out.append("YIWANG_OTP_AUTO_REGISTER is on (anyone with a phone becomes a citizen)")
    return out


def checked_keyring(settings: Settings, demo_accounts: bool = False) -> Keyring:
    """The keyring, after the production checks (``StartupRefused`` with every reason)."""
    try:
        keyring: Keyring | None = load_keyring(settings)
        error = None
    except KeyringError as exc:
        keyring, error = None, str(exc)
    found = problems(settings, keyring, demo_accounts)
    if found:
        raise StartupRefused(found)
    if keyring is None:  # outside production: an unreadable keyring still stops the process
        raise StartupRefused([error or "no keyring"])
    return keyring
