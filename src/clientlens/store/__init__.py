"""The operational store: ORM models, engines, sessions, repositories and Alembic migrations."""

from clientlens.store.db import ensure_schema, make_engine, mask_url, schema_version, session_scope, upgrade

__all__ = ["ensure_schema", "make_engine", "mask_url", "schema_version", "session_scope", "upgrade"]
