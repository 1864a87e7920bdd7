"""The care commands end to end on a SQLite store holding the sample shop."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from clientlens.cli.main import build_app
from clientlens.store import models as m
from clientlens.store.care_models import CareMessage
from clientlens.store.repository import get_shop
from tests.care.conftest import SHOP, add_snapshot


def run(db: str, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(build_app(), ["--db", db, *args], catch_exceptions=False)
    return res.exit_code, res.output


def test_care_commands(sqlite_shop, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    db = str(sqlite_shop.url)
    with Session(sqlite_shop) as s:
        shop = get_shop(s, SHOP)
        custs = list(s.scalars(select(m.Customer).order_by(m.Customer.id)))
        first = custs[0].external_id
        add_snapshot(s, shop.id, date(2025, 11, 30), {c.external_id: {"rfm_segment": "champions"} for c in custs[:10]})
        add_snapshot(s, shop.id, date(2025, 12, 31), {c.external_id: {"rfm_segment": "at_risk", "lifecycle": "inactive"}
                                                      for c in custs[:10]})
        for c in custs[:10]:
            c.consent_email, c.email = True, c.email or f"{c.external_id}@example.org"
        top10 = {c.external_id for c in custs[:10]}
        s.commit()
    code, out = run(db, "inbox", "--shop", SHOP, "--all", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["count"] > 0
    conv = doc["data"][0]["id"]
    assert run(db, "inbox", "assign", str(conv), "zoe", "--shop", SHOP)[0] == 0
    code, out = run(db, "inbox", "reply", str(conv), "Merci, c’est réglé.", "--agent", "zoe", "--shop", SHOP)
    assert code == 0 and "replied" in out
    code, out = run(db, "inbox", "resolve", str(conv), "--shop", SHOP)
    assert code == 0 and "resolved" in out
    code, out = run(db, "inbox", "surveys", "--shop", SHOP, "--outbox", str(tmp_path / "surveys"))
    assert code == 0 and "surveys sent" in out
    code, out = run(db, "sla", "--shop", SHOP, "--by", "channel", "--format", "json")
    assert code == 0 and {r["group"] for r in json.loads(out)["metrics"]} <= {"email", "phone", "social", "chat", "in_store"}
    code, out = run(db, "sla", "--shop", SHOP, "--by", "agent")
    assert code == 0 and "zoe" in out
    code, out = run(db, "nps", "--shop", SHOP, "--by", "month", "--format", "json")
    assert code == 0 and json.loads(out)["count"] > 0
    code, out = run(db, "actions", "--shop", SHOP, "--customer", first, "--format", "json")
    assert code == 0 and json.loads(out)["data"][0]["action"] == "win_back_offer"
    code, out = run(db, "audit", "--shop", SHOP, "--format", "json")
    assert code == 0
    found = {f["customer_id"] for f in json.loads(out)["findings"]}
    assert top10 <= found
    code, out = run(db, "audit", "--shop", SHOP, "--customer", first)
    assert code == 0 and "rfm_segment: champions -> at_risk" in out
    campaign = tmp_path / "winback.toml"
    campaign.write_text('name = "winback-1"\ntemplate = "winback"\nchannels = ["email"]\ndiscount = 20\n'
                        'offer_valid_days = 14\n[audience]\nlabels_any = ["rfm_segment:at_risk"]\n'
                        '[schedule]\nrespect_quiet_hours = false\n', "utf-8")
    code, out = run(db, "campaign", "preview", str(campaign), "--shop", SHOP, "--format", "json")
    assert code == 0 and json.loads(out)["counts"]["audience"] == 10
    code, out = run(db, "unsubscribe", first, "--channel", "email", "--shop", SHOP)
    assert code == 0 and "withdrawn: 1" in out
    code, out = run(db, "campaign", "send", str(campaign), "--shop", SHOP, "--outbox", str(tmp_path / "out"))
    assert code == 0 and "9 sent" in out
    assert len(list((tmp_path / "out").glob("*.eml"))) == 9
    code, out = run(db, "campaign", "send", str(campaign), "--shop", SHOP, "--outbox", str(tmp_path / "out"))
    assert code == 0 and "0 sent" in out and "9 already sent" in out
    with Session(sqlite_shop) as s:
        assert s.scalar(select(CareMessage.id).join(m.Customer, m.Customer.id == CareMessage.customer_id)
                        .where(m.Customer.external_id == first)) is None
