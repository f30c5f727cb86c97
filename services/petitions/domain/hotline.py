"""12345/8890 both ways: what goes back to the hotline system when one of its cases changes.

Tickets come in by import (``service_layer/intake.import_hotline``, keyed by hotline and
ticket number). Every later change of such a case goes back as one JSON document, format
``yiwang.hotline.v1`` (docs/HOTLINE.md), queued in the same transaction as the change and
delivered by the delivery core on the ``hotline`` channel: in order per case (a change
waits while an earlier one of the same case is unanswered), retried until the receiver
answers, signed so the receiver can tell it came from us:

    X-Yiwang-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>

After closure staff call the reporter back (回访, the case's ``return_visit`` action); the
rating given on the phone counts in satisfaction like an on-line rating, and goes back too.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from .case import HOTLINES, Case
from .lifecycle import FINISHED, Source
from .open311 import status_notes

FORMAT = "yiwang.hotline.v1"
CHANNEL = "hotline"
SIGNATURE_HEADER = "X-Yiwang-Signature"
SEQUENCE_HEADER = "X-Yiwang-Sequence"
#: seconds a receiver should accept between our timestamp and its clock
TOLERANCE_S = 300


def ticket_of(case: Case) -> tuple[str, str] | None:
    """(hotline, ticket number) of a case imported from a hotline, else None."""
    if case.source is not Source.HOTLINE or not case.external_ref:
        return None
    hotline, _, ticket_no = case.external_ref.partition(":")
    return (hotline, ticket_no) if hotline in HOTLINES and ticket_no else None


def hotline_update(case: Case) -> dict[str, Any] | None:
    """The document telling the hotline system about the case's latest step, or None when
    the case is not a hotline ticket or the step is internal (routing, supervision)."""
    ticket = ticket_of(case)
    if ticket is None or not case.timeline:
        return None
    last = case.timeline[-1]
    if last.internal:
        return None
    rating = case.rating if last.action in ("rate", "return_visit", "auto_evaluate") else None
    return {
        "format": FORMAT,
        "hotline": ticket[0],
        "ticket_no": ticket[1],
        "case_id": case.case_id,
        "sequence": case.version,
        "event": last.action,
        "status": case.status.value,
        "status_text": status_notes(case, "zh"),
        "finished": case.status in FINISHED,
        "at": last.at.isoformat(),
        "department": case.department,
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "note": last.note or None,
        "feedback": case.feedback if last.action == "handle" else None,
        "rating": {"score": rating.score, "satisfied": rating.score >= 3} if rating else None,
    }


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(
    secret: bytes, header: str, body: bytes, now: int, tolerance_s: int = TOLERANCE_S
) -> bool:
    """What a receiver checks: a ``v1`` signature of this body, made within the tolerance."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - t) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, body, t), f"t={t},v1={parts.get('v1', '')}")
