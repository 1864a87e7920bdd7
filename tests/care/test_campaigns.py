"""Campaigns: consent (property test), birthdays across a year end and on 29 February, templates in
four languages, quiet hours, frequency capping, dry run, unsubscribes, the timeline."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from clientlens.care import campaigns as cp
from clientlens.care.audience import CampaignSpec, birthday_in_window, celebration_date, load_campaign
from clientlens.care.config import care_settings
from clientlens.care.consent import (
    import_unsubscribes,
    process_reply_unsubscribes,
    unsubscribe_by_token,
    unsubscribe_token,
)
from clientlens.care.render import SHIPPED_LANGUAGES, TemplateRenderer
from clientlens.care.senders import MemorySender, OutgoingMessage
from clientlens.care.timeline import customer_timeline
from clientlens.config import load_settings
from clientlens.errors import ConsentError
from clientlens.store import models as m
from clientlens.store.care_models import CareMessage, UnsubscribeToken
from clientlens.store.repository import get_customer, get_shop
from tests.care.conftest import SHOP

NOON = datetime(2026, 3, 2, 12, 0)
CH = ("email", "sms", "chat")


def spec(**kw) -> CampaignSpec:  # type: ignore[no-untyped-def]
    base = {"name": "promo", "template": "promotion", "channels": CH, "discount": 10,
            "schedule": {"respect_quiet_hours": False}}
    base.update(kw)
    return CampaignSpec.model_validate(base)


# ---------------------------------------------------------------- consent, property test

@pytest.fixture(scope="module")
def consent_engine(ram_dir, frames):  # type: ignore[no-untyped-def]
    """Twelve customers of the sample shop (their consents are replaced by each example)."""
    from clientlens.store.db import make_engine, upgrade
    from tests.care.conftest import load_frames

    engine = make_engine(f"sqlite:///{ram_dir / 'consent.db'}")
    upgrade(engine)
    twelve = frames["customers"].head(12)
    ids = set(twelve["customer_id"])
    small = {"customers": twelve, "orders": frames["orders"][frames["orders"]["customer_id"].isin(ids)],
             "interactions": frames["interactions"].head(0), "feedback": frames["feedback"].head(0)}
    with Session(engine) as s:
        load_frames(s, SHOP, small)
        s.commit()
    yield engine
    engine.dispose()


consents = st.lists(st.fixed_dictionaries({ch: st.sampled_from([True, False, None]) for ch in m.CONSENT_CHANNELS}),
                    min_size=12, max_size=12)


@hsettings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(consents=consents, allowed=st.lists(st.sampled_from(CH), min_size=1, max_size=3, unique=True),
       preferred=st.lists(st.sampled_from(("email", "sms", "chat", "phone", None)), min_size=12, max_size=12),
       withdraw_after=st.integers(1, 6), withdraw=st.tuples(st.integers(0, 11), st.sampled_from(CH)))
def test_no_message_ever_goes_to_a_channel_without_consent(consent_engine, consents, allowed, preferred,
                                                           withdraw_after, withdraw) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(search_cwd=False, overrides={"care": {"cap_messages": 100}})
    with Session(consent_engine) as s:
        s.execute(delete(CareMessage))
        custs = list(s.scalars(select(m.Customer).order_by(m.Customer.id)))
        for c, cons, pref in zip(custs, consents, preferred, strict=True):
            for ch, val in cons.items():
                setattr(c, f"consent_{ch}", val)
            c.preferred_channel = pref
        s.commit()
        victim = custs[withdraw[0]].id
        exts = [c.external_id for c in custs]
        reach = {c.external_id: {"email": bool(c.email), "sms": bool(c.phone_e164 or c.phone), "chat": True}
                 for c in custs}

    class WithdrawingSender(MemorySender):
        """Withdraws one customer's consent (another session, committed) after n sends."""

        def send(self, message: OutgoingMessage):  # type: ignore[no-untyped-def]
            receipt = super().send(message)
            if len(self.sent) == withdraw_after:
                with Session(consent_engine) as other:
                    c = other.get(m.Customer, victim)
                    setattr(c, f"consent_{withdraw[1]}", False)
                    other.commit()
            return receipt

    sender = WithdrawingSender()
    report = cp.send_campaign(consent_engine, SHOP, spec(channels=tuple(allowed)), settings,
                              {ch: sender for ch in CH}, now=NOON)
    by_ext = {e: (cons, pref) for e, cons, pref in zip(exts, consents, preferred, strict=True)}
    for k, msg in enumerate(sender.sent):
        cons, pref = by_ext[msg.customer_id]
        assert msg.channel in allowed
        withdrawn_before = (k >= withdraw_after and msg.customer_id == exts[withdraw[0]]
                            and msg.channel == withdraw[1])
        assert cons[msg.channel] is True and not withdrawn_before
        consented = [c for c in allowed if cons[c] is True and reach[msg.customer_id][c]]
        if pref in consented:
            assert msg.channel == pref
        else:
            assert msg.channel == consented[0]
    reachable = sum(any(cons[c] is True and reach[e][c] for c in allowed) for e, (cons, _) in by_ext.items())
    assert len(sender.sent) + sum(report.skipped.values()) == len(exts)
    assert reachable - 1 <= len(sender.sent) <= reachable  # only the withdrawal can take one away
    assert len({m_.message_id for m_ in sender.sent}) == len(sender.sent)


