"""Shared fixtures: stores on SQLite and PostgreSQL, and the services some tests need.

PostgreSQL tests run whenever CLIENTLENS_TEST_PG_URL is set (and fail if the server is unreachable);
without it they skip, saying why. Under CI=true a missing PostgreSQL, Chromium or Spark fails the run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_URL = os.environ.get("CLIENTLENS_TEST_PG_URL")
CHROMIUM = "/usr/bin/chromium"
DATA = Path(__file__).parent / "data"


def need(condition: bool, reason: str) -> None:
    """Skip when ``condition`` is false, except under CI where it fails."""
    if not condition:
        if IN_CI:
            pytest.fail(f"required in CI: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test worker, dropped at the end."""
    need(PG_URL is not None, "PostgreSQL tests need CLIENTLENS_TEST_PG_URL (set by .ci/run)")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from clientlens.store.db import normalise_url

    base = make_url(normalise_url(PG_URL))  # type: ignore[arg-type]
    name = f"cl_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # unreachable server is a failure, not a skip
        pytest.fail(f"PostgreSQL at {base.render_as_string()} is unreachable: {exc}")
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _fresh_pg(url: str) -> None:
    from sqlalchemy import create_engine, text

    eng = create_engine(url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    eng.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url = request.getfixturevalue("pg_server_url")
    _fresh_pg(url)
    return url


@pytest.fixture
def store_engine(store_url: str):  # type: ignore[no-untyped-def]
    """An initialised (migrated) store engine on SQLite and on PostgreSQL."""
    from clientlens.store.db import make_engine, upgrade

    engine = make_engine(store_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def chromium_path() -> str:
    need(Path(CHROMIUM).exists() or shutil.which("chromium") is not None,
         "browser tests need Debian's chromium (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="session")
def spark_available() -> bool:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        need(False, "Spark tests need pyspark (pip install clientlens[spark])")
    need(shutil.which("java") is not None, "Spark tests need Java 17 on PATH")
    return True


@pytest.fixture(scope="session")
def spark_session(spark_available: bool) -> Iterator[Any]:
    """One local Spark session for the whole test run (2 shuffle partitions, tuned for tiny data)."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]").appName("clientlens-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "1g")
        .config("spark.ui.showConsoleProgress", "false")
        # tiny test data: compiling whole-stage code and re-planning cost more than they save
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.adaptive.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
