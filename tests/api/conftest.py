"""Fixtures of the API and web tests: a store built once per session (CDNOW sample + extras), copied
per test; the app on it; logged-in clients and bearer tokens per role."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clientlens.app import create_app
from clientlens.config import Settings, load_settings
from clientlens.service.auth import create_token
from clientlens.store.db import make_engine, session_scope, upgrade
from tests.api.builders import PASSWORDS, build_store

ROLES = ("admin", "analyst", "agent")


def _template(tmp_path_factory: pytest.TempPathFactory, customers: int | None) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("template") / "store.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    facts = build_store(engine, customers=customers)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path, facts


@pytest.fixture(scope="session")
def template_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A SQLite store with the whole CDNOW sample and the extras, built once; tests copy it."""
    return _template(tmp_path_factory, None)


@pytest.fixture(scope="session")
def small_template_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The same with the first 150 CDNOW customers (for tests that call every endpoint many times)."""
    return _template(tmp_path_factory, 150)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Defaults, with uploads / outbox under the test's folder."""
    return load_settings(search_cwd=False, overrides={
        "web": {"upload_dir": str(tmp_path / "uploads")},
        "care": {"senders": {"outbox_dir": str(tmp_path / "outbox")}}})


@pytest.fixture
def engine(template_store: tuple[Path, dict[str, Any]], tmp_path: Path):  # type: ignore[no-untyped-def]
    path, _ = template_store
    target = tmp_path / "store.db"
    shutil.copy(path, target)
    eng = make_engine(f"sqlite:///{target}")
    yield eng
    eng.dispose()


@pytest.fixture
def small_engine(small_template_store: tuple[Path, dict[str, Any]], tmp_path: Path):  # type: ignore[no-untyped-def]
    target = tmp_path / "small.db"
    shutil.copy(small_template_store[0], target)
    eng = make_engine(f"sqlite:///{target}")
    yield eng
    eng.dispose()


@pytest.fixture
def small_app(settings: Settings, small_engine):  # type: ignore[no-untyped-def]
    return create_app(settings, small_engine)


@pytest.fixture
def facts(template_store: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    return template_store[1]


@pytest.fixture
def app(settings: Settings, engine):  # type: ignore[no-untyped-def]
    return create_app(settings, engine)


def login(client: TestClient, name: str, password: str) -> str:
    """Log ``client`` in through the form; returns the session's CSRF token."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    resp = client.post("/login", data={"username": name, "password": password, "csrf_token": token.group(1),
                                       "next": "/"}, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    home = client.get("/")
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', home.text)
    assert csrf is not None
    return csrf.group(1)


@pytest.fixture
def browser_client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


@pytest.fixture
def tokens(engine) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A bearer token per role."""
    with session_scope(engine) as s:
        return {role: create_token(s, f"test-{role}", role, actor="test") for role in ROLES}


@pytest.fixture
def api(app, tokens) -> Iterator[dict[str | None, TestClient]]:  # type: ignore[no-untyped-def]
    """Clients per role (bearer token) and anonymous (None)."""
    clients: dict[str | None, TestClient] = {None: TestClient(app)}
    for role, tok in tokens.items():
        clients[role] = TestClient(app, headers={"Authorization": f"Bearer {tok}"})
    yield clients


__all__ = ["PASSWORDS", "login"]
