"""The REST API and web app: ``create_app(settings, engine)`` assembles one router per resource.

>>> from clientlens.config import load_settings
>>> from clientlens.api.app import create_app
>>> app = create_app(load_settings(search_cwd=False), engine=None)  # doctest: +SKIP
"""

from __future__ import annotations

__all__ = ["create_app"]


def create_app(*args, **kwargs):  # type: ignore[no-untyped-def]
    """See :func:`clientlens.api.app.create_app` (imported lazily)."""
    from clientlens.api.app import create_app as _create

    return _create(*args, **kwargs)
