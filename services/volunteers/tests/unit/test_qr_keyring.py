"""QR signing keys from the installation's keyring: codes issued before a rotation still
verify; new codes carry the new key id."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from services.volunteers.domain.common import GeoPoint, TimeWindow
from services.volunteers.domain.qr import QrIssuer, QrVerifier
from services.volunteers.service_layer.common import qr_keys_from_keyset
from yiwang.keys import Keyring

NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
PLACE = GeoPoint(30.27, 120.15)
WINDOW = TimeWindow(NOW, NOW + timedelta(hours=2))


def kid_of(token: str) -> str:
    body = token.split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["k"])


def test_codes_issued_before_a_rotation_still_verify() -> None:
    ring = Keyring.generate(NOW)
    keys = qr_keys_from_keyset(ring["qr"].keys)
    old = QrIssuer(keys[ring["qr"].current], kid=ring["qr"].current).issue(
        "o-1", PLACE, WINDOW, NOW
    )
    rotated = ring.rotated("qr", NOW + timedelta(seconds=1))
    new_keys = qr_keys_from_keyset(rotated["qr"].keys)
    verifier = QrVerifier(new_keys, set())
    assert verifier.decode(old).order_id == "o-1"
    new = QrIssuer(new_keys[rotated["qr"].current], kid=rotated["qr"].current).issue(
        "o-2", PLACE, WINDOW, NOW
    )
    assert kid_of(new) == rotated["qr"].current != kid_of(old)
    assert verifier.decode(new).order_id == "o-2"
    # the keys are derived: never the raw keyring key
    assert all(new_keys[k] != rotated["qr"].keys[k] for k in new_keys)


def test_the_service_provider_signs_with_the_current_kid_and_verifies_all() -> None:
    from types import SimpleNamespace

    from services.volunteers.service import QrKeys

    rotated = Keyring.generate(NOW).rotated("qr", NOW + timedelta(seconds=1))
    provider = QrKeys()
    provider.container = SimpleNamespace(config={"KEYS": rotated.to_config()})  # type: ignore[assignment]
    provider.setup()
    keyset = provider.get_dependency(None)
    assert keyset.current == rotated["qr"].current
    assert set(keyset.keys) == set(rotated["qr"].keys)