def test_dispatch_refuses_a_channel_without_consent(sqlite_shop) -> None:  # type: ignore[no-untyped-def]
    with Session(sqlite_shop) as s:
        cust = s.scalars(select(m.Customer)).first()
        assert cust is not None
        cust.consent_sms = None
        msg = OutgoingMessage("<x@y>", "sms", "+48", "s", "b", "en", "c", cust.external_id)
        sender = MemorySender()
        with pytest.raises(ConsentError, match="has not consented to 'sms'"):
            cp.dispatch(msg, cust, sender)
        cust.consent_sms = False
        with pytest.raises(ConsentError):
            cp.dispatch(msg, cust, sender)
        assert sender.sent == []


# ---------------------------------------------------------------- birthdays

def test_celebration_dates_and_windows() -> None:
    assert celebration_date(date(1992, 2, 29), 2027) == date(2027, 2, 28)
    assert celebration_date(date(1992, 2, 29), 2028) == date(2028, 2, 29)
    today = date(2026, 12, 25)
    assert birthday_in_window(date(1980, 12, 24), today, 14) is None
    assert birthday_in_window(date(1980, 12, 25), today, 14) == date(2026, 12, 25)
    assert birthday_in_window(date(1980, 1, 8), today, 14) == date(2027, 1, 8)
    assert birthday_in_window(date(1980, 1, 9), today, 14) is None
    assert birthday_in_window(date(2000, 2, 29), date(2027, 2, 20), 8) == date(2027, 2, 28)
    assert birthday_in_window(date(2000, 2, 29), date(2027, 2, 20), 7) is None
    assert birthday_in_window(date(2000, 2, 29), date(2028, 2, 29), 0) == date(2028, 2, 29)
    assert birthday_in_window(date(2000, 2, 29), date(2027, 3, 1), 300) is None


def expected_birthdays(custs: list[m.Customer], today: date, window: int) -> set[str]:
    """Day by day: whose (month, day) is celebrated on one of the next ``window`` days."""
    out = set()
    for d in (today + timedelta(days=k) for k in range(window + 1)):
        leap = d.year % 4 == 0 and (d.year % 100 != 0 or d.year % 400 == 0)
        for c in custs:
            b = c.birth_date
            if b is None:
                continue
            if (b.month, b.day) == (d.month, d.day) or (not leap and (b.month, b.day) == (2, 29) and (d.month, d.day) == (2, 28)):
                out.add(c.external_id)
    return out


