"""One import = one transaction under the shop's import lock; its run recorded finished or failed.

The lock serialises imports into one shop (the same file twice at once, or two files creating the
same customers): PostgreSQL takes a transaction-scoped advisory lock on the shop's name, SQLite
takes the database's write lock (``BEGIN IMMEDIATE``). A second import waits up to
``[ingest] lock_wait_seconds`` for the first to finish, then says that it is still running.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Connection, Engine, insert, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from clientlens.errors import StoreError
from clientlens.store import models as m
from clientlens.store.repository import utcnow

log = logging.getLogger(__name__)

SHOPS = m.Base.metadata.tables["shops"]
RUNS = m.Base.metadata.tables["import_runs"]
SQLITE_BUSY_MS = 30000  # what store.db sets on every SQLite connection, restored after the lock is taken


def lock_key(shop: str) -> int:
    """A stable signed 64-bit advisory-lock key for the shop's imports."""
    digest = hashlib.md5(f"clientlens.import:{shop}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _busy(exc: BaseException) -> bool:
    return "locked" in str(exc).lower() or "busy" in str(exc).lower()


def _still_running(shop: str, waited: float) -> StoreError:
    return StoreError(f"shop {shop!r}: another import into this shop is still running after waiting "
                      f"{waited:.0f} s ([ingest] lock_wait_seconds); nothing was imported, try again when "
                      "it has finished")


@contextmanager
def import_transaction(engine: Engine, shop: str, wait_seconds: float) -> Iterator[Connection]:
    """A connection inside one transaction holding the shop's import lock; committed when the block
    ends, rolled back whole when it raises."""
    with engine.connect() as conn:
        started = time.monotonic()
        if conn.dialect.name == "postgresql":
            conn.begin()
            ms = max(1, int(wait_seconds * 1000))
            conn.execute(text(f"SET LOCAL lock_timeout = {ms}"))
            try:
                conn.execute(select(text("pg_advisory_xact_lock(:k)")), {"k": lock_key(shop)})
            except DBAPIError as exc:
                conn.rollback()
                if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
                    raise _still_running(shop, time.monotonic() - started) from exc
                raise
            conn.execute(text("SET LOCAL lock_timeout = 0"))
        else:
            # Each attempt waits at most what is left of the wait (SQLite's busy handler).
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {max(1, int(min(wait_seconds, 30) * 1000))}")
            while True:
                try:
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                    break
                except OperationalError as exc:
                    conn.rollback()
                    waited = time.monotonic() - started
                    if not _busy(exc):
                        raise
                    if waited >= wait_seconds:
                        raise _still_running(shop, waited) from exc
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


def shop_id(conn: Connection, shop: str, now: datetime) -> int:
    """The shop's id, created inside the import's transaction when it does not exist yet."""
    t = SHOPS
    found = conn.execute(select(t.c.id).where(t.c.name == shop)).scalar()
    if found is not None:
        return int(found)
    return int(conn.execute(insert(t).values(name=shop, created_at=now).returning(t.c.id)).scalar_one())


def start_run(conn: Connection, shop_row: int, entity: str, source: str, now: datetime) -> int:
    t = RUNS
    return int(conn.execute(insert(t).values(shop_id=shop_row, entity=entity, source=source, started_at=now,
                                             status="running").returning(t.c.id)).scalar_one())


def finish_run(conn: Connection, run_id: int, counts: dict[str, int]) -> None:
    t = RUNS
    conn.execute(t.update().where(t.c.id == run_id).values(finished_at=utcnow(), counts=json.dumps(counts),
                                                           status="finished"))


def record_failure(engine: Engine, shop: str, entity: str, source: str, started: datetime, error: str) -> int | None:
    """Store a failed run (its rows were rolled back) in a transaction of its own; None when the
    store cannot even take that (the error is logged)."""
    try:
        with engine.begin() as conn:
            sid = shop_id(conn, shop, started)
            t = RUNS
            return int(conn.execute(insert(t).values(
                shop_id=sid, entity=entity, source=source, started_at=started, finished_at=utcnow(),
                status="failed", error=error[:2000], counts=json.dumps({})).returning(t.c.id)).scalar_one())
    except Exception:  # the store itself is gone: the caller reports the original failure
        log.exception("could not record the failed import of %s", source)
        return None
