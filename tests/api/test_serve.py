"""``clientlens serve``: the server process freezes its start-up objects before serving, and
``--workers N`` runs N worker processes on the same store."""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner

from clientlens.cli.main import build_app


def test_serve_freezes_start_up_objects_before_serving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_run(app: Any, **kw: Any) -> None:
        seen.update(app=app, frozen=gc.get_freeze_count(), **kw)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    gc.unfreeze()
    try:
        result = CliRunner().invoke(build_app(), ["serve", "--port", "8123", "--db", f"sqlite:///{tmp_path / 's.db'}"])
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
    assert result.exit_code == 0, result.output
    assert isinstance(seen["app"], FastAPI) and seen["port"] == 8123
    assert seen["frozen"] > 10_000  # the app, the libraries and the metadata, out of the collector's sight


def test_serve_refuses_zero_workers(tmp_path: Path) -> None:
    result = CliRunner().invoke(build_app(), ["serve", "--workers", "0", "--db", f"sqlite:///{tmp_path / 's.db'}"])
    assert result.exit_code != 0 and "--workers" in str(result.exception or result.output)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


@pytest.mark.skipif(not Path("/proc").exists(), reason="counts worker processes through /proc")
def test_serve_with_two_workers_answers_from_two_processes(tmp_path: Path) -> None:
    port = _free_port()
    db = f"sqlite:///{tmp_path / 'store.db'}"
    proc = subprocess.Popen([sys.executable, "-m", "clientlens", "serve", "--workers", "2", "--port", str(port),
                             "--db", db, "--log-level", "warning"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(200):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise AssertionError(proc.stdout.read() if proc.stdout else "serve exited")
            time.sleep(0.2)
        else:
            raise AssertionError("the server did not answer")
        time.sleep(1.0)  # both workers up
        workers = [pid for pid in _children(proc.pid) if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()]
        assert len(workers) == 2
        assert {httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code for _ in range(20)} == {200}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
