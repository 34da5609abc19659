"""HTTP endpoints: /api/v1/auth, /api/v1/staff, /api/v1/teams, /api/v1/api-keys."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from kefu.core.auth import CurrentStaff, DbSession, Principal, public, require
from kefu.core.errors import AuthFailed, NotFound, PermissionDenied
from kefu.core.ids import RowId
from kefu.core.permissions import Permission
from kefu.staff import auth, service
from kefu.staff import repository as repo
from kefu.staff.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    MeOut,
    PasswordChange,
    PasswordReset,
    RevealOut,
    RevealRequest,
    StaffCreate,
    StaffOut,
    StaffPage,
    StaffUpdate,
    StatusChange,
    TeamIn,
    TeamOut,
    TeamUpdate,
    TokenRequest,
    TokenResponse,
    TotpCode,
    TotpSetupOut,
)

router = APIRouter(prefix="/api/v1")


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post("/auth/token", response_model=TokenResponse, tags=["auth"], dependencies=[public()])
async def issue_token(body: TokenRequest, request: Request, db: DbSession) -> TokenResponse:
    """Sign in with staff number and password (and ``totp`` when two-factor is on); returns a bearer token."""
    result = await auth.check_password(db, staff_no=body.username, password=body.password, totp=body.totp)
    if result.needs_enrolment:
        raise AuthFailed(
            "Your role requires two-factor sign-in. Set it up once on the web login page, then try again.",
            code="totp_enrolment_required",
        )
    if result.needs_totp:
        raise AuthFailed("Send the current two-factor code in 'totp'.", code="totp_required")
    token, row = await auth.start_session(
        db, staff=result.staff, kind="api", client_addr=_client(request), user_agent=request.headers.get("user-agent")
    )
    return TokenResponse(access_token=token, expires_at=row.expires_at)


@router.post("/auth/logout", status_code=204, tags=["auth"])
async def logout(principal: CurrentStaff, db: DbSession) -> Response:
    """End the current session or token."""
    await auth.end_session(db, principal=principal)
    return Response(status_code=204)


@router.get("/staff/me", response_model=MeOut, tags=["staff"])
async def me(principal: CurrentStaff, db: DbSession) -> MeOut:
    s = await repo.get_staff(db, principal.staff_id)
    if s is None:
        raise NotFound("Your account no longer exists.")
    return MeOut(
        **service.masked_view(s),
        permissions=sorted(p.value for p in principal.permissions),
        locale=s.locale,
        must_change_password=s.must_change_password,
        auth_kind=principal.kind,
    )


@router.post("/staff/me/password", status_code=204, tags=["staff"])
async def change_password(
    body: PasswordChange, db: DbSession, principal: Annotated[Principal, require(Permission.SELF_MANAGE)]
) -> Response:
    await auth.change_own_password(db, principal=principal, current=body.current_password, new=body.new_password)
    return Response(status_code=204)


@router.post("/staff/me/totp/setup", response_model=TotpSetupOut, tags=["staff"])
async def totp_setup(db: DbSession, principal: Annotated[Principal, require(Permission.SELF_MANAGE)]) -> TotpSetupOut:
    """Start two-factor enrolment: scan the URI with an authenticator app, then confirm a code."""
    s = await repo.get_staff(db, principal.staff_id)
    assert s is not None  # noqa: S101
    secret, uri = await auth.begin_enrolment(db, staff=s)
    return TotpSetupOut(secret=secret, otpauth_uri=uri)


@router.post("/staff/me/totp/confirm", status_code=204, tags=["staff"])
async def totp_confirm(
    body: TotpCode, db: DbSession, principal: Annotated[Principal, require(Permission.SELF_MANAGE)]
) -> Response:
    s = await repo.get_staff(db, principal.staff_id)
    assert s is not None  # noqa: S101
    await auth.confirm_enrolment(db, staff=s, code=body.code)
    return Response(status_code=204)


@router.get("/staff", response_model=StaffPage, tags=["staff"])
async def list_staff(
    db: DbSession,
    principal: Annotated[Principal, require(Permission.STAFF_READ)],
    q: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(pattern="^(active|suspended|left)$")] = None,
    team_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    role: Annotated[str | None, Query(max_length=30)] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> StaffPage:
    rows, total = await repo.list_staff(
        db, principal=principal, q=q, status=status, team_id=team_id, role=role, offset=offset, limit=limit
    )
    return StaffPage(items=[StaffOut(**service.masked_view(s)) for s in rows], total=total, offset=offset, limit=limit)


@router.post("/staff", response_model=StaffOut, status_code=201, tags=["staff"])
async def create_staff(
    body: StaffCreate, db: DbSession, principal: Annotated[Principal, require(Permission.STAFF_MANAGE)]
) -> StaffOut:
    s = await service.create_staff(db, **body.model_dump())
    return StaffOut(**service.masked_view(s))


@router.get("/staff/{staff_id}", response_model=StaffOut, tags=["staff"])
async def get_staff(
    staff_id: RowId, db: DbSession, principal: Annotated[Principal, require(Permission.STAFF_READ)]
) -> StaffOut:
    s = await repo.get_staff(db, staff_id, principal=principal)
    if s is None:
        raise NotFound(f"No staff member {staff_id} that you can see.")
    return StaffOut(**service.masked_view(s))


@router.patch("/staff/{staff_id}", response_model=StaffOut, tags=["staff"])
async def update_staff(
    staff_id: RowId, body: StaffUpdate, db: DbSession, principal: Annotated[Principal, require(Permission.STAFF_MANAGE)]
) -> StaffOut:
    s = await service.update_staff(db, actor=principal, staff_id=staff_id, **body.model_dump(exclude_unset=True))
    return StaffOut(**service.masked_view(s))


@router.post("/staff/{staff_id}/status", response_model=StaffOut, tags=["staff"])
async def change_status(
    staff_id: RowId,
    body: StatusChange,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.STAFF_MANAGE)],
) -> StaffOut:
    """Suspend, mark as left, or reactivate. Leaving or suspension ends every session, token and key at once."""
    s = await service.set_status(db, actor=principal, staff_id=staff_id, status=body.status, reason=body.reason)
    return StaffOut(**service.masked_view(s))


@router.post("/staff/{staff_id}/password-reset", response_model=PasswordReset, tags=["staff"])
async def reset_password(
    staff_id: RowId, db: DbSession, principal: Annotated[Principal, require(Permission.STAFF_MANAGE)]
) -> PasswordReset:
    _, temp = await service.reset_password(db, actor=principal, staff_id=staff_id)
    return PasswordReset(temporary_password=temp)


@router.post("/staff/{staff_id}/totp-reset", response_model=StaffOut, tags=["staff"])
async def reset_totp(
    staff_id: RowId, db: DbSession, principal: Annotated[Principal, require(Permission.STAFF_MANAGE)]
) -> StaffOut:
    s = await service.reset_two_factor(db, actor=principal, staff_id=staff_id)
    return StaffOut(**service.masked_view(s))


@router.post("/staff/{staff_id}/reveal", response_model=RevealOut, tags=["staff"])
async def reveal(
    staff_id: RowId,
    body: RevealRequest,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.STAFF_REVEAL)],
) -> RevealOut:
    """Show one personal field in clear; the purpose is written to the audit log."""
    value = await service.reveal(db, actor=principal, staff_id=staff_id, field=body.field, purpose=body.purpose)
    return RevealOut(field=body.field, value=value)


@router.get("/teams", response_model=list[TeamOut], tags=["teams"])
async def list_teams(db: DbSession, principal: Annotated[Principal, require(Permission.TEAM_READ)]) -> list[TeamOut]:
    return [TeamOut.model_validate(t) for t in await repo.list_teams(db)]


@router.post("/teams", response_model=TeamOut, status_code=201, tags=["teams"])
async def create_team(
    body: TeamIn, db: DbSession, principal: Annotated[Principal, require(Permission.TEAM_MANAGE)]
) -> TeamOut:
    return TeamOut.model_validate(await service.create_team(db, **body.model_dump()))


@router.patch("/teams/{team_id}", response_model=TeamOut, tags=["teams"])
async def update_team(
    team_id: RowId, body: TeamUpdate, db: DbSession, principal: Annotated[Principal, require(Permission.TEAM_MANAGE)]
) -> TeamOut:
    return TeamOut.model_validate(await service.update_team(db, team_id=team_id, **body.model_dump()))


def _key_out(k: object) -> dict[str, object]:
    d = {c: getattr(k, c) for c in ("id", "name", "prefix", "owner_id", "created_at", "expires_at",
                                     "last_used_at", "revoked_at")}  # fmt: skip
    d["scopes"] = json.loads(k.scopes)  # type: ignore[attr-defined]
    return d


@router.get("/api-keys", response_model=list[ApiKeyOut], tags=["api-keys"])
async def list_keys(
    db: DbSession, principal: Annotated[Principal, require(Permission.APIKEY_MANAGE)]
) -> list[ApiKeyOut]:
    return [ApiKeyOut(**_key_out(k)) for k in await repo.api_keys_of(db)]


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201, tags=["api-keys"])
async def create_key(
    body: ApiKeyIn, db: DbSession, principal: Annotated[Principal, require(Permission.APIKEY_MANAGE)]
) -> ApiKeyCreated:
    """Create a key for an integration (e.g. the telephony system). The key is shown only in this answer."""
    if principal.kind == "apikey":
        raise PermissionDenied("An API key cannot create other API keys.")
    token, key = await auth.create_api_key(
        db, actor=principal, name=body.name, scopes=body.scopes, expires_days=body.expires_days
    )
    return ApiKeyCreated(**_key_out(key), key=token)


@router.delete("/api-keys/{key_id}", status_code=204, tags=["api-keys"])
async def revoke_key(
    key_id: RowId, db: DbSession, principal: Annotated[Principal, require(Permission.APIKEY_MANAGE)]
) -> Response:
    await auth.revoke_api_key(db, key_id=key_id)
    return Response(status_code=204)
