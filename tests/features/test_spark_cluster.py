"""``clientlens analyze --engine spark --spark-master spark://...`` on a real standalone cluster.

A master and two workers (separate JVMs, one core each, their own work directories) are started on
127.0.0.1 from the installed pyspark; the CLI runs as its own process, its Python and the executors'
Python the same venv interpreter (PYSPARK_PYTHON). Every table of the snapshot equals the DuckDB run's.
Under CI=true a cluster that does not come up fails the test; elsewhere it skips, saying why.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from clientlens.datasets.cdnow import data_path
from tests.conftest import need

# one worker runs both tests, so one cluster serves them
pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.xdist_group("spark_cluster")]

CDNOW = data_path("CDNOW_master.txt.gz")
# two executors of one core and 512 MB each; the driver keeps 1 GB
SPARK_CONF = ["spark.executor.memory=512m", "spark.executor.cores=1", "spark.cores.max=2",
              "spark.driver.memory=1g", "spark.sql.shuffle.partitions=4"]


@pytest.fixture(scope="module")
def cluster(spark_available: bool, tmp_path_factory: pytest.TempPathFactory,
            request: pytest.FixtureRequest) -> Any:
    from clientlens.errors import EngineError
    from clientlens.features.standalone import StandaloneCluster

    started = StandaloneCluster(workers=2, cores=1, memory="1g", work_dir=tmp_path_factory.mktemp("cluster"))
    request.addfinalizer(started.stop)  # always, whatever the tests do
    try:
        started.start()
    except EngineError as exc:
        need(False, f"the standalone Spark cluster did not start: {exc}")
    return started


def _analyze(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    run_env = dict(env or os.environ)
    run_env.pop("CLIENTLENS_DB_URL", None)
    result = subprocess.run([sys.executable, "-m", "clientlens", "analyze", "--shop", "cdnow", *args],
                            cwd=cwd, env=run_env, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, f"{args}\nstdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-6000:]}"
    return result


def _spark_args(cluster: Any) -> list[str]:
    args = ["--engine", "spark", "--spark-master", cluster.master_url]
    for item in SPARK_CONF:
        args += ["--spark-conf", item]
    return args


def _assert_same_snapshot(spark_out: str | Path, duck_out: Path) -> None:
    spark_out = Path(str(spark_out).removeprefix("file://"))
    tables = sorted(p.name for p in duck_out.glob("*.parquet"))
    assert {"features.parquet", "labels.parquet", "summary.parquet", "pareto.parquet",
            "pareto_stats.parquet", "retention.parquet"} <= set(tables)
    assert sorted(p.name for p in spark_out.glob("*.parquet")) == tables
    for name in tables:
        a, b = pd.read_parquet(spark_out / name), pd.read_parquet(duck_out / name)
        assert list(a.columns) == list(b.columns), name
        assert len(a) == len(b), name
        for col in a.columns:
            x, y = a[col], b[col]
            what = f"{name}: {col}"
            if pd.api.types.is_float_dtype(x) or pd.api.types.is_float_dtype(y):
                np.testing.assert_allclose(x.astype("float64").to_numpy(), y.astype("float64").to_numpy(),
                                           rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=what)
            else:
                assert x.isna().tolist() == y.isna().tolist(), what
                assert x.dropna().tolist() == y.dropna().tolist(), what


def _ran_on_cluster(run: dict[str, Any], cluster: Any) -> dict[str, Any]:
    """The run's Spark application, as the cluster's master saw it."""
    assert run["engine"] == "spark"
    spark = run["spark"]
    assert spark["master"] == cluster.master_url
    assert spark["executors"] == 2, spark  # the two workers' executors, not the driver
    assert spark["jobs"] > 0
    state = cluster.state()
    assert state is not None
    apps = [app for app in state["activeapps"] + state["completedapps"] if app["id"] == spark["application_id"]]
    assert len(apps) == 1, state
    return apps[0]  # type: ignore[no-any-return]


def test_cdnow_on_standalone_cluster_equals_duckdb(cluster: Any, tmp_path: Path) -> None:
    duck, spark = tmp_path / "duckdb", tmp_path / "spark"
    _analyze(["--source", str(CDNOW), "--out", str(duck)], tmp_path)
    _analyze([*_spark_args(cluster), "--source", str(CDNOW), "--out", str(spark)], tmp_path, cluster.env())
    assert (spark / "scores.parquet").exists()  # the scores are compared too
    _assert_same_snapshot(spark, duck)
    run = json.loads((spark / "run.json").read_text("utf-8"))
    _ran_on_cluster(run, cluster)
    assert len(pd.read_parquet(spark / "features.parquet")) == 23570


def test_configured_master_reads_and_writes_urls_on_the_cluster(cluster: Any, tmp_path: Path) -> None:
    """The master and the Spark settings from ``clientlens.toml``; unvalidated files mode: the
    executors read the Parquet source themselves (a ``file://`` URL, as an object store would be
    given), and the snapshot goes to a URL through Hadoop's file system."""
    from clientlens.datasets import load_cdnow_master

    (tmp_path / "clientlens.toml").write_text(
        f'[features]\nspark_master = "{cluster.master_url}"\nspark_shuffle_partitions = 4\n\n'
        '[features.spark]\n"spark.executor.memory" = "600m"\n"spark.cores.max" = "2"\n'
        '"spark.driver.memory" = "1g"\n', "utf-8")
    source = tmp_path / "shop"
    source.mkdir()
    load_cdnow_master().to_parquet(source / "orders.parquet")
    duck, spark = tmp_path / "duckdb", tmp_path / "spark"
    common = ["--no-validate", "--no-scores"]
    _analyze([*common, "--source", str(source), "--out", str(duck)], tmp_path)
    _analyze(["--engine", "spark", *common, "--source", source.as_uri(), "--out", spark.as_uri()], tmp_path,
             cluster.env())
    _assert_same_snapshot(spark, duck)
    run = json.loads((spark / "run.json").read_text("utf-8"))
    app = _ran_on_cluster(run, cluster)
    assert app["memoryperexecutor"] == 600, app  # [features.spark] reached the cluster
    assert run["source"]["path"] == source.as_uri()
    assert run["config"]["features"]["spark"]["spark.executor.memory"] == "600m"
