"""Personal-data encryption keyed from the installation's keyring: each value carries its
key id, so a rotation keeps old values readable and findable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.grids.adapters.crypto import PiiCipher
from yiwang.keys import Keyring

NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
ID = "11010119900307123X"


def test_rotation_keeps_old_values_readable_and_findable() -> None:
    ring = Keyring.generate(NOW)
    before = PiiCipher.from_keyring(ring)
    old = before.encrypt(ID, "resident.id_number")
    assert ring["pii"].current.encode() in old  # the value names its key
    rotated = ring.rotated("pii", NOW + timedelta(seconds=1))
    after = PiiCipher.from_keyring(rotated)
    assert after.decrypt(old, "resident.id_number") == ID
    new = after.encrypt(ID, "resident.id_number")
    assert rotated["pii"].current.encode() in new and ring["pii"].current.encode() not in new
    assert after.decrypt(new, "resident.id_number") == ID
    # the lookup hash does not change with a rotation (rows stay findable)
    assert after.lookup_hash(ID, "resident.id_number") == before.lookup_hash(
        ID, "resident.id_number"
    )
    with pytest.raises(ValueError):  # the old keyring does not know the new key
        before.decrypt(new, "resident.id_number")


def test_another_installation_cannot_read_or_find() -> None:
    mine, theirs = (PiiCipher.from_keyring(Keyring.generate(NOW)) for _ in range(2))
    blob = mine.encrypt(ID, "resident.id_number")
    with pytest.raises(Exception):  # noqa: B017 - unknown kid or InvalidTag
        theirs.decrypt(blob, "resident.id_number")
    assert mine.lookup_hash(ID, "f") != theirs.lookup_hash(ID, "f")


def test_values_from_before_keyrings_decrypt_with_the_imported_legacy_key() -> None:
    legacy_secret = "the-former-single-secret-of-this-installation"
    old_style = PiiCipher(legacy_secret)
    # the first format: version 1, no key id (as written before keyrings)
    aead = old_style._aeads["legacy"]
    nonce = b"\x00" * 12
    v1 = b"\x01" + nonce + aead.encrypt(nonce, ID.encode(), b"resident.id_number")
    ring = Keyring.generate(NOW)
    sets = dict(ring.sets)
    from yiwang.keys import KeySet

    sets["pii"] = KeySet(
        ring["pii"].current, {**ring["pii"].keys, "legacy": legacy_secret.encode()}
    )
    sets["pii_index"] = KeySet("legacy", {"legacy": legacy_secret.encode()})
    imported = PiiCipher.from_keyring(Keyring(sets))
    assert imported.decrypt(v1, "resident.id_number") == ID
    assert imported.lookup_hash(ID, "f") == old_style.lookup_hash(ID, "f")


def test_the_service_provider_reads_the_keyring_from_the_nameko_config() -> None:
    from types import SimpleNamespace

    from services.grids.service import PiiProvider

    ring = Keyring.generate(NOW)
    provider = PiiProvider()
    provider.container = SimpleNamespace(config={"KEYS": ring.to_config()})  # type: ignore[assignment]
    provider.setup()
    cipher = provider.get_dependency(None)
    blob = PiiCipher.from_keyring(ring).encrypt(ID, "resident.id_number")
    assert cipher.decrypt(blob, "resident.id_number") == ID
