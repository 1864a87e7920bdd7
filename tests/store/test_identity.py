"""Identity resolution on SQLite and PostgreSQL: exact merges, fuzzy suggestions, undo."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clientlens.config import IdentitySettings
from clientlens.errors import StoreError
from clientlens.store import models as m
from clientlens.store.identity import (
    accept,
    list_merges,
    normalise_email,
    normalise_phone,
    resolve_exact,
    suggest,
    undo,
)
from clientlens.store.repository import get_customer, get_or_create_shop

T0 = datetime(2024, 1, 1)


def _customer(s: Session, shop: m.Shop, ext: str, **kw) -> m.Customer:  # type: ignore[no-untyped-def]
    country = kw.get("country", "GB")
    c = m.Customer(shop_id=shop.id, external_id=ext, created_at=T0, **kw)
    c.email_norm = normalise_email(kw.get("email"))
    c.phone_e164 = normalise_phone(kw.get("phone"), country)
    s.add(c)
    s.flush()
    return c


def _order(s: Session, c: m.Customer, ext: str) -> None:
    s.add(m.Order(shop_id=c.shop_id, external_id=ext, customer_id=c.id, ordered_at=T0, currency="GBP",
                  total_minor=1000, discount_minor=0, status="completed"))


def test_normalisation() -> None:
    assert normalise_email(" A.B@Example.com ") == "a.b@example.com"
    assert normalise_email("not an address") is None
    assert normalise_phone("+48 601 234 567", None) == "+48601234567"
    assert normalise_phone("0601 234 567", "PL") is None or normalise_phone("601 234 567", "PL") == "+48601234567"
    assert normalise_phone("12", "GB") is None


def test_exact_matches_merge_transitively_and_undo_restores(store_engine) -> None:  # type: ignore[no-untyped-def]
    with Session(store_engine) as s:
        shop = get_or_create_shop(s, "t")
        other_shop = get_or_create_shop(s, "other")
        a = _customer(s, shop, "A", name="Anna Nowak", email="anna@example.com", consent_email=True)
        b = _customer(s, shop, "B", email="ANNA@example.com ", phone="+44 20 7946 0018", city="London",
                      consent_email=False)
        c = _customer(s, shop, "C", phone="020 7946 0018", birth_date=datetime(1990, 5, 1).date())
        d = _customer(s, shop, "D", email="someone@else.com")
        x = _customer(s, other_shop, "X", email="anna@example.com")  # other shop: never merged
        for cust, n in ((a, 1), (b, 2), (c, 3), (d, 4)):
            _order(s, cust, f"o{n}")
        s.commit()

        merges = resolve_exact(s, shop.id)
        s.commit()
        assert sorted(r.merged_id for r in merges) == sorted([b.id, c.id])
        assert get_customer(s, shop.id, "C").id == a.id  # resolves to the survivor
        assert s.scalar(select(func.count()).select_from(m.Order).where(m.Order.customer_id == a.id)) == 3
        assert a.city == "London" and a.phone_e164 == "+442079460018" and a.birth_date is not None
        assert a.consent_email is False  # a withdrawal on either profile wins
        assert x.merged_into_id is None and d.merged_into_id is None
        assert resolve_exact(s, shop.id) == []  # idempotent

        for rec in sorted(merges, key=lambda r: -r.id):
            undo(s, rec.id)
        s.commit()
        assert a.city is None and a.birth_date is None and a.consent_email is True
        assert all(cust.merged_into_id is None for cust in (b, c))
        for cust in (a, b, c):
            assert s.scalar(select(func.count()).select_from(m.Order).where(m.Order.customer_id == cust.id)) == 1
        assert {r["status"] for r in list_merges(s, shop.id)} == {"undone"}
        with pytest.raises(StoreError):
            undo(s, merges[0].id)


def test_fuzzy_matches_are_only_suggested(store_engine) -> None:  # type: ignore[no-untyped-def]
    with Session(store_engine) as s:
        shop = get_or_create_shop(s, "t")
        a = _customer(s, shop, "1", name="Nguyễn Văn Anh", address="12 Lê Lợi, Quận 1", city="Hồ Chí Minh", country="VN")
        b = _customer(s, shop, "2", name="Nguyen Van Anh", address="12 Le Loi Quan 1", city="Ho Chi Minh", country="VN")
        _customer(s, shop, "3", name="Nguyen Van Binh", address="99 Tran Hung Dao", city="Ho Chi Minh", country="VN")
        s.commit()
        found = suggest(s, shop.id, IdentitySettings())
        s.commit()
        assert [(r.survivor_id, r.merged_id, r.status) for r in found] == [(a.id, b.id, "suggested")]
        assert b.merged_into_id is None  # not merged until accepted
        assert suggest(s, shop.id, IdentitySettings()) == []  # not suggested twice
        accept(s, found[0].id)
        s.commit()
        assert b.merged_into_id == a.id
        undo(s, found[0].id)
        s.commit()
        assert b.merged_into_id is None
