"""``create_app(settings, engine)``: the REST API under ``/api/v1`` and the web pages, one router per resource."""

from __future__ import annotations

import logging

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.middleware.base import RequestResponseEndpoint
from starlette.responses import Response

from clientlens import __version__
from clientlens.api import errors
from clientlens.api.config import web_settings
from clientlens.api.routers import (
    admin,
    campaigns,
    customers,
    feedback,
    health,
    imports,
    interactions,
    merges,
    orders,
    predictions,
    segments,
    shops,
    unsubscribe,
)
from clientlens.api.services.auth import ThrottledError
from clientlens.api.services.bridge import NotAvailableError
from clientlens.config import Settings

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
RESOURCE_ROUTERS = (shops, customers, orders, interactions, feedback, segments, predictions, campaigns, imports,
                    merges, unsubscribe, admin)

# Vega compiles expressions with Function(), hence 'unsafe-eval'; vega-embed injects its styles.
CSP = ("default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """The FastAPI application for ``settings``, on ``engine`` (default: the store URL of the settings).

    Nothing is created at import time; ``clientlens serve`` and the tests call this.
    """
    if engine is None:
        from clientlens.store.db import make_engine

        engine = make_engine(settings.store.url)
    app = FastAPI(title="clientlens", version=__version__, openapi_url=f"{API_PREFIX}/openapi.json",
                  docs_url=None, redoc_url=None,
                  description="REST API of clientlens: shops, customers, segments, predictions, care. "
                              "Authenticate with a session cookie (web) or `Authorization: Bearer <token>`.")
    app.state.settings = settings
    app.state.web = web_settings(settings)
    app.state.engine = engine
    errors.install(app)

    @app.exception_handler(NotAvailableError)
    async def not_available(request: Request, exc: NotAvailableError) -> JSONResponse:
        return JSONResponse(errors.error_body(409, "not_available", str(exc)), status_code=409)

    @app.exception_handler(ThrottledError)
    async def throttled(request: Request, exc: ThrottledError) -> JSONResponse:
        return JSONResponse(errors.error_body(429, "too_many_requests", "too many failed logins; try again later"),
                            status_code=429, headers={"Retry-After": str(60 * app.state.web.login_window_minutes)})

    @app.middleware("http")
    async def security_headers(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response

    app.include_router(health.router)
    api = APIRouter(prefix=API_PREFIX)
    for module in RESOURCE_ROUTERS:
        api.include_router(module.router)
    app.include_router(api)

    from clientlens.web.pages import mount_web

    mount_web(app)
    return app
