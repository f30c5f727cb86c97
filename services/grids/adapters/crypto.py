"""Field encryption for personal data (national ID numbers, phone numbers).

Keys come from the installation's keyring (yiwang/keys.py): every ``pii`` key (by key id)
gives an AES-256-GCM key through HKDF-SHA256, and the ``pii_index`` key an HMAC-SHA256 key
for the lookup hash. A stored value is ``0x02 || len(kid) || kid || 12-byte nonce ||
ciphertext+tag``: new values use the current key, and values under an older key still
decrypt after a rotation. Values of the first format (``0x01 || nonce || ciphertext``,
one key derived from a single secret) decrypt with the key id ``legacy``. The column name
(and the kid) is bound in as associated data, so a ciphertext copied into another column
does not decrypt. The keyed hash lets the service find a resident by ID number or phone
without decrypting every row, and reveals nothing without the key (unlike a bare hash of
an 18-digit ID, which is brute-forceable).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from yiwang.keys import Keyring

_V1 = b"\x01"
_V2 = b"\x02"
LEGACY_KID = "legacy"


def _derive(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"yiwang.grids", info=info).derive(
        secret
    )


def _raw(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else bytes(secret)


class PiiCipher:
    """``PiiCipher(keys, current, index_key)``; ``PiiCipher("one secret")`` for a single key
    (tests); ``PiiCipher.from_keyring(keyring)`` in the services."""

    def __init__(
        self,
        keys: str | bytes | Mapping[str, bytes],
        current: str | None = None,
        index_key: bytes | None = None,
    ) -> None:
        if isinstance(keys, str | bytes):
            if not keys:
                raise ValueError("a key is required to protect personal data")
            single = _raw(keys)
            keys, current, index_key = {LEGACY_KID: single}, LEGACY_KID, single
        if not keys or current is None or current not in keys or not index_key:
            raise ValueError("the current personal-data key and the index key are required")
        self._aeads = {kid: AESGCM(_derive(k, b"grids.pii.aes-gcm.v1")) for kid, k in keys.items()}
        self._current: str = current
        self._kid = current.encode()
        if len(self._kid) > 255:
            raise ValueError("key id too long")
        self._mac_key = _derive(index_key, b"grids.pii.hmac.v1")

    @classmethod
    def from_keyring(cls, keyring: Keyring) -> PiiCipher:
        pii = keyring["pii"]
        return cls(pii.keys, pii.current, keyring["pii_index"].current_key)

    def encrypt(self, value: str, field: str) -> bytes:
        nonce = os.urandom(12)
        aad = field.encode() + b"\x1f" + self._kid
        ct = self._aeads[self._current].encrypt(nonce, value.encode(), aad)
        return _V2 + bytes([len(self._kid)]) + self._kid + nonce + ct

    def decrypt(self, blob: bytes, field: str) -> str:
        data = bytes(blob)
        if data[:1] == _V1:
            aead = self._aeads.get(LEGACY_KID)
            if aead is None:
                raise ValueError("no legacy key for a first-format ciphertext")
            return aead.decrypt(data[1:13], data[13:], field.encode()).decode()
        if data[:1] != _V2 or len(data) < 2:
            raise ValueError("unknown ciphertext version")
        n = data[1]
        kid = data[2 : 2 + n]
        aead = self._aeads.get(kid.decode(errors="replace"))
        if aead is None:
            raise ValueError("ciphertext under an unknown key id")
        rest = data[2 + n :]
        return aead.decrypt(rest[:12], rest[12:], field.encode() + b"\x1f" + kid).decode()

    def lookup_hash(self, value: str, field: str) -> str:
        msg = field.encode() + b"\x1f" + value.encode()
        return hmac.new(self._mac_key, msg, hashlib.sha256).hexdigest()