@pytest.mark.parametrize("now,window", [(datetime(2025, 12, 24, 12), 14), (datetime(2027, 2, 20, 12), 8),
                                        (datetime(2028, 2, 27, 12), 3), (datetime(2026, 6, 1, 12), 30)])
def test_birthday_campaign_selects_exactly_the_birthdays_in_the_window(sqlite_shop, settings, now, window) -> None:  # type: ignore[no-untyped-def]
    with Session(sqlite_shop) as s:
        custs = list(s.scalars(select(m.Customer)))
        feb29 = [c for c in custs if c.birth_date and (c.birth_date.month, c.birth_date.day) == (2, 29)]
        if not feb29:  # make sure the shop has a leap-day birthday
            custs[0].birth_date = date(1988, 2, 29)
        s.flush()
        from clientlens.care.business_time import to_local, zone
        today = to_local(now, zone(settings.shop(SHOP).timezone)).date()
        plan = cp.plan_campaign(s, SHOP, spec(name="bday", template="birthday", kind="birthday",
                                              birthday={"window_days": window, "offer_valid_days": 30}),
                                settings, now=now, dry_run=True)
        want = expected_birthdays(custs, today, window)
        assert set(plan.audience_ids) == want
        assert want  # the windows were chosen to hold birthdays
        if now.month == 2:
            assert any(c.external_id in want for c in custs if c.birth_date and c.birth_date.month == 2
                       and c.birth_date.day == 29)  # the leap-day birthday is celebrated in the window
        for p in plan.messages:
            celebration = birthday_in_window(p.customer.birth_date, today, window)
            assert celebration is not None
            assert p.rendered.template == "birthday"


# ---------------------------------------------------------------- languages

EXPECTED = {"en": ["Happy birthday", "valid until"], "vi": ["Chúc mừng sinh nhật", "Để ngừng nhận tin nhắn", "hiệu lực"],
            "pl": ["Wszystkiego najlepszego", "życzy", "ważny do", "zrezygnować"],
            "fr": ["Joyeux anniversaire", "l’équipe", "réduction", "désabonner"[:0] + "ne plus recevoir"]}


@pytest.mark.parametrize("lang", SHIPPED_LANGUAGES)
def test_every_template_renders_in_every_language_with_diacritics(lang: str) -> None:
    r = TemplateRenderer(("en",))
    ctx = {"first_name": "Łucja", "name": "Łucja Ążęć", "shop": "Café Nguyễn", "discount": 15,
           "offer_valid_until": date(2026, 3, 1), "celebration_date": date(2026, 2, 20),
           "unsubscribe_url": "http://localhost/u/t", "tier": "gold", "points": 120, "spend": "1 234,50 zł"}
    for name in ("birthday", "winback", "loyalty_invitation", "promotion", "nurture", "survey", "survey_nps"):
        out = r.render(name, lang, ctx)
        assert out.language == lang and out.subject and out.body
        text = out.subject + out.body
        assert unicodedata.normalize("NFC", text) == text
        assert "Ã" not in text and "Ä" not in text and "\ufffd" not in text
        assert "http://localhost/u/t" in out.body and "Café Nguyễn" in text
    birthday = r.render("birthday", lang, ctx)
    for phrase in EXPECTED[lang]:
        assert phrase in birthday.subject + birthday.body, (lang, phrase)
    month = {"en": "March", "vi": "tháng 3", "pl": "marca", "fr": "mars"}[lang]
    assert month in birthday.body


def test_language_fallback_order() -> None:
    assert TemplateRenderer(("en",)).render("promotion", "de-DE", {"first_name": "", "shop": "S", "discount": 5,
                                            "offer_valid_until": None, "unsubscribe_url": "u"}).language == "en"
    r = TemplateRenderer(("fr", "en"))
    assert r.languages_for("pl_PL") == ["pl", "fr", "en"]
    assert r.render("promotion", "de", {"first_name": "", "shop": "S", "discount": 5, "offer_valid_until": None,
                                        "unsubscribe_url": "u"}).language == "fr"


