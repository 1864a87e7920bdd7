"""Mount the web pages on the app: static assets, login / language, and the page routers."""

from __future__ import annotations

import secrets
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from clientlens.errors import ClientlensError
from clientlens.http import errors
from clientlens.http.deps import SESSION_COOKIE, DbDep, OptionalPrincipal
from clientlens.service import auth
from clientlens.service import shops as shop_svc
from clientlens.service.security import same
from clientlens.web.context import LANG_COOKIE, LOGIN_CSRF_COOKIE, LoginRequired, PageUser, check_csrf, render
from clientlens.web.static_files import CachedStaticFiles

router = APIRouter(include_in_schema=False)


def _secure(request: Request) -> bool:
    mode = request.app.state.web.secure_cookies
    if mode == "always":
        return True
    if mode == "never":
        return False
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def _local(url: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return "/"


@router.get("/login")
def login_page(request: Request, principal: OptionalPrincipal, next: str = "/") -> Response:
    token = secrets.token_urlsafe(24)
    resp = render(request, "login.html", None, next=_local(next), login_csrf=token, error=None)
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request), max_age=3600)
    return resp


@router.post("/login")
def login_submit(request: Request, username: Annotated[str, Form(max_length=100)],
                 password: Annotated[str, Form(max_length=500)], csrf_token: Annotated[str, Form(max_length=100)],
                 next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
    def again(error: str, status: int) -> Response:
        token = secrets.token_urlsafe(24)
        resp = render(request, "login.html", None, status_code=status, next=_local(next), login_csrf=token, error=error)
        resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request), max_age=3600)
        return resp

    if not same(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE)):
        return again("csrf", 403)
    ip = auth.client_address(request.client.host if request.client else None,
                             request.headers.get("x-forwarded-for"), request.app.state.web.trusted_proxies)
    try:
        result = auth.login(request.app.state.engine, request.app.state.web, username, password, ip)
    except auth.ThrottledError:
        return again("throttled", 429)
    if result is None:
        return again("invalid", 401)
    cookie, principal = result
    resp = RedirectResponse(_local(next), status_code=303)
    resp.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="lax", secure=_secure(request),
                    max_age=3600 * request.app.state.web.session_hours)
    resp.delete_cookie(LOGIN_CSRF_COOKIE)
    return resp


@router.post("/logout")
async def logout(request: Request, user: PageUser) -> Response:
    await check_csrf(request, user)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        auth.logout(request.app.state.engine, cookie)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE)
    return resp


@router.post("/language")
async def set_language(request: Request, db: DbDep, user: PageUser) -> Response:
    await check_csrf(request, user)
    form = await request.form()
    lang = str(form.get("lang", ""))
    if lang not in request.app.state.web.languages:
        lang = request.app.state.web.default_language
    if user.user_id is not None:
        auth.set_language(db, user.user_id, lang)
    back = _local(str(form.get("back", "/")))
    resp = RedirectResponse(back, status_code=303)
    resp.set_cookie(LANG_COOKIE, lang, httponly=True, samesite="lax", secure=_secure(request), max_age=3600 * 24 * 365)
    return resp


@router.get("/")
def home(request: Request, db: DbDep, user: PageUser) -> Response:
    return render(request, "home.html", user, shops=shop_svc.list_shops(db))


def mount_web(app: FastAPI) -> None:
    """Add the static assets, the pages and the HTML error pages to ``app``."""
    from clientlens.web import pages_analytics, pages_care, pages_workspace

    static = resources.files("clientlens.web") / "static"
    app.mount("/static", CachedStaticFiles(directory=str(static)), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return RedirectResponse("/static/favicon.svg", status_code=301)

    app.include_router(router)
    app.include_router(pages_analytics.router)
    app.include_router(pages_care.router)
    app.include_router(pages_workspace.router)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        from urllib.parse import quote

        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={quote(exc.next_url)}", status_code=303)

    def is_api(request: Request) -> bool:
        path = request.url.path
        return path.startswith("/api/") or path.startswith("/static/") or path == "/healthz"

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if is_api(request):
            return errors.http_response(exc)
        return render(request, "error.html", None, status_code=exc.status_code, status=exc.status_code,
                      message=str(exc.detail))

    @app.exception_handler(ClientlensError)
    async def domain_error(request: Request, exc: ClientlensError) -> Response:
        status, code = errors.status_of(exc)
        if is_api(request):
            return JSONResponse(errors.error_body(status, code, str(exc)), status_code=status)
        return render(request, "error.html", None, status_code=status, status=status, message=str(exc))
