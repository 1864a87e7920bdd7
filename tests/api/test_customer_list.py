"""The customer list against a plain Python oracle, on SQLite and PostgreSQL: every filter, every sort in
both directions (NULLs last), keyset and offset paging, counts, the latest snapshot, unknown shops.

The store is the CDNOW sample (first 120 customers) with a few changes that make the cases show:
customers without scores, tied CLVs, a merged-away profile and an older snapshot with other labels.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from clientlens.errors import NotFoundError
from clientlens.service import customers as cs
from clientlens.store import models as m
from clientlens.store.db import session_scope

from .builders import build_store

SHOP = "cdnow"


@pytest.fixture
def store(store_engine):  # type: ignore[no-untyped-def]
    build_store(store_engine, customers=120, users=False)
    with session_scope(store_engine) as s:
        shop = s.scalar(select(m.Shop).where(m.Shop.name == SHOP))
        assert shop is not None
        snap = s.scalar(select(m.Snapshot).where(m.Snapshot.shop_id == shop.id))
        assert snap is not None
        ids = sorted(s.scalars(select(m.Customer.external_id).where(m.Customer.shop_id == shop.id,
                                                                    m.Customer.merged_into_id.is_(None))))
        # Five customers without a score, five with the same CLV, one merged away.
        s.execute(delete(m.SnapshotScore).where(m.SnapshotScore.snapshot_id == snap.id,
                                                m.SnapshotScore.customer_id.in_(ids[10:15])))
        s.execute(update(m.SnapshotScore).where(m.SnapshotScore.snapshot_id == snap.id,
                                                m.SnapshotScore.customer_id.in_(ids[20:25])).values(clv=42.0))
        s.execute(update(m.Customer).where(m.Customer.shop_id == shop.id, m.Customer.external_id == ids[30])
                  .values(merged_into_id=s.scalar(select(m.Customer.id).where(m.Customer.external_id == ids[31]))))
        # An older snapshot labelling everyone a champion: the list must read the latest one.
        old = m.Snapshot(shop_id=shop.id, as_of=date(1998, 1, 1), created_at=datetime(1998, 1, 2), engine="duckdb",
                         run="{}")
        s.add(old)
        s.flush()
        s.add_all([m.SnapshotLabel(snapshot_id=old.id, customer_id=i, taxonomy="rfm_segment", label="champions",
                                   rule_id="x", figures="{}", text="") for i in ids])
    return store_engine


def _oracle(s: Session) -> list[dict[str, Any]]:
    """Every listed customer with its labels and scores of the latest snapshot, read naively."""
    shop = s.scalar(select(m.Shop).where(m.Shop.name == SHOP))
    assert shop is not None
    snap = s.scalar(select(m.Snapshot).where(m.Snapshot.shop_id == shop.id).order_by(m.Snapshot.as_of.desc()))
    assert snap is not None
    labels: dict[str, dict[str, list[str]]] = {}
    for lab in s.scalars(select(m.SnapshotLabel).where(m.SnapshotLabel.snapshot_id == snap.id)):
        labels.setdefault(lab.customer_id, {}).setdefault(lab.taxonomy, []).append(lab.label)
    scores = {sc.customer_id: sc for sc in s.scalars(select(m.SnapshotScore).where(
        m.SnapshotScore.snapshot_id == snap.id))}
    out = []
    for c in s.scalars(select(m.Customer).where(m.Customer.shop_id == shop.id, m.Customer.merged_into_id.is_(None))):
        sc = scores.get(c.external_id)
        out.append({"customer_id": c.external_id, "name": c.name, "email": c.email, "email_norm": c.email_norm,
                    "country": c.country, "preferred_channel": c.preferred_channel, "created_at": c.created_at,
                    "labels": {t: sorted(v) for t, v in sorted(labels.get(c.external_id, {}).items())},
                    "clv": sc.clv if sc else None, "p_alive": sc.p_alive if sc else None,
                    "expected_purchases_365d": sc.expected_purchases_365d if sc else None})
    return out


def _name_found(query: str, name: str | None) -> bool:
    """The name search's rule, written plainly: every word of the query starts a word of the name, with
    case and accents ignored."""
    def words(text: str) -> list[str]:
        plain = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L").replace("đ", "d"))
        plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).lower()
        return re.sub(r"[^0-9a-z]+", " ", plain).split()

    have = words(name or "")
    return bool(words(query)) and all(any(w.startswith(q) for w in have) for q in words(query))


def _expected(everyone: list[dict[str, Any]], f: cs.CustomerFilter) -> list[str]:
    rows = [r for r in everyone
            if all(lab in r["labels"].get(tax, []) for tax, lab in f.labels)
            and (not f.country or r["country"] == f.country.upper())
            and (not f.channel or r["preferred_channel"] == f.channel)
            and all(r[k] is not None and r[k] >= v for k, v in f.score_min.items())
            and all(r[k] is not None and r[k] <= v for k, v in f.score_max.items())
            and (not f.q or f.q in (r["customer_id"], r["email_norm"]) or _name_found(f.q, r["name"]))]
    rows.sort(key=lambda r: r["customer_id"])  # the tie-break: customer id ascending
    if f.sort == "customer_id":
        rows.sort(key=lambda r: r["customer_id"], reverse=f.descending)
    else:
        present = [r for r in rows if r[f.sort] is not None]
        present.sort(key=lambda r: r[f.sort], reverse=f.descending)  # stable: ties stay in id order
        rows = present + [r for r in rows if r[f.sort] is None]  # NULLs last in both directions
    return [r["customer_id"] for r in rows]


def _pages(s: Session, f: cs.CustomerFilter, limit: int) -> tuple[list[dict[str, Any]], int]:
    rows: list[dict[str, Any]] = []
    cursor, count = None, -1
    for _ in range(200):
        page = cs.list_customers(s, SHOP, f, limit=limit, cursor=cursor)
        count = page.count if count < 0 else count
        rows.extend(r.model_dump() for r in page.data)
        cursor = page.next_cursor
        if not cursor:
            return rows, count
    raise AssertionError("paging did not end")


FILTERS = [
    cs.CustomerFilter(),
    cs.CustomerFilter(descending=True),
    cs.CustomerFilter(labels=(("rfm_segment", "lost"),)),
    cs.CustomerFilter(labels=(("rfm_segment", "lost"), ("value", "low"))),
    cs.CustomerFilter(country="pl", sort="clv", descending=True),
    cs.CustomerFilter(channel="online", sort="p_alive"),
    cs.CustomerFilter(score_min={"clv": 20.0}, score_max={"clv": 300.0}, sort="clv"),
    cs.CustomerFilter(score_min={"p_alive": 0.2}, sort="expected_purchases_365d", descending=True),
    cs.CustomerFilter(sort="clv"),
    cs.CustomerFilter(sort="clv", descending=True),
    cs.CustomerFilter(sort="name"),
    cs.CustomerFilter(sort="country", descending=True),
    cs.CustomerFilter(sort="created_at"),
    cs.CustomerFilter(labels=(("value", "high"),), sort="clv", descending=True),
    cs.CustomerFilter(q="an"),
    cs.CustomerFilter(q="NGUYEN"),
    cs.CustomerFilter(q="anna  now"),
]


@pytest.mark.parametrize("f", FILTERS, ids=[repr(f)[15:80] for f in FILTERS])
def test_every_filter_and_sort_pages_through_exactly_the_oracle(store, f: cs.CustomerFilter) -> None:  # type: ignore[no-untyped-def]
    with Session(store) as s:
        everyone = {r["customer_id"]: r for r in _oracle(s)}
        expected = _expected(list(everyone.values()), f)
        rows, count = _pages(s, f, limit=7)
    assert expected, f"the case {f} selects nobody: it shows nothing"
    assert [r["customer_id"] for r in rows] == expected
    assert count == len(expected)
    for r in rows:  # each row carries the latest snapshot's labels and scores
        want = everyone[r["customer_id"]]
        assert r["labels"] == want["labels"] and r["clv"] == want["clv"] and r["p_alive"] == want["p_alive"]
        assert r["name"] == want["name"] and r["country"] == want["country"]


def test_cases_cover_nulls_ties_merges_and_the_latest_snapshot(store) -> None:  # type: ignore[no-untyped-def]
    with Session(store) as s:
        everyone = _oracle(s)
        rows, _ = _pages(s, cs.CustomerFilter(sort="clv", descending=True), limit=4)
        merged = set(s.scalars(select(m.Customer.external_id).where(m.Customer.merged_into_id.is_not(None))))
    clvs = [r["clv"] for r in rows]
    missing = sum(r["clv"] is None for r in everyone)
    assert missing >= 5  # at least the five without a score row
    assert clvs[-missing:] == [None] * missing and None not in clvs[:-missing]  # NULLs last
    assert clvs.count(42.0) == 5  # a tie crossing page boundaries (limit 4)
    assert len(rows) == len(everyone) and merged and not merged & {r["customer_id"] for r in rows}
    # The older snapshot has only rfm_segment labels (all champions); the latest has value labels too.
    labelled = [r for r in rows if r["labels"]]
    assert len(labelled) >= 100 and all("value" in r["labels"] for r in labelled)


@pytest.mark.parametrize("f", [cs.CustomerFilter(labels=(("value", "low"),), sort="clv"),
                               cs.CustomerFilter(sort="clv", descending=True), cs.CustomerFilter(descending=True)],
                         ids=["label-clv", "clv-desc", "id-desc"])
def test_offset_paging_and_counts_without_a_cursor(store, f: cs.CustomerFilter) -> None:  # type: ignore[no-untyped-def]
    with Session(store) as s:
        expected = _expected(_oracle(s), f)
        # Every offset, across the turn from customers with a CLV to those without and past the end.
        for offset in range(0, len(expected) + 3):
            page = cs.list_customers(s, SHOP, f, limit=5, offset=offset)
            assert [r.customer_id for r in page.data] == expected[offset:offset + 5], offset
            assert page.count == len(expected)
            assert (page.next_cursor is not None) == (offset + 5 < len(expected)), offset
        uncounted = cs.list_customers(s, SHOP, f, limit=5, offset=10, with_count=False)
    assert uncounted.count == 0 and [r.customer_id for r in uncounted.data] == expected[10:15]


def test_unknown_shop_and_empty_pages(store) -> None:  # type: ignore[no-untyped-def]
    with Session(store) as s:
        with pytest.raises(NotFoundError, match="cdnow"):
            cs.list_customers(s, "nowhere", cs.CustomerFilter(), limit=5)
        empty = cs.list_customers(s, SHOP, cs.CustomerFilter(country="ZZ"), limit=5)
        assert empty.data == [] and empty.count == 0 and empty.next_cursor is None
        s.add(m.Shop(name="fresh", created_at=datetime(2024, 1, 1)))
        s.flush()
        assert cs.list_customers(s, "fresh", cs.CustomerFilter(), limit=5).count == 0  # no customers, no snapshot


def _plan(engine: Any, f: cs.CustomerFilter) -> list[str]:
    stmt = cs._statements(cs._shape("sqlite", f, descending=False, after=False))[0]
    comp = stmt.compile(dialect=engine.dialect)
    params = comp.construct_params({**cs._params(SHOP, f), "limit": 51, "offset": 0})
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + comp.string, tuple(params[k] for k in comp.positiontup))
        return [r[3] for r in rows]


def test_a_migration_on_an_analysed_sqlite_store_keeps_the_list_on_the_label_index(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    from clientlens.store.db import _alembic_config, make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine)
    build_store(engine, customers=120, users=False)  # the ORM writes today's columns: built at head,
    command.downgrade(_alembic_config(engine), "0004")  # then taken back to the schema before 0005
    with engine.connect() as conn:  # a store analysed before migration 0005 added two indexes
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    upgrade(engine)
    f = cs.CustomerFilter(labels=(("rfm_segment", "lost"),))
    plan = _plan(engine, f)
    first = next(step for step in plan if step.startswith(("SCAN", "SEARCH")))
    assert "label_0" in first and "ix_snapshot_labels_tax_label_customer" in first, plan
    assert not any("TEMP B-TREE" in step for step in plan), plan  # read in index order, no sort
    with engine.connect() as conn:
        analysed = {r[0] for r in conn.exec_driver_sql("SELECT idx FROM sqlite_stat1 WHERE tbl = 'customers'")}
    assert {"ix_customers_shop_name", "ix_customers_shop_created_at"} <= analysed
    engine.dispose()