# ---------------------------------------------------------------- quiet hours, capping, dry run

def _only(s: Session, ext: str, tz: str | None = None) -> m.Customer:
    c = get_customer(s, get_shop(s, SHOP).id, ext)
    c.consent_email, c.email, c.preferred_channel, c.timezone = True, "x@example.org", "email", tz
    return c


def test_quiet_hours_in_the_customer_time_zone_defer_sending(sqlite_shop, settings) -> None:  # type: ignore[no-untyped-def]
    with Session(sqlite_shop) as s:
        ext = s.scalars(select(m.Customer.external_id)).first()
        assert ext is not None
        _only(s, ext, "Asia/Ho_Chi_Minh")
        s.commit()
    campaign = spec(name="quiet", channels=("email",), audience={"customers": [ext]},
                    schedule={"respect_quiet_hours": True})
    sender = MemorySender()
    r1 = cp.send_campaign(sqlite_shop, SHOP, campaign, settings, {"email": sender}, now=datetime(2026, 3, 2, 15, 0))
    assert r1.deferred_quiet_hours == 1 and sender.sent == []  # 22:00 in Ho Chi Minh City
    r2 = cp.send_campaign(sqlite_shop, SHOP, campaign, settings, {"email": sender}, now=datetime(2026, 3, 3, 2, 0))
    assert r2.sent == 1 and len(sender.sent) == 1  # 09:00 there


def test_frequency_cap(sqlite_shop) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(search_cwd=False, overrides={"care": {"cap_messages": 1, "cap_days": 7}})
    with Session(sqlite_shop) as s:
        ext = s.scalars(select(m.Customer.external_id)).first()
        assert ext is not None
        _only(s, ext)
        s.commit()
    sender = MemorySender()
    send = lambda name, now: cp.send_campaign(sqlite_shop, SHOP, spec(name=name, channels=("email",),  # noqa: E731
                                              audience={"customers": [ext]}), settings, {"email": sender}, now=now)
    assert send("a", NOON).sent == 1
    capped = send("b", NOON + timedelta(days=2))
    assert capped.sent == 0 and capped.skipped["frequency_cap"] == 1
    assert send("c", NOON + timedelta(days=8)).sent == 1
    assert [x.campaign for x in sender.sent] == ["a", "c"]


def test_dry_run_counts_and_one_sample_per_language_writes_nothing(sqlite_shop, settings) -> None:  # type: ignore[no-untyped-def]
    with Session(sqlite_shop) as s:
        pv = cp.preview_campaign(s, SHOP, spec(), settings, now=NOON)
        s.commit()
        assert s.scalar(select(func.count()).select_from(CareMessage)) == 0
        assert s.scalar(select(func.count()).select_from(UnsubscribeToken)) == 0
        custs = list(s.scalars(select(m.Customer).where(m.Customer.merged_into_id.is_(None))))
    assert pv.counts["audience"] == len(custs)
    assert pv.counts["messages"] + sum(pv.counts["skipped"].values()) == len(custs)
    langs = {(c.language or "en").split("-")[0] for c in custs}
    assert set(pv.samples) == langs & set(SHIPPED_LANGUAGES) and len(pv.samples) >= 3
    for lang, sample in pv.samples.items():
        assert sample.language == lang
    assert sum(pv.counts["by_language"].values()) == pv.counts["messages"]


# ---------------------------------------------------------------- unsubscribes and the timeline

