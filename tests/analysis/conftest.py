"""Fixtures of the analysis tests: the feature table (real, or the pandas stand-in until it exists), and a
Spark engine."""

from __future__ import annotations

import pytest

from clientlens.analysis import adapters
from tests.analysis.standin import standin_feature_table


@pytest.fixture(autouse=True)
def feature_table_available(monkeypatch: pytest.MonkeyPatch) -> None:
    """Use the pandas stand-in while clientlens.features has no feature table."""
    if adapters.find_function(adapters.FEATURE_TABLE_CANDIDATES) is None:
        monkeypatch.setattr(adapters, "find_function",
                            lambda cands, _orig=adapters.find_function: standin_feature_table
                            if cands == adapters.FEATURE_TABLE_CANDIDATES else _orig(cands))


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
