"""``/healthz``: the app is up and the store reachable."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from clientlens.api import schemas as s
from clientlens.api.deps import EngineDep

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=s.Health)
def healthz(engine: EngineDep) -> s.Health:
    """Liveness and store schema version (no authentication)."""
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return s.Health(status="ok", schema_version=version)
