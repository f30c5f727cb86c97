"""Append-only, hash-chained audit trail (全程留痕) of dispatches, escalations, supervision
and status changes.

``hash = sha256(prev_hash + canonical_json(entry without hash))``; the first entry's
``prev_hash`` is 64 zeros. ``verify_chain`` recomputes every link and returns the index of
the first bad entry (or None). Canonical JSON: sorted keys, no spaces, UTF-8, datetimes as
UTC ISO-8601. The adapter stores entries in an insert-only table and may anchor the latest
hash elsewhere (e.g. a daily signed digest) to detect truncation of the tail.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from yiwang.clock import require_aware
from yiwang.errors import ValidationFailed

GENESIS = "0" * 64


def json_value(value: Any) -> Any:
    """How canonical JSON writes a value JSON has no type for (datetimes: UTC ISO-8601)."""
    if isinstance(value, datetime):
        return require_aware(value).astimezone(UTC).isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    return str(value)


def canonical_json(data: Any) -> str:
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=json_value
    )


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    case_id: str
    actor: str
    role: str
    action: str
    at: datetime
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    prev_hash: str
    hash: str

    def body(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "case_id": self.case_id,
            "actor": self.actor,
            "role": self.role,
            "action": self.action,
            "at": self.at,
            "before": dict(self.before),
            "after": dict(self.after),
        }


def entry_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(body)).encode("utf-8")).hexdigest()


class AuditLog:
    """In-memory append-only log; the adapter persists ``entries`` as they are appended."""

    def __init__(self, entries: Sequence[AuditEntry] = ()) -> None:
        bad = verify_chain(entries)
        if bad is not None:
            raise ValidationFailed(
                "audit_chain_broken",
                f"audit chain broken at entry {bad}",
                f"审计链在第{bad}条处断裂",
                index=bad,
            )
        self._entries: list[AuditEntry] = list(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[AuditEntry]:
        return iter(self._entries)

    @property
    def head(self) -> str:
        return self._entries[-1].hash if self._entries else GENESIS

    def append(
        self,
        *,
        case_id: str,
        actor: str,
        role: str,
        action: str,
        at: datetime,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        require_aware(at, "at")
        if not actor or not action:
            raise ValidationFailed(
                "audit_incomplete", "actor and action are required", "操作人和操作不能为空"
            )
        body = {
            "seq": len(self._entries) + 1,
            "case_id": case_id,
            "actor": actor,
            "role": role,
            "action": action,
            "at": at,
            "before": dict(before or {}),
            "after": dict(after or {}),
        }
        # Freeze the JSON form now so later mutation of the caller's dicts cannot alter it.
        frozen = json.loads(canonical_json(body))
        digest = entry_hash(self.head, body)
        entry = AuditEntry(
            seq=body["seq"],  # type: ignore[arg-type]
            case_id=case_id,
            actor=actor,
            role=role,
            action=action,
            at=at,
            before=frozen["before"],
            after=frozen["after"],
            prev_hash=self.head,
            hash=digest,
        )
        self._entries.append(entry)
        return entry

    def for_case(self, case_id: str) -> list[AuditEntry]:
        return [e for e in self._entries if e.case_id == case_id]


def verify_chain(entries: Sequence[AuditEntry]) -> int | None:
    """Index of the first entry whose link or content does not verify; None when intact."""
    prev = GENESIS
    for i, e in enumerate(entries):
        if e.seq != i + 1 or e.prev_hash != prev or entry_hash(prev, e.body()) != e.hash:
            return i
        prev = e.hash
    return None
