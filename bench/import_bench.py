"""Import benchmark: N generated order lines from CSV into SQLite and PostgreSQL, and the peak memory
of a 1M-row orders import.

Measures ``clientlens.ingest.import_file`` (reading, encoding detection, vectorised validation, keys,
per-batch lookups, atomic batches) against the raw load of the same rows into the same tables with
the same keys and indexes: SQLite via Python's csv module + ``executemany`` in one transaction,
PostgreSQL via ``COPY``. Prints rows/s and the ratio; writes the figures to docs/import.md.

Peak memory: ``import_file`` of N generated orders (1,000,000 by default, ``--rss-rows``) runs in a
subprocess of its own, which reports its own peak RSS (``VmHWM``); the baseline is the same
subprocess with the same imports and store connection but no import, measured in the same run.
Goal: under 300 MB.

    .venv/bin/python bench/import_bench.py            # 1,000,000 lines
    .venv/bin/python bench/import_bench.py --quick    # 100,000 lines
    .venv/bin/python bench/import_bench.py --pg-url postgresql://user:pw@host/db
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from clientlens.config import load_settings
from clientlens.ingest import import_file
from clientlens.store.db import make_engine, normalise_url, session_scope, upgrade
from clientlens.store.repository import get_or_create_shop

DOC = Path(__file__).resolve().parent.parent / "docs" / "import.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
SHOP = "bench"
RSS_GOAL_MB = 300  # issue 16: peak memory of a 1M-row import


def generate(path: Path, lines: int, seed: int = 42) -> tuple[Path, Path]:
    """Order lines (~3 per order) and the orders they belong to, seeded."""
    rnd = random.Random(seed)
    orders_path = path.with_name("orders.csv")
    n_orders = max(1, lines // 3)
    n_products = 5000
    with orders_path.open("w", newline="") as fo:
        w = csv.writer(fo)
        w.writerow(["order_id", "customer_id", "order_date", "total", "currency"])
        for i in range(n_orders):
            w.writerow([f"O{i:08d}", f"C{rnd.randrange(n_orders // 4 + 1):07d}",
                        f"2024-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d} {rnd.randint(8, 20):02d}:00:00",
                        f"{rnd.randint(100, 50000) / 100:.2f}", "EUR"])
    with path.open("w", newline="") as fl:
        w = csv.writer(fl)
        w.writerow(["order_id", "product_id", "product_name", "category", "quantity", "unit_price", "discount",
                    "is_new_arrival"])
        for i in range(lines):
            order = min(i // 3, n_orders - 1)
            p = rnd.randrange(n_products)
            w.writerow([f"O{order:08d}", f"P{p:05d}", f"Product {p}", f"cat{p % 40}", rnd.randint(1, 5),
                        f"{rnd.randint(50, 20000) / 100:.2f}", "0.00" if rnd.random() < 0.8 else "1.00",
                        "true" if rnd.random() < 0.1 else "false"])
    return path, orders_path


def generate_orders(path: Path, n: int, seed: int = 7) -> Path:
    """N orders with ids (~1 customer per 4 orders), seeded."""
    rnd = random.Random(seed)
    with path.open("w", newline="") as fo:
        w = csv.writer(fo)
        w.writerow(["order_id", "customer_id", "order_date", "channel", "currency", "total", "status"])
        for i in range(n):
            w.writerow([f"R{i:08d}", f"C{rnd.randrange(n // 4 + 1):07d}",
                        f"2024-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}T{rnd.randint(8, 20):02d}:00:00Z",
                        rnd.choice(("web", "store", "phone")), rnd.choice(("EUR", "USD", "CZK")),
                        f"{rnd.randint(100, 50000) / 100:.2f}", "completed"])
    return path


RSS_CHILD = """
import json, resource, sys, time
from clientlens.config import load_settings
from clientlens.ingest import import_file
from clientlens.store.db import make_engine
url, path, mode = sys.argv[1], sys.argv[2], sys.argv[3]
engine = make_engine(url)
with engine.connect() as conn:
    conn.exec_driver_sql("SELECT 1")
out = {}
if mode == "import":
    t0 = time.perf_counter()
    rep = import_file(engine, "rss", "orders", path, settings=load_settings(search_cwd=False))
    out = {"seconds": time.perf_counter() - t0, **rep.counts()}
