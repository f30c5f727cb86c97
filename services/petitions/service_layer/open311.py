"""Open311 GeoReport v2 queries: the catalogue as services, cases as service requests.

Documents are built by :mod:`services.petitions.domain.open311`; the gateway renders them as
JSON or XML. Only public cases of public categories are shown, never contact data or the address text;
locations are blurred as on the public map.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from services.petitions.adapters.tables import cases
from services.petitions.domain import open311 as o311
from services.petitions.domain.case import Case
from services.petitions.domain.lifecycle import FINISHED
from services.petitions.domain.sla import expected_datetime
from services.petitions.service_layer import catalogue as catalogue_store
from yiwang.contracts.petitions import (
    Open311DefinitionRequest,
    Open311ServicesRequest,
    ParseOpen311FormRequest,
    QueryOpen311Request,
)
from yiwang.errors import NotFound
from yiwang.uow import UnitOfWork

_FINISHED = sorted(s.value for s in FINISHED)


def services(uow: UnitOfWork, req: Open311ServicesRequest) -> dict[str, Any]:
    with uow:
        cat = catalogue_store.load(uow)
    return {"items": o311.service_list(cat, req.lang)}


def service_definition(uow: UnitOfWork, req: Open311DefinitionRequest) -> dict[str, Any]:
    with uow:
        cat = catalogue_store.load(uow)
    if req.service_code not in {c.code for c in o311.listed_services(cat)}:
        raise NotFound(
            "invalid_service_code",
            f"service_code '{req.service_code}' not found",
            f"未找到service_code“{req.service_code}”",
            service_code=req.service_code,
        )
    return o311.service_definition(cat.get(req.service_code), req.lang)


def parse_form(uow: UnitOfWork, req: ParseOpen311FormRequest) -> dict[str, Any]:
    with uow:
        cat = catalogue_store.load(uow)
    sub = o311.parse_post_form(req.fields, cat, jurisdiction_id=req.jurisdiction_id)
    return {
        "service_code": sub.service_code,
        "lat": sub.lat,
        "lon": sub.lon,
        "address_string": sub.address_string,
        "address_id": sub.address_id,
        "description": sub.description,
        "attributes": sub.attributes,
        "media_url": sub.media_url,
        "email": sub.email,
        "phone": sub.phone,
        "first_name": sub.first_name,
        "last_name": sub.last_name,
        "device_id": sub.device_id,
        "account_id": sub.account_id,
        "jurisdiction_id": sub.jurisdiction_id,
    }


def _uuids(ids: tuple[str, ...]) -> list[uuid.UUID]:
    out = []
    for i in ids:
        try:
            out.append(uuid.UUID(i))
        except ValueError:
            continue
    return out


def query(uow: UnitOfWork, req: QueryOpen311Request, now: Any) -> dict[str, Any]:
    q = o311.parse_request_query(req.params, now, jurisdiction_id=req.jurisdiction_id)
    c = cases
    conds: list[Any] = [c.c.public.is_(True)]
    if q.service_request_ids:
        conds.append(c.c.id.in_(_uuids(q.service_request_ids)))
    else:
        if q.service_codes:
            conds.append(c.c.category.in_(q.service_codes))
        if q.start is not None:
            conds.append(c.c.created_at >= q.start)
        if q.end is not None:
            conds.append(c.c.created_at <= q.end)
        if set(q.statuses) == {"open"}:
            conds.append(c.c.status.not_in(_FINISHED))
        elif set(q.statuses) == {"closed"}:
            conds.append(c.c.status.in_(_FINISHED))
    with uow:
        cat = catalogue_store.load(uow)
        states = (
            uow.session.execute(
                sa.select(c.c.state)
                .where(*conds)
                .order_by(c.c.created_at.desc(), c.c.id.desc())
                .limit(q.limit)
            )
            .scalars()
            .all()
        )
    base = req.media_base.rstrip("/")

    def media_url(key: str) -> str:
        return key if key.startswith(("http://", "https://")) else f"{base}/api/v1/media/{key}"

    items = []
    for state in states:
        case = Case.from_dict(state)
        category = cat.categories.get(case.category)
        if category is None or not category.public:
            continue
        doc = o311.service_request(case, category, lang=req.lang, media_url=media_url)
        if doc["expected_datetime"] is None and case.status not in FINISHED:
            sla = cat.sla_classes.get(case.sla_class) or cat.sla(case.category)
            doc["expected_datetime"] = o311.iso(expected_datetime(sla, case.created_at))
        items.append(doc)
    return {"items": items}
