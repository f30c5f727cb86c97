"""Check-in QR codes (扫码签到): signed, expiring, single-use, place- and time-bound.

Token: ``base64url(payload JSON) "." base64url(HMAC-SHA256(key, payload))`` — URL-safe,
no padding, so it fits in a QR code URL. The payload names the order, the place, the
order's time window, an expiry, a nonce and the key id (for key rotation).

The verifier checks, in this order: signature (``qr_forged``), order (``qr_wrong_order``),
expiry (``qr_expired``), time window with grace (``qr_outside_window``), distance from the
place (``qr_too_far``), and last the single-use nonce (``qr_reused``) — so a scan refused
for distance does not burn the code.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping, MutableSet
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from yiwang.clock import require_aware
from yiwang.errors import Conflict, Forbidden, ValidationFailed

from .common import GeoPoint, TimeWindow

DEFAULT_RADIUS_M = 200.0
DEFAULT_GRACE = timedelta(minutes=15)
MIN_KEY_BYTES = 32

# "mark this nonce used until expires_at; return True when it was not used before".
NonceGuard = Callable[[str, datetime], bool]


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _check_key(key: bytes) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"QR signing keys need at least {MIN_KEY_BYTES} bytes")
    return key


def _sign(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class QrClaims:
    order_id: str
    place: GeoPoint
    window: TimeWindow
    expires_at: datetime
    nonce: str
    kid: str


@dataclass(frozen=True, slots=True)
class VerifiedScan:
    """Proof that a valid code was scanned; pass it to ``ServiceOrder.check_in``."""

    order_id: str
    nonce: str
    distance_m: float
    scanned_at: datetime
    position: GeoPoint


class QrIssuer:
    def __init__(
        self,
        key: bytes,
        *,
        kid: str = "k1",
        grace: timedelta = DEFAULT_GRACE,
        nonce_factory: Callable[[], str] = lambda: secrets.token_urlsafe(12),
    ) -> None:
        self._key = _check_key(key)
        self._kid = kid
        self._grace = grace
        self._nonce = nonce_factory

    def issue(
        self,
        order_id: str,
        place: GeoPoint,
        window: TimeWindow,
        now: datetime,
        ttl: timedelta | None = None,
    ) -> str:
        """A token valid until ``now + ttl``, never beyond the window's end plus grace."""
        require_aware(now, "now")
        last = window.end + self._grace
        expires = last if ttl is None else min(now + ttl, last)
        if expires <= now:
            raise ValidationFailed(
                "window_in_past", "the order's time window is over", "工单服务时间已过"
            )
        body = {
            "v": 1,
            "k": self._kid,
            "o": order_id,
            "la": round(place.lat, 7),
            "lo": round(place.lon, 7),
            "ws": int(window.start.timestamp()),
            "we": int(window.end.timestamp()),
            "x": int(expires.timestamp()),
            "n": self._nonce(),
        }
        payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        return f"{_b64e(payload)}.{_b64e(_sign(self._key, payload))}"


def _forged() -> Forbidden:
    return Forbidden("qr_forged", "this QR code is not genuine", "二维码无效或被篡改")


def _as_guard(seen: MutableSet[str] | NonceGuard) -> NonceGuard:
    if callable(seen):
        return seen
    store = seen

    def guard(nonce: str, _expires: datetime) -> bool:
        if nonce in store:
            return False
        store.add(nonce)
        return True

    return guard


class QrVerifier:
    """Verifies scans. ``keys`` maps key id → key (old keys stay during rotation).

    ``seen`` is a set of used nonces or a callable backed by Redis (``SET nonce NX EX``)
    or a unique DB row; it must atomically mark-and-report.
    """

    def __init__(
        self,
        keys: Mapping[str, bytes],
        seen: MutableSet[str] | NonceGuard,
        *,
        radius_m: float = DEFAULT_RADIUS_M,
        grace: timedelta = DEFAULT_GRACE,
    ) -> None:
        self._keys = {kid: _check_key(k) for kid, k in keys.items()}
        self._guard = _as_guard(seen)
        self.radius_m = radius_m
        self.grace = grace

    def decode(self, token: str) -> QrClaims:
        """Check the signature and parse; raises ``qr_forged`` on anything malformed."""
        try:
            payload_b64, sig_b64 = token.strip().split(".")
            payload, sig = _b64d(payload_b64), _b64d(sig_b64)
            body = json.loads(payload)
            key = self._keys.get(body["k"])
            if key is None or not hmac.compare_digest(sig, _sign(key, payload)):
                raise _forged()
            return QrClaims(
                order_id=str(body["o"]),
                place=GeoPoint(float(body["la"]), float(body["lo"])),
                window=TimeWindow(
                    datetime.fromtimestamp(int(body["ws"]), UTC),
                    datetime.fromtimestamp(int(body["we"]), UTC),
                ),
                expires_at=datetime.fromtimestamp(int(body["x"]), UTC),
                nonce=str(body["n"]),
                kid=str(body["k"]),
            )
        except Forbidden:
            raise
        except (ValueError, KeyError, TypeError, binascii.Error, ValidationFailed, AttributeError):
            raise _forged() from None

    def verify(
        self, token: str, *, order_id: str, position: GeoPoint, now: datetime
    ) -> VerifiedScan:
        require_aware(now, "now")
        claims = self.decode(token)
        if claims.order_id != order_id:
            raise ValidationFailed(
                "qr_wrong_order", "this QR code belongs to another order", "二维码不属于此工单"
            )
        if now >= claims.expires_at:
            raise ValidationFailed("qr_expired", "this QR code has expired", "二维码已过期")
        w = claims.window
        if not (w.start - self.grace <= now <= w.end + self.grace):
            raise ValidationFailed(
                "qr_outside_window",
                "check-in is only possible during the order's time window",
                "只能在工单服务时间内签到",
                window_start=w.start.isoformat(),
                window_end=w.end.isoformat(),
            )
        distance = position.distance_m(claims.place)
        if distance > self.radius_m:
            raise ValidationFailed(
                "qr_too_far",
                f"you are {distance:.0f} m from the place (limit {self.radius_m:.0f} m)",
                f"您距离服务地点{distance:.0f}米，超出{self.radius_m:.0f}米范围",
                distance_m=round(distance, 1),
                radius_m=self.radius_m,
            )
        if not self._guard(claims.nonce, claims.expires_at):
            raise Conflict("qr_reused", "this QR code was already used", "二维码已使用")
        return VerifiedScan(
            order_id=claims.order_id,
            nonce=claims.nonce,
            distance_m=distance,
            scanned_at=now,
            position=position,
        )
