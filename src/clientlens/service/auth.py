"""Users, API tokens, browser sessions, login throttling and the audit log."""

from __future__ import annotations

import json
import logging
import secrets
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from clientlens.errors import ConfigError, NotFoundError
from clientlens.service.config import WebSettings
from clientlens.service.security import (
    ROLES,
    Principal,
    hash_password,
    new_token,
    token_digest,
    verify_password,
)
from clientlens.store import auth_models as am
from clientlens.store.db import session_scope
from clientlens.store.repository import utcnow

log = logging.getLogger(__name__)


class ThrottledError(Exception):
    """Too many failed logins for this name or address; retry after the window."""


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return role


def audit(session: Session, actor: str, action: str, *, target: str | None = None,
          shop: str | None = None, detail: dict[str, Any] | None = None) -> None:
    """Record one audited event (login, export, erasure, merge, role change...)."""
    session.add(am.AuditEvent(at=utcnow(), actor=actor, action=action, target=target, shop=shop,
                              detail=json.dumps(detail, default=str) if detail else None))


def add_user(session: Session, name: str, role: str, password: str, *, actor: str = "cli",
             language: str | None = None) -> am.User:
    """Create a user (or reset the password and role of an existing one)."""
    check_role(role)
    if not name.strip():
        raise ConfigError("user name must not be empty")
    if len(password) < 8:
        raise ConfigError("password must have at least 8 characters")
    user = session.scalar(select(am.User).where(am.User.name == name))
    if user is None:
        user = am.User(name=name, role=role, password_hash=hash_password(password), active=True,
                       created_at=utcnow(), language=language)
        session.add(user)
        audit(session, actor, "user_created", target=name, detail={"role": role})
    else:
        if user.role != role:
            audit(session, actor, "role_changed", target=name, detail={"from": user.role, "to": role})
        user.role = role
        user.password_hash = hash_password(password)
        user.active = True
    session.flush()
    return user


def set_role(session: Session, name: str, role: str, *, actor: str) -> am.User:
    """Change a user's role (audited)."""
    check_role(role)
    user = session.scalar(select(am.User).where(am.User.name == name))
    if user is None:
        raise NotFoundError(f"user {name!r} does not exist")
    if user.role != role:
        audit(session, actor, "role_changed", target=name, detail={"from": user.role, "to": role})
        user.role = role
    return user


def create_token(session: Session, name: str, role: str, *, actor: str = "cli") -> str:
    """A new API token for ``name`` with ``role``; the secret is returned once and only hashed."""
    check_role(role)
    token = new_token("cl_")
    session.add(am.ApiToken(name=name, role=role, token_hash=token_digest(token), prefix=token[:10],
                            created_at=utcnow()))
    audit(session, actor, "token_created", target=name, detail={"role": role})
    return token


def revoke_token(session: Session, token_id: int, *, actor: str) -> None:
    tok = session.get(am.ApiToken, token_id)
    if tok is None:
        raise NotFoundError(f"API token {token_id} does not exist")
    tok.revoked_at = utcnow()
    audit(session, actor, "token_revoked", target=tok.name)
    forget_tokens()


# token digest -> (monotonic time of the lookup, principal or None); see principal_from_token.
_TOKENS: dict[tuple[str, str], tuple[float, Principal | None]] = {}
TOKEN_CACHE_SECONDS = 5.0
_TOKEN_CACHE_MAX = 10_000


def forget_tokens() -> None:
    """Drop the token cache (after a revocation, so it takes effect at once in this process)."""
    _TOKENS.clear()


NOT_CACHED = Principal(name="", role="", kind="none")  # cached_principal's "ask the store"


def cached_principal(session: Session, token: str, *, cache_seconds: float = TOKEN_CACHE_SECONDS) -> Principal | None:
    """The cached answer of ``principal_from_token`` (no I/O), or ``NOT_CACHED``."""
    hit = _TOKENS.get((str(getattr(session.get_bind(), "url", "")), token_digest(token)))
    if hit is not None and time.monotonic() - hit[0] < cache_seconds:
        return hit[1]
    return NOT_CACHED


def principal_from_token(session: Session, token: str, *, cache_seconds: float = TOKEN_CACHE_SECONDS) -> Principal | None:
    """The principal of a bearer token, or None for an unknown or revoked one.

    Lookups are cached in the process for ``cache_seconds`` (keyed by the store and the token's
    SHA-256, never the token), valid and invalid answers alike, so an API client does not cost a query per request.
    A revocation through this process (API or web) clears the cache at once; one made by another
    process (``clientlens tokens revoke``) takes effect within ``cache_seconds``.
    """
    cached = cached_principal(session, token, cache_seconds=cache_seconds)
    if cached is not NOT_CACHED:
        return cached
    digest = token_digest(token)
    key = (str(getattr(session.get_bind(), "url", "")), digest)
    now = time.monotonic()
    row = session.execute(select(am.ApiToken.name, am.ApiToken.role).where(
        am.ApiToken.token_hash == digest, am.ApiToken.revoked_at.is_(None))).first()
    principal = None if row is None else Principal(name=row.name, role=row.role, kind="token")
    if cache_seconds > 0:
        if len(_TOKENS) >= _TOKEN_CACHE_MAX:
            _TOKENS.clear()
        _TOKENS[key] = (now, principal)
    return principal


