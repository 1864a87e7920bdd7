"""A migrated store per module and backend (SQLite, PostgreSQL), emptied before each test.

Migrating once per module instead of once per test keeps the ingest tests fast on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

TABLES = ("consent_events", "feedback", "interactions", "order_lines", "orders", "products", "merges",
          "customers", "exchange_rates", "import_runs", "shops")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def module_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    from clientlens.store.db import make_engine, upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('ingest') / 'store.db'}"
    else:
        url = request.getfixturevalue("pg_server_url")
        from tests.conftest import _fresh_pg

        _fresh_pg(url)
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(module_engine: Engine) -> Engine:
    """The module's store, emptied."""
    with module_engine.begin() as conn:
        for t in TABLES:
            conn.execute(text(f"DELETE FROM {t}"))
    return module_engine


@pytest.fixture
def url(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The store's URL, with the current directory set to a fresh tmp dir (quarantine files land there)."""
    monkeypatch.chdir(tmp_path)
    return engine.url.render_as_string(hide_password=False)
