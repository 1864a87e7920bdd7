"""`clientlens demo` builds its own store with the real CDNOW shop and the generated sample shop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clientlens.cli.main import build_app

pytestmark = pytest.mark.slow


def test_demo_builds_both_shops_analyses_them_and_leaves_the_default_store_alone(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(build_app(), ["demo", "--no-serve", "--customers", "400"])
    assert result.exit_code == 0, result.output
    assert "password" in result.output
    assert not (tmp_path / "clientlens.db").exists()

    # The acceptance command of the foundation issue, with --db after the command.
    status = runner.invoke(build_app(), ["status", "--format", "json", "--db", "sqlite:///clientlens-demo.db"])
    assert status.exit_code == 0, status.output
    doc = json.loads(status.output)
    cdnow = doc["shops"]["cdnow"]
    assert (cdnow["customers"], cdnow["orders"], cdnow["last_order"]) == (23570, 69659, "1998-06-30")
    assert cdnow["last_analysis"]["as_of"] == "1998-06-30"
    sample = doc["shops"]["sample-shop"]
    assert 380 <= sample["customers"] <= 400 and sample["orders"] > 0 and sample["interactions"] > 0
    assert sample["last_analysis"] is not None

    # Re-running recreates the demo store instead of adding to it.
    again = runner.invoke(build_app(), ["demo", "--no-serve", "--customers", "400"])
    assert again.exit_code == 0, again.output
    doc2 = json.loads(runner.invoke(build_app(), ["status", "--format", "json", "--db",
                                                  "sqlite:///clientlens-demo.db"]).output)
    assert doc2["shops"]["cdnow"]["orders"] == 69659
