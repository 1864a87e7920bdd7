"""The web tests use the API tests' stores and app fixtures."""

from tests.api.conftest import (  # noqa: F401
    app,
    engine,
    facts,
    settings,
    small_app,
    small_engine,
    small_template_store,
    template_store,
)
