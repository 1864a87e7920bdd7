"""SIGKILL an import at several points: an import is one transaction, so the store holds nothing of a
killed run (no half-done import, no run left unfinished), and a re-run imports everything."""

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


def _nothing_of_the_run(engine: Engine) -> bool:
    return all(count(engine, t) == 0 for t in ("orders", "customers", "import_runs", "shops"))


@pytest.mark.slow
def test_sigkill_mid_run_and_in_the_commit_then_rerun(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "cdnow_head.txt"
    with gzip.open(data_path("CDNOW_master.txt.gz"), "rt", encoding="ascii") as fh:
        lines = [next(fh) for _ in range(ROWS + 1)]
    path.write_text("".join(lines))
    url = engine.url.render_as_string(hide_password=False)
    # Killed inside the run's one commit (the rows are written, COMMIT has not reached the store):
    _kill(url, path, "commit", 1, tmp_path)
    assert _nothing_of_the_run(engine)
    # Killed right after batch 5 of 8 was loaded:
    _kill(url, path, "progress", 5 * BATCH, tmp_path)
    assert _nothing_of_the_run(engine)
    report = import_file(engine, "cdnow", "orders", path,
                         settings=load_settings(search_cwd=False, overrides={"ingest": {"batch_size": BATCH}}))
    assert (report.inserted, report.unchanged, report.rejected) == (ROWS, 0, 0)
    assert count(engine, "orders") == ROWS
    customers = {ln.split()[0].lstrip("0") for ln in lines[1:]}
    assert count(engine, "customers") == len(customers)
    assert count(engine, "import_runs", "WHERE status = 'finished' AND finished_at IS NOT NULL") == 1
    assert count(engine, "import_runs") == 1
