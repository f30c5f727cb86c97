"""The installation's secret keys: one keyring per installation, never in the source.

Each purpose has its own keys, each with a key id (kid), and one current key:

* ``token``: signs access tokens (the JWT header carries the kid);
* ``pii``: encrypts personal data (ID and phone numbers; each value carries its kid);
* ``pii_index``: keys the lookup hash of personal data (searching by ID or phone number);
  not rotated by ``rotate`` (old rows would no longer be found);
* ``qr``: signs volunteer check-in QR codes (the code carries its kid).

Rotating a purpose adds a new current key and keeps the old ones, so tokens already issued
still verify and data already encrypted still decrypts. The keyring is a JSON file
(``YIWANG_KEYS_FILE``, default ``<var_dir>/keys.json``, mode 0600, outside git). In the demo
it is generated on first use; in production (``YIWANG_ENV=production``) it must exist.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

PURPOSES: tuple[str, ...] = ("token", "pii", "pii_index", "qr")
ROTATABLE: tuple[str, ...] = ("token", "pii", "qr")
KEY_BYTES = 32
MIN_KEY_BYTES = 32
# Values that were once public (the old default ``secret_key`` in yiwang/config.py).
KNOWN_PUBLIC_SECRETS: frozenset[bytes] = frozenset({b"change-me-in-production-yiwang-demo-secret"})


class KeyringError(RuntimeError):
    """The keyring is missing, unreadable or too weak (raised at startup)."""


@dataclass(frozen=True)
class KeySet:
    """The keys of one purpose: kid → raw key bytes, and the kid new material uses."""

    current: str
    keys: Mapping[str, bytes]

    @property
    def current_key(self) -> bytes:
        return self.keys[self.current]


@dataclass(frozen=True)
class Keyring:
    sets: Mapping[str, KeySet]

    def __getitem__(self, purpose: str) -> KeySet:
        try:
            return self.sets[purpose]
        except KeyError as exc:
            raise KeyringError(f"the keyring has no {purpose!r} keys") from exc

    # -- (de)serialisation -------------------------------------------------------------------

    def to_config(self) -> dict[str, Any]:
        """A JSON-able form (the file's content; handed to nameko services as ``KEYS``)."""
        return {
            p: {
                "current": ks.current,
                "keys": {kid: base64.b64encode(k).decode() for kid, k in ks.keys.items()},
            }
            for p, ks in self.sets.items()
        }

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> Keyring:
        try:
            sets = {
                p: KeySet(
                    str(v["current"]),
                    {str(kid): base64.b64decode(b64) for kid, b64 in v["keys"].items()},
                )
                for p, v in data.items()
            }
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise KeyringError(f"malformed keyring: {exc}") from exc
        for p, ks in sets.items():
            if ks.current not in ks.keys:
                raise KeyringError(f"keyring purpose {p!r}: current kid {ks.current!r} is missing")
        return cls(sets)

    # -- building ----------------------------------------------------------------------------

    @classmethod
    def generate(cls, now: datetime | None = None) -> Keyring:
        return cls({p: _one_key(p, now) for p in PURPOSES})

    def rotated(self, purpose: str, now: datetime | None = None) -> Keyring:
        """A new current key for ``purpose``; the old keys stay for verify/decrypt."""
        if purpose not in ROTATABLE:
            raise KeyringError(f"{purpose!r} cannot be rotated (one of {', '.join(ROTATABLE)})")
        old = self[purpose]
        new = _one_key(purpose, now)
        merged = {**old.keys, **new.keys}
        return Keyring({**self.sets, purpose: KeySet(new.current, merged)})

    def weaknesses(self) -> list[str]:
        """Why these keys must not protect a production installation (empty when fine)."""
        out: list[str] = []
        for p in PURPOSES:
            ks = self.sets.get(p)
            if ks is None:
                out.append(f"no {p} key")
                continue
            for kid, k in ks.keys.items():
                if len(k) < MIN_KEY_BYTES:
                    out.append(f"{p} key {kid} is shorter than {MIN_KEY_BYTES} bytes")
                if k in KNOWN_PUBLIC_SECRETS:
                    out.append(f"{p} key {kid} is a published default")
        return out


def _one_key(purpose: str, now: datetime | None) -> KeySet:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    kid = f"{purpose}-{stamp}-{secrets.token_hex(3)}"
    return KeySet(kid, {kid: secrets.token_bytes(KEY_BYTES)})


# -- the file ------------------------------------------------------------------------------------


def keys_path(settings: Any) -> str:
    return str(settings.keys_file or os.path.join(settings.var_dir, "keys.json"))


def read_keyring(path: str) -> Keyring:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError as exc:
        raise KeyringError(
            f"no keyring at {path}: create one with `python -m infra.keys init`"
        ) from exc
    except (OSError, ValueError) as exc:
        raise KeyringError(f"cannot read the keyring at {path}: {exc}") from exc
    return Keyring.from_config(data)


def write_keyring(path: str, keyring: Keyring, *, replace: bool = True) -> bool:
    """Write atomically with mode 0600. With ``replace=False`` an existing file wins (returns
    False): processes starting together all end up with the same keys."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".keys-", dir=directory)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(keyring.to_config(), f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)  # atomic, fails when the file exists
        except FileExistsError:
            return False
        return True
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def ensure_keyring(path: str) -> Keyring:
    """The keyring at ``path``, generated (random keys) the first time."""
    if not os.path.exists(path):
        write_keyring(path, Keyring.generate(), replace=False)
    return read_keyring(path)


def load_keyring(settings: Any) -> Keyring:
    """The installation's keyring: generated once in the demo, required in production."""
    path = keys_path(settings)
    if getattr(settings, "env", "demo") == "production":
        return read_keyring(path)
    return ensure_keyring(path)
