"""Users, API tokens, browser sessions, login throttling and the audit log."""

from __future__ import annotations

import ipaddress
import json
import logging
import secrets
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, delete, func, select, text
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


# pg_advisory_xact_lock key serialising the reservation of login attempts ("clogin" in ASCII).
LOGIN_LOCK_KEY = 0x636C6F67696E


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
        if role != "admin":
            _keep_an_admin(session, user)
        user.role = role
        user.password_hash = hash_password(password)
        user.active = True
        ended = end_sessions(session, user.id)
        audit(session, actor, "password_changed", target=name, detail={"sessions_ended": ended})
    session.flush()
    return user


def set_role(session: Session, name: str, role: str, *, actor: str) -> am.User:
    """Change a user's role (audited)."""
    check_role(role)
    user = _get_user(session, name)
    if user.role != role:
        if role != "admin":
            _keep_an_admin(session, user)
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


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: Sequence[str]) -> str:
    """The client's address: the peer's, unless the peer is one of ``trusted_proxies`` (addresses or
    networks, ``[web] trusted_proxies``); then the right-most ``X-Forwarded-For`` entry that is not a
    trusted proxy. A header from any other peer is ignored (anyone can write one).

    >>> client_address("10.0.0.5", "6.6.6.6", ["127.0.0.1"])
    '10.0.0.5'
    >>> client_address("127.0.0.1", "6.6.6.6, 203.0.113.7", ["127.0.0.1"])
    '203.0.113.7'
    """
    nets = _networks(tuple(trusted_proxies))

    def trusted(addr: str) -> bool:
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            return False
        return any(ip in net for net in nets)

    addr = peer or "unknown"
    if not forwarded_for or not trusted(addr):
        return addr
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not trusted(hop):
            return hop[:64]
        addr = hop
    return addr


@lru_cache(maxsize=16)
def _networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    out = []
    for entry in entries:
        try:
            out.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ConfigError(f"[web] trusted_proxies: {entry!r} is not an address or network ({exc})") from exc
    return tuple(out)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """An argon2 hash of a random secret: an unknown user's password is verified against it, so a
    login takes as long whether the name exists or not (user names cannot be discovered by timing)."""
    return hash_password(secrets.token_urlsafe(16))


def _lock_logins(s: Session) -> None:
    """Serialise the reservation of login attempts (a short transaction; verifying runs outside it):
    BEGIN IMMEDIATE on SQLite, a transaction-level advisory lock on PostgreSQL."""
    if s.get_bind().dialect.name == "sqlite":
        conn = s.connection()
        if not getattr(conn.connection.driver_connection, "in_transaction", False):  # a shared in-memory store
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOGIN_LOCK_KEY})


def _failures(s: Session, since: datetime, *conditions: Any) -> int:
    return s.scalar(select(func.count()).select_from(am.LoginAttempt).where(
        am.LoginAttempt.at >= since, am.LoginAttempt.success.is_(False), *conditions)) or 0


def _reserve_attempt(engine: Engine, cfg: WebSettings, name: str, ip: str, now: datetime) -> int | None:
    """Count the recent failures and record this attempt (as failed until proven right) in one
    serialised transaction; None when the limit is reached (nothing recorded then but the audit)."""
    window = now - timedelta(minutes=cfg.login_window_minutes)
    with Session(engine, expire_on_commit=False) as s:
        try:
            _lock_logins(s)
            last_ok = s.scalar(select(func.max(am.LoginAttempt.at)).where(
                am.LoginAttempt.username == name, am.LoginAttempt.ip == ip, am.LoginAttempt.success.is_(True)))
            since = max(window, last_ok) if last_ok is not None else window
            throttled = (_failures(s, since, am.LoginAttempt.username == name, am.LoginAttempt.ip == ip)
                         >= cfg.login_max_failures
                         or _failures(s, window, am.LoginAttempt.ip == ip) >= cfg.login_max_failures_per_address)
            if throttled:
                audit(s, f"user:{name}", "login_throttled", detail={"ip": ip})
                s.commit()
                return None
            attempt = am.LoginAttempt(username=name, ip=ip, at=now, success=False)
            s.add(attempt)
            s.commit()
            return attempt.id
        except BaseException:
            s.rollback()
            raise


