"""Property-based calls over the OpenAPI document (schemathesis): no 5xx, anonymous and as admin.

Bounded: a few examples per operation; the shop path parameter is set to the test shop so the
calls reach real data instead of stopping at 404.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from clientlens.service.auth import create_token
from clientlens.store.db import session_scope

pytestmark = pytest.mark.slow

EXAMPLES = {"anonymous": 3, "admin": 2}


def _run_all(app: Any, headers: dict[str, str], examples: int) -> list[str]:
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
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}")

        call()
    assert operations >= 40, f"only {operations} operations in the OpenAPI document"
    return failures


def test_no_server_error_anonymous(small_app) -> None:  # type: ignore[no-untyped-def]
    assert _run_all(small_app, {}, EXAMPLES["anonymous"]) == []


def test_no_server_error_as_admin(small_app, small_engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(small_engine) as s:
        token = create_token(s, "schemathesis", "admin", actor="test")
    assert _run_all(small_app, {"Authorization": f"Bearer {token}"}, EXAMPLES["admin"]) == []
