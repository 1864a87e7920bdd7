"""Consent is a history: an import grants consent only when dated after the last withdrawal, an
unsubscribe always wins over older data, and the consent columns are the latest event per channel.
Property: no sequence of imports (CLI and the API's upload path), unsubscribes (CLI and the link)
makes a campaign reach someone whose latest consent event for the channel is a withdrawal.
SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from clientlens.care.audience import AudienceSpec, CampaignSpec, ScheduleSpec
from clientlens.care.campaigns import plan_campaign
from clientlens.care.consent import unsubscribe, unsubscribe_token
from clientlens.config import load_settings
from clientlens.ingest import import_file
from clientlens.service import unsubscribe as unsubscribe_link
from clientlens.service.imports import run_import
from clientlens.store import models as m
from clientlens.store.consent import latest_events
from clientlens.store.db import session_scope
from clientlens.store.repository import get_shop, utcnow

CUSTOMERS = ("c1", "c2", "c3")


def _customers_file(folder: Path, rows: list[tuple[str, str, datetime | None]]) -> Path:
    dated = any(at is not None for _, _, at in rows)
    lines = ["customer_id,email,consent_email" + (",consent_date" if dated else "")]
    for cid, value, at in rows:
        stamp = f",{at.strftime('%Y-%m-%dT%H:%M:%S')}" if dated and at is not None else ("," if dated else "")
        lines.append(f"{cid},{cid}@mail.test,{value}{stamp}")
    path = folder / f"customers-{uuid.uuid4().hex[:8]}.csv"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def _reached(engine, shop: str, cfg: Any) -> set[str]:  # type: ignore[no-untyped-def]
    spec = CampaignSpec(name="promo", template="promotion", audience=AudienceSpec(customers=CUSTOMERS),
                        schedule=ScheduleSpec(respect_quiet_hours=False))
    with session_scope(engine) as s:
        plan = plan_campaign(s, shop, spec, cfg, dry_run=True)
        return {p.customer.external_id for p in plan.messages if p.channel == "email"}


def _state(engine, shop: str) -> tuple[set[str], dict[str, bool | None], dict[str, bool]]:  # type: ignore[no-untyped-def]
    """(customers whose latest e-mail event is a withdrawal, their consent_email columns, latest events)."""
    with session_scope(engine) as s:
        sid = get_shop(s, shop).id
        custs = {c.external_id: c for c in s.scalars(select(m.Customer).where(m.Customer.shop_id == sid))}
        latest = latest_events(s.connection(), [c.id for c in custs.values()])
        events = {ext: latest[(c.id, "email")][0] for ext, c in custs.items() if (c.id, "email") in latest}
        return ({ext for ext, g in events.items() if not g}, {ext: c.consent_email for ext, c in custs.items()},
                events)


def test_an_import_does_not_undo_an_unsubscribe(store_engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cfg = load_settings(search_cwd=False)
    t0 = utcnow() - timedelta(hours=1)
    report = import_file(store_engine, "s", "customers", _customers_file(tmp_path, [("c1", "yes", None)]),
                         settings=cfg, now=t0, quarantine_dir=tmp_path)
    assert report.consent_not_applied == 0 and _reached(store_engine, "s", cfg) == {"c1"}
    with session_scope(store_engine) as s:
        unsubscribe(s, get_shop(s, "s").id, "c1", "email", now=t0 + timedelta(minutes=10))
    again = import_file(store_engine, "s", "customers", _customers_file(tmp_path, [("c1", "yes", None)]),
                        settings=cfg, now=t0 + timedelta(minutes=20), quarantine_dir=tmp_path)
    assert again.consent_not_applied == 1 and again.counts()["consent_not_applied"] == 1
    assert _reached(store_engine, "s", cfg) == set()
    older = import_file(store_engine, "s", "customers",
                        _customers_file(tmp_path, [("c1", "yes", t0 + timedelta(minutes=5))]),
                        settings=cfg, now=t0 + timedelta(minutes=30), quarantine_dir=tmp_path)
    assert older.consent_not_applied == 1 and _reached(store_engine, "s", cfg) == set()
    # consent given again after the unsubscribe (dated later) is applied
    newer = import_file(store_engine, "s", "customers",
                        _customers_file(tmp_path, [("c1", "yes", t0 + timedelta(minutes=15))]),
                        settings=cfg, now=t0 + timedelta(minutes=40), quarantine_dir=tmp_path)
    assert newer.consent_not_applied == 0 and _reached(store_engine, "s", cfg) == {"c1"}
    withdrawn, columns, events = _state(store_engine, "s")
    assert withdrawn == set() and columns["c1"] is True and events["c1"] is True


OPERATION = st.one_of(
    st.tuples(st.just("import"), st.sampled_from(CUSTOMERS), st.sampled_from(["yes", "no"]),
              st.one_of(st.none(), st.integers(min_value=0, max_value=3))),
    st.tuples(st.just("upload"), st.sampled_from(CUSTOMERS), st.sampled_from(["yes", "no"]),
              st.one_of(st.none(), st.integers(min_value=0, max_value=3))),
    st.tuples(st.just("unsubscribe"), st.sampled_from(CUSTOMERS), st.just(""), st.none()),
    st.tuples(st.just("link"), st.sampled_from(CUSTOMERS), st.just(""), st.none()),
)


def test_no_sequence_reaches_a_withdrawn_customer(store_engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cfg = load_settings(search_cwd=False)

    @given(ops=st.lists(OPERATION, min_size=1, max_size=8))
    @settings(max_examples=12, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(ops: list[tuple[str, str, str, int | None]]) -> None:
        shop = f"p{uuid.uuid4().hex[:10]}"
        # every customer starts with consent given (then the operations act on it)
        import_file(store_engine, shop, "customers", _customers_file(tmp_path, [(c, "yes", None) for c in CUSTOMERS]),
                    settings=cfg, quarantine_dir=tmp_path)
        for kind, cid, value, seconds_ago in ops:
            if kind in ("import", "upload"):
                # a consent date a few seconds back: sometimes before, sometimes after the last withdrawal
                at = None if seconds_ago is None else utcnow() - timedelta(seconds=seconds_ago)
                path = _customers_file(tmp_path, [(cid, value, at)])
                if kind == "import":
                    import_file(store_engine, shop, "customers", path, settings=cfg, quarantine_dir=tmp_path)
                else:  # what POST /api/v1/shops/{shop}/imports runs
                    run_import(store_engine, cfg, path, shop=shop, entity="customers", quarantine_dir=tmp_path)
            elif kind == "unsubscribe":
                with session_scope(store_engine) as s:
                    unsubscribe(s, get_shop(s, shop).id, cid, "email")
            else:  # the link in a message (GET /unsubscribe/{token})
                with session_scope(store_engine) as s:
                    cust = s.scalar(select(m.Customer).where(m.Customer.shop_id == get_shop(s, shop).id,
                                                             m.Customer.external_id == cid))
                    assert cust is not None
                    token = unsubscribe_token(s, cust, "email")
                with session_scope(store_engine) as s:
                    unsubscribe_link.unsubscribe(s, token)
            withdrawn, columns, events = _state(store_engine, shop)
            assert not (_reached(store_engine, shop, cfg) & withdrawn), (ops, withdrawn)
            assert {c: columns[c] for c in events} == events  # the columns are the latest events

    run()
