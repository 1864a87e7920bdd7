"""The sample-shop generator: a seeded, documented synthetic shop with its ground truth.

The shop (home country GB, currency GBP) has individual, professional and institutional customers in
Great Britain, France, Poland and Vietnam, orders with channels, discounts, new arrivals, returns and
cancellations, service threads with first-response times, CSAT / NPS feedback, birthdays and consents.
Every customer's behaviour comes from the archetypes of :mod:`clientlens.datasets.archetypes`; the
``truth`` frame says which archetypes each customer was built with, so classifiers can be scored.

Customers are generated in blocks of :data:`BLOCK_SIZE`, each from its own seed derived from
``(seed, block number)``; the in-memory shop and the chunked Parquet stream are the same blocks, so
they are identical for the same seed, whatever the chunk size.

>>> shop = generate_shop(200, seed=1)
>>> sorted(shop.tables())[:3]
['customers', 'feedback', 'interactions']
>>> bool(shop.truth.loc[shop.truth.prospect, "customer_id"].isin(shop.orders.customer_id).any())
False
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from clientlens.datasets.archetypes import GeneratorSettings, resolve_settings
from clientlens.datasets.catalogue import Catalogue, build_catalogue, history_start
from clientlens.datasets.population import CONSENT_CHANNELS, PARAMETRIC, make_population
from clientlens.datasets.purchases import make_purchases
from clientlens.datasets.schema import TABLES, to_arrow, write_csv
from clientlens.datasets.service import make_service

log = logging.getLogger(__name__)

#: customers per independently seeded block (the unit of determinism)
BLOCK_SIZE = 1000
#: the default as-of date: the last day of the generated history
DEFAULT_AS_OF = date(2025, 12, 31)
TRUTH_ARCHETYPES = ("price_conscious", "brand_loyal", "trend_seeker", "bulk_buyer", "occasional", "lapsing",
                    "prospect", "international")
_STREAM_CATALOGUE, _STREAM_BLOCK = 1, 2

Progress = Callable[[int], None]


@dataclass
class GeneratedShop:
    """The generated tables (canonical input columns) and the ground truth."""

    customers: pd.DataFrame
    orders: pd.DataFrame
    order_lines: pd.DataFrame
    products: pd.DataFrame
    interactions: pd.DataFrame
    feedback: pd.DataFrame
    truth: pd.DataFrame
    as_of: date = DEFAULT_AS_OF
    seed: int = 0
    settings: GeneratorSettings = field(default_factory=GeneratorSettings)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by its file name (``truth`` included)."""
        return {name: getattr(self, name) for name in TABLES}


def _catalogue(seed: int, as_of: date, cfg: GeneratorSettings) -> Catalogue:
    return _catalogue_cached(seed, as_of, cfg.history_days, cfg.base_products_per_category,
                             cfg.launches_per_category_per_month)


@lru_cache(maxsize=4)
def _catalogue_cached(seed: int, as_of: date, history_days: int, base: int, launches: float) -> Catalogue:
    rng = np.random.default_rng([seed, _STREAM_CATALOGUE])
    return build_catalogue(rng, start=history_start(as_of, history_days), as_of=as_of,
                           base_per_category=base, launches_per_month=launches)


def _block(block: int, n: int, cfg: GeneratorSettings, as_of: date, seed: int, cat: Catalogue,
           service: bool = True) -> dict[str, pd.DataFrame]:
    """All tables (products excepted) of customers ``block * BLOCK_SIZE ..`` (``n`` of them).

    Without ``service`` the interactions and feedback are not generated (every other table is the same).
    """
    rng = np.random.default_rng([seed, _STREAM_BLOCK, block])
    first = block * BLOCK_SIZE
    numbers = np.arange(first, first + n)
    start = history_start(as_of, cfg.history_days)
    customers, truth, plan = make_population(rng, first, n, cfg, as_of, seed)
    bought = make_purchases(rng, plan, cfg, cat, start, customers["timezone"].to_numpy(dtype=object), numbers)
    start64 = np.datetime64(start, "ns")
    end64 = np.datetime64(as_of, "ns") + np.timedelta64(1, "D")
    plan["brand_loyal"] = bought.brand_loyal

    # account creation: up to 60 days before the first purchase, or any time for a prospect
    lead = rng.uniform(0, 60 * 86400, n).astype("timedelta64[s]").astype("timedelta64[ns]")
    span = (end64 - start64).astype("timedelta64[ns]").astype(np.int64)
    anytime = start64 + (rng.random(n) * span).astype(np.int64).astype("timedelta64[ns]")
    first_buy = start64 + bought.first_day.astype("timedelta64[D]").astype("timedelta64[ns]")
    created = np.where(bought.first_day >= 0, first_buy - lead + np.timedelta64(8, "h"), anytime)
    if len(bought.orders):  # an account exists before its first order
        first_order = bought.orders.groupby("customer_id", sort=False)["order_date"].min()
        pos = customers["customer_id"].map(first_order).to_numpy(dtype="datetime64[ns]")
        created = np.where(~np.isnat(pos) & (pos < created), pos - np.timedelta64(1, "h"), created)
    customers["created_at"] = created.astype("datetime64[s]").astype("datetime64[ns]")

    buyer = bought.completed > 0
    for arch in PARAMETRIC:
        truth[arch] = plan[arch].to_numpy() & buyer
    truth["prospect"] = ~buyer & (plan["profile"].to_numpy() == "prospect")
    border = [np.where(plan[f"{a}_borderline"].to_numpy(), a, "") for a in PARAMETRIC]
    truth["borderline"] = [";".join(x for x in row if x) for row in zip(*border, strict=True)]
    truth["completed_orders"] = bought.completed
    truth = truth[["customer_id", *TRUTH_ARCHETYPES, "customer_type", "gender", "birth_date", "income_band",
                   "country", "language", "timezone", "profile", "completed_orders", "borderline",
                   "consents_withdrawn"]]
    out = {"customers": customers, "orders": bought.orders, "order_lines": bought.lines, "truth": truth}
    if service:
        made = make_service(rng, plan, customers, bought.orders, cfg, start64, end64, numbers)
        out |= {"interactions": made.interactions, "feedback": made.feedback}
        made.interactions["occurred_at"] = pd.to_datetime(made.interactions["occurred_at"]).dt.floor("s")
        made.feedback["submitted_at"] = pd.to_datetime(made.feedback["submitted_at"]).dt.floor("s")
    bought.orders["order_date"] = pd.to_datetime(bought.orders["order_date"]).dt.floor("s")
    return out


