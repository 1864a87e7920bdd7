"""The REST API: one router per resource under ``/api/v1``, each a thin caller of ``clientlens.service``.

The app that serves it (with the web pages beside it) is assembled by :func:`clientlens.app.create_app`:

>>> from clientlens.config import load_settings
>>> from clientlens.app import create_app
>>> app = create_app(load_settings(search_cwd=False), engine=None)  # doctest: +SKIP
"""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["api_routers"]


def api_routers() -> list[APIRouter]:
    """The health router and one ``/api/v1`` router holding every resource router."""
    from clientlens.api.routers import (
        admin,
        campaigns,
        canned_replies,
        customers,
        feedback,
        health,
        imports,
        inbound,
        interactions,
        merges,
        orders,
        predictions,
        segments,
        shops,
        unsubscribe,
    )
    from clientlens.http.params import API_PREFIX

    api = APIRouter(prefix=API_PREFIX)
    for module in (shops, customers, orders, interactions, inbound, feedback, segments, predictions, campaigns,
                   imports, merges, unsubscribe, admin, canned_replies):
        api.include_router(module.router)
    return [health.router, api]
