"""Bounded memory of a CSV read: a batch is gone before the next one is read, and its memory given
back; reading never loads pandas. (The peak RSS itself is measured by bench/import_bench.py.)"""

from __future__ import annotations

import subprocess
import sys
import weakref
from pathlib import Path

import pytest

from clientlens.ingest import csv_source
from clientlens.ingest.raw import RawTable, ReadLimits
from clientlens.ingest.sources import open_source


def _orders(path: Path, n: int) -> Path:
    rows = ["order_id,customer_id,order_date,total,note"]
    rows += [f'O{i},C{i % 17},2024-03-{1 + i % 28:02d},{i % 90}.50,"line one\nline {i}"' for i in range(n)]
    path.write_text("\n".join(rows) + "\n", "utf-8")
    return path


def test_a_batch_is_released_before_the_next_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _orders(tmp_path / "orders.csv", 2000)
    previous: list[weakref.ref[RawTable]] = []
    alive_at_release: list[bool] = []

    def give_back() -> None:  # called by the source before the first batch and after each
        if previous:
            alive_at_release.append(previous[-1]() is not None)

    monkeypatch.setattr(csv_source, "give_back_memory", give_back)
    rows: list[int] = []
    lines: list[int] = []
    for raw in open_source(path, limits=ReadLimits(block_bytes=4096)):
        rows += raw.row.tolist()
        lines += raw.line.tolist()
        previous.append(weakref.ref(raw))
        del raw
    assert len(previous) > 10  # many batches
    assert len(alive_at_release) == len(previous)  # once after each batch
    assert not any(alive_at_release), "a batch was still referenced when its memory was given back"
    # Positions carry across the batches: data row i on physical line 2 + 2 * (i - 1).
    assert rows == list(range(1, 2001))
    assert lines == [2 + 2 * (r - 1) for r in rows]


def test_reading_a_csv_does_not_load_pandas(tmp_path: Path) -> None:
    """pyarrow's conversions from Python or NumPy values import pandas (~30 MB); the CSV path avoids them."""
    path = _orders(tmp_path / "orders.csv", 500)
    code = ("import sys\n"
            "from clientlens.config import load_settings\n"
            "from clientlens.ingest.reading import FileReader\n"
            "from clientlens.store.repository import utcnow\n"
            f"r = FileReader({str(path)!r}, 'orders', mapping=None, options=None, "
            "settings=load_settings(search_cwd=False), now=utcnow())\n"
            "n = sum(b.kept.height for b in r)\n"
            "print(n, 'pandas' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["500", "False"]
