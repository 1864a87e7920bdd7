"""Care fixtures: a store holding a sample shop (the generator's frames when it exists, otherwise a
small seeded synthetic shop of the same canonical columns), and helpers to add snapshots."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from clientlens.config import Settings, load_settings
from clientlens.store import models as m

SHOP = "sample-shop"
NOW = datetime(2026, 3, 2, 12, 0)  # a Monday, 12:00 UTC
CHANNELS = ("email", "phone", "social", "chat", "in_store")
LANGS = ("en", "vi", "pl", "fr")
AGENTS = ("ana", "binh", "celine", "dorota")


def synthetic_frames(n: int = 80, seed: int = 7) -> dict[str, pd.DataFrame]:
    """Canonical frames (DATA contract) of a small shop: customers, orders, interactions, feedback."""
    rng = np.random.default_rng(seed)
    cust = []
    for i in range(n):
        lang = LANGS[i % 4]
        country = {"en": "GB", "vi": "VN", "pl": "PL", "fr": "FR"}[lang]
        birth = date(1960 + int(rng.integers(0, 40)), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
        if i % 17 == 0:
            birth = date(1992, 2, 29)
        row: dict[str, Any] = {"customer_id": f"C{i:03d}", "name": f"Name{i} Family", "email": f"c{i}@example.org",
                               "phone": f"+4870000{i:04d}", "birth_date": birth, "country": country,
                               "language": lang, "preferred_channel": ("email", "sms", "chat")[i % 3],
                               "created_at": datetime(2024, 1, 1) + timedelta(days=int(rng.integers(0, 300)))}
        for ch in m.CONSENT_CHANNELS:
            row[f"consent_{ch}"] = bool(rng.random() < 0.7)
        cust.append(row)
    orders, inter, fb = [], [], []
    for i in range(n):
        for k in range(int(rng.integers(0, 6))):
            at = datetime(2024, 3, 1) + timedelta(days=int(rng.integers(0, 700)), hours=int(rng.integers(8, 20)))
            orders.append({"customer_id": f"C{i:03d}", "order_id": f"O{i:03d}-{k}", "order_date": at,
                           "channel": "online", "currency": "EUR", "total": round(float(rng.uniform(5, 400)), 2),
                           "discount_total": 0.0, "status": "completed" if rng.random() < 0.9 else "returned"})
    t = 0
    for i in range(n):
        for j in range(int(rng.integers(0, 3))):
            thread = f"T{i:03d}-{j}"
            channel = CHANNELS[int(rng.integers(0, len(CHANNELS)))]
            at = NOW - timedelta(days=int(rng.integers(0, 40)), minutes=int(rng.integers(0, 24 * 60)))
            agent = AGENTS[int(rng.integers(0, len(AGENTS)))]
            for k in range(int(rng.integers(1, 5))):
                direction = "inbound" if k % 2 == 0 else "outbound"
                inter.append({"customer_id": f"C{i:03d}", "interaction_id": f"I{t}", "channel": channel,
                              "direction": direction, "occurred_at": at, "thread_id": thread,
                              "agent": agent if direction == "outbound" else None, "subject": f"question {thread}",
                              "body": "hello"})
                t += 1
                at += timedelta(minutes=int(rng.integers(5, 3000)))
                if at > NOW:
                    break
            if rng.random() < 0.6:
                kind = "nps" if rng.random() < 0.6 else "csat"
                score = int(rng.integers(0, 11)) if kind == "nps" else int(rng.integers(1, 6))
                fb.append({"customer_id": f"C{i:03d}", "kind": kind, "score": score,
                           "submitted_at": at + timedelta(hours=1), "interaction_id": f"I{t - 1}"})
    return {"customers": pd.DataFrame(cust), "orders": pd.DataFrame(orders),
            "interactions": pd.DataFrame(inter), "feedback": pd.DataFrame(fb)}


def _frames() -> dict[str, pd.DataFrame]:
    """The generator's sample shop (300 customers, seed 11); the synthetic one if it is absent."""
    try:
        from clientlens.datasets.generator import generate_shop
    except ImportError:
        return synthetic_frames()
    shop = generate_shop(300, seed=11)
    return {k: getattr(shop, k) for k in ("customers", "orders", "interactions", "feedback")}


def _val(v: Any) -> Any:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.floor("us").to_pydatetime().replace(tzinfo=None)
    if isinstance(v, np.generic):
        return v.item()
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


