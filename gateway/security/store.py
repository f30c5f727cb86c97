"""Account, refresh-token, API-key, audit and unmask-log storage (schema ``gateway``).

Plain synchronous SQLAlchemy Core on an ``Engine``; async callers use ``asyncio.to_thread``.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine

from gateway.adapters.tables import accounts, api_keys, audit_log, refresh_tokens, unmask_log
from gateway.security.principal import Principal
from yiwang.errors import Conflict

PUBLIC_ACCOUNT_COLUMNS = (
    "id",
    "username",
    "phone",
    "display_name",
    "role",
    "jurisdiction_code",
    "department",
    "enterprise_id",
    "institution_id",
    "person_id",
    "can_unmask",
    "active",
    "created_at",
)


def principal_from_account(row: Any) -> Principal:
    return Principal(
        account_id=str(row.id),
        role=row.role,
        display_name=row.display_name,
        jurisdiction_code=row.jurisdiction_code,
        department=row.department,
        enterprise_id=row.enterprise_id,
        institution_id=row.institution_id,
        person_id=row.person_id,
        can_unmask=bool(row.can_unmask),
    )


# What a token vouches for: a change to any of these (role, unit, department, organisation,
# person, unmasking, active, password) gives the account a new version, and the tokens
# issued under the old one are refused (gateway.security.authn.Authenticator.from_bearer).
VERSIONED_COLUMNS = (
    "role",
    "jurisdiction_code",
    "department",
    "enterprise_id",
    "institution_id",
    "person_id",
    "can_unmask",
    "active",
    "password_hash",
    "display_name",
)
NO_ACCOUNT = "-"


def account_version(row: Any | None) -> str:
    """A short fingerprint of the account's security-relevant columns (``-``: no account,
    or a disabled one: no token may be valid for it)."""
    if row is None or not row.active:
        return NO_ACCOUNT
    raw = "\x1f".join(repr(getattr(row, c, None)) for c in VERSIONED_COLUMNS)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def account_to_dict(row: Any) -> dict[str, Any]:
    data = {c: getattr(row, c) for c in PUBLIC_ACCOUNT_COLUMNS}
    data["id"] = str(data["id"])
    data["created_at"] = data["created_at"].isoformat() if data["created_at"] else None
    return data


# -- accounts ------------------------------------------------------------------------------


def find_account(
    engine: Engine,
    *,
    username: str | None = None,
    phone: str | None = None,
    account_id: str | None = None,
) -> Any | None:
    cond: Any
    if username is not None:
        cond = accounts.c.username == username
    elif phone is not None:
        cond = accounts.c.phone == phone
    else:
        try:
            cond = accounts.c.id == uuid.UUID(str(account_id))
        except ValueError:
            return None
    with engine.connect() as conn:
        return conn.execute(sa.select(accounts).where(cond)).first()


def create_account(engine: Engine, **values: Any) -> Any:
    values.setdefault("id", uuid.uuid4())
    stmt = pg_insert(accounts).values(**values).on_conflict_do_nothing().returning(accounts)
    with engine.begin() as conn:
        row = conn.execute(stmt).first()
    if row is None:
        raise Conflict(
            "account_exists",
            "An account with this username or phone exists.",
            "该用户名或手机号已被使用。",
        )
    return row


def upsert_account(engine: Engine, username: str, **values: Any) -> Any:
    """Create or update the account named ``username`` (the demo seed; idempotent)."""
    ins = pg_insert(accounts).values(id=uuid.uuid4(), username=username, **values)
    stmt = ins.on_conflict_do_update(
        index_elements=[accounts.c.username],
        set_={**{k: ins.excluded[k] for k in values}, "updated_at": sa.func.now()},
    ).returning(accounts)
    with engine.begin() as conn:
        return conn.execute(stmt).one()


def list_accounts(
    engine: Engine, *, role: str | None, prefix: str, page: int, page_size: int
) -> tuple[list[Any], int]:
    conds: list[Any] = [accounts.c.jurisdiction_code.startswith(prefix, autoescape=True)]
    if role:
        conds.append(accounts.c.role == role)
    where = sa.and_(*conds)
    with engine.connect() as conn:
        total = conn.execute(
            sa.select(sa.func.count()).select_from(accounts).where(where)
        ).scalar_one()
        rows = conn.execute(
            sa.select(accounts)
            .where(where)
            .order_by(accounts.c.created_at, accounts.c.id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
    return list(rows), int(total)


ACCOUNT_UPDATABLE = frozenset(
    {
        "role",
        "jurisdiction_code",
        "department",
        "enterprise_id",
        "institution_id",
        "person_id",
        "can_unmask",
        "active",
        "display_name",
        "phone",
        "password_hash",
    }
)


def update_account(engine: Engine, account_id: Any, **changes: Any) -> Any | None:
    """Change an account's columns; the returned row has a new ``account_version`` when a
    versioned column changed (callers then call ``Authenticator.account_changed``)."""
    unknown = set(changes) - ACCOUNT_UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    try:
        key = uuid.UUID(str(account_id))
    except ValueError:
        return None
    with engine.begin() as conn:
        return conn.execute(
            sa.update(accounts)
            .where(accounts.c.id == key)
            .values(**changes, updated_at=sa.func.now())
            .returning(accounts)
        ).first()


def set_password_hash(engine: Engine, account_id: Any, password_hash: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(accounts)
            .where(accounts.c.id == account_id)
            .values(password_hash=password_hash, updated_at=sa.func.now())
        )


# -- refresh tokens --------------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshOutcome:
    status: str  # "ok" | "reused" | "invalid"
    account_id: uuid.UUID | None = None
    family_id: uuid.UUID | None = None


def store_refresh_token(
    engine: Engine, *, token_hash: str, account_id: Any, family_id: Any, now: datetime, ttl_s: int
) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(refresh_tokens).values(
                id=uuid.uuid4(),
                family_id=family_id,
                account_id=account_id,
                token_hash=token_hash,
                issued_at=now,
                expires_at=now + timedelta(seconds=ttl_s),
            )
        )


def use_refresh_token(engine: Engine, token_hash: str, now: datetime) -> RefreshOutcome:
    """Mark a refresh token used (exactly once). Presenting a used one revokes its family."""
    rt = refresh_tokens
    with engine.begin() as conn:
        row = conn.execute(
            sa.update(rt)
            .where(
                rt.c.token_hash == token_hash,
                rt.c.used_at.is_(None),
                rt.c.revoked_at.is_(None),
                rt.c.expires_at > now,
            )
            .values(used_at=now)
            .returning(rt.c.account_id, rt.c.family_id)
        ).first()
        if row is not None:
            return RefreshOutcome("ok", row.account_id, row.family_id)
        old = conn.execute(sa.select(rt).where(rt.c.token_hash == token_hash)).first()
        if old is None:
            return RefreshOutcome("invalid")
        if old.used_at is not None:
            conn.execute(
                sa.update(rt)
                .where(rt.c.family_id == old.family_id, rt.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            return RefreshOutcome("reused", old.account_id, old.family_id)
        return RefreshOutcome("invalid", old.account_id, old.family_id)


def revoke_family(engine: Engine, family_id: Any, now: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(refresh_tokens)
            .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )


# -- API keys --------------------------------------------------------------------------------


def create_api_key(
    engine: Engine,
    *,
    key_hash: str,
    key_prefix: str,
    name: str,
    actions: list[str],
    jurisdiction_code: str,
    created_by: str | None,
    key_id: uuid.UUID | None = None,
) -> Any:
    ins = pg_insert(api_keys).values(
        id=key_id or uuid.uuid4(),
        key_hash=key_hash,
        key_prefix=key_prefix,
        name=name,
        actions=actions,
        jurisdiction_code=jurisdiction_code,
        created_by=created_by,
    )
    stmt = ins.on_conflict_do_update(
        index_elements=[api_keys.c.key_hash],
        set_={
            "name": ins.excluded.name,
            "actions": ins.excluded.actions,
            "jurisdiction_code": ins.excluded.jurisdiction_code,
            "revoked_at": None,
        },
    ).returning(api_keys)
    with engine.begin() as conn:
        return conn.execute(stmt).one()


def find_api_key(engine: Engine, key_hash: str) -> Any | None:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(api_keys).where(
                api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None)
            )
        ).first()


def principal_from_api_key(row: Any) -> Principal:
    return Principal(
        account_id=str(row.id),
        role="system",
        display_name=row.name,
        jurisdiction_code=row.jurisdiction_code,
        via="api_key",
        actions=frozenset(row.actions or ()),
    )


# -- audit and unmask logs -------------------------------------------------------------------


def write_audit_rows(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Insert audit rows (actor, method, path, status, trace_id, detail) in one transaction."""
    if not rows:
        return
    values = [
        {
            "actor": r["actor"][:64],
            "method": r["method"][:8],
            "path": r["path"][:300],
            "status": r["status"],
            "trace_id": r["trace_id"],
            "detail": r["detail"],
        }
        for r in rows
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(audit_log), values)


def write_unmask(
    engine: Engine,
    *,
    principal: Principal,
    subject_type: str,
    subject_id: str,
    fields: list[str],
    reason: str | None,
    trace_id: str | None,
) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(unmask_log).values(
                account_id=principal.audit_name()[:64],
                role=principal.role,
                subject_type=subject_type[:32],
                subject_id=subject_id[:64],
                fields=fields,
                reason=(reason or None) and reason[:200],
                trace_id=trace_id,
            )
        )
