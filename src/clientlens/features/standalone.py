"""A throwaway Spark standalone cluster on this machine, started from the installed pyspark.

For the cluster test, the benchmark and trying ``--spark-master`` without a real cluster: one master
and ``workers`` workers (``spark-class org.apache.spark.deploy.master.Master`` / ``...worker.Worker``)
bound to ``host``, each worker offering ``cores`` cores and ``memory`` to executors, each with its own
work directory. The executors are separate JVMs that share nothing with the driver but the network
(and this machine's disk). :meth:`StandaloneCluster.stop` ends exactly the processes it started.

>>> with StandaloneCluster(workers=2, cores=1, memory="1g") as cluster:  # doctest: +SKIP
...     cluster.master_url
'spark://127.0.0.1:40117'
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import IO, Any

from clientlens.errors import EngineError

log = logging.getLogger(__name__)

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def spark_home() -> Path:
    """The Spark distribution that ships inside the installed pyspark."""
    try:
        from pyspark.find_spark_home import _find_spark_home
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise EngineError("a standalone cluster needs pyspark: pip install 'clientlens[spark]'") from exc
    return Path(_find_spark_home())


class StandaloneCluster:
    """One master and ``workers`` workers on ``host``; a context manager that always stops them."""

    def __init__(self, *, workers: int = 2, cores: int = 1, memory: str = "1g", host: str = "127.0.0.1",
                 work_dir: str | Path | None = None, python: str | None = None,
                 daemon_memory: str = "256m", timeout: float = 120.0) -> None:
        self.workers = workers
        self.cores = cores
        self.memory = memory
        self.host = host
        self.python = python or sys.executable
        self.daemon_memory = daemon_memory
        self.timeout = timeout
        self._own_dir = work_dir is None
        self.work_dir = Path(work_dir or tempfile.mkdtemp(prefix="clientlens-spark-"))
        self.port = 0
        self.webui_port = 0
        self._procs: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []

    @property
    def master_url(self) -> str:
        return f"spark://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        """The environment of the daemons, and of a driver that should match them (same Python)."""
        env = dict(os.environ)
        env.update({"SPARK_HOME": str(spark_home()), "SPARK_LOCAL_IP": self.host,
                    "SPARK_DAEMON_MEMORY": self.daemon_memory, "PYSPARK_PYTHON": self.python,
                    "PYSPARK_DRIVER_PYTHON": self.python, "SPARK_NO_DAEMONIZE": "1"})
        return env

    def _spawn(self, name: str, args: list[str]) -> None:
        logfile = (self.work_dir / f"{name}.log").open("wb")
        self._logs.append(logfile)
        cmd = [str(spark_home() / "bin" / "spark-class"), *args]
        log.info("starting %s: %s", name, " ".join(cmd))
        self._procs.append(subprocess.Popen(cmd, stdout=logfile, stderr=subprocess.STDOUT, env=self.env(),
                                            cwd=self.work_dir, start_new_session=True))

    def state(self) -> dict[str, Any] | None:
        """The master's JSON status (``aliveworkers``, ``workers``, ``activeapps`` ...), None if not up."""
        try:
            with urllib.request.urlopen(f"http://{self.host}:{self.webui_port}/json/", timeout=2) as resp:
                return json.loads(resp.read())  # type: ignore[no-any-return]
        except (OSError, ValueError):
            return None

    def start(self) -> StandaloneCluster:
        self.port, self.webui_port = free_port(self.host), free_port(self.host)
        self._spawn("master", [MASTER_CLASS, "--host", self.host, "--port", str(self.port),
                               "--webui-port", str(self.webui_port)])
        for i in range(self.workers):
            folder = self.work_dir / f"worker-{i}"
            folder.mkdir(parents=True, exist_ok=True)
            self._spawn(f"worker-{i}", [WORKER_CLASS, "--host", self.host, "--cores", str(self.cores),
                                        "--memory", self.memory, "--work-dir", str(folder),
                                        "--webui-port", str(free_port(self.host)), self.master_url])
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            dead = [p for p in self._procs if p.poll() is not None]
            if dead:
                break
            state = self.state()
            if state is not None and int(state.get("aliveworkers", 0)) >= self.workers:
                log.info("standalone cluster %s up with %d workers", self.master_url, self.workers)
                return self
            time.sleep(0.5)
        tail = self.log_tail()
        self.stop()
        raise EngineError(f"the standalone Spark cluster did not come up within {self.timeout:.0f}s:\n{tail}")

    def log_tail(self, lines: int = 15) -> str:
        """The last lines of each daemon's log (for error messages)."""
        out = []
        for path in sorted(self.work_dir.glob("*.log")):
            text = path.read_text("utf-8", errors="replace").splitlines()[-lines:]
            out.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(out)

    def stop(self) -> None:
        """Stop the workers, then the master (each one's process group), waiting for them to exit."""
        for proc in reversed(self._procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in reversed(self._procs):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self._procs.clear()
        for fh in self._logs:
            fh.close()
        self._logs.clear()
        if self._own_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def __enter__(self) -> StandaloneCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
