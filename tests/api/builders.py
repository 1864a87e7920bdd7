"""Test stores for the API and web tests.

Orders are the real CDNOW sample (2,357 customers, 6,919 purchases). What CDNOW lacks (names,
e-mails, languages, consents, service messages, NPS answers, a snapshot with labels and scores, a
merge suggestion) is added here, small, seeded and deterministic; once the generator
(`clientlens.datasets.generator`) and the analysis layer exist, tests can use those instead.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, insert, inspect

from clientlens.analysis.dashboard import dashboard_figures
from clientlens.analysis.summary import as_records, lorenz_points, pareto_stats
from clientlens.care.inbox import sync_conversations
from clientlens.config import load_settings
from clientlens.datasets.cdnow import load_cdnow_sample
from clientlens.service import auth
from clientlens.store import models as m
from clientlens.store.db import session_scope
from clientlens.store.search import index_names

SHOP = "cdnow"
PASSWORDS = {"admin": "admin-pass-123", "analyst": "analyst-pass-123", "agent": "agent-pass-123"}
LANGS = ("en", "vi", "pl", "fr")
CHANNELS = ("online", "phone", "in_store")
FIRST = ("Anna", "Minh", "Piotr", "Claire", "John", "Lan", "Kasia", "Louis")
LAST = ("Nowak", "Nguyen", "Dubois", "Smith", "Tran", "Kowalski", "Martin", "Brown")


def rfm_label(recency_days: int, orders: int) -> str:
    if orders >= 4 and recency_days <= 90:
        return "champions"
    if orders >= 3:
        return "loyal_customers"
    if recency_days <= 90:
        return "new_customers"
    if recency_days <= 270:
        return "need_attention"
    if orders >= 2:
        return "at_risk"
    return "lost"


def _retention(df: pd.DataFrame, max_months: int = 24) -> list[dict[str, Any]]:
    """Monthly cohort retention rows as the analysis writes them (``analysis.pipeline.retention_frame``)."""
    month = df["order_date"].dt.year * 12 + df["order_date"].dt.month - 1
    first = month.groupby(df["customer_id"]).transform("min")
    frame = pd.DataFrame({"customer_id": df["customer_id"], "cohort": first, "k": month - first})
    frame = frame[frame["k"] <= max_months].drop_duplicates()
    sizes = frame[frame["k"] == 0].groupby("cohort")["customer_id"].nunique()
    active = frame.groupby(["cohort", "k"])["customer_id"].nunique()
    return [{"cohort": f"{c // 12:04d}-{c % 12 + 1:02d}-01", "months_since": int(k), "cohort_customers": int(sizes[c]),
             "active_customers": int(n), "retention": float(n / sizes[c])} for (c, k), n in active.items()]


def _index(s: Any, shop_id: int, names: list[tuple[int, str | None]]) -> None:
    """The name search's terms, as an import writes them (a store at an older migration has no such table)."""
    if "customer_search_terms" in inspect(s.connection()).get_table_names():
        index_names(s.connection(), shop_id, names)


