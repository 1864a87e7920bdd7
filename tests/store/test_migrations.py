"""The same migrations create the schema on SQLite and PostgreSQL, and ``status`` reports it."""

from __future__ import annotations

from sqlalchemy import inspect

from clientlens.store import auth_models, care_models  # noqa: F401
from clientlens.store import models as m
from clientlens.store.db import head_version, make_engine, schema_version, upgrade
from clientlens.store.status import store_status


def test_upgrade_creates_every_table_and_matches_the_models(store_url: str) -> None:
    engine = make_engine(store_url)
    assert schema_version(engine) is None
    upgrade(engine)
    assert schema_version(engine) == head_version()
    tables = set(inspect(engine).get_table_names())
    assert set(m.Base.metadata.tables) <= tables
    upgrade(engine)  # idempotent
    assert schema_version(engine) == head_version()


def test_models_and_migrations_agree(store_engine) -> None:  # type: ignore[no-untyped-def]
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), m.Base.metadata)
    assert diff == [], f"ORM models differ from the migrations: {diff}"


def test_status_of_an_empty_store(store_engine) -> None:  # type: ignore[no-untyped-def]
    doc = store_status(store_engine)
    assert doc["schema_version"] == head_version()
    assert doc["counts"] == {"shops": 0, "customers": 0, "orders": 0, "order_lines": 0, "products": 0,
                             "interactions": 0, "feedback": 0}
    assert "***" in doc["store"] or "@" not in doc["store"]
