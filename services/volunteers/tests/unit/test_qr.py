"""Check-in QR tokens: a valid scan and every refusal."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

import pytest

from services.volunteers.domain.common import GeoPoint
from services.volunteers.domain.qr import QrIssuer, QrVerifier
from services.volunteers.tests.unit.builders import PLACE, T0, WINDOW
from yiwang.errors import Conflict, DomainError, Forbidden, ValidationFailed

KEY = bytes(range(32))
NEAR = GeoPoint(PLACE.lat + 0.001, PLACE.lon)  # ~111 m north
FAR = GeoPoint(PLACE.lat + 0.002, PLACE.lon)  # ~222 m north
IN_WINDOW = WINDOW.start + timedelta(minutes=10)


def _issue(ttl: timedelta | None = None, key: bytes = KEY, kid: str = "k1") -> str:
    return QrIssuer(key, kid=kid).issue("o1", PLACE, WINDOW, T0, ttl)


def _verify(token: str, *, seen=None, order_id="o1", position=NEAR, now=IN_WINDOW):
    verifier = QrVerifier({"k1": KEY}, seen if seen is not None else set())
    return verifier.verify(token, order_id=order_id, position=position, now=now)


def _code(exc: pytest.ExceptionInfo[DomainError]) -> str:
    return exc.value.code


def test_valid_scan_is_url_safe_and_returns_proof():
    token = _issue()
    assert all(c.isalnum() or c in "-_." for c in token)
    scan = _verify(token)
    assert scan.order_id == "o1" and 100 < scan.distance_m < 120
    assert scan.scanned_at == IN_WINDOW


def test_reused_token_is_refused_and_store_can_be_a_callable():
    seen: set[str] = set()
    token = _issue()
    _verify(token, seen=seen)
    with pytest.raises(Conflict) as exc:
        _verify(token, seen=seen)
    assert _code(exc) == "qr_reused"

    calls: list[tuple[str, datetime]] = []

    def redis_like(nonce: str, expires_at: datetime) -> bool:
        fresh = nonce not in {n for n, _ in calls}
        calls.append((nonce, expires_at))
        return fresh

    token2 = _issue()
    _verify(token2, seen=redis_like)
    with pytest.raises(Conflict, match="qr_reused"):
        _verify(token2, seen=redis_like)
    assert calls[0][1] == WINDOW.end + timedelta(minutes=15)  # kept until expiry


def test_refused_for_distance_does_not_burn_the_code():
    seen: set[str] = set()
    token = _issue()
    with pytest.raises(ValidationFailed) as exc:
        _verify(token, seen=seen, position=FAR)
    assert _code(exc) == "qr_too_far"
    assert exc.value.details["distance_m"] > 200
    assert not seen
    _verify(token, seen=seen)  # walking closer works


def test_expired_token():
    token = _issue(ttl=timedelta(hours=5, minutes=5))  # expires 5 minutes into the window
    with pytest.raises(ValidationFailed) as exc:
        _verify(token, now=WINDOW.start + timedelta(minutes=5))
    assert _code(exc) == "qr_expired"
    _verify(token, now=WINDOW.start + timedelta(minutes=4))


@pytest.mark.parametrize(
    ("now", "ok"),
    [
        (WINDOW.start - timedelta(minutes=16), False),
        (WINDOW.start - timedelta(minutes=15), True),
        (WINDOW.end + timedelta(minutes=14), True),
    ],
)
def test_time_window_with_grace(now, ok):
    token = _issue()
    if ok:
        _verify(token, now=now)
    else:
        with pytest.raises(ValidationFailed, match="qr_outside_window"):
            _verify(token, now=now)


def test_after_window_is_expired():
    with pytest.raises(ValidationFailed, match="qr_expired"):
        _verify(_issue(), now=WINDOW.end + timedelta(minutes=15))


def test_wrong_order():
    with pytest.raises(ValidationFailed, match="qr_wrong_order"):
        _verify(_issue(), order_id="o2")


def _tamper(token: str, **changes) -> str:
    payload_b64, sig = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4)))
    body.update(changes)
    raw = json.dumps(body, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + sig


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: _tamper(t, la=PLACE.lat + 1),  # moved the place
        lambda t: _tamper(t, x=int((T0 + timedelta(days=30)).timestamp())),  # extended expiry
        lambda t: _tamper(t, o="o1", k="k9"),  # unknown key id
        lambda t: t.split(".")[0] + ".AAAA",
        lambda t: "not-a-token",
        lambda t: "a.b.c",
        lambda t: "!!!.###",
        lambda t: "",
    ],
)
def test_forged_tokens(mangle):
    with pytest.raises(Forbidden) as exc:
        _verify(mangle(_issue()))
    assert _code(exc) == "qr_forged"


def test_token_signed_with_another_key_is_forged_but_rotation_works():
    other = b"x" * 32
    token = _issue(key=other, kid="k1")
    with pytest.raises(Forbidden, match="qr_forged"):
        _verify(token)
    rotated = QrVerifier({"k1": KEY, "k0": other}, set())
    old = _issue(key=other, kid="k0")
    assert rotated.verify(old, order_id="o1", position=NEAR, now=IN_WINDOW).order_id == "o1"


def test_short_keys_and_past_windows_are_refused():
    with pytest.raises(ValueError):
        QrIssuer(b"short")
    with pytest.raises(ValidationFailed, match="window_in_past"):
        QrIssuer(KEY).issue("o1", PLACE, WINDOW, WINDOW.end + timedelta(hours=1))
