"""Sign-in codes go to the petitions service's delivery core as urgent, sensitive SMS
(``YIWANG_OTP_SMS``) — the RPC checked against its contract; a failed hand-over lets the
person ask again at once."""

from __future__ import annotations

import uuid

import pytest

from gateway.security import credentials as cred
from gateway.tests.conftest import gateway_client
from tests.support.resources import TestResources
from yiwang.contracts import reach as rc
from yiwang.errors import DomainError

pytestmark = pytest.mark.integration


def test_otp_is_queued_as_an_urgent_sensitive_sms(
    resources: TestResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cred, "new_otp_code", lambda: "735091")
    phone = "136" + str(uuid.uuid4().int)[:8]
    with gateway_client(resources, otp_sms=True) as client:
        fake = client.fake_rpc  # type: ignore[attr-defined]
        fake.answers[("petitions", "queue_message")] = {"id": 1, "status": "queued"}
        r = client.post("/api/v1/auth/otp/request", json={"phone": phone})
        assert r.status_code == 202, r.text
        calls = [kw for svc, m, kw in fake.calls if (svc, m) == ("petitions", "queue_message")]
        assert len(calls) == 1
        req = rc.QueueMessageRequest.model_validate(calls[0])  # what petitions will accept
        assert req.channel == "sms" and req.address == phone and "735091" in req.text
        assert req.urgent and req.sensitive and req.idempotency_key.startswith("otp-")
        ok = client.post("/api/v1/auth/otp/verify", json={"phone": phone, "code": "735091"})
        assert ok.status_code == 200, ok.text

        def down(**kw: object) -> None:
            raise DomainError("service_unavailable", "petitions is down", "服务不可用", status=503)

        fake.answers[("petitions", "queue_message")] = down
        other = "135" + str(uuid.uuid4().int)[:8]
        r = client.post("/api/v1/auth/otp/request", json={"phone": other})
        assert r.status_code == 503, r.text
        fake.answers[("petitions", "queue_message")] = {"id": 2, "status": "queued"}
        again = client.post("/api/v1/auth/otp/request", json={"phone": other})
        assert again.status_code == 202  # no cooldown after a code that never left


def test_without_the_setting_no_sms_is_queued(resources: TestResources) -> None:
    with gateway_client(resources) as client:
        phone = "134" + str(uuid.uuid4().int)[:8]
        assert client.post("/api/v1/auth/otp/request", json={"phone": phone}).status_code == 202
        assert not [c for c in client.fake_rpc.calls if c[1] == "queue_message"]  # type: ignore[attr-defined]
