"""Consistent JSON error bodies: ``{"error": {"status", "code", "message", "fields"?}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from clientlens import errors as e

log = logging.getLogger(__name__)

_STATUS: list[tuple[type[Exception], int, str]] = [
    (e.NotFoundError, 404, "not_found"),
    (e.ConsentError, 409, "no_consent"),
    (e.CareError, 409, "care_error"),
    (e.MissingColumnsError, 422, "missing_columns"),
    (e.InputError, 422, "input_unusable"),
    (e.ValidationError, 422, "rows_rejected"),
    (e.ConfigError, 400, "bad_value"),
    (e.ModelError, 409, "model_error"),
    (e.StoreError, 409, "store_conflict"),
    (e.ClientlensError, 400, "error"),
]

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          409: "conflict", 413: "too_large", 422: "invalid", 429: "too_many_requests"}


def error_body(status: int, code: str, message: str, fields: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "code": code, "message": message}
    if fields is not None:
        body["fields"] = fields
    return {"error": body}


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        return ".".join(parts[1:]) or parts[0]
    return ".".join(parts)


def status_of(exc: e.ClientlensError) -> tuple[int, str]:
    """HTTP status and error code of a clientlens error."""
    for cls, status, code in _STATUS:
        if isinstance(exc, cls):
            return status, code
    return 400, "error"  # pragma: no cover


def http_response(exc: StarletteHTTPException) -> JSONResponse:
    return JSONResponse(error_body(exc.status_code, _CODES.get(exc.status_code, "error"), str(exc.detail)),
                        status_code=exc.status_code, headers=getattr(exc, "headers", None))


def install(app: FastAPI) -> None:
    """Register the handlers turning every error into the same JSON shape."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return http_response(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [{"field": _field_name(err.get("loc", ())), "in": str(err.get("loc", ("?",))[0]),
                   "message": err.get("msg", "invalid")} for err in exc.errors()]
        names = ", ".join(f["field"] for f in fields)
        return JSONResponse(error_body(422, "invalid", f"invalid value for: {names}", fields), status_code=422)

    @app.exception_handler(e.ClientlensError)
    async def domain_error(request: Request, exc: e.ClientlensError) -> JSONResponse:
        status, code = status_of(exc)
        return JSONResponse(error_body(status, code, str(exc)), status_code=status)
