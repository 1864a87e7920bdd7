"""Erasure sticks: erase a customer, re-import the original files, and no table, no file the project
wrote (quarantine files written elsewhere, outbox, uploads) and no log line holds any variant of her
e-mail (any letter case), phone (E.164, international, national, any separators) or name.
SQLite and PostgreSQL; both ``[privacy] on_erased_match`` modes."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import String, Text, select

from clientlens.care.audience import AudienceSpec, CampaignSpec, ScheduleSpec
from clientlens.care.campaigns import send_campaign
from clientlens.care.config import care_settings
from clientlens.care.inbox import sync_conversations
from clientlens.care.senders import build_senders
from clientlens.config import load_settings
from clientlens.ingest import import_file
from clientlens.service.privacy import checkpoint, erase_customer, file_dirs
from clientlens.store import auth_models, care_models  # noqa: F401  (every table in the metadata)
from clientlens.store import models as m
from clientlens.store.db import make_engine, session_scope, upgrade
from clientlens.store.erasure import is_erased
from clientlens.store.repository import get_shop

NAME, EMAIL, PHONE = "Zofia Ofiara", "Zofia.Ofiara@Mail.test", "+48 600 700 800"
VARIANTS = re.compile(r"zofia\s*ofiara|zofia\.ofiara@mail\.test|(\+?48|0048)?\W{0,3}600\W{0,3}700\W{0,3}800",
                      re.IGNORECASE)
FILES = {
    "customers.csv": "customer_id,name,email,phone,country,language,consent_email\n"
                     f"v1,{NAME},{EMAIL},{PHONE},PL,pl,yes\n"
                     "b2,Bob Budowniczy,bob@mail.test,+48 511 222 333,PL,pl,yes\n",
    "customers_bad.csv": "customer_id,name,email,birth_date\n"
                         f"v1,{NAME},{EMAIL.lower()},not-a-date\nb2,Bob Budowniczy,bob@mail.test,also-bad\n",
    "orders.csv": "customer_id,order_id,order_date,total\nv1,o1,2024-01-05,10.00\nb2,o2,2024-01-06,20.00\n",
    "interactions.csv": "interaction_id,customer_id,channel,direction,occurred_at,subject,body\n"
                        f'i1,v1,email,inbound,2024-01-07T10:00:00,Order,"Hi, {NAME} here: {EMAIL.upper()}"\n'
                        'i2,b2,email,inbound,2024-01-08T10:00:00,Friend,'
                        '"my friend is on 600-700-800 or ZOFIA.OFIARA@MAIL.TEST, call her"\n',
}
ORDER = ("customers.csv", "customers_bad.csv", "orders.csv", "interactions.csv")


def _entity(name: str) -> str:
    return "customers" if name.startswith("customers") else name.removesuffix(".csv")


def _leaks_in_store(engine) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    found = []
    with engine.connect() as conn:
        for table in m.Base.metadata.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, String | Text)]
            for row in conn.execute(select(*cols)) if cols else []:
                for col, value in zip(cols, row, strict=True):
                    if value and VARIANTS.search(str(value)):
                        found.append((f"{table.name}.{col.name}", str(value)))
    return found


@pytest.mark.parametrize("mode", ["refuse", "anonymous"])
def test_erase_then_reimport_leaves_no_variant_anywhere(store_url: str, tmp_path: Path, mode: str,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    work, source, elsewhere = tmp_path / "work", tmp_path / "in", tmp_path / "elsewhere"
    for d in (work, source, elsewhere):
        d.mkdir()
    monkeypatch.chdir(work)  # quarantine files of imports without a directory land here
    for name, text in FILES.items():
        (source / name).write_text(text, "utf-8")
    settings = load_settings(search_cwd=False, overrides={
        "web": {"upload_dir": str(work / "uploads")}, "care": {"senders": {"outbox_dir": str(work / "outbox")}},
        "identity": {"default_region": "PL"}, "privacy": {"on_erased_match": mode}})
    engine = make_engine(store_url)
    upgrade(engine)

    def import_all() -> dict[str, dict[str, int]]:
        out = {}
        for name in ORDER:
            where = elsewhere if name == "customers_bad.csv" else None  # a quarantine file written elsewhere
            report = import_file(engine, "shop", _entity(name), source / name, settings=settings, quarantine_dir=where)
            out[name] = report.counts()
        return out

    first = import_all()
    assert first["customers_bad.csv"]["rejected"] == 2 and (elsewhere / "customers_bad.csv.rejected.csv").exists()
    with session_scope(engine) as s:
        sync_conversations(s, "shop", settings)
    spec = CampaignSpec(name="hello", template="promotion", audience=AudienceSpec(customers=("v1",)),
                        schedule=ScheduleSpec(respect_quiet_hours=False))
    assert send_campaign(engine, "shop", spec, settings, build_senders(care_settings(settings))).sent == 1
    assert _leaks_in_store(engine)  # the victim's data is everywhere before

    with session_scope(engine) as s:
        erase_customer(s, get_shop(s, "shop"), "v1", actor="test",
                       file_dirs=file_dirs(settings, settings.web["upload_dir"]))
    with session_scope(engine) as s:
        checkpoint(s)
    with session_scope(engine) as s:
        conn = s.connection()
        sid = get_shop(s, "shop").id
        assert is_erased(conn, sid, email=EMAIL.upper(), region="PL")
        assert is_erased(conn, sid, phone="600 700 800", region="PL")
        assert is_erased(conn, sid, external_id="v1")
        assert not is_erased(conn, sid, email="bob@mail.test", external_id="b2")

    again = import_all()  # the original files, as they were
    assert again["customers.csv"]["erased"] == 1 and again["interactions.csv"]["erased"] == 1
    assert again["orders.csv"]["erased"] == 1 and again["customers_bad.csv"]["erased"] == 1
    assert _leaks_in_store(engine) == []
    written = [p for p in (work, elsewhere) for p in p.rglob("*") if p.is_file()]
    assert any(p.name == "customers_bad.csv.rejected.csv" for p in written)
    leaks = [str(p) for p in written if VARIANTS.search(p.read_bytes().decode("utf-8", "replace"))]
    assert leaks == []
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not VARIANTS.search(logged), [r.getMessage() for r in caplog.records if VARIANTS.search(r.getMessage())]
    with session_scope(engine) as s:  # Bob is untouched; his message keeps its text but not her details
        bob = s.scalar(select(m.Customer).where(m.Customer.external_id == "b2"))
        assert bob is not None and bob.email == "bob@mail.test" and bob.consent_email is True
        body = s.scalar(select(m.Interaction.body).where(m.Interaction.external_id == "i2"))
        assert body is not None and "[erased]" in body and "call her" in body
        victims = list(s.scalars(select(m.Customer).where(m.Customer.external_id == "v1")))
        assert victims == []  # never re-created under her id
        if mode == "anonymous":  # her order is kept, on an anonymous profile without personal fields
            owner = s.scalar(select(m.Customer).join(m.Order, m.Order.customer_id == m.Customer.id)
                             .where(m.Order.external_id == "o1"))
            assert owner is not None and owner.external_id.startswith("erased-")
            assert (owner.name, owner.email, owner.phone) == (None, None, None)