# VmHWM: this process's own peak (ru_maxrss is kept across fork and exec, so it would report the
# parent's size whenever the parent was bigger).
hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")]
out["maxrss_mb"] = int(hwm[0].split()[1]) / 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def peak_rss(url: str, orders_csv: Path, n: int) -> dict[str, float]:
    """Peak RSS (MB) of an orders import in its own process, and of the same process without the import."""
    def child(mode: str) -> dict[str, float]:
        proc = subprocess.run([sys.executable, "-c", RSS_CHILD, url, str(orders_csv), mode], capture_output=True,
                              text=True, check=True)
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))

    base = child("baseline")
    run = child("import")
    assert run["inserted"] == n and run["rejected"] == 0, run
    out = {"rss_mb": run["maxrss_mb"], "baseline_mb": base["maxrss_mb"], "rss_seconds": run["seconds"],
           "rss_rps": n / run["seconds"], "file_mb": orders_csv.stat().st_size / 1e6}
    print(f"peak RSS of importing {n:,} orders ({out['file_mb']:.0f} MB): {out['rss_mb']:.0f} MB "
          f"(baseline process {out['baseline_mb']:.0f} MB, {out['rss_mb'] / out['baseline_mb']:.2f}x; "
          f"goal < {RSS_GOAL_MB} MB: {'met' if out['rss_mb'] < RSS_GOAL_MB else 'NOT met'}) in "
          f"{out['rss_seconds']:.0f} s ({out['rss_rps']:,.0f} rows/s)")
    return out


def raw_sqlite(engine: Engine, shop_id: int, path: Path) -> int:
    """csv module + executemany in one transaction, same table, keys and indexes."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        orders = dict(cur.execute("SELECT external_id, id FROM orders WHERE shop_id = ?", (shop_id,)).fetchall())
        products = dict(cur.execute("SELECT external_id, id FROM products WHERE shop_id = ?", (shop_id,)).fetchall())
        with path.open(newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            rows = ((shop_id, f"{r[0]}|{r[1]}|{i}", orders[r[0]], products[r[1]], float(r[4]),
                     int(r[5].replace(".", "")), int(r[6].replace(".", "")), r[7] == "true")
                    for i, r in enumerate(reader))
            cur.executemany("INSERT INTO order_lines (shop_id, external_id, order_id, product_id, quantity, "
                            "unit_price_minor, discount_minor, is_new_arrival) VALUES (?,?,?,?,?,?,?,?)", rows)
        raw.commit()
        return int(cur.execute("SELECT COUNT(*) FROM order_lines").fetchone()[0])
    finally:
        raw.close()


def raw_pg(engine: Engine, shop_id: int, path: Path) -> int:
    """COPY of the same rows (ids resolved from the keys), one transaction."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SELECT external_id, id FROM orders WHERE shop_id = %s", (shop_id,))
        orders = dict(cur.fetchall())
        cur.execute("SELECT external_id, id FROM products WHERE shop_id = %s", (shop_id,))
        products = dict(cur.fetchall())
        with path.open(newline="") as fh, cur.copy(  # type: ignore[attr-defined]
                "COPY order_lines (shop_id, external_id, order_id, product_id, quantity, unit_price_minor, "
                "discount_minor, is_new_arrival) FROM STDIN") as cp:
            reader = csv.reader(fh)
            next(reader)
            for i, r in enumerate(reader):
                cp.write_row((shop_id, f"{r[0]}|{r[1]}|{i}", orders[r[0]], products[r[1]], r[4],
                              int(r[5].replace(".", "")), int(r[6].replace(".", "")), r[7] == "true"))
        raw.commit()
        cur.execute("SELECT COUNT(*) FROM order_lines")
        return int(cur.fetchone()[0])
    finally:
        raw.close()


def run_backend(name: str, engine: Engine, lines_csv: Path, orders_csv: Path, n: int,
                rss_csv: Path | None = None, rss_rows: int = 0) -> dict[str, float]:
    settings = load_settings(search_cwd=False)
    upgrade(engine)
    rss: dict[str, float] = {}
    if rss_csv is not None:
        print(f"[{name}] peak memory of a {rss_rows:,}-row orders import (own process)")
        rss = peak_rss(engine.url.render_as_string(hide_password=False), rss_csv, rss_rows)
    print(f"[{name}] setting up: importing {n // 3:,} orders (not timed)")
    import_file(engine, SHOP, "orders", orders_csv, settings=settings)
    with session_scope(engine) as s:
        shop_id = get_or_create_shop(s, SHOP).id
    # Validated first (it also creates the products the raw load needs), then the lines are cleared.
    t0 = time.perf_counter()
    rep = import_file(engine, SHOP, "order-lines", lines_csv, settings=settings)
    validated = time.perf_counter() - t0
    assert rep.inserted == n and rep.rejected == 0, rep.counts()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM order_lines"))
    if name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("VACUUM")
    t0 = time.perf_counter()
    got = raw_sqlite(engine, shop_id, lines_csv) if name == "sqlite" else raw_pg(engine, shop_id, lines_csv)
    raw = time.perf_counter() - t0
    assert got == n
    out = {"validated_s": validated, "raw_s": raw, "validated_rps": n / validated, "raw_rps": n / raw, **rss}
    out["ratio"] = out["validated_rps"] / out["raw_rps"]
    print(f"[{name}] import_file (validated): {validated:6.2f} s  {out['validated_rps']:>10,.0f} rows/s")
    print(f"[{name}] raw load              : {raw:6.2f} s  {out['raw_rps']:>10,.0f} rows/s")
    print(f"[{name}] ratio validated/raw   : {out['ratio']:.2f}x  (goal >= 0.5x)")
    return out