def build_store(engine: Engine, *, customers: int | None = None, users: bool = True) -> dict[str, Any]:
    """Fill ``engine`` with the CDNOW sample as shop ``cdnow`` plus the extras above; return facts used by tests."""
    df = load_cdnow_sample()
    ids = sorted(df["customer_id"].unique(), key=int)
    if customers is not None:
        ids = ids[:customers]
        df = df[df["customer_id"].isin(ids)]
    as_of = date(1998, 6, 30)
    now = datetime(1998, 7, 1, 9, 0)
    facts: dict[str, Any] = {"shop": SHOP, "as_of": as_of}
    with session_scope(engine) as s:
        shop = m.Shop(name=SHOP, created_at=now)
        s.add(shop)
        s.flush()
        custs: dict[str, m.Customer] = {}
        for n, cid in enumerate(ids):
            first, last = FIRST[n % len(FIRST)], LAST[(n // len(FIRST)) % len(LAST)]
            name = f"{last} {first}" if LANGS[n % 4] == "vi" else f"{first} {last}"  # Vietnamese: family name first
            c = m.Customer(shop_id=shop.id, external_id=cid, name=name, email=f"buyer{cid}@mail.test",
                           email_norm=f"buyer{cid}@mail.test", phone=f"+1555{int(cid):07d}",
                           country=("US", "VN", "PL", "FR")[n % 4], city=("Boston", "Hanoi", "Kraków", "Lyon")[n % 4],
                           language=LANGS[n % 4], preferred_channel=CHANNELS[n % 3], address=f"{cid} Main Street",
                           consent_email=n % 5 != 0, consent_sms=n % 2 == 0, created_at=datetime(1997, 1, 1))
            s.add(c)
            custs[cid] = c
        s.flush()
        _index(s, shop.id, [(c.id, c.name) for c in custs.values()])  # as an import does
        s.execute(insert(m.Order), [
            {"shop_id": shop.id, "external_id": f"o{k}", "customer_id": custs[row.customer_id].id,
             "ordered_at": row.order_date.to_pydatetime(), "channel": CHANNELS[k % 3], "currency": "USD",
             "total_minor": int(round(row.total * 100)), "discount_minor": 0, "status": "completed"}
            for k, row in enumerate(df.itertuples(index=False))])
        # Service messages: a few threads, some answered, some waiting; NPS answers by month.
        for t in range(12):
            cid = ids[t * 7 % len(ids)]
            start = now - timedelta(days=30 - t, hours=t)
            s.add(m.Interaction(shop_id=shop.id, external_id=f"i{t}a", customer_id=custs[cid].id,
                                channel=("email", "chat", "phone")[t % 3], direction="inbound", occurred_at=start,
                                thread_id=f"T{t}", subject=f"Question {t} about my order", body=f"Hello, where is order {t}?"))
            if t % 2 == 0:
                s.add(m.Interaction(shop_id=shop.id, external_id=f"i{t}b", customer_id=custs[cid].id,
                                    channel=("email", "chat", "phone")[t % 3], direction="outbound",
                                    occurred_at=start + timedelta(hours=3 + 10 * (t % 4)), thread_id=f"T{t}",
                                    body="It ships tomorrow.", agent="agent"))
        rng = np.random.default_rng(7)
        for k in range(120):
            cid = ids[k * 3 % len(ids)]
            s.add(m.Feedback(shop_id=shop.id, external_id=f"f{k}", customer_id=custs[cid].id, kind="nps",
                             score=int(rng.integers(0, 11)), submitted_at=datetime(1997, 1 + k % 12, 1 + k % 27)))
        # A snapshot as the analysis layer would write it.
        snap = m.Snapshot(shop_id=shop.id, as_of=as_of, created_at=now, engine="duckdb", run=json.dumps({}))
        s.add(snap)
        s.flush()
        per = df.groupby("customer_id").agg(last=("order_date", "max"), orders=("order_date", "nunique"),
                                            spend=("total", "sum"))
        total = float(per["spend"].sum())
        counts: dict[str, list[float]] = {}
        labels: list[dict[str, Any]] = []
        scores: list[dict[str, Any]] = []
        feats: list[dict[str, Any]] = []
        recencies: list[int] = []
        for cid, r in per.iterrows():
            rec = (datetime.combine(as_of, datetime.min.time()) - r["last"].to_pydatetime()).days
            recencies.append(rec)
            label = rfm_label(rec, int(r["orders"]))
            figures = {"recency_days": rec, "orders": int(r["orders"]), "total_spend": round(float(r["spend"]), 2)}
            labels.append(dict(snapshot_id=snap.id, customer_id=str(cid), taxonomy="rfm_segment", label=label,
                               rule_id=f"rfm.{label}", figures=json.dumps(figures),
                               text=f"{label}: {rec} days since last purchase, {int(r['orders'])} orders"))
            value = "high" if r["spend"] > 150 else ("medium" if r["spend"] > 50 else "low")
            labels.append(dict(snapshot_id=snap.id, customer_id=str(cid), taxonomy="value", label=value,
                               rule_id=f"value.{value}", figures=json.dumps({"total_spend": round(float(r["spend"]), 2)}),
                               text=f"value {value}"))
            p_alive = float(np.exp(-rec / 300))
            scores.append(dict(snapshot_id=snap.id, customer_id=str(cid), model="bg_nbd", p_alive=p_alive,
                               expected_purchases_90d=p_alive * r["orders"] / 6,
                               expected_purchases_365d=p_alive * r["orders"] / 1.5,
                               clv=round(float(r["spend"]) * p_alive, 2), expected_next_order=as_of + timedelta(days=30),
                               next_products=json.dumps(["cd"])))
            feats.append(dict(snapshot_id=snap.id, customer_id=str(cid), data=json.dumps(
                {"name": custs[str(cid)].name, "orders": int(r["orders"]), "total_spend": float(r["spend"])})))
            for tax, lab in (("rfm_segment", label), ("value", value)):
                c = counts.setdefault(f"{tax}\x1f{lab}", [0, 0.0])
                c[0] += 1
                c[1] += float(r["spend"])
        # The run document as the analysis writes it: the dashboard's figures and the Pareto curve.
        feature_frame = pd.DataFrame({"customer_id": [str(c) for c in per.index], "orders": per["orders"].to_numpy(),
                                      "recency_days": recencies,
                                      "total_spend": per["spend"].to_numpy()})
        # The profile that never bought (the duplicate added below) is a customer of the snapshot too.
        feature_frame = pd.concat([feature_frame, pd.DataFrame({"customer_id": ["dup-" + ids[0]], "orders": [0],
                                                                "recency_days": [None], "total_spend": [0.0]})],
                                  ignore_index=True)
        settings = load_settings(search_cwd=False)
        snap.run = json.dumps({
            "reporting_currency": {"value": "USD", "source": "most common order currency"},
            "pareto": {**pareto_stats(feature_frame, 0.2), "points": as_records(lorenz_points(feature_frame, 101))},
            "dashboard": dashboard_figures(feature_frame, pd.DataFrame(scores), currency="USD", settings=settings),
            "retention": _retention(df)})
        s.execute(insert(m.SnapshotLabel), labels)
        s.execute(insert(m.SnapshotScore), scores)
        s.execute(insert(m.SnapshotFeatures), feats)
        n = len(per)
        for key, (cnt, rev) in counts.items():
            tax, lab = key.split("\x1f")
            s.add(m.SnapshotSummary(snapshot_id=snap.id, taxonomy=tax, label=lab, customers=int(cnt),
                                    customers_share=cnt / n, revenue=round(rev, 4), revenue_share=rev / total))
        # A suggested merge (same person twice).
        dup = m.Customer(shop_id=shop.id, external_id="dup-" + ids[0], name=custs[ids[0]].name,
                         email=custs[ids[0]].email, email_norm=custs[ids[0]].email_norm, created_at=now)
        s.add(dup)
        s.flush()
        _index(s, shop.id, [(dup.id, dup.name)])
        s.add(m.Merge(shop_id=shop.id, survivor_id=custs[ids[0]].id, merged_id=dup.id, status="suggested",
                      rule="email", score=1.0, changes=json.dumps({"email": custs[ids[0]].email}), created_at=now))
        facts["customers"] = len(ids) + 1
        facts["first_customer"] = ids[0]
        if users:
            for role, pw in PASSWORDS.items():
                auth.add_user(s, role, role, pw, actor="test")
        # The messages join their conversations, as an import of interactions does (service.imports).
        sync_conversations(s, SHOP, settings)
    return facts
