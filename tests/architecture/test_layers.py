"""The layer contract in ``pyproject.toml`` ([tool.importlinter]) holds, and it catches an upward import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def run_lint(src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([str(LINT), "--config", str(ROOT / "pyproject.toml"), "--no-cache"], cwd=src,
                          env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def lint_available() -> None:
    if not LINT.exists():
        pytest.fail(f"import-linter is not installed beside {sys.executable} (it is a dev dependency)")


def test_the_tree_keeps_every_contract(lint_available: None) -> None:
    done = run_lint(ROOT / "src")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout


def test_an_upward_import_breaks_the_contract(lint_available: None, tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "clientlens", src / "clientlens",
                    ignore=shutil.ignore_patterns("__pycache__", "data", "static", "*.egg-info"))
    # The store (the lowest layer) reaching up into the care layer.
    (src / "clientlens" / "store" / "upward.py").write_text("from clientlens.care import loyalty  # noqa\n")
    done = run_lint(src)
    assert done.returncode == 1
    assert "clientlens.store.upward -> clientlens.care.loyalty" in done.stdout
