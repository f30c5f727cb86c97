"""Intake: a submitted report becomes a case (once, whatever the broker redelivers)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from services.petitions.adapters.tables import cases
from yiwang.contracts import Envelope
from yiwang.contracts.gateway import ReportSubmittedV1
from yiwang.contracts.petitions import CaseCreatedV1
from yiwang.uow import UnitOfWork

CONSUMER = "petitions.handle_report_submitted"


def open_case_from_report(
    uow: UnitOfWork, env: Envelope, report: ReportSubmittedV1, now: datetime
) -> uuid.UUID | None:
    """Create the case for ``report``; returns its id, or None if already applied."""
    with uow:
        if not uow.claim_event(CONSUMER, env.id, env.type):
            return None
        case_id = uuid.uuid5(uuid.NAMESPACE_URL, f"yiwang:report:{report.report_id}")
        title = report.description.strip().splitlines()[0][:60]
        state: dict[str, Any] = {
            "description": report.description,
            "address": report.address,
            "attributes": report.attributes,
            "media": report.media,
            "contact": report.contact.model_dump() if report.contact else None,
            "anonymous": report.anonymous,
            "timeline": [
                {"action": "submit", "status": "submitted", "actor": report.account_id or "citizen",
                 "role": "citizen", "at": report.submitted_at.isoformat(), "note": ""}
            ],
        }
        uow.session.execute(
            cases.insert().values(
                id=case_id, report_id=report.report_id, source=report.source,
                category=report.category, title=title, grid_code=report.grid_code,
                jurisdiction_code=report.grid_code, status="submitted", lat=report.lat,
                lon=report.lon, version=1, state=state, created_at=report.submitted_at,
                updated_at=now,
            )
        )
        uow.emit(
            CaseCreatedV1(
                case_id=case_id, report_id=report.report_id, seq=1, source=report.source,
                category=report.category, title=title, grid_code=report.grid_code,
                jurisdiction_code=report.grid_code, level="grid", status="submitted",
                lat=report.lat, lon=report.lon, created_at=report.submitted_at,
            ),
            jurisdiction_code=report.grid_code,
        )
        uow.commit()
        return case_id


def report_status(uow: UnitOfWork, report_id: uuid.UUID) -> dict[str, Any]:
    with uow:
        row = uow.session.execute(
            sa.select(cases.c.id, cases.c.status).where(cases.c.report_id == report_id)
        ).first()
    if row is None:
        return {"report_id": report_id, "state": "pending"}
    return {"report_id": report_id, "state": "case_created", "case_id": row.id,
            "case_status": row.status}
