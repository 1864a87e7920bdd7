"""``create_app(settings, engine)``: the one factory that assembles the REST API (``clientlens.api``) and the
web pages (``clientlens.web``) on one FastAPI app. Neither package imports the other; both call ``clientlens.service``."""

from __future__ import annotations

import gc
import inspect
import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clientlens import __version__
from clientlens.api import api_routers
from clientlens.config import Settings
from clientlens.http import errors
from clientlens.http.params import API_PREFIX
from clientlens.service.auth import ThrottledError
from clientlens.service.config import web_settings
from clientlens.service.schemas import ERROR_RESPONSES
from clientlens.web.pages import mount_web

log = logging.getLogger(__name__)


# Vega compiles expressions with Function(), hence 'unsafe-eval'; vega-embed injects its styles.
CSP = ("default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"), (b"content-security-policy", CSP.encode())]


class SecurityHeaders:
    """Pure ASGI middleware adding the security headers to every HTTP response, 500s included.

    An unhandled error would otherwise be answered by Starlette's outermost ``ServerErrorMiddleware``,
    outside every other middleware and so without these headers: when nothing was sent yet, this
    middleware answers the 500 itself (JSON error body under ``/api/``, plain text elsewhere, no
    detail of the error) and re-raises, so the server still logs the traceback.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in SECURITY_HEADERS if k not in present]
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except Exception:
            if not started:
                await _server_error(scope, with_headers)
            raise


async def _server_error(scope: Scope, send: Send) -> None:
    if str(scope.get("path", "")).startswith("/api/"):
        body = json.dumps(errors.error_body(500, "server_error", "internal server error; the server log "
                                            "has the details")).encode()
        kind = b"application/json"
    else:
        body, kind = b"Internal Server Error", b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": 500,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


GZIP_MIN_BYTES = 1024  # smaller responses gain nothing worth the CPU
GZIP_LEVEL = 6

class PagesGZip:
    """Gzip for the web pages and static assets, not for the REST API: a page of 50 customers as JSON is
    ~25 kB, compressing it costs more server CPU than the hot routes' own work, and API clients sit next
    to the server far more often than browsers do."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=GZIP_MIN_BYTES, compresslevel=GZIP_LEVEL)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not str(scope.get("path", "")).startswith(API_PREFIX):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)


SERVER_POOL_SIZE = 40  # anyio's default thread-pool size: one connection per thread running a sync route
SERVER_POOL_OVERFLOW = 10
SERVER_POOL_RECYCLE_S = 300


def server_engine(url: str) -> Engine:
    """The store engine of a long-running server (``create_app`` and ``clientlens serve``).

    A server keeps its connections busy: no pre-ping round trip per checkout (connections are
    recycled after 5 minutes instead, and a dead one fails one request), and a pool as large as the
    thread pool that runs the sync routes (anyio's default: 40 threads).
    """
    from clientlens.store.db import make_engine

    return make_engine(url, pre_ping=False, pool_recycle=SERVER_POOL_RECYCLE_S,
                       pool_size=SERVER_POOL_SIZE, max_overflow=SERVER_POOL_OVERFLOW)


def prepare_server_process() -> None:
    """Ready a long-running server process: collect once, then freeze every object alive at start-up.

    The app, its routes, schemas, SQLAlchemy metadata and the imported libraries are about 150k
    objects that live as long as the process. Left to the cyclic collector, each full collection
    walks them all again, a pause of 50 to 130 ms every few thousand requests on a loaded
    machine, which is the tail of the latency distribution. ``gc.freeze`` moves them out of the
    collector's sight; new garbage is still collected as before.
    """
    gc.collect()
    gc.freeze()


def server_app(settings: Settings, url: str) -> FastAPI:
    """The app as a long-running server runs it (``clientlens serve``, its workers, the demo):
    on the server's engine for ``url``, with the start-up objects frozen (``prepare_server_process``)."""
    app = create_app(settings, server_engine(url))
    prepare_server_process()
    return app


def _telemetry_off() -> dict[str, Any]:
    """FastAPI's native OpenTelemetry hooks off (releases that have them): they look up the global
    providers on every request, a few per cent of a hot route, for spans nobody collects here."""
    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}}


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """The FastAPI application for ``settings``, on ``engine`` (default: the store URL of the settings).

    Nothing is created at import time; ``clientlens serve`` and the tests call this.
    """
    if engine is None:
        engine = server_engine(settings.store.url)
    app = FastAPI(title="clientlens", version=__version__, openapi_url=f"{API_PREFIX}/openapi.json",
                  docs_url=None, redoc_url=None, responses=ERROR_RESPONSES, **_telemetry_off(),
                  description="REST API of clientlens: shops, customers, segments, predictions, care. "
                              "Authenticate with a session cookie (web) or `Authorization: Bearer <token>`.")
    app.state.settings = settings
    app.state.web = web_settings(settings)
    app.state.engine = engine
    # The read-only hot routes (customer list, 360) run on PostgreSQL without BEGIN/COMMIT round trips.
    app.state.read_engine = (engine.execution_options(isolation_level="AUTOCOMMIT")
                             if engine.dialect.name == "postgresql" else engine)
    errors.install(app)

    @app.exception_handler(ThrottledError)
    async def throttled(request: Request, exc: ThrottledError) -> JSONResponse:
        return JSONResponse(errors.error_body(429, "too_many_requests", "too many failed logins; try again later"),
                            status_code=429, headers={"Retry-After": str(60 * app.state.web.login_window_minutes)})

    app.add_middleware(SecurityHeaders)
    # Pages and the vendored scripts (Vega alone is ~1 MB) compressed for browsers that accept it.
    app.add_middleware(PagesGZip)

    for router in api_routers():
        app.include_router(router)
    mount_web(app)
    return app
