"""``/healthz``: the app is up and the store reachable."""

from __future__ import annotations

from fastapi import APIRouter

from clientlens.http.deps import EngineDep
from clientlens.service import schemas as s
from clientlens.store.db import schema_version

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=s.Health)
def healthz(engine: EngineDep) -> s.Health:
    """Liveness and store schema version (no authentication)."""
    return s.Health(status="ok", schema_version=schema_version(engine))