def load_frames(session: Session, shop_name: str, frames: dict[str, pd.DataFrame]) -> m.Shop:
    """Insert canonical frames with the ORM (the test's own small loader)."""
    shop = m.Shop(name=shop_name, created_at=NOW)
    session.add(shop)
    session.flush()
    custs = []
    for r in frames["customers"].to_dict("records"):
        r = {k: _val(v) for k, v in r.items()}
        bd = r.get("birth_date")
        c = m.Customer(shop_id=shop.id, external_id=str(r["customer_id"]), name=r.get("name"),
                       email=r.get("email"), phone=r.get("phone"), phone_e164=r.get("phone"),
                       birth_date=bd.date() if isinstance(bd, datetime) else bd, country=r.get("country"),
                       language=r.get("language"), timezone=r.get("timezone"), preferred_channel=r.get("preferred_channel"),
                       created_at=r.get("created_at"),
                       **{f"consent_{ch}": (None if r.get(f"consent_{ch}") is None else bool(r[f"consent_{ch}"]))
                          for ch in m.CONSENT_CHANNELS})
        custs.append(c)
    session.add_all(custs)
    session.flush()
    ids = {c.external_id: c.id for c in custs}
    for r in frames["orders"].to_dict("records"):
        r = {k: _val(v) for k, v in r.items()}
        session.add(m.Order(shop_id=shop.id, external_id=str(r["order_id"]), customer_id=ids[str(r["customer_id"])],
                            ordered_at=r["order_date"], channel=r.get("channel"), currency=r.get("currency") or "EUR",
                            total_minor=round(float(r["total"]) * 100), status=r.get("status") or "completed"))
    inter_ids: dict[str, m.Interaction] = {}
    for r in frames["interactions"].to_dict("records"):
        r = {k: _val(v) for k, v in r.items()}
        it = m.Interaction(shop_id=shop.id, external_id=str(r["interaction_id"]), customer_id=ids[str(r["customer_id"])],
                           channel=r["channel"], direction=r.get("direction") or "inbound", occurred_at=r["occurred_at"],
                           thread_id=r.get("thread_id"), subject=r.get("subject"), body=r.get("body"),
                           agent=r.get("agent"))
        inter_ids[it.external_id] = it
    session.add_all(list(inter_ids.values()))
    session.flush()
    for n, r in enumerate(frames["feedback"].to_dict("records")):
        r = {k: _val(v) for k, v in r.items()}
        it = inter_ids.get(str(r.get("interaction_id")))
        session.add(m.Feedback(shop_id=shop.id, external_id=f"F{n}", customer_id=ids[str(r["customer_id"])],
                               kind=r["kind"], score=int(r["score"]), submitted_at=r["submitted_at"],
                               interaction_id=it.id if it else None))
    session.flush()
    return shop


def add_snapshot(session: Session, shop_id: int, as_of: date, labels: dict[str, dict[str, str]],
                 scores: dict[str, dict[str, float]] | None = None) -> m.Snapshot:
    """A snapshot with ``labels`` {customer: {taxonomy: label}} and ``scores`` {customer: {p_alive, clv}}."""
    snap = m.Snapshot(shop_id=shop_id, as_of=as_of, created_at=NOW, engine="duckdb")
    session.add(snap)
    session.flush()
    for cid, labs in labels.items():
        for tax, lab in labs.items():
            session.add(m.SnapshotLabel(snapshot_id=snap.id, customer_id=cid, taxonomy=tax, label=lab,
                                        rule_id=f"test.{tax}", figures=json.dumps({}), text=f"{tax} {lab}"))
    for cid, sc in (scores or {}).items():
        session.add(m.SnapshotScore(snapshot_id=snap.id, customer_id=cid, model="bgnbd",
                                    p_alive=sc.get("p_alive"), clv=sc.get("clv")))
    session.flush()
    return snap


@pytest.fixture(scope="session")
def frames() -> dict[str, pd.DataFrame]:
    return _frames()


@pytest.fixture
def settings() -> Settings:
    return load_settings(search_cwd=False)


@pytest.fixture
def shop_engine(store_engine: Engine, frames: dict[str, pd.DataFrame]) -> Iterator[Engine]:
    """A migrated store (SQLite and PostgreSQL) holding the sample shop."""
    with Session(store_engine) as s:
        load_frames(s, SHOP, frames)
        s.commit()
    yield store_engine


@pytest.fixture(scope="session")
def ram_dir() -> Iterator[Path]:
    """A folder in memory (/dev/shm) when there is one: SQLite commits there need no disk sync."""
    import shutil
    import tempfile

    shm = Path("/dev/shm")
    path = Path(tempfile.mkdtemp(prefix="clientlens-care-", dir=shm if shm.is_dir() and os.access(shm, os.W_OK) else None))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def ram_path(ram_dir: Path, request: pytest.FixtureRequest) -> Path:
    """A fresh folder under ``ram_dir`` for one test."""
    import uuid

    path = ram_dir / uuid.uuid4().hex
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def _sqlite_template(ram_dir, frames):  # type: ignore[no-untyped-def]
    """The sample shop on SQLite, built once; each test gets a copy of the file."""
    from sqlalchemy import text

    from clientlens.store.db import make_engine, upgrade

    path = ram_dir / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with Session(engine) as s:
        load_frames(s, SHOP, frames)
        s.commit()
    with engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return path


@pytest.fixture
def sqlite_shop(ram_path, _sqlite_template) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """The sample shop on SQLite only (for the tests that are not about the store)."""
    import shutil

    from clientlens.store.db import make_engine

    path = ram_path / "care.db"
    shutil.copy(_sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()
