"""Fixtures of the analysis tests: a Spark engine on one local session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def spark_engine(spark_available: bool):  # type: ignore[no-untyped-def]
    """The features layer's Spark engine on one local session for the test run (2 shuffle partitions)."""
    from pyspark.sql import SparkSession

    from clientlens.config import load_settings
    from clientlens.features.engine import SparkEngine

    session = (
        SparkSession.builder.master("local[2]").appName("clientlens-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield SparkEngine(load_settings(search_cwd=False), session=session)