def login(engine: Engine, cfg: WebSettings, name: str, password: str, ip: str) -> tuple[str, Principal] | None:
    """Check a password; on success a new session cookie value and the principal, else None.

    Throttling is per client and account (``login_max_failures`` failures of this name from this
    address within the window; a stranger elsewhere cannot lock the account out) and per address
    (``login_max_failures_per_address`` failures of any names). The attempt is counted before the
    password is verified, in one serialised transaction, so concurrent attempts cannot get past the
    limit. An unknown user costs the same argon2 verification as a known one.
    Raises ThrottledError when the limit is reached.
    """
    now = utcnow()
    name, ip = name[:100], ip[:64]
    attempt_id = _reserve_attempt(engine, cfg, name, ip, now)
    if attempt_id is None:
        raise ThrottledError(name)
    with session_scope(engine) as s:
        user = s.scalar(select(am.User).where(am.User.name == name, am.User.active.is_(True)))
        ok = verify_password(user.password_hash if user is not None else _dummy_hash(), password) and user is not None
        audit(s, f"user:{name}", "login" if ok else "login_failed", detail={"ip": ip})
        if not ok or user is None:
            return None
        attempt = s.get(am.LoginAttempt, attempt_id)
        if attempt is not None:
            attempt.success = True
        cookie = new_token()
        csrf = secrets.token_urlsafe(24)
        s.add(am.WebSession(token_hash=token_digest(cookie), user_id=user.id, csrf_token=csrf, created_at=now,
                            expires_at=now + timedelta(hours=cfg.session_hours)))
        user.last_login_at = now
        return cookie, Principal(name=user.name, role=user.role, kind="user", user_id=user.id,
                                 csrf_token=csrf, language=user.language)


def end_sessions(session: Session, user_id: int, *, keep_cookie: str | None = None) -> int:
    """End every browser session of a user (but the one of ``keep_cookie``); returns how many."""
    query = delete(am.WebSession).where(am.WebSession.user_id == user_id)
    if keep_cookie:
        query = query.where(am.WebSession.token_hash != token_digest(keep_cookie))
    return session.execute(query).rowcount or 0  # type: ignore[attr-defined]


def set_password(session: Session, name: str, password: str, *, actor: str,
                 keep_cookie: str | None = None) -> am.User:
    """Change or reset a user's password; every other session of the user ends (audited)."""
    if len(password) < 8:
        raise ConfigError("password must have at least 8 characters")
    user = _get_user(session, name)
    user.password_hash = hash_password(password)
    ended = end_sessions(session, user.id, keep_cookie=keep_cookie)
    audit(session, actor, "password_changed", target=name, detail={"sessions_ended": ended})
    session.flush()
    return user


def set_active(session: Session, name: str, active: bool, *, actor: str) -> am.User:
    """(De)activate a user (audited). Either way the user's sessions end, so re-activating never brings
    old sessions back; the last active admin cannot be deactivated."""
    user = _get_user(session, name)
    if user.active == active:
        return user
    if not active:
        _keep_an_admin(session, user)
    user.active = active
    end_sessions(session, user.id)
    audit(session, actor, "user_activated" if active else "user_deactivated", target=name)
    session.flush()
    return user


def _get_user(session: Session, name: str) -> am.User:
    user = session.scalar(select(am.User).where(am.User.name == name))
    if user is None:
        raise NotFoundError(f"user {name!r} does not exist")
    return user


def _keep_an_admin(session: Session, user: am.User) -> None:
    """Refuse a change that would leave no active admin (the last one cannot demote or deactivate itself)."""
    if user.role != "admin" or not user.active:
        return
    others = session.scalar(select(func.count()).select_from(am.User).where(
        am.User.role == "admin", am.User.active.is_(True), am.User.id != user.id)) or 0
    if others == 0:
        raise ConfigError(f"user {user.name!r} is the last active admin; make another user admin first")


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
