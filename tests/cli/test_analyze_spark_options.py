"""``analyze --spark-master / --spark-conf`` and ``[features] spark_master`` / ``[features.spark]``:
what reaches a new Spark session, the usage errors, and extras printed literally (no Rich markup)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clientlens.cli.main import build_app, run
from clientlens.config import load_settings
from clientlens.datasets.cdnow import data_path
from clientlens.features.engine import is_url, spark_conf, spark_location


def test_features_spark_settings_are_flattened_and_passed_over_clientlens_own(tmp_path: Path) -> None:
    cfg = tmp_path / "clientlens.toml"
    cfg.write_text('[features]\nspark_master = "spark://10.0.0.5:7077"\n\n[features.spark]\n'
                   '"spark.executor.memory" = "4g"\n"spark.sql.shuffle.partitions" = 64\n'
                   'executor.cores = 2\n', "utf-8")
    settings = load_settings(cfg)
    assert settings.features.spark_master == "spark://10.0.0.5:7077"
    assert settings.features.spark == {"spark.executor.memory": "4g", "spark.sql.shuffle.partitions": "64",
                                       "spark.executor.cores": "2"}
    conf = spark_conf(settings, {"spark.executor.memory": "8g"})
    assert conf["spark.sql.shuffle.partitions"] == "64"  # [features.spark] wins over spark_shuffle_partitions
    assert conf["spark.executor.memory"] == "8g"  # --spark-conf wins over [features.spark]
    assert conf["spark.sql.session.timeZone"] == "UTC" and conf["spark.executor.cores"] == "2"


def test_defaults_run_locally() -> None:
    settings = load_settings(search_cwd=False)
    assert settings.features.spark_master == "local[2]" and settings.features.spark == {}


def test_spark_paths_are_absolute_or_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert spark_location("orders.parquet") == str(tmp_path.resolve() / "orders.parquet")
    for url in ("s3a://bucket/shop/orders.parquet", "hdfs://nn:8020/x", "file:/tmp/x", "file:///tmp/x"):
        assert is_url(url) and spark_location(url) == url
    assert not is_url("/tmp/x") and not is_url("local/x") and not is_url(Path("s3a://x"))


@pytest.mark.parametrize("args, hint", [
    (["--spark-master", "spark://h:7077"], "go with --engine spark"),
    (["--engine", "spark", "--spark-conf", "executor.memory=2g"], "spark.KEY=VALUE"),
    (["--engine", "spark", "--spark-conf", "spark.executor.memory"], "spark.KEY=VALUE"),
    (["--engine", "flink"], "use duckdb or spark"),
])
def test_spark_usage_errors(args: list[str], hint: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(build_app(), ["analyze", *args, "--source", str(tmp_path), "--out",
                                              str(tmp_path / "out")])
    assert result.exit_code == 2
    assert hint in " ".join(result.output.replace("│", " ").split())


def test_missing_pyspark_names_the_extra_literally(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if pyspark were not installed
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    monkeypatch.setattr(sys, "argv", ["clientlens", "analyze", "--engine", "spark", "--source",
                                      str(data_path("CDNOW_sample.txt.gz")), "--out", str(tmp_path / "out")])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        run()
    assert exit_info.value.code == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "pip install 'clientlens[spark]'" in err