def write_doc(results: dict[str, dict[str, float]], n: int, rss_rows: int) -> None:
    lines = [BEGIN, "", f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {n:,} order lines, "
             f"{os.cpu_count()} cores (`bench/import_bench.py{f' --rows {n}' if n != 1_000_000 else ''}`):", "",
             "| store | import_file (validated) rows/s | raw load rows/s | ratio |",
             "|---|---:|---:|---:|"]
    for name, r in results.items():
        raw = "csv + executemany" if name == "sqlite" else "COPY"
        lines.append(f"| {name} | {r['validated_rps']:,.0f} | {r['raw_rps']:,.0f} ({raw}) | {r['ratio']:.2f}x |")
    if any("rss_mb" in r for r in results.values()):
        lines += ["", f"Peak memory of `import_file` of {rss_rows:,} orders "
                  f"({next(iter(results.values())).get('file_mb', 0):.0f} MB CSV) in a process of its own "
                  f"(its own `VmHWM`; goal under {RSS_GOAL_MB} MB):", "",
                  "| store | peak RSS | same process without the import | import time | rows/s | goal |",
                  "|---|---:|---:|---:|---:|---|"]
        for name, r in results.items():
            if "rss_mb" in r:
                met = "met" if r["rss_mb"] < RSS_GOAL_MB else "not met"
                lines.append(f"| {name} | {r['rss_mb']:.0f} MB | {r['baseline_mb']:.0f} MB | {r['rss_seconds']:.0f} s "
                             f"| {r['rss_rps']:,.0f} | {met} |")
    lines += ["", END]
    doc = DOC.read_text("utf-8") if DOC.exists() else f"# Import\n\n## Benchmark\n\n{BEGIN}\n{END}\n"
    doc = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), "\n".join(lines), doc, flags=re.S)
    DOC.write_text(doc, "utf-8")
    print(f"figures written to {DOC}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100,000 lines instead of 1,000,000")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--pg-url", default=os.environ.get("CLIENTLENS_TEST_PG_URL"))
    ap.add_argument("--no-doc", action="store_true", help="do not write docs/import.md")
    ap.add_argument("--rss-rows", type=int, default=None, help="orders in the peak-memory import (default 1,000,000; "
                    "--quick 100,000; 0 skips it)")
    args = ap.parse_args()
    n = args.rows or (100_000 if args.quick else 1_000_000)
    rss_rows = args.rss_rows if args.rss_rows is not None else (100_000 if args.quick else 1_000_000)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        lines_csv, orders_csv = generate(Path(tmp) / "order_lines.csv", n)
        print(f"generated {n:,} order lines ({lines_csv.stat().st_size / 1e6:.0f} MB)")
        rss_csv = generate_orders(Path(tmp) / "orders_rss.csv", rss_rows) if rss_rows else None
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        results["sqlite"] = run_backend("sqlite", engine, lines_csv, orders_csv, n, rss_csv, rss_rows)
        engine.dispose()
        if args.pg_url:
            base = make_url(normalise_url(args.pg_url))
            name = f"cl_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                engine = make_engine(base.set(database=name).render_as_string(hide_password=False))
                results["postgresql"] = run_backend("postgresql", engine, lines_csv, orders_csv, n, rss_csv, rss_rows)
                engine.dispose()
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            print("PostgreSQL skipped: give --pg-url or set CLIENTLENS_TEST_PG_URL")
    if not args.no_doc and not args.quick:  # a quick run does not replace the recorded full-size figures
        write_doc(results, n, rss_rows)


if __name__ == "__main__":
    main()
