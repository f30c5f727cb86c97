"""Field encryption for personal data (national ID numbers, phone numbers).

Two keys are derived from ``Settings.secret_key`` with HKDF-SHA256 (distinct ``info``
labels): an AES-256-GCM key for the ciphertext and an HMAC-SHA256 key for the lookup hash.
A stored value is ``version byte (1) || 12-byte random nonce || ciphertext+tag``; the
column name is bound in as associated data, so a ciphertext copied into another column
does not decrypt. The keyed hash lets the service find a resident by ID number or phone
without decrypting every row, and reveals nothing without the key (unlike a bare hash of
an 18-digit ID, which is brute-forceable).
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = b"\x01"


def _derive(secret: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"yiwang.grids", info=info).derive(
        secret.encode()
    )


class PiiCipher:
    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise ValueError("secret_key is required to protect personal data")
        self._aead = AESGCM(_derive(secret_key, b"grids.pii.aes-gcm.v1"))
        self._mac_key = _derive(secret_key, b"grids.pii.hmac.v1")

    def encrypt(self, value: str, field: str) -> bytes:
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, value.encode(), field.encode())

    def decrypt(self, blob: bytes, field: str) -> str:
        data = bytes(blob)
        if data[:1] != _VERSION:
            raise ValueError("unknown ciphertext version")
        return self._aead.decrypt(data[1:13], data[13:], field.encode()).decode()

    def lookup_hash(self, value: str, field: str) -> str:
        msg = field.encode() + b"\x1f" + value.encode()
        return hmac.new(self._mac_key, msg, hashlib.sha256).hexdigest()