def _blocks(n_customers: int) -> Iterator[tuple[int, int]]:
    for b in range(-(-n_customers // BLOCK_SIZE)):
        yield b, min(BLOCK_SIZE, n_customers - b * BLOCK_SIZE)


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)


class _UniqueEmails:
    """E-mail addresses unique over the whole shop, block after block.

    A block draws its own addresses, unique within it; it cannot see the others (blocks are
    generated independently, in worker processes too). Blocks are registered here in order, in
    :func:`generate_shop` and :func:`generate_to_parquet` alike, and a customer whose address an
    earlier block already gave out gets its customer id in the mailbox (``anna.nowak.c0001234@...``):
    otherwise identity resolution would rightly merge two generated people into one. Memory: 8
    bytes per address given out (sorted stable hashes) plus a set for the current chunk.
    """

    def __init__(self) -> None:
        self._old = np.empty(0, dtype=np.int64)
        self._new: set[int] = set()

    @staticmethod
    def _hash(email: str) -> int:
        return int.from_bytes(hashlib.blake2b(email.encode(), digest_size=8).digest(), "little", signed=True)

    def unique(self, emails: list[Any], ids: list[str]) -> list[Any] | None:
        """``emails`` with every address already given out replaced; None when none was.

        Missing addresses (None or NaN) stay as they are."""
        hashes = np.array([self._hash(e) if isinstance(e, str) and e else 0 for e in emails], dtype=np.int64)
        seen_before = np.zeros(len(emails), dtype=bool)
        if len(self._old):
            seen_before = self._old[np.minimum(np.searchsorted(self._old, hashes), len(self._old) - 1)] == hashes
        out: list[Any] | None = None
        for k, email in enumerate(emails):
            if not isinstance(email, str) or not email:
                continue
            h = int(hashes[k])
            if seen_before[k] or h in self._new:
                box, _, domain = email.partition("@")
                email = f"{box}.{ids[k].lower()}@{domain}"
                h = self._hash(email)
                if out is None:
                    out = list(emails)
                out[k] = email
            self._new.add(h)
        return out

    def flush(self) -> None:
        """Fold the current chunk's addresses into the sorted array."""
        if self._new:
            self._old = np.union1d(self._old, np.fromiter(self._new, dtype=np.int64, count=len(self._new)))
            self._new = set()

    def fix_frame(self, customers: pd.DataFrame) -> None:
        fixed = self.unique(customers["email"].tolist(), customers["customer_id"].tolist())
        if fixed is not None:
            customers["email"] = fixed

    def fix_table(self, customers: pa.Table) -> pa.Table:
        fixed = self.unique(customers.column("email").to_pylist(), customers.column("customer_id").to_pylist())
        if fixed is None:
            return customers
        i = customers.schema.get_field_index("email")
        return customers.set_column(i, customers.schema.field(i), pa.array(fixed, type=customers.schema.field(i).type))


def generate_shop(n_customers: int = 5000, *, seed: int = 0, as_of: date = DEFAULT_AS_OF,
                  settings: GeneratorSettings | dict[str, Any] | None = None,
                  progress: Progress | None = None) -> GeneratedShop:
    """Generate the sample shop in memory.

    ``settings`` is a :class:`GeneratorSettings` or a dict of overrides of its fields; ``progress``
    is called with the number of customers finished after each block.
    """
    if n_customers < 1:
        raise ValueError(f"n_customers must be at least 1, got {n_customers}")
    cfg = resolve_settings(settings)
    cat = _catalogue(seed, as_of, cfg)
    parts: dict[str, list[pd.DataFrame]] = {}
    emails = _UniqueEmails()
    for b, n in _blocks(n_customers):
        for name, frame in _block(b, n, cfg, as_of, seed, cat).items():
            if name == "customers":
                emails.fix_frame(frame)
            parts.setdefault(name, []).append(frame)
        if progress is not None:
            progress(n)
    frames = {name: _concat(p) for name, p in parts.items()}
    return GeneratedShop(products=cat.products.copy(), as_of=as_of, seed=seed, settings=cfg, **frames)


def write_shop(shop: GeneratedShop, out_dir: str | Path, format: str = "csv") -> dict[str, Path]:
    """Write every table (and ``truth``) as ``<table>.csv`` or ``<table>.parquet`` into ``out_dir``."""
    if format not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv' or 'parquet', got {format!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, frame in shop.tables().items():
        path = out / f"{name}.{format}"
        if format == "csv":
            write_csv(name, frame, path)
        else:
            import pyarrow.parquet as pq

            pq.write_table(to_arrow(name, frame), path)
        paths[name] = path
    return paths


def _chunk(blocks: list[tuple[int, int]], cfg: GeneratorSettings, as_of: date, seed: int,
           names: tuple[str, ...]) -> dict[str, pa.Table]:
    """The Arrow tables of one chunk of blocks (runs in a worker process when ``workers > 1``)."""
    cat = _catalogue(seed, as_of, cfg)
    service = "interactions" in names or "feedback" in names
    parts: dict[str, list[pd.DataFrame]] = {}
    for b, n in blocks:
        for name, frame in _block(b, n, cfg, as_of, seed, cat, service).items():
            if name in names:
                parts.setdefault(name, []).append(frame)
    return {name: to_arrow(name, _concat(frames)) for name, frames in parts.items()}


def generate_to_parquet(n_customers: int, out_dir: str | Path, *, chunk_size: int = 100_000, seed: int = 0,
                        as_of: date = DEFAULT_AS_OF, settings: GeneratorSettings | dict[str, Any] | None = None,
                        progress: Progress | None = None, tables: Iterable[str] | None = None,
                        workers: int = 1) -> dict[str, Path]:
    """Stream a shop of any size to Parquet, ``chunk_size`` customers at a time (bounded memory).

    ``chunk_size`` is rounded up to a whole number of blocks; each chunk becomes one row group of
    every file. The files equal :func:`write_shop` of :func:`generate_shop` with the same arguments.
    ``tables`` limits the files written (e.g. ``("customers", "orders", "order_lines")`` for a
    benchmark); the service threads are not even generated unless interactions or feedback are asked.
    ``workers > 1`` generates chunks in that many processes (at most ``workers + 1`` chunks in
    memory); the files are the same.
    """
    import pyarrow.parquet as pq

    if n_customers < 1:
        raise ValueError(f"n_customers must be at least 1, got {n_customers}")
    cfg = resolve_settings(settings)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    wanted = tuple(TABLES if tables is None else tables)
    unknown = set(wanted) - set(TABLES)
    if unknown:
        raise ValueError(f"unknown tables {sorted(unknown)}; choose from {list(TABLES)}")
    paths = {name: out / f"{name}.parquet" for name in TABLES if name in wanted}
    if "products" in paths:
        pq.write_table(to_arrow("products", _catalogue(seed, as_of, cfg).products), paths["products"])
    per_chunk = max(1, -(-chunk_size // BLOCK_SIZE))
    blocks = list(_blocks(n_customers))
    chunks = [blocks[i:i + per_chunk] for i in range(0, len(blocks), per_chunk)]
    names = tuple(name for name in paths if name != "products")
    writers = {name: pq.ParquetWriter(paths[name], to_arrow(name, None).schema) for name in names}
    done = 0

    emails = _UniqueEmails()

    def write(chunk: list[tuple[int, int]], result: dict[str, pa.Table]) -> None:
        nonlocal done
        for name, table in result.items():
            if name == "customers":
                table = emails.fix_table(table)
                emails.flush()
            writers[name].write_table(table)
        done += sum(n for _, n in chunk)
        log.info("generated %d of %d customers", done, n_customers)
        if progress is not None:
            progress(sum(n for _, n in chunk))

    try:
        if workers <= 1:
            for chunk in chunks:
                write(chunk, _chunk(chunk, cfg, as_of, seed, names))
        else:
            from concurrent.futures import Future, ProcessPoolExecutor

            with ProcessPoolExecutor(max_workers=workers) as pool:
                queue: list[tuple[list[tuple[int, int]], Future[dict[str, pa.Table]]]] = []
                for chunk in chunks:
                    queue.append((chunk, pool.submit(_chunk, chunk, cfg, as_of, seed, names)))
                    if len(queue) > workers:
                        first, future = queue.pop(0)
                        write(first, future.result())
                for chunk, future in queue:
                    write(chunk, future.result())
    finally:
        for writer in writers.values():
            writer.close()
    return paths


__all__ = ["BLOCK_SIZE", "CONSENT_CHANNELS", "DEFAULT_AS_OF", "GeneratedShop", "GeneratorSettings",
           "generate_shop", "generate_to_parquet", "write_shop"]