def test_unsubscribes_by_link_reply_and_import_withdraw_consent_at_once(sqlite_shop, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    care = care_settings(settings)
    with Session(sqlite_shop) as s:
        shop = get_shop(s, SHOP)
        a, b, c = list(s.scalars(select(m.Customer).order_by(m.Customer.id).limit(3)))
        for x in (a, b, c):
            x.consent_email = x.consent_sms = True
        token = unsubscribe_token(s, a, "email", NOON)
        ev = unsubscribe_by_token(s, token, NOON)
        assert a.consent_email is False and ev.source == "unsubscribe-link" and ev.granted is False
        s.add(m.Interaction(shop_id=shop.id, external_id="R1", customer_id=b.id, channel="sms",
                            direction="inbound", occurred_at=NOON, body=" STOP "))
        s.flush()
        assert [e.channel for e in process_reply_unsubscribes(s, shop.id, care, NOON)] == ["sms"]
        assert b.consent_sms is False
        assert process_reply_unsubscribes(s, shop.id, care, NOON) == []  # once only
        f = tmp_path / "unsubs.csv"
        f.write_text(f"customer_id,channel\n{c.external_id},email\n", "utf-8")
        import_unsubscribes(s, shop.id, f, NOON)
        assert c.consent_email is False
        sources = set(s.scalars(select(m.ConsentEvent.source)))
        assert {"unsubscribe-link", "reply:R1", "import:unsubs.csv"} <= sources
        s.commit()
        sender = MemorySender()
        ids = [a.external_id, c.external_id]
    cp.send_campaign(sqlite_shop, SHOP, spec(name="after", channels=("email",), audience={"customers": ids}),
                     settings, {"email": sender}, now=NOON)
    assert sender.sent == []


def test_sent_messages_are_on_the_timeline(sqlite_shop, settings) -> None:  # type: ignore[no-untyped-def]
    with Session(sqlite_shop) as s:
        ext = s.scalars(select(m.Customer.external_id)).first()
        assert ext is not None
        _only(s, ext)
        s.commit()
    cp.send_campaign(sqlite_shop, SHOP, spec(name="hello", channels=("email",), audience={"customers": [ext]}),
                     settings, {"email": MemorySender()}, now=NOON)
    with Session(sqlite_shop) as s:
        events = customer_timeline(s, SHOP, ext)
    sent = [e for e in events if e.kind == "campaign_message"]
    assert len(sent) == 1 and sent[0].details["campaign"] == "hello" and sent[0].at == NOON
    assert [e.at for e in events] == sorted(e.at for e in events)


def test_campaign_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "c.toml"
    f.write_text('name = "w"\ntemplate = "winback"\nchannels = ["email", "sms"]\ndiscount = 20\n'
                 '[audience]\nlabels_any = ["rfm_segment:at_risk"]\n', "utf-8")
    c = load_campaign(f)
    assert c.channels == ("email", "sms") and c.audience.labels_any == ("rfm_segment:at_risk",)
    f.write_text('name = "w"\ntemplate = "winback"\nchannels = ["post"]\n', "utf-8")
    from clientlens.errors import ConfigError
    with pytest.raises(ConfigError, match="c.toml"):
        load_campaign(f)


def test_greeting_uses_the_given_name_in_the_customer_culture() -> None:
    assert cp.given_name("Nguyễn Thị Lan", "vi") == "Lan"  # family name first
    assert cp.given_name("Łucja Kowalska", "pl-PL") == "Łucja"
    assert cp.given_name("Zoé Martin", "fr") == "Zoé"
    assert cp.given_name(None, "en") == ""


def test_not_before_holds_the_campaign(sqlite_shop, settings) -> None:  # type: ignore[no-untyped-def]
    with Session(sqlite_shop) as s:
        ext = s.scalars(select(m.Customer.external_id)).first()
        assert ext is not None
        _only(s, ext)
        s.commit()
    sender = MemorySender()
    campaign = spec(name="later", channels=("email",), audience={"customers": [ext]},
                    schedule={"respect_quiet_hours": False, "not_before": "2026-03-02T14:00:00+01:00"})
    assert cp.send_campaign(sqlite_shop, SHOP, campaign, settings, {"email": sender}, now=NOON).sent == 0
    assert cp.send_campaign(sqlite_shop, SHOP, campaign, settings, {"email": sender},
                            now=NOON + timedelta(hours=1)).sent == 1
