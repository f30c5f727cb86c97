"""Real local servers the reach tests deliver to; each records what it accepted.

- :class:`SmtpServer` — aiosmtpd with STARTTLS required and AUTH (PLAIN/LOGIN) required
  (self-signed certificate made here); refuses chosen recipients with 550; can run a hook
  while a message's DATA is being received (before it is accepted).
- :class:`AliyunSmsServer` — an HTTP server speaking Alibaba Cloud ``SendSms``: checks the
  signature v1 (computed here independently, from the documentation's Java-style recipe),
  the timestamp and that no nonce is used twice; can answer 5xx for the first requests.
- :class:`PushServer` — a push service: checks the VAPID JWT (ES256, ``aud``, ``exp``,
  ``k`` = the application server key) and decrypts the RFC 8291 payload with the
  subscription's private key and auth secret (``http_ece``); answers 410 for endpoints
  marked gone.

Each is a context manager and stops even when the test fails.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import socket
import ssl
import tempfile
import threading
import urllib.parse
from collections import Counter
from collections.abc import Callable
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import jwt
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- SMTP ----------------------------------------------------------------------------------
def self_signed(directory: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path


class SmtpServer:
    USER, PASSWORD = "yiwang", "smtp-secret"

    def __init__(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.cert, self.key = self_signed(self.tmp.name)
        self.port = free_port()
        self.received: list[Any] = []  # email.message.EmailMessage, accepted ones only
        self.refuse: dict[str, str] = {}  # recipient -> SMTP reply
        # called with the count so far before a message is accepted; False: refuse it (451)
        self.on_data: Callable[[int], bool] | None = None
        self.lock = threading.Lock()
        self.insecure_or_anonymous = 0

    def client_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.cert)
        ctx.check_hostname = False  # the tests connect to 127.0.0.1, the cert names localhost
        return ctx

    # aiosmtpd handler hooks
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if session.ssl is None or not session.authenticated:
            self.insecure_or_anonymous += 1
            return "530 secure and authenticated sessions only"
        if self.on_data is not None and not self.on_data(len(self.received)):
            return "451 aborted"  # e.g. the sender was killed while sending this one
        msg = message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.received.append(msg)
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (self.USER, self.PASSWORD)
        return AuthResult(success=ok)

    def keys(self) -> Counter[str]:
        with self.lock:
            return Counter(str(m["X-Yiwang-Key"]) for m in self.received)

    def __enter__(self) -> SmtpServer:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, self.key)
        self.controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=ctx,
            require_starttls=True,
            authenticator=self.authenticate,
            auth_require_tls=True,
        )
        self.controller.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self.controller.stop()
        finally:
            self.tmp.cleanup()


# --- HTTP servers --------------------------------------------------------------------------
class _HttpServer:
    def handle(self, req: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError

    def __enter__(self) -> Any:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms stall

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers, out = outer.handle(self, body)
                self.send_response(status)
                for k, v in {"Content-Length": str(len(out)), **headers}.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _java_url_encode(value: str) -> str:
    """The documentation's recipe: URLEncoder (UTF-8), then + → %20, * → %2A, %7E → ~."""
    return (
        urllib.parse.quote_plus(value, safe="*")
        .replace("+", "%20")
        .replace("*", "%2A")
        .replace("%7E", "~")
    )


