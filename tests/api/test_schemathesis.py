"""Property-based calls over the OpenAPI document (schemathesis), anonymous and as admin, over every
operation, with the response checks on: no 5xx, every status code, content type and header
documented, every response body valid against its declared schema (timestamps with their offset).

Bounded: ``EXAMPLES`` cases per operation and caller (10: about a minute for both callers on the
small store); the shop path parameter is set to the test shop so the calls reach real data instead
of stopping at 404.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from clientlens.service.auth import create_token
from clientlens.store.db import session_scope

pytestmark = pytest.mark.slow

EXAMPLES = 10
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


def _run_all(app: Any, headers: dict[str, str], examples: int) -> list[str]:
    """Every operation, ``examples`` cases each; the failures found (one per operation, shrunk)."""
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def call(case: Any) -> None:
            if case.path_parameters and "shop" in case.path_parameters:
                case.path_parameters["shop"] = "cdnow"
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            call()
        except Exception as exc:  # a schemathesis FailureGroup: what failed and how to reproduce it
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:2000]}")
    assert operations >= 40, f"only {operations} operations in the OpenAPI document"
    return failures


def test_openapi_conformance_anonymous(small_app) -> None:  # type: ignore[no-untyped-def]
    failures = _run_all(small_app, {}, EXAMPLES)
    assert failures == [], "\n\n".join(failures)


def test_openapi_conformance_as_admin(small_app, small_engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(small_engine) as s:
        token = create_token(s, "schemathesis", "admin", actor="test")
    failures = _run_all(small_app, {"Authorization": f"Bearer {token}"}, EXAMPLES)
    assert failures == [], "\n\n".join(failures)


def test_timestamps_carry_their_offset(small_app, small_engine) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with session_scope(small_engine) as s:
        token = create_token(s, "ts", "admin", actor="test")
    client = TestClient(small_app, headers={"Authorization": f"Bearer {token}"})
    users = client.get("/api/v1/users").json()
    assert users and all(u["created_at"].endswith("Z") for u in users)
    orders = client.get("/api/v1/shops/cdnow/orders").json()["data"]
    assert orders and all(o["ordered_at"].endswith("Z") for o in orders)
