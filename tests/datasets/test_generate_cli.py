"""``clientlens generate`` writes the files, deterministically."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from clientlens.cli.main import build_app


def test_generate_writes_csv_files_and_truth(tmp_path):
    runner = CliRunner()
    result = runner.invoke(build_app(), ["generate", "--customers", "120", "--out", str(tmp_path / "a"), "--seed", "3"])
    assert result.exit_code == 0, result.output
    names = {p.name for p in (tmp_path / "a").iterdir()}
    assert names == {f"{t}.csv" for t in ("customers", "orders", "order_lines", "products", "interactions",
                                           "feedback", "truth")}
    assert len(pd.read_csv(tmp_path / "a" / "customers.csv")) == 120
    again = runner.invoke(build_app(), ["generate", "--customers", "120", "--out", str(tmp_path / "b"), "--seed", "3"])
    assert again.exit_code == 0
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_generate_parquet_and_bad_format(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(build_app(), ["generate", "--customers", "50", "--out", str(tmp_path), "--format", "parquet"])
    assert ok.exit_code == 0, ok.output
    assert len(pd.read_parquet(tmp_path / "truth.parquet")) == 50
    bad = runner.invoke(build_app(), ["generate", "--customers", "5", "--out", str(tmp_path), "--format", "xml"])
    assert bad.exit_code == 2