class AliyunSmsServer(_HttpServer):
    KEY_ID, SECRET = "LTAI-test-key", "test-secret-value"

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        self.fail_first = 0  # answer 503 to this many valid requests
        self.bad_numbers: set[str] = set()
        self.requests = 0
        self.rejected_signatures = 0
        self.nonces: set[str] = set()
        self.lock = threading.Lock()

    def expected_signature(self, method: str, params: dict[str, str]) -> str:
        canonical = "&".join(
            f"{_java_url_encode(k)}={_java_url_encode(params[k])}" for k in sorted(params)
        )
        to_sign = f"{method}&{_java_url_encode('/')}&{_java_url_encode(canonical)}"
        mac = hmac.new(f"{self.SECRET}&".encode(), to_sign.encode(), hashlib.sha1).digest()
        return base64.b64encode(mac).decode()

    def handle(self, req: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        params = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
        signature = params.pop("Signature", "")
        hdr = {"Content-Type": "application/json"}

        def answer(status: int, code: str, message: str, **extra: str) -> Any:
            return (
                status,
                hdr,
                json.dumps(
                    {"Code": code, "Message": message, "RequestId": os.urandom(8).hex(), **extra}
                ).encode(),
            )

        with self.lock:
            self.requests += 1
            ts = dt.datetime.strptime(params.get("Timestamp", ""), "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=dt.UTC
            )
            if (
                params.get("AccessKeyId") != self.KEY_ID
                or not hmac.compare_digest(signature, self.expected_signature("POST", params))
                or abs((dt.datetime.now(dt.UTC) - ts).total_seconds()) > 900
                or params.get("SignatureNonce") in self.nonces
                or params.get("Action") != "SendSms"
                or params.get("Version") != "2017-05-25"
            ):
                self.rejected_signatures += 1
                return answer(400, "SignatureDoesNotMatch", "signature does not match")
            self.nonces.add(params["SignatureNonce"])
            if self.fail_first > 0:
                self.fail_first -= 1
                return answer(503, "ServiceUnavailable", "try later")
            if params["PhoneNumbers"] in self.bad_numbers:
                return answer(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
            self.received.append(params)
            return answer(200, "OK", "OK", BizId=f"{len(self.received)}^0")

    def keys(self) -> Counter[str]:
        with self.lock:
            return Counter(p["OutId"] for p in self.received)


class PushServer(_HttpServer):
    """A push service for subscriptions it made (:meth:`subscribe`)."""

    def __init__(self, vapid_public_key: str) -> None:
        self.vapid_public_key = vapid_public_key  # base64url uncompressed point
        self.subs: dict[str, tuple[ec.EllipticCurvePrivateKey, bytes]] = {}
        self.gone: set[str] = set()
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.rejected = 0
        self.lock = threading.Lock()

    def subscribe(self, name: str) -> dict[str, Any]:
        key = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        self.subs[name] = (key, auth)
        pub = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": f"{self.url}push/{name}", "p256dh": b64u(pub), "auth": b64u(auth)}

    def handle(self, req: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        name = req.path.rsplit("/", 1)[-1]
        with self.lock:
            if name in self.gone:
                return 410, {}, b""
            try:
                payload = self._verify_and_decrypt(req, name, body)
            except Exception as e:  # noqa: BLE001 - any defect is a refusal the test sees
                self.rejected += 1
                return 400, {}, str(e).encode()
            self.received.append({"subscription": name, **payload})
            self.headers.append({k.lower(): v for k, v in req.headers.items()})
            return 201, {"Location": f"{self.url}msg/{len(self.received)}"}, b""

    def _verify_and_decrypt(
        self, req: BaseHTTPRequestHandler, name: str, body: bytes
    ) -> dict[str, Any]:
        auth = req.headers.get("Authorization", "")
        assert auth.startswith("vapid "), "VAPID authorization required"
        fields = dict(part.strip().split("=", 1) for part in auth[6:].split(","))
        assert fields["k"].rstrip("=") == self.vapid_public_key.rstrip("="), "unknown server key"
        raw = unb64u(fields["k"])
        pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        claims = jwt.decode(fields["t"], pub, algorithms=["ES256"], audience=self.url.rstrip("/"))
        assert claims["exp"] > dt.datetime.now(dt.UTC).timestamp()
        assert claims["sub"].startswith(("mailto:", "https:"))
        assert req.headers.get("Content-Encoding") == "aes128gcm"
        assert int(req.headers.get("TTL", "-1")) >= 0
        key, secret = self.subs[name]
        plain = http_ece.decrypt(body, private_key=key, auth_secret=secret, version="aes128gcm")
        return dict(json.loads(plain))

    def keys(self) -> Counter[str]:
        with self.lock:
            return Counter(str(p["key"]) for p in self.received)


def vapid_keys() -> tuple[str, str]:
    """(private key as base64url raw scalar, public key as base64url uncompressed point)."""
    key = ec.generate_private_key(ec.SECP256R1())
    priv = key.private_numbers().private_value.to_bytes(32, "big")
    pub = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64u(priv), b64u(pub)


class TencentSmsServer(_HttpServer):
    """Tencent Cloud ``SendSms`` (2021-01-11): checks the TC3-HMAC-SHA256 signature from the
    request as received (its own implementation of the documented steps)."""

    SECRET_ID, SECRET_KEY = "AKID-test", "tencent-test-key"

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail_first = 0
        self.bad_numbers: set[str] = set()
        self.rejected_signatures = 0
        self.lock = threading.Lock()

    def _expected(self, req: BaseHTTPRequestHandler, body: bytes, ts: int, scope: str) -> str:
        def h(data: bytes) -> str:
            return hashlib.sha256(data).hexdigest()

        headers = "".join(
            f"{name}:{req.headers.get(name, '').strip().lower()}\n"
            for name in ("content-type", "host")
        )
        canonical = f"POST\n/\n\n{headers}\ncontent-type;host\n{h(body)}"
        to_sign = f"TC3-HMAC-SHA256\n{ts}\n{scope}\n{h(canonical.encode())}"
        date, service, _ = scope.split("/")
        k = hmac.new(f"TC3{self.SECRET_KEY}".encode(), date.encode(), hashlib.sha256).digest()
        k = hmac.new(k, service.encode(), hashlib.sha256).digest()
        k = hmac.new(k, b"tc3_request", hashlib.sha256).digest()
        return hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()

    def handle(self, req: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        hdr = {"Content-Type": "application/json"}

        def answer(resp: dict[str, Any], status: int = 200) -> Any:
            return (
                status,
                hdr,
                json.dumps(
                    {"Response": {**resp, "RequestId": os.urandom(8).hex()}}, ensure_ascii=False
                ).encode(),
            )

        with self.lock:
            try:
                auth = req.headers["Authorization"]
                algo, rest = auth.split(" ", 1)
                parts = dict(p.strip().split("=", 1) for p in rest.split(","))
                secret_id, scope = parts["Credential"].split("/", 1)
                ts = int(req.headers["X-TC-Timestamp"])
                ok = (
                    algo == "TC3-HMAC-SHA256"
                    and secret_id == self.SECRET_ID
                    and parts["SignedHeaders"] == "content-type;host"
                    and scope.split("/")[0]
                    == dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d")
                    and abs(dt.datetime.now(dt.UTC).timestamp() - ts) < 300
                    and req.headers["X-TC-Action"] == "SendSms"
                    and req.headers["X-TC-Version"] == "2021-01-11"
                    and hmac.compare_digest(
                        parts["Signature"], self._expected(req, body, ts, scope)
                    )
                )
            except (KeyError, ValueError):
                ok = False
            if not ok:
                self.rejected_signatures += 1
                return answer(
                    {
                        "Error": {
                            "Code": "AuthFailure.SignatureFailure",
                            "Message": "signature does not match",
                        }
                    }
                )
            if self.fail_first > 0:
                self.fail_first -= 1
                return answer({"Error": {"Code": "InternalError", "Message": "try later"}}, 502)
            payload = json.loads(body)
            phone = payload["PhoneNumberSet"][0]
            if phone in self.bad_numbers:
                return answer(
                    {
                        "SendStatusSet": [
                            {
                                "Code": "InvalidParameterValue.IncorrectPhoneNumber",
                                "Message": "bad number",
                                "PhoneNumber": phone,
                                "SerialNo": "",
                                "SessionContext": payload["SessionContext"],
                            }
                        ]
                    }
                )
            self.received.append(payload)
            return answer(
                {
                    "SendStatusSet": [
                        {
                            "Code": "Ok",
                            "Message": "send success",
                            "PhoneNumber": phone,
                            "SerialNo": f"2640:{len(self.received)}",
                            "Fee": 1,
                            "SessionContext": payload["SessionContext"],
                        }
                    ]
                }
            )

    def keys(self) -> Counter[str]:
        with self.lock:
            return Counter(p["SessionContext"] for p in self.received)
