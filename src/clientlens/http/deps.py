"""Annotated dependency aliases shared by the routers: settings, store session, caller, shop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from clientlens.config import Settings
from clientlens.service import auth, customers
from clientlens.service.config import WebSettings
from clientlens.service.security import Principal, same
from clientlens.store import models as m
from clientlens.store.repository import get_shop

SESSION_COOKIE = "clientlens_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# The dependencies that do not touch the store are ``async def``: FastAPI runs every sync dependency
# in its thread pool, and those hand-overs cost more than the work itself (about 0.1 ms each,
# several per request). Whatever may wait for a pooled connection (the store lookups) stays off
# the event loop: in the sync routes, or in the thread pool.


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_web_settings(request: Request) -> WebSettings:
    return request.app.state.web  # type: ignore[no-any-return]


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def _finish(session: Session, failed: bool, *, read_only: bool = False) -> None:
    """End a request's session: commit on success, roll back on failure; a read-only one just closes."""
    try:
        if read_only:
            return  # nothing written: closing returns the connection (rolled back by the pool)
        if failed:
            session.rollback()
        else:
            session.commit()
    finally:
        session.close()


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One store session per request, committed when the route succeeds, rolled back otherwise.

    Opening a session does no I/O. A ``read_only`` route's session is just closed, on the event loop
    (no I/O); every other session is committed or rolled back in the thread pool, so a slow
    database does not hold up other requests.
    """
    endpoint = request.scope.get("endpoint")
    read_only = request.method == "GET" and getattr(endpoint, "clientlens_read_only", False)
    if read_only:
        # Autocommit on PostgreSQL (no BEGIN/COMMIT round trips); the route writes nothing, or
        # writes through a session of its own (``write_session``).
        engine = getattr(request.app.state, "read_engine", request.app.state.engine)
        session = Session(engine, expire_on_commit=False)
        if engine is not request.app.state.engine:
            session.info["clientlens_write_engine"] = request.app.state.engine
    else:
        session = Session(request.app.state.engine, expire_on_commit=False)
    failed = False
    try:
        yield session
    except BaseException:
        failed = True
        raise
    finally:
        if read_only:
            _finish(session, failed, read_only=True)  # no I/O: the connection goes back to the pool
        else:
            await run_in_threadpool(_finish, session, failed)  # COMMIT / ROLLBACK: off the event loop


async def run_read(db: Session, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` for a hot read route: inline on an embedded SQLite store (a local file read
    in well under a millisecond; the hand-over to the thread pool and back costs about as much as the
    work, and under load the two threads queue for the GIL), in the thread pool on a server database
    (its round trips must not hold up the event loop)."""
    if db.get_bind().dialect.name == "sqlite":
        return fn(*args, **kwargs)
    return await run_in_threadpool(fn, *args, **kwargs)


def read_only(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a GET route whose session may run in autocommit (see ``get_db``)."""
    endpoint.clientlens_read_only = True  # type: ignore[attr-defined]
    return endpoint


SettingsDep = Annotated[Settings, Depends(get_settings)]
WebSettingsDep = Annotated[WebSettings, Depends(get_web_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
DbDep = Annotated[Session, Depends(get_db, scope="function")]


async def optional_principal(request: Request, db: DbDep) -> Principal | None:
    """The caller from ``Authorization: Bearer`` or the session cookie; None when anonymous.

    A cookie-authenticated request that changes something must carry the session's CSRF token
    (header ``X-CSRF-Token`` or form field ``csrf_token``, checked by the web pages).
    """
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
        principal = auth.cached_principal(db, token)
        if principal is auth.NOT_CACHED:
            principal = await run_in_threadpool(auth.principal_from_token, db, token)
        if principal is None:
            raise HTTPException(401, "invalid or revoked API token", headers={"WWW-Authenticate": "Bearer"})
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    principal = await run_in_threadpool(auth.principal_from_session, db, cookie)
    if principal is not None and request.method not in SAFE_METHODS and request.url.path.startswith("/api/"):
        if not same(request.headers.get(CSRF_HEADER), principal.csrf_token):
            raise HTTPException(403, "missing or wrong CSRF token (send the X-CSRF-Token header)")
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def require(permission: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through callers whose role grants ``permission`` (401 / 403 otherwise)."""

    async def dependency(principal: OptionalPrincipal) -> Principal:
        if principal is None:
            raise HTTPException(401, "authentication required (log in or send a bearer token)",
                                headers={"WWW-Authenticate": "Bearer"})
        if not principal.can(permission):
            raise HTTPException(403, f"role {principal.role!r} may not do this (needs {permission})")
        return principal

    dependency.__name__ = f"require_{permission.replace('.', '_')}"
    return dependency


def shop_of(db: DbDep, shop: Annotated[str, Path(min_length=1, max_length=100, description="shop name")]) -> m.Shop:
    """The shop named in the path (404 naming the existing shops otherwise)."""
    return get_shop(db, shop)


ShopDep = Annotated[m.Shop, Depends(shop_of)]


@dataclass(frozen=True)
class ShopRef:
    """A shop's id and name: what the hot read routes (customer list, 360) need of it."""

    id: int
    name: str


def shop_ref(db: Session, name: str) -> ShopRef:
    """``shop_of`` for the hot routes: one Core lookup (no ORM object); the same 404 otherwise.

    Called inside the (sync) route, not as a dependency: a dependency runs on the event loop,
    and waiting there for a pooled connection would stall every request under load.
    """
    return ShopRef(customers.shop_ids(db, name)[0], name)


ShopName = Annotated[str, Path(min_length=1, max_length=100, description="shop name")]


Reader = Annotated[Principal, Depends(require("customers.read"))]
ShopReader = Annotated[Principal, Depends(require("shops.read"))]
Analyst = Annotated[Principal, Depends(require("analytics.read"))]
Exporter = Annotated[Principal, Depends(require("segments.export"))]
ConversationWriter = Annotated[Principal, Depends(require("conversations.write"))]
CampaignReader = Annotated[Principal, Depends(require("campaigns.read"))]
CampaignWriter = Annotated[Principal, Depends(require("campaigns.write"))]
Importer = Annotated[Principal, Depends(require("imports.write"))]
MergeReader = Annotated[Principal, Depends(require("merges.read"))]
MergeWriter = Annotated[Principal, Depends(require("merges.write"))]
PrivacyOfficer = Annotated[Principal, Depends(require("privacy"))]
SnapshotAdmin = Annotated[Principal, Depends(require("snapshots.delete"))]
UserAdmin = Annotated[Principal, Depends(require("users.admin"))]
AuditReader = Annotated[Principal, Depends(require("audit.read"))]