def principal_from_session(session: Session, cookie: str) -> Principal | None:
    row = session.execute(
        select(am.WebSession, am.User).join(am.User, am.User.id == am.WebSession.user_id)
        .where(am.WebSession.token_hash == token_digest(cookie), am.WebSession.expires_at > utcnow(),
               am.User.active.is_(True))
    ).first()
    if row is None:
        return None
    ws, user = row
    return Principal(name=user.name, role=user.role, kind="user", user_id=user.id, csrf_token=ws.csrf_token,
                     language=user.language)


def _recent_failures(session: Session, field: Any, value: str, since: Any) -> int:
    return session.scalar(select(func.count()).select_from(am.LoginAttempt)
                          .where(field == value, am.LoginAttempt.at >= since,
                                 am.LoginAttempt.success.is_(False))) or 0


def login(engine: Engine, cfg: WebSettings, name: str, password: str, ip: str) -> tuple[str, Principal] | None:
    """Check a password; on success a new session cookie value and the principal, else None.

    Raises ThrottledError when the name or address has too many recent failures.
    """
    now = utcnow()
    since = now - timedelta(minutes=cfg.login_window_minutes)
    with session_scope(engine) as s:
        throttled = (_recent_failures(s, am.LoginAttempt.username, name, since) >= cfg.login_max_failures
                     or _recent_failures(s, am.LoginAttempt.ip, ip, since) >= cfg.login_max_failures)
        if throttled:
            audit(s, f"user:{name}", "login_throttled", detail={"ip": ip})
    if throttled:
        raise ThrottledError(name)
    with session_scope(engine) as s:
        user = s.scalar(select(am.User).where(am.User.name == name, am.User.active.is_(True)))
        ok = user is not None and verify_password(user.password_hash, password)
        s.add(am.LoginAttempt(username=name[:100], ip=ip[:64], at=now, success=ok))
        audit(s, f"user:{name}", "login" if ok else "login_failed", detail={"ip": ip})
        if not ok or user is None:
            return None
        cookie = new_token()
        csrf = secrets.token_urlsafe(24)
        s.add(am.WebSession(token_hash=token_digest(cookie), user_id=user.id, csrf_token=csrf, created_at=now,
                            expires_at=now + timedelta(hours=cfg.session_hours)))
        user.last_login_at = now
        return cookie, Principal(name=user.name, role=user.role, kind="user", user_id=user.id,
                                 csrf_token=csrf, language=user.language)


def logout(engine: Engine, cookie: str) -> None:
    with session_scope(engine) as s:
        ws = s.scalar(select(am.WebSession).where(am.WebSession.token_hash == token_digest(cookie)))
        if ws is not None:
            s.delete(ws)


def set_language(session: Session, user_id: int, language: str) -> None:
    user = session.get(am.User, user_id)
    if user is not None:
        user.language = language


def create_admin_with_random_password(engine: Engine, name: str = "admin") -> str:
    """Create (or reset) an admin user with a random password and return the password.

    ``clientlens demo`` calls this and prints the password once; it is stored only as a hash.
    """
    password = secrets.token_urlsafe(12)
    with session_scope(engine) as s:
        add_user(s, name, "admin", password, actor="demo")
    return password


def list_users(session: Session) -> list[am.User]:
    """Every user, by name (the admin page, ``GET /admin/users``, ``clientlens users list``)."""
    return list(session.scalars(select(am.User).order_by(am.User.name)))


def list_tokens(session: Session) -> list[am.ApiToken]:
    """Every API token (revoked ones included), oldest first."""
    return list(session.scalars(select(am.ApiToken).order_by(am.ApiToken.id)))


def audit_events(session: Session, *, action: str | None = None, limit: int = 200,
                 offset: int = 0) -> tuple[int, list[am.AuditEvent]]:
    """(how many audit events there are, one page of them, newest first), of one ``action`` if given."""
    query = select(am.AuditEvent)
    if action:
        query = query.where(am.AuditEvent.action == action)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(am.AuditEvent.at.desc(), am.AuditEvent.id.desc()).offset(offset).limit(limit))
    return int(count), list(rows)
