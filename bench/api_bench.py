"""API latency under an open-loop load: the JSON customer 360 and a filtered customer list.

A store with 1M generated customers (2 orders each on average, a snapshot with three taxonomies
of labels and scores) is built once per backend (SQLite file, PostgreSQL database) and reused by
later runs. The server (``clientlens`` app under uvicorn, one process) is pinned to CPU 0 and the
load generator to CPU 1 (``taskset`` / ``sched_setaffinity``). Requests are sent at a fixed rate
whatever the responses do (open loop); latency is measured from each request's scheduled time, so
queueing shows. The baseline measured in the same run is ``/healthz`` at the same rate.
A local PostgreSQL server is pinned to CPU 1 with the load generator for the run and restored after
(``--pg-cpu shared`` leaves it free to run on the API server's core as well): on two cores its
backends otherwise run next to the API server, and the run measures them sharing one core.

    .venv/bin/python bench/api_bench.py            # 1M customers, 200 req/s for 30 s, SQLite + PostgreSQL
    .venv/bin/python bench/api_bench.py --quick    # 20k customers, 100 req/s for 5 s
    .venv/bin/python bench/api_bench.py --backends postgres --pg-cpu shared

Figures go to stdout and into docs/api.md between the ``bench`` markers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
DOC = ROOT / "docs" / "api.md"
SHOP = "bench"
RFM = ("champions", "loyal_customers", "potential_loyalist", "new_customers", "promising", "need_attention",
       "about_to_sleep", "at_risk", "cant_lose_them", "hibernating", "lost")
RFM_P = (0.08, 0.1, 0.1, 0.06, 0.06, 0.08, 0.08, 0.1, 0.04, 0.12, 0.18)
VALUE = ("high", "medium", "low")
LIFECYCLE = ("new", "loyal", "occasional", "inactive")
COUNTRIES = ("US", "VN", "PL", "FR", "DE", "GB")
CHANNELS = ("online", "in_store", "phone", "marketplace")
DEFAULT_PG = "postgresql://clientlens:clientlens@127.0.0.1:5432/clientlens_test"


def _rows(n: int, seed: int = 11) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    return {"rfm": rng.choice(len(RFM), size=n, p=RFM_P), "value": rng.choice(3, size=n, p=(0.2, 0.3, 0.5)),
            "life": rng.integers(0, 4, size=n), "country": rng.integers(0, len(COUNTRIES), size=n),
            "channel": rng.integers(0, len(CHANNELS), size=n), "orders": rng.poisson(1.0, size=n) + 1,
            "clv": np.round(rng.lognormal(3.5, 1.2, size=n), 2), "p_alive": np.round(rng.beta(2, 2, size=n), 4),
            "day": rng.integers(0, 720, size=n)}


def _chunks(n: int, size: int = 50_000) -> list[tuple[int, int]]:
    return [(i, min(i + size, n)) for i in range(0, n, size)]


def populate(url: str, n: int) -> None:
    """Fill an empty store with ``n`` customers (bulk inserts / COPY), a snapshot, labels and scores."""
    from sqlalchemy import insert, select

    from clientlens.store import models as m
    from clientlens.store.db import make_engine, session_scope, upgrade

    engine = make_engine(url)
    upgrade(engine)
    r = _rows(n)
    start = datetime(2024, 1, 1)
    with session_scope(engine) as s:
        s.add(m.Shop(name=SHOP, created_at=start))
        s.flush()
        shop_id = s.scalar(select(m.Shop.id).where(m.Shop.name == SHOP))
        snap = m.Snapshot(shop_id=shop_id, as_of=date(2025, 12, 31), created_at=start, engine="duckdb",
                          run=json.dumps({}))
        s.add(snap)
        s.flush()
        snap_id = snap.id
    pg = engine.dialect.name == "postgresql"
    t0 = time.perf_counter()

    def cust(i: int) -> tuple[Any, ...]:
        return (i + 1, shop_id, f"C{i:07d}", f"Customer {i}", f"c{i}@mail.test", f"c{i}@mail.test",
                COUNTRIES[r["country"][i]], "en", CHANNELS[r["channel"][i]], True, start)

    cust_cols = ("id", "shop_id", "external_id", "name", "email", "email_norm", "country", "language",
                 "preferred_channel", "consent_email", "created_at")
    order_cols = ("shop_id", "external_id", "customer_id", "ordered_at", "channel", "currency", "total_minor",
                  "discount_minor", "status")
    label_cols = ("snapshot_id", "customer_id", "taxonomy", "label", "rule_id", "figures", "text")
    score_cols = ("snapshot_id", "customer_id", "model", "p_alive", "expected_purchases_90d",
                  "expected_purchases_365d", "clv")

    def orders(i: int) -> list[tuple[Any, ...]]:
        return [(shop_id, f"O{i:07d}-{k}", i + 1, start + timedelta(days=int(r["day"][i]) + 30 * k),
                 CHANNELS[r["channel"][i]], "USD", int(r["clv"][i] * 40) + k, 0, "completed")
                for k in range(int(r["orders"][i]))]

    def labels(i: int) -> list[tuple[Any, ...]]:
        ext = f"C{i:07d}"
        rfm, val, life = RFM[r["rfm"][i]], VALUE[r["value"][i]], LIFECYCLE[r["life"][i]]
        fig = json.dumps({"recency_days": int(r["day"][i]), "orders": int(r["orders"][i])})
        return [(snap_id, ext, "rfm_segment", rfm, f"rfm.{rfm}", fig, rfm), (snap_id, ext, "value", val, f"value.{val}", fig, val),
                (snap_id, ext, "lifecycle", life, f"lifecycle.{life}", fig, life)]

    def scores(i: int) -> tuple[Any, ...]:
        pa = float(r["p_alive"][i])
        return (snap_id, f"C{i:07d}", "bg_nbd", pa, pa * 0.5, pa * 2.0, float(r["clv"][i]))

    tables = [("customers", cust_cols, lambda a, b: [cust(i) for i in range(a, b)]),
              ("orders", order_cols, lambda a, b: [row for i in range(a, b) for row in orders(i)]),
              ("snapshot_labels", label_cols, lambda a, b: [row for i in range(a, b) for row in labels(i)]),
              ("snapshot_scores", score_cols, lambda a, b: [scores(i) for i in range(a, b)])]
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for table, cols, make in tables:
            for a, b in _chunks(n):
                batch = make(a, b)
                if pg:
                    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:  # type: ignore[attr-defined]
                        for row in batch:
                            cp.write_row(row)
                else:
                    cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                                    batch)
            raw.commit()
            print(f"  {table}: done at {time.perf_counter() - t0:.0f} s", flush=True)
        if pg:
            cur.execute("SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT max(id) FROM customers))")
            raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    with session_scope(engine) as s:
        counts: dict[tuple[str, str], int] = {}
        for tax, values, idx in (("rfm_segment", RFM, r["rfm"]), ("value", VALUE, r["value"]),
                                 ("lifecycle", LIFECYCLE, r["life"])):
            for k, label in enumerate(values):
                counts[(tax, label)] = int((idx == k).sum())
        s.execute(insert(m.SnapshotSummary), [
            {"snapshot_id": snap_id, "taxonomy": t, "label": lab, "customers": c, "customers_share": c / n,
             "revenue": 0, "revenue_share": 0.0} for (t, lab), c in counts.items()])
    engine.dispose()


def ensure_store(url: str, n: int) -> None:
    from sqlalchemy import func, select

    from clientlens.store import models as m
    from clientlens.store.db import make_engine, schema_version, upgrade

    engine = make_engine(url)
    try:
        if schema_version(engine) is not None:
            with engine.connect() as conn:
                have = conn.scalar(select(func.count()).select_from(m.Customer))
            if have == n:
                upgrade(engine)  # a store built before a migration gets its indexes
                print(f"  reusing the store with {n:,} customers")
                return
    finally:
        engine.dispose()
    raise LookupError


def prepare_sqlite(n: int) -> str:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"api_bench_{n}.db"
    url = f"sqlite:///{path}"
    try:
        ensure_store(url, n)
    except LookupError:
        for p in OUT.glob(path.name + "*"):
            p.unlink()
        print(f"  building {n:,} customers (SQLite)", flush=True)
        populate(url, n)
    return url


def prepare_postgres(n: int, admin_url: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from clientlens.store.db import normalise_url

    base = make_url(normalise_url(admin_url))
    name = f"clientlens_api_bench_{n}"
    url = base.set(database=name).render_as_string(hide_password=False)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        ensure_store(url, n)
    except LookupError:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        print(f"  building {n:,} customers (PostgreSQL)", flush=True)
        populate(url, n)
    admin.dispose()
    return url


def bench_token(url: str) -> str:
    from clientlens.service.auth import create_token
    from clientlens.store.db import make_engine, session_scope

    engine = make_engine(url)
    with session_scope(engine) as s:
        token = create_token(s, "api-bench", "admin", actor="bench")
    engine.dispose()
    return token


def serve(url: str, port: int) -> None:
    """The server process (started pinned to CPU 0)."""
    import logging

    import uvicorn

    from clientlens.app import server_app
    from clientlens.config import load_settings

    logging.basicConfig(level=logging.WARNING)
    settings = load_settings(search_cwd=False, overrides={"store": {"url": url}})
    app = server_app(settings, url)  # as `clientlens serve` builds it
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pin(cmd: list[str], cpu: int) -> list[str]:
    return (["taskset", "-c", str(cpu)] + cmd) if shutil.which("taskset") and os.cpu_count() and os.cpu_count() > 1 else cmd  # type: ignore[operator]


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (Content-Length or chunked body); its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readline()).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def open_loop(host: str, port: int, token: str, make_path: Any, rate: float, duration: float,
                    connections: int = 128) -> dict[str, Any]:
    """Send ``rate`` requests/s for ``duration`` s whatever the responses do; latency from the scheduled time.

    A lean keep-alive HTTP/1.1 client (a general-purpose client's pool costs more CPU than the
    server at these rates): a scheduler queues each request at its time, ``connections`` workers
    send them; a request waiting for a free connection keeps its scheduled time, so waits count.
    """
    n = int(rate * duration)
    lat: list[float] = []
    errors = 0
    queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        while True:
            item = await queue.get()
            if item is None:
                writer.close()
                return
            i, scheduled = item
            request = (f"GET {make_path(i)} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                       f"Connection: keep-alive\r\n\r\n").encode()
            try:
                writer.write(request)
                status = await _read_response(reader)
                ok = status == 200
            except (OSError, asyncio.IncompleteReadError, ValueError):
                ok = False
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
            lat.append((time.perf_counter() - scheduled) * 1000)
            if not ok:
                errors += 1

    workers = [asyncio.ensure_future(worker()) for _ in range(connections)]
    t0 = time.perf_counter() + 0.5
    for i in range(n):
        scheduled = t0 + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((i, scheduled))
    for _ in workers:
        queue.put_nowait(None)
    # Requests still unanswered 15 s after the last was sent count as errors (timeouts).
    _, pending = await asyncio.wait(workers, timeout=15.0)
    for task in pending:
        task.cancel()
    missing = n - len(lat)
    errors += missing
    lat.extend([(duration + 15.0) * 1000] * missing)
    arr = np.asarray(lat)
    return {"requests": n, "errors": errors, "p50": float(np.percentile(arr, 50)), "p99": float(np.percentile(arr, 99))}


def _ppid(pid: int) -> int:
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[1])


def pin_postgres(url: str, cpu: int) -> Any:
    """Pin the local PostgreSQL server (postmaster and every process it forked, and so every backend it
    forks later) to ``cpu``; return a function restoring the affinities, or None when that is not
    possible (a remote server, no permission, no /proc).

    On this two-core machine the database otherwise runs its backends on the API server's core
    (the scheduler wakes them next to the process that sent the query), and the run measures the
    two sharing one core rather than the API server; in production the database has its own machine.
    """
    from sqlalchemy import create_engine, text

    if not hasattr(os, "sched_setaffinity") or (os.cpu_count() or 1) < 2:
        return None
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            backend = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
        postmaster = _ppid(backend)
        pids = [postmaster] + [int(p) for p in os.listdir("/proc") if p.isdigit() and _safe_ppid(int(p)) == postmaster]
        saved = {pid: os.sched_getaffinity(pid) for pid in pids}
        for pid in pids:
            os.sched_setaffinity(pid, {cpu})
    except (OSError, ValueError) as exc:  # not local, not ours to pin, gone
        print(f"  PostgreSQL not pinned ({exc}): it shares the server's core", flush=True)
        return None
    finally:
        engine.dispose()

    def restore() -> None:
        """Every process of the server back to its affinity (backends forked meanwhile: the postmaster's)."""
        for pid in [postmaster] + [int(p) for p in os.listdir("/proc") if p.isdigit() and _safe_ppid(int(p)) == postmaster]:
            try:
                os.sched_setaffinity(pid, saved.get(pid, saved[postmaster]))
            except OSError:
                pass

    return restore


def _safe_ppid(pid: int) -> int | None:
    try:
        return _ppid(pid)
    except (OSError, ValueError, IndexError):
        return None


def run_backend(name: str, url: str, n: int, rate: float, duration: float) -> dict[str, dict[str, Any]]:
    token = bench_token(url)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    OUT.mkdir(parents=True, exist_ok=True)
    server_log = (OUT / f"server_{name}.log").open("w")
    proc = subprocess.Popen(_pin([sys.executable, __file__, "--serve", url, "--port", str(port)], 0), env=env,
                            stdout=server_log, stderr=server_log)
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        for _ in range(300):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("the server did not start")
        rng = random.Random(5)
        measured, warm = int(rate * duration), int(rate * 2.0)
        ids = [f"C{rng.randrange(n):07d}" for _ in range(measured + warm + 100)]
        labels = [f"rfm_segment={RFM[rng.randrange(len(RFM))]}" for _ in range(measured + warm + 100)]
        headers = {"Authorization": f"Bearer {token}"}
        cases = {
            "healthz (baseline)": lambda i: "/healthz",
            "customer 360": lambda i: f"/api/v1/shops/{SHOP}/customers/{ids[i]}",
            "filtered list": lambda i: f"/api/v1/shops/{SHOP}/customers?label={labels[i]}&limit=50",
        }
        out = {}
        for case, make in cases.items():
            # Service time first: one request at a time (closed loop); 1000 / median = requests/s one core serves.
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                # Warm-up, right before the case and not measured: the CLV ranking of the snapshot, and
                # each label filter's count (cached for [web] count_cache_seconds, 60 s by default).
                for i in range(20):
                    client.get(make(len(ids) - 41 - i))
                if case == "filtered list":
                    for label in RFM:
                        client.get(f"/api/v1/shops/{SHOP}/customers", params={"label": f"rfm_segment={label}"})
                times = []
                for i in range(40):
                    t = time.perf_counter()
                    client.get(make(len(ids) - 1 - i))
                    times.append((time.perf_counter() - t) * 1000)
            service = float(np.median(times))
            # Then 2 s at the rate, not measured: the pool opens the connections the load needs (each
            # new PostgreSQL connection costs a backend, authentication and its first plans; after a
            # restart that first second sees up to about 250 ms, see docs/api.md).
            asyncio.run(open_loop("127.0.0.1", port, token, lambda i, make=make: make(measured + i), rate, 2.0))
            res = asyncio.run(open_loop("127.0.0.1", port, token, make, rate, duration))
            res["service_ms"] = service
            out[case] = res
            print(f"  {name:10s} {case:20s} service {service:6.1f} ms (~{1000 / service:5.0f} req/s)  "
                  f"p50 {res['p50']:7.1f} ms  p99 {res['p99']:7.1f} ms  errors {res['errors']}/{res['requests']}",
                  flush=True)
        return out
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # still busy with the overload's backlog
            proc.kill()
            proc.wait()


def write_doc(results: dict[str, dict[str, dict[str, Any]]], args: argparse.Namespace) -> None:
    lines = [f"Run {datetime.now().strftime('%Y-%m-%d %H:%M')} UTC: {args.customers:,} customers, open loop at "
             f"{args.rate:g} req/s for {args.duration:g} s per case, server on CPU 0, load generator on CPU 1 "
             f"(`{'--quick' if args.quick else 'default run'}`); PostgreSQL "
             f"{'pinned to CPU 1 with the load generator' if args.pg_cpu == 'load' else 'free on both cores'} "
             f"(`--pg-cpu {args.pg_cpu}`).", "",
             "| store | endpoint | service time, one at a time (ms) | capacity (req/s) | p50 (ms) | p99 (ms) | "
             "p99 / baseline p99 | errors |", "|---|---|---|---|---|---|---|---|"]
    for backend, cases in results.items():
        base = cases["healthz (baseline)"]["p99"] or 1e-9
        for case, r in cases.items():
            lines.append(f"| {backend} | {case} | {r['service_ms']:.1f} | {1000 / r['service_ms']:.0f} | {r['p50']:.1f} | "
                         f"{r['p99']:.1f} | {r['p99'] / base:.1f} | {r['errors']} / {r['requests']} |")
    block = "\n".join(lines)
    text = DOC.read_text("utf-8") if DOC.exists() else "# API\n\n<!-- bench:start -->\n<!-- bench:end -->\n"
    suffix = ("" if args.rate == 200 else f"-{args.rate:g}") + ("" if args.pg_cpu == "load" else "-shared")
    start, end = f"<!-- bench{suffix}:start -->", f"<!-- bench{suffix}:end -->"
    if start in text and end in text and not args.quick:
        text = text.split(start)[0] + start + "\n" + block + "\n" + end + text.split(end, 1)[1]
        DOC.write_text(text, "utf-8")
    print(block)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="20k customers, 100 req/s for 5 s")
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--pg-url", default=os.environ.get("CLIENTLENS_TEST_PG_URL", DEFAULT_PG))
    ap.add_argument("--pg-cpu", choices=("load", "shared"), default="load",
                    help="load: pin a local PostgreSQL to the load generator's CPU (default); shared: leave it "
                         "free to run on the API server's core too")
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port)
        return 0
    if args.quick:
        args.customers, args.rate, args.duration = 20_000, 100.0, 5.0
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for backend in args.backends.split(","):
        print(f"== {backend}", flush=True)
        try:
            url = prepare_sqlite(args.customers) if backend == "sqlite" else prepare_postgres(args.customers, args.pg_url)
        except Exception as exc:  # e.g. PostgreSQL not running: report, go on with the others
            print(f"  {backend} skipped: {exc}")
            continue
        restore = pin_postgres(url, 1) if backend == "postgres" and args.pg_cpu == "load" else None
        if restore is not None:
            print("  PostgreSQL pinned to CPU 1 (with the load generator) for this run", flush=True)
        try:
            results[backend] = run_backend(backend, url, args.customers, args.rate, args.duration)
        finally:
            if restore is not None:
                restore()
    write_doc(results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
