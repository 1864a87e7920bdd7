"""What every page shares: templates, the caller, the language, CSRF checks and rendering."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from clientlens import __version__
from clientlens.http.deps import SESSION_COOKIE, DbDep, OptionalPrincipal
from clientlens.service.security import Principal, same
from clientlens.web.i18n import LANGUAGE_NAMES, I18n, pick_language

LANG_COOKIE = "clientlens_lang"
LOGIN_CSRF_COOKIE = "clientlens_login_csrf"


class LoginRequired(Exception):
    """Raised by page dependencies for anonymous callers: answered with a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    path = str(resources.files("clientlens.web") / "templates")
    tpl = Jinja2Templates(directory=path)
    tpl.env.autoescape = True
    # Vendored assets are cached as immutable (web.static_files): their URLs carry the release.
    tpl.env.globals["asset_version"] = __version__
    return tpl


def language(request: Request, principal: Principal | None) -> str:
    allowed = tuple(request.app.state.web.languages)
    return pick_language(principal.language if principal else None, request.cookies.get(LANG_COOKIE),
                         request.headers.get("accept-language"), request.app.state.web.default_language,
                         allowed=allowed)


def page_user(request: Request, principal: OptionalPrincipal) -> Principal:
    """The logged-in user of a page (redirect to /login otherwise)."""
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return principal


PageUser = Annotated[Principal, Depends(page_user)]


def allow(principal: Principal, permission: str) -> None:
    if not principal.can(permission):
        raise HTTPException(403, f"role {principal.role!r} may not open this page (needs {permission})")


async def check_csrf(request: Request, principal: Principal) -> None:
    """Every form post carries the session's CSRF token (field ``csrf_token`` or header ``X-CSRF-Token``)."""
    token = request.headers.get("x-csrf-token")
    if not token:
        form = await request.form()
        value = form.get("csrf_token")
        token = value if isinstance(value, str) else None
    if not same(token, principal.csrf_token):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")


def render(request: Request, name: str, principal: Principal | None, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    lang = language(request, principal)
    i18n = I18n(lang)
    ctx = {"request": request, "user": principal, "i18n": i18n, "_": i18n.gettext, "lang": lang,
           "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in request.app.state.web.languages],
           "csrf": principal.csrf_token if principal else "", "quote": quote, **context}
    return templates().TemplateResponse(request, name, ctx, status_code=status_code)


__all__ = ["DbDep", "PageUser", "SESSION_COOKIE", "render", "allow", "check_csrf", "LoginRequired"]
