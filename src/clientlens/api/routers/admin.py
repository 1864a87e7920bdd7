"""Users, roles, API tokens and the audit log (admins), and ``/me`` (anyone logged in)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select

from clientlens.errors import NotFoundError
from clientlens.http.deps import AuditReader, DbDep, OptionalPrincipal, UserAdmin
from clientlens.http.params import Id, Limit, Offset
from clientlens.service import auth
from clientlens.service import schemas as s
from clientlens.store import auth_models as am

router = APIRouter(tags=["admin"])


def _user(u: am.User) -> s.UserRead:
    return s.UserRead(name=u.name, role=u.role, active=u.active, language=u.language, created_at=u.created_at,
                      last_login_at=u.last_login_at)


@router.get("/me")
def me(principal: OptionalPrincipal) -> dict[str, str]:
    """Who the caller is (401 when anonymous)."""
    if principal is None:
        raise HTTPException(401, "authentication required", headers={"WWW-Authenticate": "Bearer"})
    return {"name": principal.name, "role": principal.role, "kind": principal.kind}


@router.get("/users", response_model=list[s.UserRead])
def list_users(db: DbDep, _: UserAdmin) -> list[s.UserRead]:
    """Every user."""
    return [_user(u) for u in auth.list_users(db)]


@router.post("/users", response_model=s.UserRead, status_code=201)
def create_user(db: DbDep, body: s.UserCreate, who: UserAdmin) -> s.UserRead:
    """Create a user (or reset the password and role of an existing one; audited)."""
    return _user(auth.add_user(db, body.name, body.role, body.password, actor=who.actor))


@router.patch("/users/{name}", response_model=s.UserRead)
def update_user(db: DbDep, name: str, body: s.UserUpdate, who: UserAdmin) -> s.UserRead:
    """Change a user's role (audited) or (de)activate them."""
    user = db.scalar(select(am.User).where(am.User.name == name))
    if user is None:
        raise NotFoundError(f"user {name!r} does not exist")
    if body.role is not None:
        auth.set_role(db, name, body.role, actor=who.actor)
    if body.active is not None:
        auth.set_active(db, name, body.active, actor=who.actor)  # ends the user's sessions; keeps an admin
    return _user(user)


@router.get("/tokens", response_model=list[s.TokenRead])
def list_tokens(db: DbDep, _: UserAdmin) -> list[s.TokenRead]:
    """API tokens (their secrets are never shown again)."""
    return [s.TokenRead(id=t.id, name=t.name, role=t.role, prefix=t.prefix, created_at=t.created_at,
                        revoked_at=t.revoked_at) for t in auth.list_tokens(db)]


@router.post("/tokens", response_model=s.TokenCreated, status_code=201)
def create_token(db: DbDep, body: s.TokenCreate, who: UserAdmin) -> s.TokenCreated:
    """A new bearer token for an integration; the secret is in this response only."""
    token = auth.create_token(db, body.name, body.role, actor=who.actor)
    db.flush()
    t = db.scalar(select(am.ApiToken).where(am.ApiToken.prefix == token[:10]).order_by(am.ApiToken.id.desc()))
    assert t is not None
    return s.TokenCreated(id=t.id, name=t.name, role=t.role, prefix=t.prefix, created_at=t.created_at, token=token)


@router.delete("/tokens/{token_id}", response_model=s.Message)
def revoke_token(db: DbDep, token_id: Id, who: UserAdmin) -> s.Message:
    """Revoke a token (audited)."""
    auth.revoke_token(db, token_id, actor=who.actor)
    db.commit()
    auth.forget_tokens()  # again after the commit: no request can have cached the token as valid meanwhile
    return s.Message(message="revoked")


@router.get("/audit", response_model=s.Page[s.AuditRead])
def audit_log(db: DbDep, _: AuditReader, limit: Limit = 50, offset: Offset = 0,
              action: Annotated[str | None, Query(max_length=50)] = None) -> s.Page[s.AuditRead]:
    """The audit log, newest first."""
    count, rows = auth.audit_events(db, action=action, limit=limit, offset=offset)
    data = [s.AuditRead(at=r.at, actor=r.actor, action=r.action, target=r.target, shop=r.shop,
                        detail=json.loads(r.detail) if r.detail else None) for r in rows]
    return s.AuditPage(data=data, count=count)
