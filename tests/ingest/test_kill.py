"""SIGKILL an import at several points: the store holds whole batches only, and a re-run completes it."""

from __future__ import annotations

import gzip
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import Engine

from clientlens.config import load_settings
from clientlens.datasets.cdnow import data_path
from clientlens.ingest import import_file
from tests.ingest.helpers import count

# One worker runs the whole module, so its store is migrated once per backend.
pytestmark = pytest.mark.xdist_group("ingest_kill")


BATCH = 250
ROWS = 2_000

SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from sqlalchemy import event
    from clientlens.config import load_settings
    from clientlens.ingest import import_file
    from clientlens.store.db import make_engine

    url, path, mode, point = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    engine = make_engine(url)
    commits = 0

    def on_commit(conn):
        # Fires after the batch's rows were written, before COMMIT reaches the database.
        global commits
        commits += 1
        if mode == "commit" and commits == point:
            os.kill(os.getpid(), signal.SIGKILL)

    event.listen(engine, "commit", on_commit)

    def progress(done, total):
        if mode == "progress" and done == point:
            os.kill(os.getpid(), signal.SIGKILL)

    settings = load_settings(search_cwd=False, overrides={"ingest": {"batch_size": %d}})
    import_file(engine, "cdnow", "orders", path, settings=settings, progress=progress)
""") % BATCH


def _kill(url: str, path: Path, mode: str, point: int, tmp_path: Path) -> None:
    script = tmp_path / "killed_import.py"
    script.write_text(SCRIPT)
    proc = subprocess.run([sys.executable, str(script), url, str(path), mode, str(point)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr


def _whole_batches(engine: Engine) -> int:
    orders = count(engine, "orders")
    assert orders % BATCH == 0
    # Customers are created in the batch that needs them: none without orders survives a kill.
    assert count(engine, "customers c", "WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)") == 0
    return orders


@pytest.mark.slow
def test_sigkill_mid_batch_and_between_batches_then_rerun(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "cdnow_head.txt"
    with gzip.open(data_path("CDNOW_master.txt.gz"), "rt", encoding="ascii") as fh:
        lines = [next(fh) for _ in range(ROWS + 1)]
    path.write_text("".join(lines))
    url = engine.url.render_as_string(hide_password=False)
    # Commit 1 records the import run; commit 1 + k ends batch k. Killed inside batch 3's commit:
    _kill(url, path, "commit", 1 + 3, tmp_path)
    assert _whole_batches(engine) == 2 * BATCH
    # A re-run, killed right after batch 5 committed:
    _kill(url, path, "progress", 5 * BATCH, tmp_path)
    assert _whole_batches(engine) == 5 * BATCH
    report = import_file(engine, "cdnow", "orders", path,
                         settings=load_settings(search_cwd=False, overrides={"ingest": {"batch_size": BATCH}}))
    assert (report.inserted, report.unchanged, report.rejected) == (3 * BATCH, 5 * BATCH, 0)
    assert count(engine, "orders") == ROWS
    customers = {ln.split()[0].lstrip("0") for ln in lines[1:]}
    assert count(engine, "customers") == len(customers)
    assert count(engine, "import_runs", "WHERE finished_at IS NULL") == 2  # the two killed runs
