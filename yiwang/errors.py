"""Domain errors: one machine-readable code plus a zh-CN and an English message.

Every boundary (nameko RPC, HTTP) translates these once; see ``yiwang.nameko.rpc`` and
``gateway.problems``.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal by the domain. ``status`` is the HTTP status the gateway maps it to."""

    status: int = 400
    code: str = "bad_request"

    def __init__(
        self,
        code: str | None = None,
        message_en: str = "",
        message_zh: str = "",
        *,
        status: int | None = None,
        **details: Any,
    ) -> None:
        self.code = code or type(self).code
        if status is not None:
            self.status = status
        self.message_en = message_en or self.code
        self.message_zh = message_zh or self.message_en
        self.details = details
        super().__init__(f"{self.code}: {self.message_en}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "status": self.status,
            "message_en": self.message_en,
            "message_zh": self.message_zh,
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DomainError:
        err = cls(
            data.get("code", "bad_request"),
            data.get("message_en", ""),
            data.get("message_zh", ""),
            status=int(data.get("status", 400)),
            **(data.get("details") or {}),
        )
        return err


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    """Illegal state transition or lost optimistic-concurrency race."""

    status = 409
    code = "conflict"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Unavailable(DomainError):
    status = 503
    code = "service_unavailable"
