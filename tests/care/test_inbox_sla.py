"""Inbox and SLAs on the sample shop: conversations from threads, SLA metrics equal to an
independent computation, tightening for champions and the top CLV decile, reply/assign/resolve."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clientlens.care import inbox, sla
from clientlens.care.config import care_settings
from clientlens.config import load_settings
from clientlens.store import models as m
from clientlens.store.care_models import Conversation, Survey
from clientlens.store.repository import get_shop
from tests.care.conftest import NOW, SHOP, add_snapshot

OVERRIDES = {"shops": {SHOP: {"timezone": "Europe/Warsaw", "home_country": "PL"}}}
HOLIDAYS = holidays.country_holidays("PL")  # public holidays are not business days


def business_seconds(a: datetime, b: datetime, tz: str) -> float:
    """Seconds of Monday-Friday 09:00-17:00 local time, Polish public holidays excepted, between a and b."""
    zone = ZoneInfo(tz)
    total = 0.0
    day = a.replace(tzinfo=UTC).astimezone(zone).date() - timedelta(days=1)
    while True:
        open_ = datetime.combine(day, time(9), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
        if open_ >= b:
            return total
        close = datetime.combine(day, time(17), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
        if day.weekday() < 5 and day not in HOLIDAYS:
            total += max(0.0, (min(b, close) - max(a, open_)).total_seconds())
        day += timedelta(days=1)


def due_by_bisection(a: datetime, hours: float, tz: str) -> datetime:
    """The moment ``hours`` business hours have passed, by bisection on business_seconds."""
    lo, hi = a, a + timedelta(days=60)
    while (hi - lo) > timedelta(microseconds=1):
        mid = lo + (hi - lo) / 2
        if business_seconds(a, mid, tz) >= hours * 3600:
            hi = mid
        else:
            lo = mid
    return hi


def expected_threads(frames: dict[str, pd.DataFrame], care) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """Opened / first response / resolution / agent of each thread, from the frames alone."""
    out = {}
    for thread, g in frames["interactions"].groupby("thread_id"):
        g = g.sort_values(["occurred_at"], kind="stable")
        times = [t.floor("us").to_pydatetime() for t in g["occurred_at"]]
        dirs = list(g["direction"])
        inbound = [t for t, d in zip(times, dirs, strict=True) if d != "outbound"]
        first_in = inbound[0] if inbound else None
        answers = [(t, a) for t, d, a in zip(times, dirs, g["agent"], strict=True)
                   if d == "outbound" and first_in is not None and t >= first_in]
        resolved = None
        if dirs[-1] == "outbound" and NOW - times[-1] >= timedelta(days=care.auto_resolve_idle_days):
            resolved = times[-1]
        agents = [a for d, a in zip(dirs, g["agent"], strict=True) if d == "outbound" and isinstance(a, str)]
        out[thread] = {"opened": first_in or times[0], "first_in": first_in, "channel": g["channel"].iloc[0],
                       "fr": answers[0][0] if answers else None, "resolved": resolved,
                       "agent": agents[0] if agents else "(unassigned)"}
    return out


def test_sla_metrics_equal_an_independent_computation(shop_engine, frames) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(search_cwd=False, overrides=OVERRIDES)
    care = care_settings(settings)
    shop_settings = settings.shop(SHOP)
    tz = shop_settings.timezone
    with Session(shop_engine) as s:
        res = inbox.sync_conversations(s, SHOP, settings, now=NOW)
        s.commit()
        exp = expected_threads(frames, care)
        assert res.conversations_created == len(exp)
        assert res.messages_added == len(frames["interactions"])
        again = inbox.sync_conversations(s, SHOP, settings, now=NOW)
        assert again.messages_added == 0 and again.conversations_created == 0
        shop_id = get_shop(s, SHOP).id
        for by, key in (("channel", "channel"), ("agent", "agent")):
            got = {r.group: r for r in sla.sla_metrics(s, shop_id, shop_settings, care, NOW, by=by)}
            groups: dict[str, list[dict]] = defaultdict(list)
            for t in exp.values():
                groups[t[key]].append(t)
            assert set(got) == set(groups)
            for name, ts in groups.items():
                fr = [business_seconds(t["opened"], t["fr"], tz) / 3600 for t in ts if t["fr"] is not None]
                rs = [business_seconds(t["opened"], t["resolved"], tz) / 3600 for t in ts if t["resolved"] is not None]
                row = got[name]
                assert row.conversations == len(ts)
                for value, values, q in ((row.first_response_median, fr, "median"),
                                         (row.first_response_p90, fr, "p90"),
                                         (row.resolution_median, rs, "median"),
                                         (row.resolution_p90, rs, "p90")):
                    if not values:
                        assert value is None
                    elif q == "median":
                        assert value == pytest.approx(statistics.median(values))
                    else:
                        want = values[0] if len(values) == 1 else statistics.quantiles(values, n=10, method="inclusive")[8]
                        assert value == pytest.approx(want)
                met = missed = 0
                for t in ts:
                    if t["first_in"] is None:
                        continue
                    due = due_by_bisection(t["first_in"], care.sla.first_response_hours[t["channel"]], tz)
                    if t["fr"] is not None:
                        met, missed = met + (t["fr"] <= due), missed + (t["fr"] > due)
                    elif NOW > due:
                        missed += 1
                want_att = met / (met + missed) if met + missed else None
                assert row.first_response_attainment == (pytest.approx(want_att) if want_att is not None else None)
        # breaches listed are exactly the clocks past due
        items = sla.sla_items(s, shop_id, shop_settings, care, NOW)
        breached = {(i.conversation_id, i.kind) for i in items if i.state == "breached"}
        want = set()
        for conv in s.scalars(select(Conversation).where(Conversation.shop_id == shop_id)):
            if conv.first_response_due and (conv.first_response_at or NOW) > conv.first_response_due:
                want.add((conv.id, "first_response"))
            if conv.resolution_due and (conv.resolved_at or NOW) > conv.resolution_due:
                want.add((conv.id, "resolution"))
        assert breached == want and breached
        for i in items:
            if i.state == "near_breach":
                assert care.near_breach_share * i.target_hours <= i.elapsed_hours <= i.target_hours


def test_champions_and_top_clv_are_answered_first(sqlite_shop, settings) -> None:  # type: ignore[no-untyped-def]
    with Session(sqlite_shop) as s:
        shop = get_shop(s, SHOP)
        ids = [c for c, in s.execute(select(m.Interaction.customer_id).distinct())]
        exts = {c.id: c.external_id for c in s.scalars(select(m.Customer).where(m.Customer.id.in_(ids)))}
        champ, rich, plain = (exts[i] for i in ids[:3])
        scores = {e: {"clv": 10.0 + n, "p_alive": 0.5} for n, e in enumerate(exts.values())}
        scores[rich]["clv"] = 10_000.0
        add_snapshot(s, shop.id, date(2026, 3, 1), {champ: {"rfm_segment": "champions"}}, scores)
        inbox.sync_conversations(s, SHOP, settings, now=NOW)
        care = care_settings(settings)
        by_ext = {}
        for conv in s.scalars(select(Conversation)):
            by_ext.setdefault(exts[conv.customer_id], conv)
        # priority = the tightening rule's + triage and SLA points (care.priority), the reason a sentence
        def keys(conv: Conversation) -> list[str]:
            return [p["key"] for p in (conv.priority_reason_data or {}).get("parts", [])]

        def points(conv: Conversation) -> int:
            return sum(p["points"] for p in (conv.priority_reason_data or {}).get("parts", [])
                       if p["key"] not in ("segment", "clv_top"))

        assert by_ext[rich].priority == 3 + points(by_ext[rich]) and "clv_top" in keys(by_ext[rich])
        assert "CLV is in the shop's top 10%" in (by_ext[rich].priority_reason or "")
        assert by_ext[champ].priority == 2 + points(by_ext[champ])
        assert "the customer is in champions (rfm_segment)" in (by_ext[champ].priority_reason or "")
        assert by_ext[plain].priority == points(by_ext[plain])
        assert not {"segment", "clv_top"} & set(keys(by_ext[plain]))
        for ext in (rich, champ):
            conv = by_ext[ext]
            if conv.first_response_due is None:
                continue
            target = care.sla.first_response_hours[conv.channel] * 0.5
            from clientlens.care.business_time import business_hours_between
            assert business_hours_between(conv.opened_at, conv.first_response_due, settings.shop(SHOP)) == pytest.approx(target)
        listed = inbox.list_conversations(s, SHOP, include_resolved=True)
        assert [c.priority for c in listed] == sorted((c.priority for c in listed), reverse=True)


def test_reply_assign_resolve_and_one_survey_per_interval(store_engine, settings) -> None:  # type: ignore[no-untyped-def]
    with Session(store_engine) as s:
        shop = m.Shop(name=SHOP, created_at=NOW)
        s.add(shop)
        s.flush()
        cust = m.Customer(shop_id=shop.id, external_id="C1", name="Zoé Nguyễn")
        s.add(cust)
        s.flush()
        for k, thread in enumerate(("NEW-1", "NEW-2")):
            s.add(m.Interaction(shop_id=shop.id, external_id=f"X{k}", customer_id=cust.id, channel="email",
                                direction="inbound", occurred_at=NOW - timedelta(hours=1), thread_id=thread,
                                subject="where is my parcel?"))
        s.flush()
        inbox.sync_conversations(s, SHOP, settings, now=NOW)
        c1, c2 = (s.scalar(select(Conversation).where(Conversation.thread_key == t)) for t in ("NEW-1", "NEW-2"))
        assert c1 is not None and c2 is not None and c1.status == "new" and c1.first_response_at is None
        inbox.assign(s, SHOP, c1.id, "ana", now=NOW)
        out = inbox.reply(s, SHOP, c1.id, "It ships today.", agent="ana", settings=settings, now=NOW + timedelta(minutes=30))
        assert out.direction == "outbound" and out.thread_id == "NEW-1" and out.channel == "email"
        assert c1.status == "waiting_on_customer" and c1.first_response_at == NOW + timedelta(minutes=30)
        conv, survey = inbox.resolve(s, SHOP, c1.id, settings=settings, now=NOW + timedelta(hours=1))
        assert conv.status == "resolved" and survey is not None and survey.kind == "csat"
        _, second = inbox.resolve(s, SHOP, c2.id, settings=settings, now=NOW + timedelta(days=2))
        assert second is None  # at most one survey per customer per survey_interval_days
        _, third = inbox.resolve(s, SHOP, c2.id, settings=settings, now=NOW + timedelta(days=40))
        assert third is None  # already resolved: nothing new
        # a new inbound message reopens the conversation
        s.add(m.Interaction(shop_id=shop.id, external_id="X9", customer_id=cust.id, channel="email",
                            direction="inbound", occurred_at=NOW + timedelta(hours=3), thread_id="NEW-1"))
        s.flush()
        inbox.sync_conversations(s, SHOP, settings, now=NOW + timedelta(hours=3))
        assert c1.status == "open" and c1.resolved_at is None
        assert s.scalar(select(func.count()).select_from(Survey)) == 1
        s.commit()
