"""Fixtures of the analysis tests: a Spark engine on the shared local session."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark_engine(spark_session: Any):  # type: ignore[no-untyped-def]
    """The features layer's Spark engine on the test run's one local Spark session."""
    from clientlens.config import load_settings
    from clientlens.features.engine import SparkEngine

    yield SparkEngine(load_settings(search_cwd=False), session=spark_session)
