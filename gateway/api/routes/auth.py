"""Sign-in (password or phone + one-time code), token refresh, sign-out, who am I."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from gateway.security import ALL_ROLES, ROLES, Principal, remember, require
from gateway.security.policy import authenticator

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

POLICY = {
    "auth.me": set(ALL_ROLES),
    "auth.logout": set(ROLES),
}

PHONE = r"^1[3-9][0-9]{9}$"


class LoginIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"username": "demo_street", "password": "yiwang-demo"}]},
    )
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class OtpRequestIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"phone": "13800000001"}]}
    )
    phone: str = Field(pattern=PHONE)


class OtpVerifyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"phone": "13800000001", "code": "123456"}]}
    )
    phone: str = Field(pattern=PHONE)
    code: str = Field(pattern=r"^[0-9]{6}$")


class RefreshIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"refresh_token": "rt_4f9c2b7e1a8d4c6f9e0b3a5d7c1e2f48"}]},
    )
    refresh_token: str = Field(min_length=10, max_length=200)


class AccountOut(BaseModel):
    account_id: str
    role: str
    display_name: str
    jurisdiction_code: str
    department: str | None = None
    enterprise_id: str | None = None
    institution_id: str | None = None
    person_id: str | None = None
    can_unmask: bool = False
    via: str = "token"
    actions: list[str] = Field(default_factory=list)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    account: AccountOut


class OtpSent(BaseModel):
    sent: bool = True
    expires_in: int
    resend_in: int


def _signed_in(request: Request, pair: Any) -> dict[str, Any]:
    remember(request, pair.principal)
    return pair.as_dict()  # type: ignore[no-any-return]


@router.post("/login", response_model=TokenOut, summary="Sign in with username and password")
async def login(body: LoginIn, request: Request) -> dict[str, Any]:
    client = request.client.host if request.client else "unknown"
    pair = await authenticator(request).login(body.username, body.password, client)
    return _signed_in(request, pair)


@router.post(
    "/otp/request",
    status_code=202,
    response_model=OtpSent,
    summary="Send a one-time code to a phone (demo: written to the log)",
)
async def otp_request(body: OtpRequestIn, request: Request) -> dict[str, Any]:
    return {"sent": True, **await authenticator(request).request_otp(body.phone)}


@router.post(
    "/otp/verify",
    response_model=TokenOut,
    summary="Sign in with phone and one-time code (citizens are registered on first use)",
)
async def otp_verify(body: OtpVerifyIn, request: Request) -> dict[str, Any]:
    pair = await authenticator(request).verify_otp(body.phone, body.code)
    return _signed_in(request, pair)


@router.post(
    "/refresh",
    response_model=TokenOut,
    summary="Exchange a refresh token for a new pair (rotating; reuse revokes all)",
)
async def refresh(body: RefreshIn, request: Request) -> dict[str, Any]:
    pair = await authenticator(request).refresh(body.refresh_token)
    return _signed_in(request, pair)


@router.post(
    "/logout",
    status_code=204,
    response_class=Response,
    summary="Sign out: revoke this access token and its refresh tokens",
)
async def logout(
    request: Request, who: Annotated[Principal, Depends(require("auth.logout"))]
) -> Response:
    await authenticator(request).logout(who)
    return Response(status_code=204)


@router.get("/me", response_model=AccountOut, summary="The signed-in account")
async def me(who: Annotated[Principal, Depends(require("auth.me"))]) -> dict[str, Any]:
    return who.as_dict()
