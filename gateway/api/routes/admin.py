"""Administration of accounts and service API keys (admin only)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.api.params import Jurisdiction
from gateway.security import ROLES, Principal, require, store
from gateway.security import credentials as cred
from gateway.security.principal import STAFF_CODE_LENGTH
from yiwang.errors import ValidationFailed

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])

POLICY = {
    "account.create": {"admin"},
    "account.list": {"admin"},
    "api_key.create": {"admin"},
}

CODE = r"^([0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15}|[0-9]{18})?$"


class AccountIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "username": "wang_street",
                    "password": "a-long-passphrase",
                    "display_name": "王干事",
                    "role": "street_staff",
                    "jurisdiction_code": "329901001",
                }
            ]
        },
    )
    username: str | None = Field(default=None, pattern=r"^[a-z0-9_.-]{3,64}$")
    phone: str | None = Field(default=None, pattern=r"^1[3-9][0-9]{9}$")
    password: str | None = Field(default=None, min_length=10, max_length=256)
    display_name: str = Field(min_length=1, max_length=64)
    role: str = Field(max_length=32)
    jurisdiction_code: str = Field(default="", pattern=CODE)
    department: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9_.-]+$")
    enterprise_id: str | None = Field(default=None, max_length=64)
    institution_id: str | None = Field(default=None, max_length=64)
    person_id: str | None = Field(default=None, max_length=64)
    can_unmask: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> AccountIn:
        def bad(code: str, en: str, zh: str) -> ValueError:
            return ValueError(f"{code}: {en} / {zh}")

        if self.role not in ROLES:
            raise bad("unknown_role", f"unknown role {self.role!r}", "未知角色")
        if not self.username and not self.phone:
            raise bad("login_required", "username or phone is required", "需要用户名或手机号")
        if self.username and not self.password:
            raise bad("password_required", "a password is required with a username", "需要密码")
        need = STAFF_CODE_LENGTH.get(self.role)
        if need is not None and len(self.jurisdiction_code) != need:
            raise bad(
                "wrong_unit_level",
                f"{self.role} must be bound to a {need}-digit code",
                f"该角色须绑定 {need} 位编码",
            )
        if self.role in ("leader", "department_handler") and not self.jurisdiction_code:
            raise bad("unit_required", "this role must be bound to a unit", "该角色须绑定单位")
        if self.role == "department_handler" and not self.department:
            raise bad(
                "department_required",
                "department handlers need a department",
                "部门经办人须指定部门",
            )
        if self.role == "enterprise_user" and not self.enterprise_id:
            raise bad("enterprise_required", "enterprise users need enterprise_id", "需要企业")
        if self.role == "institution_user" and not self.institution_id:
            raise bad("institution_required", "institution users need institution_id", "需要机构")
        if self.can_unmask and self.role in (
            "citizen",
            "volunteer",
            "enterprise_user",
            "institution_user",
        ):
            raise bad(
                "unmask_not_for_role",
                "this role cannot be allowed to unmask",
                "该角色不能查看未脱敏信息",
            )
        return self


class AccountOut(BaseModel):
    id: str
    username: str | None
    phone: str | None
    display_name: str
    role: str
    jurisdiction_code: str
    department: str | None
    enterprise_id: str | None
    institution_id: str | None
    person_id: str | None
    can_unmask: bool
    active: bool
    created_at: str | None


class AccountPage(BaseModel):
    items: list[AccountOut]
    total: int
    page: int
    page_size: int


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Open311 client", "actions": ["reports.*"], "jurisdiction_code": "3299"}
            ]
        },
    )
    name: str = Field(min_length=1, max_length=100)
    actions: list[str] = Field(min_length=1, max_length=50)
    jurisdiction_code: str = Field(default="", pattern=CODE)


class ApiKeyOut(BaseModel):
    id: str
    name: str
    key: str = Field(description="Shown once; only its hash is stored.")
    key_prefix: str
    actions: list[str]
    jurisdiction_code: str


@router.post(
    "/accounts",
    status_code=201,
    response_model=AccountOut,
    summary="Create an account bound to a unit",
)
async def create_account(
    body: AccountIn,
    request: Request,
    who: Annotated[Principal, Depends(require("account.create"))],
) -> dict[str, Any]:
    who.check_jurisdiction(body.jurisdiction_code)
    values = body.model_dump(exclude={"password"})
    if body.password:
        values["password_hash"] = await asyncio.to_thread(cred.hash_password, body.password)
    engine = request.app.state.resources.engine
    row = await asyncio.to_thread(lambda: store.create_account(engine, **values))
    return store.account_to_dict(row)


@router.get("/accounts", response_model=AccountPage, summary="Accounts, filtered and paged")
async def list_accounts(
    request: Request,
    who: Annotated[Principal, Depends(require("account.list"))],
    role: Annotated[
        str | None,
        Query(
            max_length=32,
            description="Only accounts with this role (角色), e.g. grid_worker (网格员), "
            "community_staff, street_staff, department_handler, leader.",
            examples=["grid_worker"],
        ),
    ] = None,
    jurisdiction: Jurisdiction = "",
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    prefix = who.jurisdiction_prefix(jurisdiction)
    engine = request.app.state.resources.engine
    rows, total = await asyncio.to_thread(
        lambda: store.list_accounts(
            engine, role=role, prefix=prefix, page=page, page_size=page_size
        )
    )
    return {
        "items": [store.account_to_dict(r) for r in rows],
        "total": total,
        "page": page,
        "page_size": page_size,
    }


@router.post(
    "/api-keys",
    status_code=201,
    response_model=ApiKeyOut,
    summary="Create a service API key (role system) for another system",
)
async def create_api_key(
    body: ApiKeyIn,
    request: Request,
    who: Annotated[Principal, Depends(require("api_key.create"))],
) -> dict[str, Any]:
    who.check_jurisdiction(body.jurisdiction_code)
    policy = request.app.state.policy
    unknown = [a for a in body.actions if not policy.matches_any(a)]
    if unknown:
        raise ValidationFailed(
            "unknown_action",
            f"Unknown actions: {', '.join(unknown)}",
            f"未知操作：{'、'.join(unknown)}",
            actions=unknown,
        )
    key = cred.new_api_key()
    engine = request.app.state.resources.engine
    row = await asyncio.to_thread(
        lambda: store.create_api_key(
            engine,
            key_hash=cred.sha256_hex(key),
            key_prefix=key[:10],
            name=body.name,
            actions=sorted(set(body.actions)),
            jurisdiction_code=body.jurisdiction_code,
            created_by=who.account_id,
        )
    )
    return {
        "id": str(row.id),
        "name": row.name,
        "key": key,
        "key_prefix": row.key_prefix,
        "actions": list(row.actions),
        "jurisdiction_code": row.jurisdiction_code,
    }
