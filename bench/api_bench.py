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
from datetime import UTC, date, datetime, timedelta
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
AS_OF = date(2025, 12, 31)
DEFAULT_PG = "postgresql://clientlens:clientlens@127.0.0.1:5432/clientlens_test"


POPULATE_VERSION = 2  # bumped when the store's contents change; older stores are upgraded in place
CARE_CHANNELS = ("email", "chat", "phone", "social")
CARE_CHANNEL_P = (0.5, 0.25, 0.15, 0.1)
# Conversation statuses: most are resolved; the rest are waiting on the shop or the customer.
CARE_STATUS = ("resolved", "waiting_on_customer", "open", "new")
CARE_STATUS_P = (0.75, 0.1, 0.07, 0.08)
AGENTS = tuple(f"agent{k}" for k in range(12))


def _rows(n: int, seed: int = 11) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    return {"rfm": rng.choice(len(RFM), size=n, p=RFM_P), "value": rng.choice(3, size=n, p=(0.2, 0.3, 0.5)),
            "life": rng.integers(0, 4, size=n), "country": rng.integers(0, len(COUNTRIES), size=n),
            "channel": rng.integers(0, len(CHANNELS), size=n), "orders": rng.poisson(1.0, size=n) + 1,
            "clv": np.round(rng.lognormal(3.5, 1.2, size=n), 2), "p_alive": np.round(rng.beta(2, 2, size=n), 4),
            "day": rng.integers(0, 720, size=n)}


def _chunks(n: int, size: int = 50_000) -> list[tuple[int, int]]:
    return [(i, min(i + size, n)) for i in range(0, n, size)]


