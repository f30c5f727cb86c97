"""Reach rules: quiet hours, backoff, preferences, opt-out tokens, the SMS signature."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.petitions.adapters.channels import (
    AliyunSmsChannel,
    AliyunSmsConfig,
    Outgoing,
    aliyun_percent_encode,
    aliyun_signature,
)
from services.petitions.domain.reach import (
    BUSINESS_TZ,
    Planned,
    Preferences,
    apply_preferences,
    backoff,
    opt_out_key,
    opt_out_token,
    quiet_until,
    read_opt_out_token,
)
from yiwang.errors import ValidationFailed

NIGHT = Preferences(("sms",), phone="13812345678", quiet_start=time(22), quiet_end=time(7))


def local(h: int, m: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 3, day, h, m, tzinfo=BUSINESS_TZ)


def test_quiet_hours_across_midnight() -> None:
    assert quiet_until(NIGHT, local(21, 59), urgent=False) is None
    assert quiet_until(NIGHT, local(22), urgent=False) == local(7, day=3)
    assert quiet_until(NIGHT, local(23, 30), urgent=False) == local(7, day=3)
    assert quiet_until(NIGHT, local(3), urgent=False) == local(7)
    assert quiet_until(NIGHT, local(7), urgent=False) is None
    assert quiet_until(NIGHT, local(23), urgent=True) is None  # urgent ignores quiet hours
    assert quiet_until(None, local(23), urgent=False) is None
    # the clock's UTC instant is read in Shanghai time
    assert quiet_until(NIGHT, datetime(2026, 3, 2, 15, tzinfo=UTC), urgent=False) == local(7, day=3)


def test_quiet_hours_within_a_day() -> None:
    lunch = Preferences(quiet_start=time(12), quiet_end=time(14))
    assert quiet_until(lunch, local(13), urgent=False) == local(14)
    assert quiet_until(lunch, local(14), urgent=False) is None
    assert quiet_until(lunch, local(11), urgent=False) is None


@given(st.integers(0, 23), st.integers(0, 59), st.integers(0, 23), st.integers(0, 23))
def test_deferral_always_lands_outside_quiet_hours(h: int, m: int, qs: int, qe: int) -> None:
    prefs = Preferences(quiet_start=time(qs), quiet_end=time(qe))
    now = local(h, m)
    until = quiet_until(prefs, now, urgent=False)
    if until is not None:
        assert now < until <= now + timedelta(hours=24)
        assert quiet_until(prefs, until, urgent=False) is None


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n, base_s=5, cap_s=60).total_seconds() for n in range(1, 7)] == [
        5,
        10,
        20,
        40,
        60,
        60,
    ]


def test_preferences_are_validated() -> None:
    with pytest.raises(ValidationFailed, match="e-mail"):
        Preferences(("email",))
    with pytest.raises(ValidationFailed, match="unknown"):
        Preferences(("fax",))  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed, match="twice"):
        Preferences(("push", "push"))
    with pytest.raises(ValidationFailed, match="start and an end"):
        Preferences(quiet_start=time(22))


def test_apply_preferences_rewrites_account_holders_only() -> None:
    planned = [
        Planned("sms", "a-1", "13800000001", "已受理"),
        Planned("sse", "a-1", None, "已受理"),
        Planned("sms", None, "13800000002", "已受理"),  # hotline caller: unchanged
        Planned("email", "a-2", "b@example.org", "已受理"),  # no preferences: unchanged
    ]
    prefs = {"a-1": Preferences(("push", "email"), email="a@example.org")}
    out = apply_preferences(planned, prefs)
    assert [(p.channel, p.account_id, p.address) for p in out] == [
        ("sse", "a-1", None),
        ("sms", None, "13800000002"),
        ("email", "a-2", "b@example.org"),
        ("push", "a-1", "a-1"),
        ("email", "a-1", "a@example.org"),
    ]
    silent = apply_preferences(planned[:2], {"a-1": Preferences(())})
    assert [p.channel for p in silent] == ["sse"]  # chose no channel: only the live page


def test_opt_out_token_round_trip_tamper_and_rotation() -> None:
    old, new = opt_out_key(b"q" * 32), opt_out_key(b"r" * 32)
    assert old != new and old != b"q" * 32  # derived, not the QR key itself
    token = opt_out_token(old, "qr-1", "email", "Wang@Example.org")
    keys = {"qr-1": old, "qr-2": new}
    assert read_opt_out_token(keys, "email", token) == "wang@example.org"  # after a rotation
    for bad in (
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        "x" + token,
        "nodot",
        token.replace("qr-1", "qr-2"),
        token.replace("qr-1", "qr-9"),
    ):
        with pytest.raises(ValidationFailed):
            read_opt_out_token(keys, "email", bad)
    with pytest.raises(ValidationFailed):
        read_opt_out_token({"qr-1": new}, "email", token)


def test_aliyun_signature_v1() -> None:
    # percent-encoding as the signature needs it: RFC 3986, space %20, * %2A, ~ kept
    assert aliyun_percent_encode("a b*c~d/é") == "a%20b%2Ac~d%2F%C3%A9"
    params = {"AccessKeyId": "testid", "Action": "SendSms", "Timestamp": "2026-03-02T01:00:00Z"}
    sig = aliyun_signature("testsecret", "POST", params)
    import base64
    import hashlib
    import hmac

    to_sign = (
        "POST&%2F&AccessKeyId%3Dtestid%26Action%3DSendSms%26Timestamp%3D"
        "2026-03-02T01%253A00%253A00Z"
    )
    expected = base64.b64encode(
        hmac.new(b"testsecret&", to_sign.encode(), hashlib.sha1).digest()
    ).decode()
    assert sig == expected
    ch = AliyunSmsChannel(AliyunSmsConfig("id", "secret", "一网", "SMS_1"))
    p = ch.params(
        Outgoing("sms", None, "13812345678", "文本", key="k-1"),
        nonce="n",
        now=datetime(2026, 3, 2, 9, tzinfo=BUSINESS_TZ),
    )
    assert p["Timestamp"] == "2026-03-02T01:00:00Z" and p["OutId"] == "k-1"
    assert p["TemplateParam"] == '{"content": "文本"}'
    unsigned = {k: v for k, v in p.items() if k != "Signature"}
    assert p["Signature"] == aliyun_signature("secret", "POST", unsigned)


def test_staff_queue_and_alerts() -> None:
    from services.petitions.domain.reach import StaffQueue, plan_staff_alerts, staff_queue_of

    assert staff_queue_of("dispatch", {"department": "water"}) == StaffQueue(
        "department", "water", False
    )
    assert staff_queue_of("reassign", {"department": "roads"}) == StaffQueue(
        "department", "roads", False
    )
    assert staff_queue_of("escalate", {"to": "329901"}) == StaffQueue("unit", "329901", True)
    assert staff_queue_of("accept", {}) is None
    staff = {"b": Preferences(("sms", "push"), phone="13700000002"), "a": Preferences(())}
    out = plan_staff_alerts(
        StaffQueue("department", "water", False), "井盖缺失", "2026-03-03 09:00", staff
    )
    assert [(p.channel, p.account_id, p.address) for p in out] == [
        ("sms", "b", "13700000002"),
        ("push", "b", "b"),
    ]
    assert "井盖缺失" in out[0].text and "2026-03-03 09:00" in out[0].text
