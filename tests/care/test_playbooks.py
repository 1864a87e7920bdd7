"""One test per customer-care strategy: the default playbook chooses it, with its reason, for a
customer built to need it; loyalty tiers and points."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from clientlens.care.config import care_settings
from clientlens.care.loyalty import loyalty_statuses, order_points, rates_for_shop, tier_for
from clientlens.care.playbooks import load_playbook, next_best_actions
from clientlens.config import load_settings
from clientlens.errors import ConfigError
from clientlens.store import models as m
from tests.care.conftest import NOW, add_snapshot

SHOP = "playbook-shop"


@pytest.fixture
def engine(ram_path):  # type: ignore[no-untyped-def]
    """SQLite only: the playbook logic is not about the store (test_no_action... runs on both)."""
    from clientlens.store.db import make_engine, upgrade

    eng = make_engine(f"sqlite:///{ram_path / 'p.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


def _customer(s: Session, shop: m.Shop, ext: str, *, language: str | None = "en", orders: list[tuple[int, float]] = ()) -> m.Customer:  # type: ignore[assignment]
    c = m.Customer(shop_id=shop.id, external_id=ext, name=f"{ext} Test", language=language)
    s.add(c)
    s.flush()
    for k, (days_ago, total) in enumerate(orders):
        s.add(m.Order(shop_id=shop.id, external_id=f"{ext}-{k}", customer_id=c.id, currency="EUR",
                      ordered_at=NOW - timedelta(days=days_ago), total_minor=round(total * 100), status="completed"))
    s.flush()
    return c


def _build(engine):  # type: ignore[no-untyped-def]
    """Customers each built to need one strategy, a filler population for CLV ranks, one snapshot."""
    s = Session(engine)
    shop = m.Shop(name=SHOP, created_at=NOW)
    s.add(shop)
    s.flush()
    _customer(s, shop, "loyal", orders=[(800, 400.0), (400, 500.0), (30, 300.0)])
    _customer(s, shop, "champion", orders=[(200, 250.0), (10, 80.0)])
    _customer(s, shop, "occasional", orders=[(300, 40.0)])
    _customer(s, shop, "at_risk", orders=[(500, 90.0), (250, 60.0)])
    _customer(s, shop, "cant_lose", orders=[(600, 900.0)])
    _customer(s, shop, "inactive", orders=[(900, 20.0)])
    _customer(s, shop, "prospect")
    _customer(s, shop, "whale", orders=[(100, 5000.0)])
    _customer(s, shop, "abroad", language="vi", orders=[(60, 50.0)])
    _customer(s, shop, "abroad_nolang", language=None, orders=[(60, 50.0)])
    for i in range(20):
        _customer(s, shop, f"f{i}", orders=[(50, 10.0)])
    labels = {"loyal": {"lifecycle": "loyal", "rfm_segment": "loyal_customers"},
              "champion": {"lifecycle": "new", "rfm_segment": "champions"},
              "occasional": {"lifecycle": "occasional", "rfm_segment": "need_attention"},
              "at_risk": {"lifecycle": "occasional", "rfm_segment": "at_risk"},
              "cant_lose": {"lifecycle": "occasional", "rfm_segment": "cant_lose_them"},
              "inactive": {"lifecycle": "inactive", "rfm_segment": "lost"},
              "prospect": {"lifecycle": "potential"},
              "whale": {"lifecycle": "new", "rfm_segment": "promising"},
              "abroad": {"geography": "international", "lifecycle": "new"},
              "abroad_nolang": {"geography": "international", "lifecycle": "new"}}
    scores = {f"f{i}": {"clv": 10.0 + i, "p_alive": 0.5} for i in range(20)}
    scores.update({k: {"clv": 20.0, "p_alive": 0.5} for k in labels})
    scores["whale"] = {"clv": 9000.0, "p_alive": 0.9}
    add_snapshot(s, shop.id, date(2026, 3, 1), labels, scores)
    s.commit()
    return s


@pytest.mark.parametrize("customer,action,rule,reason", [
    ("loyal", "loyalty_invitation", "loyalty_invitation", "lifecycle = loyal: invite to the loyalty programme (tier gold"),
    ("champion", "loyalty_invitation", "loyalty_invitation", "rfm_segment = champions: invite"),
    ("occasional", "promotion", "convert_occasional", "lifecycle = occasional: a promotion"),
    ("at_risk", "win_back_offer", "win_back_lapsing", "rfm_segment = at_risk: find out why"),
    ("cant_lose", "win_back_offer", "win_back_lapsing", "rfm_segment = cant_lose_them: find out why"),
    ("inactive", "win_back_offer", "win_back_lapsing", "lifecycle = inactive: find out why"),
    ("prospect", "nurture", "nurture_potential", "lifecycle = potential: has not bought yet"),
    ("whale", "priority_care", "priority_care_top_clv", "predicted CLV €9,000.00 is in the top 10% of the shop"),
    ("abroad", "outreach_in_language", "outreach_in_language", "write in the customer's language (vi)"),
])
def test_the_playbook_chooses_each_strategy_with_its_reason(engine, customer, action, rule, reason) -> None:  # type: ignore[no-untyped-def]
    s = _build(engine)
    settings = load_settings(search_cwd=False)
    acts = next_best_actions(s, SHOP, settings, customer_ids=[customer], as_of=NOW.date())[customer]
    best = acts[0]
    assert (best.action, best.rule_id) == (action, rule)
    assert reason in best.reason
    if action == "outreach_in_language":
        assert best.language == "vi"
    s.close()


def test_no_action_without_a_reason(store_engine) -> None:  # type: ignore[no-untyped-def]
    s = _build(store_engine)
    acts = next_best_actions(s, SHOP, load_settings(search_cwd=False), as_of=NOW.date())
    assert "f3" not in acts  # a filler customer matches no rule
    assert "abroad_nolang" not in acts  # outreach in a language needs the language
    # an occasional customer at risk is won back, not given a plain promotion
    assert [a.action for a in acts["at_risk"]] == ["win_back_offer"]
    s.close()


def test_loyalty_tiers_and_points(engine) -> None:  # type: ignore[no-untyped-def]
    s = _build(engine)
    settings = load_settings(search_cwd=False)
    care = care_settings(settings)
    shop = s.query(m.Shop).filter_by(name=SHOP).one()
    ids = {c.external_id: c.id for c in s.query(m.Customer).filter_by(shop_id=shop.id)}
    rates = rates_for_shop(s, settings, shop.id, SHOP)
    st = loyalty_statuses(s, shop.id, care, NOW.date(), rates,
                          [ids["loyal"], ids["champion"], ids["occasional"], ids["prospect"]])
    assert (st[ids["loyal"]].tier, st[ids["loyal"]].points, st[ids["loyal"]].spend) == ("gold", 1200, Decimal("1200.00"))
    assert st[ids["champion"]].tier == "silver" and st[ids["champion"]].tenure_days == 200
    assert st[ids["occasional"]].tier == "bronze" and st[ids["occasional"]].orders == 1
    assert st[ids["prospect"]].points == 0 and st[ids["prospect"]].tenure_days == 0
    assert tier_for(Decimal("999.99"), 10_000, care) == "silver" and order_points(Decimal("0.99"), care) == 0
    s.close()


def test_a_custom_playbook_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "p.toml"
    f.write_text('[[rules]]\nid = "x"\naction = "call"\nlabels_any = ["value:high"]\nreason = "{nope}"\n', "utf-8")
    assert load_playbook(f).rules[0].action == "call"
    f.write_text('[[rules]]\nid = "x"\n', "utf-8")
    with pytest.raises(ConfigError, match="p.toml"):
        load_playbook(f)
