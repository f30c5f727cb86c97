"""Channel adapters behind one port: ``send(Outgoing) -> provider id``.

- :class:`LogChannel` — the demo: writes the message to the log (default for every channel);
- :class:`SmtpChannel` — e-mail over SMTP (STARTTLS, AUTH), one session per delivery run,
  ``Message-ID`` derived from the message's idempotency key, RFC 8058 one-click opt-out;
- :class:`AliyunSmsChannel` — Alibaba Cloud SMS ``SendSms`` (RPC style, signature v1
  HMAC-SHA1), ``OutId`` = the idempotency key;
- :class:`TencentSmsChannel` — Tencent Cloud SMS ``SendSms`` (API 3.0, signature v3
  TC3-HMAC-SHA256), ``SessionContext`` = the idempotency key;
- :class:`HotlineWebhookChannel` — each change of a 12345/8890 case back to its hotline
  system: a signed JSON POST (``domain/hotline.py``, format ``yiwang.hotline.v1``);
- :class:`WebPushChannel` — Web Push with VAPID (RFC 8292), payload encrypted per
  RFC 8291 (aes128gcm) by ``pywebpush``; ``Topic`` = a short form of the idempotency key.

Failures are reported as ``TransientFailure`` (try again later) or ``PermanentFailure``
(dead-letter with the reason). Adapters are built by :func:`build_channels` from the
settings in the service's composition root, never at import time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from services.petitions.domain import hotline
from services.petitions.domain.reach import ChannelDown, PermanentFailure, TransientFailure
from yiwang.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """One message on one channel to one address (push: one subscription)."""

    channel: str  # sms | email | push
    account_id: str | None
    address: str | None  # phone, e-mail address or push endpoint
    text: str
    case_id: str | None = None
    key: str = ""  # idempotency key: the same for every attempt of this message
    subject: str = ""
    urgent: bool = False
    unsubscribe_url: str | None = None
    push_keys: Mapping[str, str] = field(default_factory=dict)  # p256dh, auth


class ChannelSender(Protocol):
    def send(self, message: Outgoing) -> str | None: ...

    def close(self) -> None: ...


class LogChannel:
    """The demo sender: writes each message to the log (and keeps the last ones)."""

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, message: Any) -> str | None:
        log.info(
            "notification",
            channel=message.channel,
            case_id=message.case_id,
            to=message.address or message.account_id,
            key=getattr(message, "key", ""),
            text=message.text,
        )
        self.sent.append(message)
        del self.sent[:-1000]
        return None

    def close(self) -> None:
        pass


# --- e-mail ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    sender: str = "noreply@yiwang.example"
    sender_name: str = "一网通办"
    timeout_s: float = 10.0
    ssl_context: ssl.SSLContext | None = None  # None: the system's trust store


class SmtpChannel:
    """E-mail over one SMTP session per delivery run (reconnects when the server drops it)."""

    def __init__(self, cfg: SmtpConfig) -> None:
        self.cfg = cfg
        self._smtp: smtplib.SMTP | None = None

    def _session(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        c = self.cfg
        try:
            smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout_s)
            smtp.ehlo()
            if c.starttls:
                smtp.starttls(context=c.ssl_context or ssl.create_default_context())
                smtp.ehlo()
            if c.username:
                smtp.login(c.username, c.password or "")
        except smtplib.SMTPAuthenticationError as e:
            raise ChannelDown(f"smtp auth refused: {e.smtp_code} {_text(e.smtp_error)}") from e
        except (OSError, smtplib.SMTPException) as e:
            raise ChannelDown(f"smtp connect: {e}") from e
        self._smtp = smtp
        return smtp

    def message(self, m: Outgoing) -> EmailMessage:
        c = self.cfg
        msg = EmailMessage()
        msg["From"] = formataddr((c.sender_name, c.sender))
        msg["To"] = m.address or ""
        msg["Subject"] = m.subject or "一网通办：您反映的问题有新进展"
        msg["Date"] = formatdate(localtime=False)
        domain = c.sender.rsplit("@", 1)[-1]
        msg["Message-ID"] = f"<{m.key}@{domain}>"
        msg["X-Yiwang-Key"] = m.key
        body = m.text
        if m.unsubscribe_url:
            msg["List-Unsubscribe"] = f"<{m.unsubscribe_url}>"
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            body += "\n\n——\n不想再收到这类邮件？退订 / Unsubscribe: " + m.unsubscribe_url + "\n"
        msg.set_content(body)
        return msg

    def send(self, message: Outgoing) -> str | None:
        if not message.address:
            raise PermanentFailure("no e-mail address")
        msg = self.message(message)
        for attempt in (1, 2):  # a session the server closed meanwhile: reconnect once
            smtp = self._session()
            try:
                refused = smtp.send_message(msg)
            except smtplib.SMTPRecipientsRefused as e:
                code, reason = next(iter(e.recipients.values()))
                self._reset(smtp)
                cls = PermanentFailure if code >= 500 else TransientFailure
                raise cls(f"smtp recipient refused: {code} {_text(reason)}") from e
            except smtplib.SMTPServerDisconnected as e:
                self._drop()
                if attempt == 2:
                    raise TransientFailure(f"smtp disconnected: {e}") from e
                continue
            except smtplib.SMTPResponseException as e:
                self._reset(smtp)
                cls = PermanentFailure if e.smtp_code >= 500 else TransientFailure
                raise cls(f"smtp refused: {e.smtp_code} {_text(e.smtp_error)}") from e
            except (OSError, smtplib.SMTPException) as e:
                self._drop()
                raise TransientFailure(f"smtp: {e}") from e
            if refused:  # only one recipient: cannot happen, but never report it as sent
                raise PermanentFailure(f"smtp refused: {refused}")
            return str(msg["Message-ID"])
        return None  # unreachable

    def _reset(self, smtp: smtplib.SMTP) -> None:
        try:
            smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._drop()


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


# --- SMS: Alibaba Cloud SendSms (dysmsapi 2017-05-25), RPC style, signature v1 -----------
def aliyun_percent_encode(value: str) -> str:
    """RFC 3986 encoding as the signature v1 requires (space %20, '*' %2A, '~' kept)."""
    return quote(value, safe="~")


def aliyun_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    canonical = "&".join(
        f"{aliyun_percent_encode(k)}={aliyun_percent_encode(v)}" for k, v in sorted(params.items())
    )
    return f"{method}&{aliyun_percent_encode('/')}&{aliyun_percent_encode(canonical)}"


def aliyun_signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    digest = hmac.new(
        f"{secret}&".encode(), aliyun_string_to_sign(method, params).encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class AliyunSmsConfig:
    access_key_id: str
    access_key_secret: str
    sign_name: str
    template_code: str  # an approved template with one variable, ${content}
    endpoint: str = "https://dysmsapi.aliyuncs.com/"
    region_id: str = "cn-hangzhou"
    timeout_s: float = 10.0


#: provider codes meaning "try again later"; any other non-OK code is permanent
ALIYUN_TRANSIENT = frozenset(
    {
        "isp.SYSTEM_ERROR",
        "isv.BUSINESS_LIMIT_CONTROL",
        "Throttling",
        "Throttling.User",
        "ServiceUnavailable",
        "isp.RAM_PERMISSION_DENY",
    }
)


class AliyunSmsChannel:
    def __init__(self, cfg: AliyunSmsConfig, client: httpx.Client | None = None) -> None:
        self.cfg = cfg
        self.client = client or httpx.Client(timeout=cfg.timeout_s)

    def params(self, m: Outgoing, *, nonce: str, now: datetime) -> dict[str, str]:
        c = self.cfg
        p = {
            "Action": "SendSms",
            "Version": "2017-05-25",
            "Format": "JSON",
            "RegionId": c.region_id,
            "AccessKeyId": c.access_key_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": nonce,
            "Timestamp": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "PhoneNumbers": m.address or "",
            "SignName": c.sign_name,
            "TemplateCode": c.template_code,
            "TemplateParam": json.dumps({"content": m.text}, ensure_ascii=False),
            "OutId": m.key,
        }
        p["Signature"] = aliyun_signature(c.access_key_secret, "POST", p)
        return p

    def send(self, message: Outgoing) -> str | None:
        if not message.address:
            raise PermanentFailure("no phone number")
        params = self.params(message, nonce=uuid.uuid4().hex, now=datetime.now(UTC))
        try:
            r = self.client.post(self.cfg.endpoint, data=params)
        except httpx.HTTPError as e:
            raise ChannelDown(f"sms provider unreachable: {e!r}") from e
        if r.status_code >= 500 or r.status_code == 429:
            raise TransientFailure(f"sms provider answered {r.status_code}")
        try:
            body = r.json()
        except ValueError:
            raise TransientFailure(f"sms provider answered {r.status_code}, not JSON") from None
        code = str(body.get("Code", ""))
        if r.status_code == 200 and code == "OK":
            return str(body.get("BizId") or "")
        reason = f"sms {code or r.status_code}: {body.get('Message', '')}"
        raise (TransientFailure if code in ALIYUN_TRANSIENT else PermanentFailure)(reason)

    def close(self) -> None:
        pass  # the client lives as long as the channel (one per process)


# --- SMS: Tencent Cloud SendSms (sms 2021-01-11), signature v3 TC3-HMAC-SHA256 ------------
def tc3_signature(
    secret_key: str, *, host: str, payload: bytes, timestamp: int, service: str = "sms"
) -> tuple[str, str]:
    """(credential scope, hex signature) of a POST of JSON ``payload`` to ``host``."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:application/json; charset=utf-8\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join(
        ["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )

    def mac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    signing = mac(mac(mac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    return scope, hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class TencentSmsConfig:
    secret_id: str
    secret_key: str
    sdk_app_id: str
    sign_name: str
    template_id: str  # an approved template with one parameter: the text
    endpoint: str = "https://sms.tencentcloudapi.com/"
    region: str = "ap-guangzhou"
    timeout_s: float = 10.0


#: error codes meaning "try again later"; any other is permanent
TENCENT_TRANSIENT_PREFIXES = (
    "InternalError",
    "RequestLimitExceeded",
    "LimitExceeded",
    "FailedOperation.InsufficientBalanceInSmsPackage",
)


class TencentSmsChannel:
    def __init__(self, cfg: TencentSmsConfig, client: httpx.Client | None = None) -> None:
        self.cfg = cfg
        self.client = client or httpx.Client(timeout=cfg.timeout_s)
        self.host = httpx.URL(cfg.endpoint).netloc.decode()  # with a non-default port

    def request(self, m: Outgoing, *, timestamp: int) -> tuple[bytes, dict[str, str]]:
        c = self.cfg
        phone = m.address or ""
        body = json.dumps(
            {
                "PhoneNumberSet": [phone if phone.startswith("+") else f"+86{phone}"],
                "SmsSdkAppId": c.sdk_app_id,
                "SignName": c.sign_name,
                "TemplateId": c.template_id,
                "TemplateParamSet": [m.text],
                "SessionContext": m.key,
            },
            ensure_ascii=False,
        ).encode()
        scope, signature = tc3_signature(
            c.secret_key, host=self.host, payload=body, timestamp=timestamp
        )
        headers = {
            "Authorization": f"TC3-HMAC-SHA256 Credential={c.secret_id}/{scope}, "
            f"SignedHeaders=content-type;host, Signature={signature}",
            "Content-Type": "application/json; charset=utf-8",
            "Host": self.host,
            "X-TC-Action": "SendSms",
            "X-TC-Version": "2021-01-11",
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": c.region,
        }
        return body, headers

    def send(self, message: Outgoing) -> str | None:
        if not message.address:
            raise PermanentFailure("no phone number")
        body, headers = self.request(message, timestamp=int(time.time()))
        try:
            r = self.client.post(self.cfg.endpoint, content=body, headers=headers)
        except httpx.HTTPError as e:
            raise ChannelDown(f"sms provider unreachable: {e!r}") from e
        if r.status_code >= 500 or r.status_code == 429:
            raise TransientFailure(f"sms provider answered {r.status_code}")
        try:
            resp = r.json()["Response"]
        except (ValueError, KeyError):
            raise TransientFailure(f"sms provider answered {r.status_code}, unreadable") from None
        error = resp.get("Error")
        if error is None:
            statuses = resp.get("SendStatusSet") or [{}]
            error = statuses[0] if statuses[0].get("Code") != "Ok" else None
            if error is None:
                return str(statuses[0].get("SerialNo") or "")
        code = str(error.get("Code", ""))
        reason = f"sms {code}: {error.get('Message', '')}"
        transient = code.startswith(TENCENT_TRANSIENT_PREFIXES)
        raise (TransientFailure if transient else PermanentFailure)(reason)

    def close(self) -> None:
        pass


# --- Web Push -------------------------------------------------------------------------
@dataclass(frozen=True)
class WebPushConfig:
    vapid_private_key: str  # base64url raw key or PEM, as py_vapid reads it
    subject: str  # "mailto:ops@city.example" or an https URL
    ttl_s: int = 24 * 3600
    timeout_s: float = 10.0


class WebPushChannel:
    def __init__(self, cfg: WebPushConfig) -> None:
        import requests
        from py_vapid import Vapid

        self.cfg = cfg
        self.vapid = Vapid.from_string(private_key=cfg.vapid_private_key)
        self.session = requests.Session()

    def send(self, message: Outgoing) -> str | None:
        from pywebpush import WebPushException, webpush

        if not message.address or not message.push_keys:
            raise PermanentFailure("no push subscription")
        data = json.dumps(
            {
                "title": message.subject or "一网通办",
                "body": message.text,
                "case_id": message.case_id,
                "key": message.key,
            },
            ensure_ascii=False,
        )
        headers = {
            # RFC 8030: a push service keeps one undelivered message per topic
            "Topic": hashlib.sha256(message.key.encode()).hexdigest()[:32],
            "Urgency": "high" if message.urgent else "normal",
        }
        try:
            r = webpush(
                {"endpoint": message.address, "keys": dict(message.push_keys)},
                data,
                vapid_private_key=self.vapid,
                vapid_claims={"sub": self.cfg.subject},
                ttl=self.cfg.ttl_s,
                timeout=self.cfg.timeout_s,
                headers=headers,
                requests_session=self.session,
            )
        except WebPushException as e:
            status = e.response.status_code if e.response is not None else None
            if status in (404, 410):
                raise SubscriptionGone(f"push subscription gone: {status}") from e
            if status is None or status >= 500 or status == 429:
                raise TransientFailure(f"push service: {status or e}") from e
            raise PermanentFailure(f"push service refused: {status}") from e
        except Exception as e:  # requests' connection errors
            raise TransientFailure(f"push service unreachable: {e!r}") from e
        return str(getattr(r, "headers", {}).get("Location", "") or "")

    def close(self) -> None:
        pass


# --- 12345/8890: the hotline systems' webhooks ------------------------------------------
@dataclass(frozen=True)
class HotlineEndpoint:
    url: str
    secret: str


class HotlineWebhookChannel:
    """POSTs a case change (the message's text, a ``yiwang.hotline.v1`` document) to the
    webhook of the hotline named in the message's address. 2xx: delivered; 408, 409, 425,
    429, 5xx or no answer: try again (the delivery core retries hotline messages until they
    are answered); another 4xx: the receiver refuses this document — dead letter, visible
    to administrators with a resend button. A hotline without a webhook: the log."""

    def __init__(
        self,
        endpoints: Mapping[str, HotlineEndpoint],
        client: httpx.Client | None = None,
        timeout_s: float = 10.0,
        clock: Any = time.time,
    ) -> None:
        self.endpoints = dict(endpoints)
        self.client = client or httpx.Client(timeout=timeout_s)
        self.clock = clock
        self.log = LogChannel()

    def send(self, message: Outgoing) -> str | None:
        ep = self.endpoints.get(message.address or "")
        if ep is None:
            return self.log.send(message)
        body = message.text.encode()
        sequence = json.loads(body).get("sequence", "")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": message.key,
            hotline.SEQUENCE_HEADER: str(sequence),
            hotline.SIGNATURE_HEADER: hotline.sign(ep.secret.encode(), body, int(self.clock())),
        }
        try:
            r = self.client.post(ep.url, content=body, headers=headers)
        except httpx.HTTPError as e:
            raise ChannelDown(f"hotline {message.address} unreachable: {e!r}") from e
        if 200 <= r.status_code < 300:
            return r.headers.get("X-Request-Id") or None
        reason = f"hotline {message.address} answered {r.status_code}: {r.text[:200]}"
        if r.status_code >= 500 or r.status_code in (408, 409, 425, 429):
            raise TransientFailure(reason)
        raise PermanentFailure(reason)

    def close(self) -> None:
        pass  # the client lives as long as the channel (one per process)


class SubscriptionGone(PermanentFailure):
    """The push service forgot this subscription (404/410): remove it, not the message."""


# --- composition --------------------------------------------------------------------------
def build_channels(settings: Any) -> dict[str, ChannelSender]:
    """The channel adapters the settings ask for (``log`` where none is configured)."""
    out: dict[str, ChannelSender] = {}
    if settings.reach_email_backend == "smtp":
        ctx = None
        if settings.smtp_ca_file:
            ctx = ssl.create_default_context(cafile=settings.smtp_ca_file)
        out["email"] = SmtpChannel(
            SmtpConfig(
                host=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=settings.smtp_password,
                starttls=settings.smtp_starttls,
                sender=settings.smtp_sender,
                timeout_s=settings.smtp_timeout_s,
                ssl_context=ctx,
            )
        )
    if settings.reach_sms_backend == "aliyun":
        out["sms"] = AliyunSmsChannel(
            AliyunSmsConfig(
                access_key_id=settings.aliyun_sms_access_key_id,
                access_key_secret=settings.aliyun_sms_access_key_secret,
                sign_name=settings.aliyun_sms_sign_name,
                template_code=settings.aliyun_sms_template_code,
                endpoint=settings.aliyun_sms_endpoint,
            )
        )
    if settings.reach_sms_backend == "tencent":
        out["sms"] = TencentSmsChannel(
            TencentSmsConfig(
                secret_id=settings.tencent_sms_secret_id,
                secret_key=settings.tencent_sms_secret_key,
                sdk_app_id=settings.tencent_sms_sdk_app_id,
                sign_name=settings.tencent_sms_sign_name,
                template_id=settings.tencent_sms_template_id,
                endpoint=settings.tencent_sms_endpoint,
                region=settings.tencent_sms_region,
            )
        )
    if settings.reach_push_backend == "webpush":
        out["push"] = WebPushChannel(
            WebPushConfig(
                vapid_private_key=settings.vapid_private_key,
                subject=settings.vapid_subject,
            )
        )
    out[hotline.CHANNEL] = HotlineWebhookChannel(
        {
            name: HotlineEndpoint(url=ep["url"], secret=ep.get("secret", ""))
            for name, ep in settings.hotline_webhooks.items()
        },
        timeout_s=settings.hotline_timeout_s,
    )
    return out