def _bulk(engine: Any, tables: list[tuple[str, tuple[str, ...], int, Any]], t0: float) -> None:
    """Insert generated rows: ``(table, columns, how many sources, make(a, b) -> rows)``, by chunks
    (COPY on PostgreSQL, executemany on SQLite), one commit per table."""
    pg = engine.dialect.name == "postgresql"
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for table, cols, count, make in tables:
            for a, b in _chunks(count):
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
            for table in ("customers", "interactions", "care_conversations", "care_conversation_messages",
                          "feedback"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
            raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def populate(url: str, n: int, conversations: int) -> None:
    """Fill an empty store with ``n`` customers (bulk inserts / COPY), a snapshot, labels and scores, then
    the snapshot's figures and the care data (:func:`populate_extra`)."""
    from sqlalchemy import select

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
        snap = m.Snapshot(shop_id=shop_id, as_of=AS_OF, created_at=start, engine="duckdb", run=json.dumps({}))
        s.add(snap)
        s.flush()
        snap_id = snap.id
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

    _bulk(engine, [("customers", cust_cols, n, lambda a, b: [cust(i) for i in range(a, b)]),
                   ("orders", order_cols, n, lambda a, b: [row for i in range(a, b) for row in orders(i)]),
                   ("snapshot_labels", label_cols, n, lambda a, b: [row for i in range(a, b) for row in labels(i)]),
                   ("snapshot_scores", score_cols, n, lambda a, b: [scores(i) for i in range(a, b)])], t0)
    engine.dispose()
    populate_extra(url, n, conversations)


def _frames(r: dict[str, Any], n: int) -> tuple[Any, Any, Any]:
    """The features and scores frames the analysis would have made of the generated orders, and the
    orders' (customer, day since 2024-01-01) arrays."""
    import pandas as pd

    orders = r["orders"].astype("int64")
    first = r["day"].astype("int64")
    last = first + 30 * (orders - 1)
    base = (r["clv"] * 40).astype("int64")
    # total_minor of order k is base + k: the spend is orders * base + orders (orders - 1) / 2, in cents
    spend = (orders * base + orders * (orders - 1) // 2) / 100.0
    recency = (AS_OF - date(2024, 1, 1)).days - last
    ids = np.asarray([f"C{i:07d}" for i in range(n)], dtype=object)
    features = pd.DataFrame({"customer_id": ids, "orders": orders, "recency_days": recency, "total_spend": spend})
    scores = pd.DataFrame({"customer_id": ids, "model": "bg_nbd", "p_alive": r["p_alive"], "clv": r["clv"]})
    cust = np.repeat(np.arange(n), orders)
    k = np.arange(len(cust)) - np.repeat(np.cumsum(orders) - orders, orders)
    return features, scores, (cust, first[cust] + 30 * k)


def _retention(first_day: np.ndarray, order_cust: np.ndarray, order_day: np.ndarray, max_months: int) -> list[dict[str, Any]]:
    """Monthly cohort retention rows as the analysis writes them (cohort = month of the first order)."""
    import pandas as pd

    start = np.datetime64("2024-01-01")
    month = (start + order_day.astype("timedelta64[D]")).astype("datetime64[M]")
    cohort = (start + first_day.astype("timedelta64[D]")).astype("datetime64[M]")[order_cust]
    since = (month - cohort).astype("int64")
    frame = pd.DataFrame({"cohort": cohort, "since": since, "customer": order_cust})
    frame = frame[frame["since"] <= max_months].drop_duplicates()
    active = frame.groupby(["cohort", "since"]).size().rename("active_customers").reset_index()
    sizes = active[active["since"] == 0].set_index("cohort")["active_customers"]
    active["cohort_customers"] = active["cohort"].map(sizes)
    active["retention"] = active["active_customers"] / active["cohort_customers"]
    return [{"cohort": str(c)[:10], "months_since": int(s), "cohort_customers": int(cc),
             "active_customers": int(a), "retention": float(rt)}
            for c, s, a, cc, rt in active[["cohort", "since", "active_customers", "cohort_customers",
                                           "retention"]].itertuples(index=False)]


def populate_extra(url: str, n: int, conversations: int) -> None:
    """What the analysis and the care layer add to the store of :func:`populate`: the snapshot's
    ``run.json`` (the dashboard's figures by ``analysis.dashboard.dashboard_figures`` over the
    generated features and scores, the Pareto curve, cohort retention), its summary rows, and
    ``conversations`` conversations with their interactions, some NPS / CSAT feedback.

    Re-runnable: it first deletes what an earlier version added (a store built by an older bench is
    upgraded in place, its 1M customers kept)."""
    from sqlalchemy import delete, insert, select, update

    from clientlens.analysis.dashboard import dashboard_figures
    from clientlens.analysis.summary import as_records, lorenz_points, pareto_stats
    from clientlens.care.business_time import add_business_hours
    from clientlens.care.config import care_settings
    from clientlens.config import load_settings
    from clientlens.segments.rules import SegmentRules
    from clientlens.store import models as m
    from clientlens.store.care_models import Conversation, ConversationMessage, Survey
    from clientlens.store.db import make_engine, session_scope, upgrade

    settings = load_settings(search_cwd=False)
    rules = SegmentRules.from_settings(settings)
    care = care_settings(settings)
    shop_cfg = settings.shop(SHOP)
    engine = make_engine(url)
    upgrade(engine)
    t0 = time.perf_counter()
    r = _rows(n)
    features, scores, (order_cust, order_day) = _frames(r, n)
    with session_scope(engine) as s:
        shop_id = s.scalar(select(m.Shop.id).where(m.Shop.name == SHOP))
        snap_id = s.scalar(select(m.Snapshot.id).where(m.Snapshot.shop_id == shop_id))
        for table in (Survey, ConversationMessage, Conversation, m.Feedback, m.Interaction):
            s.execute(delete(table).where(table.shop_id == shop_id) if hasattr(table, "shop_id") else delete(table))
        s.execute(delete(m.SnapshotSummary).where(m.SnapshotSummary.snapshot_id == snap_id))
        # The summary: customers and revenue per label of the three taxonomies
        spend = features["total_spend"].to_numpy()
        total = float(spend.sum())
        rows = []
        for tax, values, idx in (("rfm_segment", RFM, r["rfm"]), ("value", VALUE, r["value"]),
                                 ("lifecycle", LIFECYCLE, r["life"])):
            for k, label in enumerate(values):
                hit = idx == k
                rev = float(spend[hit].sum())
                rows.append({"snapshot_id": snap_id, "taxonomy": tax, "label": label, "customers": int(hit.sum()),
                             "customers_share": float(hit.sum()) / n, "revenue": round(rev, 2),
                             "revenue_share": rev / total})
        s.execute(insert(m.SnapshotSummary), rows)
        run = {"shop": SHOP, "as_of": AS_OF.isoformat(), "engine": "duckdb", "customers": n,
               "purchasing_customers": n, "reporting_currency": {"value": "USD", "source": "configured"},
               "scores": ["bg_nbd"],
               "pareto": {**pareto_stats(features, rules.revenue_tier.top_share),
                          "points": as_records(lorenz_points(features, rules.revenue_tier.lorenz_points))},
               "dashboard": dashboard_figures(features, scores, currency="USD", settings=settings),
               "retention": _retention(r["day"].astype("int64"), order_cust, order_day, rules.cohorts.max_months),
               "bench": {"populate": POPULATE_VERSION, "conversations": conversations}}
        s.execute(update(m.Snapshot).where(m.Snapshot.id == snap_id).values(run=json.dumps(run)))
    print(f"  snapshot figures: done at {time.perf_counter() - t0:.0f} s", flush=True)

    # Care: conversations of random customers over the last year (the unresolved ones recent), 1 to 5
    # messages each, priorities as the SLA rules give them (most 0), due times in business hours.
    rng = np.random.default_rng(23)
    k = conversations
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    who = rng.integers(0, n, size=k)
    chan = rng.choice(len(CARE_CHANNELS), size=k, p=CARE_CHANNEL_P)
    status = rng.choice(len(CARE_STATUS), size=k, p=CARE_STATUS_P)
    age_h = np.where(status == 0, rng.uniform(24, 365 * 24, size=k), rng.exponential(72, size=k) + 0.1)
    prio = rng.choice(4, size=k, p=(0.8, 0.04, 0.08, 0.08))
    nmsg = np.where(status == 3, rng.integers(1, 3, size=k), rng.integers(2, 6, size=k))
    agent = rng.integers(0, len(AGENTS), size=k)
    conv_rows, inter_rows, msg_rows = [], [], []
    reasons = {1: "rfm_segment is cant_lose_them (targets x0.75, priority 1)",
               2: "rfm_segment is champions (targets x0.5, priority 2)",
               3: "CLV in the top 10% of the shop (targets x0.5, priority 3)"}
    factor = {0: 1.0, 1: 0.75, 2: 0.5, 3: 0.5}
    iid = 0
    for c in range(k):
        st = CARE_STATUS[status[c]]
        channel = CARE_CHANNELS[chan[c]]
        opened = now - timedelta(hours=float(age_h[c]))
        span = timedelta(hours=float(age_h[c])) if st != "resolved" else timedelta(hours=float(min(age_h[c], 72.0)))
        times = sorted(opened + span * float(x) for x in rng.uniform(0, 1, size=int(nmsg[c]) - 1)) if nmsg[c] > 1 else []
        times = [opened] + times
        if st == "new":
            dirs = ["inbound"] * len(times)
        else:
            dirs = ["inbound" if j % 2 == 0 else "outbound" for j in range(len(times))]
            want_last = "outbound" if st in ("waiting_on_customer", "resolved") else "inbound"
            if len(dirs) >= 2 and dirs[-1] != want_last:
                dirs[-1] = want_last
                if len(dirs) >= 3 and dirs[-2] == want_last:
                    dirs[-2] = "outbound" if want_last == "inbound" else "inbound"
            if "outbound" not in dirs:
                dirs[-1] = "outbound"
        who_agent = AGENTS[agent[c]] if st != "new" else None
        first_resp = next((t for d, t in zip(dirs, times, strict=True) if d == "outbound"), None)
        fr_h = care.sla.first_response_hours.get(channel)
        res_h = care.sla.resolution_hours.get(channel)
        f = factor[int(prio[c])]
        fr_due = add_business_hours(opened, fr_h * f, shop_cfg) if fr_h is not None else None
        res_due = add_business_hours(opened, res_h * f, shop_cfg) if res_h is not None else None
        resolved = times[-1] if st == "resolved" else None
        conv_rows.append((c + 1, shop_id, int(who[c]) + 1, f"T{c:07d}", channel, f"Question {c}", st, who_agent,
                          int(prio[c]), reasons.get(int(prio[c])), opened, times[-1], first_resp, resolved,
                          fr_due, res_due, now))
        for j, (d, t) in enumerate(zip(dirs, times, strict=True)):
            iid += 1
            inter_rows.append((iid, shop_id, f"I{c:07d}-{j}", int(who[c]) + 1, channel, d, t, f"T{c:07d}",
                               f"Question {c}", "Hello, about my order..." if d == "inbound" else "Thanks, we...",
                               who_agent if d == "outbound" else None))
            msg_rows.append((iid, c + 1, iid, d, t))
    # Feedback: an NPS or CSAT answer after about a third of the resolved conversations, and NPS
    # surveys of random customers, over the last 12 months.
    fb_rows: list[tuple[Any, ...]] = []
    resolved_convs = np.flatnonzero(status == 0)
    answered: Any = rng.choice(resolved_convs, size=len(resolved_convs) // 3, replace=False) if len(resolved_convs) else []
    for j, c in enumerate(answered):
        kind = "nps" if j % 2 else "csat"
        score = int(min(10, max(0, round(rng.normal(7.5, 2.2))))) if kind == "nps" else int(rng.integers(1, 6))
        at = conv_rows[c][13] + timedelta(hours=float(rng.uniform(1, 48)))
        fb_rows.append((len(fb_rows) + 1, shop_id, f"F{len(fb_rows):07d}", int(who[c]) + 1, kind, score, None,
                        min(at, now), None))
    for _ in range(k // 5):
        at = now - timedelta(days=float(rng.uniform(0, 365)))
        fb_rows.append((len(fb_rows) + 1, shop_id, f"F{len(fb_rows):07d}", int(rng.integers(0, n)) + 1, "nps",
                        int(min(10, max(0, round(rng.normal(7.0, 2.5))))), None, at, None))
    print(f"  care rows generated: {k:,} conversations, {len(inter_rows):,} messages, {len(fb_rows):,} answers "
          f"at {time.perf_counter() - t0:.0f} s", flush=True)
    conv_cols = ("id", "shop_id", "customer_id", "thread_key", "channel", "subject", "status", "assignee", "priority",
                 "priority_reason", "opened_at", "last_message_at", "first_response_at", "resolved_at",
                 "first_response_due", "resolution_due", "updated_at")
    inter_cols = ("id", "shop_id", "external_id", "customer_id", "channel", "direction", "occurred_at", "thread_id",
                  "subject", "body", "agent")
    msg_cols = ("id", "conversation_id", "interaction_id", "direction", "occurred_at")
    fb_cols = ("id", "shop_id", "external_id", "customer_id", "kind", "score", "comment", "submitted_at",
               "interaction_id")
    _bulk(engine, [("interactions", inter_cols, len(inter_rows), lambda a, b: inter_rows[a:b]),
                   ("care_conversations", conv_cols, len(conv_rows), lambda a, b: conv_rows[a:b]),
                   ("care_conversation_messages", msg_cols, len(msg_rows), lambda a, b: msg_rows[a:b]),
                   ("feedback", fb_cols, len(fb_rows), lambda a, b: fb_rows[a:b])], t0)
    engine.dispose()


def _populated(engine: Any) -> dict[str, Any]:
    """The bench's marker in the snapshot's run.json ({} for a store built by an older bench)."""
    from sqlalchemy import select

    from clientlens.store import models as m

    with engine.connect() as conn:
        run = conn.scalar(select(m.Snapshot.run).limit(1))
    try:
        marker = json.loads(run or "{}").get("bench")
    except ValueError:
        marker = None
    return marker if isinstance(marker, dict) else {}


def ensure_store(url: str, n: int, conversations: int) -> None:
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
                marker = _populated(engine)
                if marker != {"populate": POPULATE_VERSION, "conversations": conversations}:
                    print(f"  upgrading the store with {n:,} customers (populated by {marker or 'an older bench'})",
                          flush=True)
                    engine.dispose()
                    populate_extra(url, n, conversations)
                else:
                    print(f"  reusing the store with {n:,} customers, {conversations:,} conversations")
                return
    finally:
        engine.dispose()
    raise LookupError


def prepare_sqlite(n: int, conversations: int) -> str:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"api_bench_{n}.db"
    url = f"sqlite:///{path}"
    try:
        ensure_store(url, n, conversations)
    except LookupError:
        for p in OUT.glob(path.name + "*"):
            p.unlink()
        print(f"  building {n:,} customers (SQLite)", flush=True)
        populate(url, n, conversations)
    return url


def prepare_postgres(n: int, conversations: int, admin_url: str) -> str:
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
        ensure_store(url, n, conversations)
    except LookupError:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        print(f"  building {n:,} customers (PostgreSQL)", flush=True)
        populate(url, n, conversations)
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


BENCH_USER, BENCH_PASSWORD = "bench-admin", "bench-password-1"


def bench_user(url: str) -> None:
    """The user the page cases log in as (created, or its password reset)."""
    from clientlens.service.auth import add_user
    from clientlens.store.db import make_engine, session_scope

    engine = make_engine(url)
    with session_scope(engine) as s:
        add_user(s, BENCH_USER, "admin", BENCH_PASSWORD, actor="bench")
    engine.dispose()


def login_cookie(base: str) -> str:
    """Log in through the form as a browser does; the session cookie's ``name=value``."""
    import re

    import httpx

    with httpx.Client(base_url=base, timeout=30) as client:
        page = client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        if csrf is None:
            raise RuntimeError("no CSRF token on the login page")
        resp = client.post("/login", data={"username": BENCH_USER, "password": BENCH_PASSWORD,
                                           "csrf_token": csrf.group(1), "next": "/"})
        if resp.status_code >= 400:
            raise RuntimeError(f"login failed: {resp.status_code}")
        cookies = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    if "clientlens_session=" not in cookies:
        raise RuntimeError("login gave no session cookie")
    return cookies


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


async def open_loop(host: str, port: int, headers: str, make_path: Any, rate: float, duration: float,
                    connections: int = 128) -> dict[str, Any]:
    """Send ``rate`` requests/s for ``duration`` s whatever the responses do; latency from the scheduled time.

    A lean keep-alive HTTP/1.1 client (a general-purpose client's pool costs more CPU than the
    server at these rates): a scheduler queues each request at its time, ``connections`` workers
    send them; a request waiting for a free connection keeps its scheduled time, so waits count.
    ``headers``: the extra header lines of every request (``Name: value\\r\\n`` each).
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
            request = (f"GET {make_path(i)} HTTP/1.1\r\nHost: {host}\r\n{headers}"
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


PAGE_RATE = 50.0  # the dashboard and inbox pages' goal rate (requests/s)
INBOX_VIEWS = ("unresolved",) * 8 + ("resolved", "all")  # the share of each view a support team opens


def run_backend(name: str, url: str, n: int, rate: float, duration: float, page_rate: float = PAGE_RATE,
                only: list[str] | None = None) -> dict[str, dict[str, Any]]:
    token = bench_token(url)
    bench_user(url)
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
        cookie = login_cookie(base)
        rng = random.Random(5)
        measured, warm = int(rate * duration), int(rate * 2.0)
        ids = [f"C{rng.randrange(n):07d}" for _ in range(measured + warm + 100)]
        labels = [f"rfm_segment={RFM[rng.randrange(len(RFM))]}" for _ in range(measured + warm + 100)]
        views = [INBOX_VIEWS[rng.randrange(len(INBOX_VIEWS))] for _ in range(measured + warm + 100)]
        api = {"Authorization": f"Bearer {token}"}
        # The pages as a browser asks for them: its session cookie, HTML, gzip.
        page = {"Cookie": cookie, "Accept": "text/html,application/xhtml+xml", "Accept-Encoding": "gzip, deflate"}
        # (case, rate, path of request i, headers)
        cases: list[tuple[str, float, Any, dict[str, str]]] = [
            ("healthz (baseline)", rate, lambda i: "/healthz", {}),
            ("customer 360", rate, lambda i: f"/api/v1/shops/{SHOP}/customers/{ids[i]}", api),
            ("filtered list", rate, lambda i: f"/api/v1/shops/{SHOP}/customers?label={labels[i]}&limit=50", api),
            (f"healthz (baseline, {page_rate:g}/s)", page_rate, lambda i: "/healthz", {}),
            ("dashboard page", page_rate, lambda i: f"/shops/{SHOP}/dashboard", page),
            ("inbox page", page_rate, lambda i: f"/shops/{SHOP}/inbox?view={views[i]}", page),
        ]
        out = {}
        for case, case_rate, make, headers in cases:
            if only and not case.startswith("healthz") and not any(o in case for o in only):
                continue
            case_measured = int(case_rate * duration)
            # Service time first: one request at a time (closed loop); 1000 / median = requests/s one core serves.
            with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
                # Warm-up, right before the case and not measured: the CLV ranking of the snapshot, each
                # label filter's count (cached for [web] count_cache_seconds, 60 s by default), the
                # dashboard's care figures of the snapshot (computed once per snapshot and process).
                for i in range(20):
                    resp = client.get(make(len(ids) - 41 - i))
                    if resp.status_code != 200:
                        raise RuntimeError(f"{case}: {resp.status_code} {resp.text[:300]}")
                if case == "filtered list":
                    for label in RFM:
                        client.get(f"/api/v1/shops/{SHOP}/customers", params={"label": f"rfm_segment={label}"})
                if case == "inbox page":
                    for view in set(INBOX_VIEWS):
                        client.get(f"/shops/{SHOP}/inbox", params={"view": view})
                times = []
                for i in range(40):
                    t = time.perf_counter()
                    client.get(make(len(ids) - 1 - i))
                    times.append((time.perf_counter() - t) * 1000)
            service = float(np.median(times))
            lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            # Then 2 s at the rate, not measured: the pool opens the connections the load needs (each
            # new PostgreSQL connection costs a backend, authentication and its first plans; after a
            # restart that first second sees up to about 250 ms, see docs/api.md).
            asyncio.run(open_loop("127.0.0.1", port, lines, lambda i, make=make, m0=case_measured: make(m0 + i),
                                  case_rate, 2.0))
            res = asyncio.run(open_loop("127.0.0.1", port, lines, make, case_rate, duration))
            res["service_ms"] = service
            res["rate"] = case_rate
            out[case] = res
            print(f"  {name:10s} {case:26s} {case_rate:5.0f}/s service {service:6.1f} ms (~{1000 / service:5.0f} req/s)  "
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
    lines = [f"Run {datetime.now().strftime('%Y-%m-%d %H:%M')} UTC: {args.customers:,} customers, "
             f"{args.conversations:,} conversations, open loop for {args.duration:g} s per case at "
             f"{args.rate:g} req/s (API) and {args.page_rate:g} req/s (pages), server on CPU 0, load generator on "
             f"CPU 1 (`{'--quick' if args.quick else 'default run'}`); PostgreSQL "
             f"{'pinned to CPU 1 with the load generator' if args.pg_cpu == 'load' else 'free on both cores'} "
             f"(`--pg-cpu {args.pg_cpu}`); load average {args.load_seen}.", "",
             "| store | endpoint | rate (req/s) | service time, one at a time (ms) | capacity (req/s) | p50 (ms) | "
             "p99 (ms) | p99 / baseline p99 | errors |", "|---|---|---|---|---|---|---|---|---|"]
    for backend, cases in results.items():
        # each case against the healthz baseline measured at its own rate
        bases = {r["rate"]: r["p99"] or 1e-9 for c, r in cases.items() if c.startswith("healthz")}
        for case, r in cases.items():
            base = bases.get(r["rate"], float("nan"))
            lines.append(f"| {backend} | {case} | {r['rate']:g} | {r['service_ms']:.1f} | {1000 / r['service_ms']:.0f} | "
                         f"{r['p50']:.1f} | {r['p99']:.1f} | {r['p99'] / base:.1f} | {r['errors']} / {r['requests']} |")
    block = "\n".join(lines)
    text = DOC.read_text("utf-8") if DOC.exists() else "# API\n\n<!-- bench:start -->\n<!-- bench:end -->\n"
    suffix = ("" if args.rate == 200 else f"-{args.rate:g}") + ("" if args.pg_cpu == "load" else "-shared")
    start, end = f"<!-- bench{suffix}:start -->", f"<!-- bench{suffix}:end -->"
    if start in text and end in text and not args.quick and not args.cases:
        text = text.split(start)[0] + start + "\n" + block + "\n" + end + text.split(end, 1)[1]
        DOC.write_text(text, "utf-8")
    print(block)


def warm_file(url: str) -> None:
    """Read the SQLite file once, so its pages are in the OS cache as on a server that has been
    running (a store just built, or after another backend's run, is read from disk at first: about
    10x slower lookups for the first few thousand requests, measured 2026-12-02)."""
    path = Path(url.split("sqlite:///", 1)[1])
    with path.open("rb") as fh:
        while fh.read(1 << 24):
            pass


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="20k customers, 100 req/s for 5 s")
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--conversations", type=int, default=100_000)
    ap.add_argument("--page-rate", type=float, default=PAGE_RATE, help="requests/s of the page cases")
    ap.add_argument("--cases", default="", help="comma-separated substrings: run only the matching cases "
                    "(the baselines always run); the docs are then left alone")
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
        args.customers, args.rate, args.duration, args.conversations = 20_000, 100.0, 5.0, 2_000
    args.load_seen = " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for backend in args.backends.split(","):
        print(f"== {backend}", flush=True)
        try:
            url = (prepare_sqlite(args.customers, args.conversations) if backend == "sqlite"
                   else prepare_postgres(args.customers, args.conversations, args.pg_url))
        except Exception as exc:  # e.g. PostgreSQL not running: report, go on with the others
            print(f"  {backend} skipped: {exc}")
            continue
        if backend == "sqlite":
            warm_file(url)
        restore = pin_postgres(url, 1) if backend == "postgres" and args.pg_cpu == "load" else None
        if restore is not None:
            print("  PostgreSQL pinned to CPU 1 (with the load generator) for this run", flush=True)
        try:
            results[backend] = run_backend(backend, url, args.customers, args.rate, args.duration, args.page_rate,
                                           [c for c in args.cases.split(",") if c])
        finally:
            if restore is not None:
                restore()
    write_doc(results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
