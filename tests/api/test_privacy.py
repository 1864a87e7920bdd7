"""Privacy: export everything on one customer; erase them everywhere (every table, snapshot row, merge
history, quarantine and outbox file) while segment totals and revenue stay the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, String, Text, func, select

from clientlens.app import create_app
from clientlens.care.audience import AudienceSpec, CampaignSpec, ScheduleSpec
from clientlens.care.campaigns import send_campaign
from clientlens.care.config import care_settings
from clientlens.care.inbox import sync_conversations
from clientlens.care.senders import build_senders
from clientlens.config import Settings
from clientlens.service.auth import create_token
from clientlens.store import auth_models, care_models  # noqa: F401  (every table in the metadata)
from clientlens.store import models as m
from clientlens.store.db import make_engine, session_scope, upgrade
from clientlens.store.identity import accept
from clientlens.store.repository import get_customer
from tests.api.builders import build_store

VICTIM = "1"


def _prepare(engine: Engine, settings: Settings, tmp_path: Path) -> dict[str, Any]:
    """Spread the victim's personal data everywhere the project writes it."""
    with session_scope(engine) as s:
        shop = s.scalar(select(m.Shop))
        assert shop is not None
        cust = get_customer(s, shop.id, VICTIM)
        dup = get_customer(s, shop.id, f"dup-{VICTIM}")
        pii = {"name": "Zofia Źdźbło-Victim", "email": "zofia.victim@mail.test", "phone": "+48600700800",
               "address": "ul. Ofiary 7, Łódź", "old_email": "z.victim@old.test"}
        cust.name, cust.email, cust.email_norm, cust.phone, cust.address = (
            pii["name"], pii["email"], pii["email"], pii["phone"], pii["address"])
        dup.name, dup.email, dup.email_norm = pii["name"], pii["old_email"], pii["old_email"]
        cust.consent_email, cust.language = True, "pl"
        merge_id = s.scalar(select(m.Merge.id).where(m.Merge.survivor_id == cust.id))
        accept(s, merge_id)  # merge history now records the duplicate profile's e-mail
        s.add(m.Feedback(shop_id=shop.id, external_id="fb-victim", customer_id=cust.id, kind="csat", score=1,
                         comment=f"I am {cust.name}, call me on {cust.phone}", submitted_at=cust.created_at))
        sync_conversations(s, shop.name, settings)
    spec = CampaignSpec(name="erasure", template="promotion", audience=AudienceSpec(customers=(VICTIM,)),
                        schedule=ScheduleSpec(respect_quiet_hours=False))
    report = send_campaign(engine, "cdnow", spec, settings, build_senders(care_settings(settings)))
    assert report.sent == 1
    uploads = Path(settings.web["upload_dir"])
    uploads.mkdir(parents=True, exist_ok=True)
    (uploads / "orders.csv.rejected.csv").write_text(
        "row,line,column,value,rule,message,customer_id,email\n"
        f"3,4,email,{pii['email']},bad,bad e-mail,{VICTIM},{pii['email']}\n"
        "4,5,total,x,bad,not a number,2,buyer2@mail.test\n", "utf-8")
    return pii


def _text_values(engine: Engine) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for table in m.Base.metadata.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, String | Text)]
            if not cols:
                continue
            for row in conn.execute(select(*cols)):
                for col, value in zip(cols, row, strict=True):
                    if value:
                        out.setdefault(f"{table.name}.{col.name}", []).append(str(value))
    return out


def _totals(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        labels = sorted(conn.execute(select(m.SnapshotLabel.taxonomy, m.SnapshotLabel.label, func.count())
                                     .group_by(m.SnapshotLabel.taxonomy, m.SnapshotLabel.label)).all())
        summary = sorted((r.taxonomy, r.label, r.customers, float(r.revenue)) for r in
                         conn.execute(select(m.SnapshotSummary)))
        revenue = conn.scalar(select(func.sum(m.Order.total_minor)))
        customers = conn.scalar(select(func.count()).select_from(m.Customer))
    return {"labels": labels, "summary": summary, "revenue": revenue, "customers": customers}


def test_export_then_erase_leaves_no_personal_data(store_url: str, settings: Settings, tmp_path: Path) -> None:
    engine = make_engine(store_url)
    upgrade(engine)
    build_store(engine, customers=150, users=False)
    pii = _prepare(engine, settings, tmp_path)
    with session_scope(engine) as s:
        token = create_token(s, "dpo", "admin", actor="test")
    client = TestClient(create_app(settings, engine), headers={"Authorization": f"Bearer {token}"})

    doc = client.get(f"/api/v1/shops/cdnow/customers/{VICTIM}/export").json()
    dumped = json.dumps(doc, ensure_ascii=False)
    for value in pii.values():
        assert value in dumped
    assert {"orders", "interactions", "feedback", "merges", "snapshot_labels", "snapshot_scores",
            "care_messages", "care_conversations"} <= set(doc["tables"])
    assert len(doc["profiles"]) == 2  # the survivor and the duplicate merged into it

    before = _totals(engine)
    outbox = list(Path(settings.care["senders"]["outbox_dir"]).iterdir())
    assert outbox and any(pii["email"] in p.read_text("utf-8", "replace") for p in outbox)
    resp = client.post(f"/api/v1/shops/cdnow/customers/{VICTIM}/erase")
    assert resp.status_code == 200, resp.text
    pseudonym = resp.json()["customer_id"]
    assert pseudonym.startswith("erased-")

    after = _totals(engine)
    assert after == before  # segment sizes, summary, revenue and customer count are unchanged
    leaks = [(col, v) for col, values in _text_values(engine).items() for v in values
             for p in pii.values() if p in v]
    assert leaks == []
    with engine.connect() as conn:
        for model in (m.SnapshotFeatures, m.SnapshotLabel, m.SnapshotScore):
            assert conn.scalar(select(func.count()).select_from(model)
                               .where(model.customer_id.in_([VICTIM, f"dup-{VICTIM}"]))) == 0
        assert conn.scalar(select(func.count()).select_from(m.Customer)
                           .where(m.Customer.external_id.in_([VICTIM, f"dup-{VICTIM}"]))) == 0
        assert conn.scalar(select(func.count()).select_from(m.SnapshotLabel)
                           .where(m.SnapshotLabel.customer_id == pseudonym)) == 2
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".eml", ".json"):
            text = path.read_text("utf-8", "replace")
            assert not any(p in text for p in pii.values()), path
    assert "buyer2@mail.test" in (Path(settings.web["upload_dir"]) / "orders.csv.rejected.csv").read_text()
    assert client.get(f"/api/v1/shops/cdnow/customers/{VICTIM}").status_code == 404
    audit = client.get("/api/v1/audit", params={"action": "customer_erased"}).json()
    assert audit["count"] == 1 and audit["data"][0]["target"] == pseudonym
    engine.dispose()
    if store_url.startswith("sqlite"):  # secure_delete + WAL checkpoint: no copy left in the file's free pages
        db_file = Path(store_url.split("///", 1)[1])
        raw = b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))
        assert pii["email"].encode() not in raw and pii["phone"].encode() not in raw
