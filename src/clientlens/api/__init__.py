"""The REST API and web app: ``create_app(settings, engine)`` assembles one router per resource.

>>> from clientlens.config import load_settings
>>> from clientlens.api import create_app
>>> app = create_app(load_settings(search_cwd=False), engine=None)  # doctest: +SKIP

``create_admin_with_random_password(engine)`` makes the demo's admin (the password is returned once).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy import Engine

    from clientlens.config import Settings

__all__ = ["create_admin_with_random_password", "create_app"]


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """See :func:`clientlens.api.app.create_app` (imported lazily)."""
    from clientlens.api.app import create_app as _create

    return _create(settings, engine)


def create_admin_with_random_password(engine: Engine, name: str = "admin") -> str:
    """See :func:`clientlens.api.services.auth.create_admin_with_random_password`."""
    from clientlens.api.services.auth import create_admin_with_random_password as _make

    return _make(engine, name)


