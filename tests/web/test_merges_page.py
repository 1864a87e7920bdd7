"""The merges page on the test store (CDNOW sample + a suggested duplicate): the two profiles side by side
(e-mail, phone, address, orders, CLV), a choice per differing field stored on accept (and undone with
the merge), accept only through a confirmation step, and "Not a duplicate"."""

from __future__ import annotations

import json
import re
from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from clientlens.store import models as m
from clientlens.store.db import session_scope
from tests.api.conftest import PASSWORDS, login


def _suggested(engine) -> tuple[int, int, int, str, str]:  # type: ignore[no-untyped-def]
    """(merge id, survivor pk, merged pk, survivor e-mail, survivor id) of the store's suggested merge,
    its duplicate given a name, phone and address of its own."""
    with session_scope(engine) as s:
        mg = s.scalars(select(m.Merge).where(m.Merge.status == "suggested")).first()
        assert mg is not None
        survivor, dup = s.get(m.Customer, mg.survivor_id), s.get(m.Customer, mg.merged_id)
        assert survivor is not None and dup is not None
        dup.name, dup.phone, dup.phone_e164 = "Renamed Person", "+48 600 100 200", "+48600100200"
        dup.address, dup.city, dup.country = "ul. Długa 5", "Kraków", "PL"
        return mg.id, survivor.id, dup.id, survivor.email or "", survivor.external_id


def test_side_by_side_choice_confirmation_accept_and_undo(small_app, small_engine) -> None:  # type: ignore[no-untyped-def]
    merge_id, survivor_pk, merged_pk, email, survivor_ext = _suggested(small_engine)
    with session_scope(small_engine) as s:
        orders = s.scalar(select(func.count()).select_from(m.Order).where(m.Order.customer_id == survivor_pk))
        old = s.get(m.Customer, survivor_pk)
        assert old is not None
        old_name, old_address = old.name, old.address
    web = TestClient(small_app)
    csrf = login(web, "admin", PASSWORDS["admin"])
    listing = web.get("/shops/cdnow/merges")
    assert f'href="/shops/cdnow/merges/{merge_id}"' in listing.text
    assert f'/merges/{merge_id}/accept"' not in listing.text  # no one-click accept any more

    page = web.get(f"/shops/cdnow/merges/{merge_id}")
    assert page.status_code == 200
    sides = page.text[page.text.index('id="merge-sides"'):]
    assert email in sides and "Renamed Person" in sides and "+48 600 100 200" in sides and "Kraków" in sides
    orders_row = re.search(r"<th>Orders</th><td>(\d+)", sides)
    assert orders_row is not None and int(orders_row.group(1)) == orders
    assert re.search(r"<th>CLV</th><td>[^<–]*\d", sides), "the survivor's CLV of the current snapshot is shown"
    assert 'name="keep_name" value="merged"' in sides and 'name="keep_email"' not in sides  # same e-mail: no choice
    assert 'id="merge-reject"' in page.text

    # Accept without the confirmation step: back to the comparison, nothing merged
    resp = web.post(f"/shops/cdnow/merges/{merge_id}/accept", data={"csrf_token": csrf}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].endswith(f"/merges/{merge_id}")
    with session_scope(small_engine) as s:
        assert s.get(m.Merge, merge_id).status == "suggested"  # type: ignore[union-attr]

    confirm = web.get(f"/shops/cdnow/merges/{merge_id}", params={"step": "confirm", "keep_name": "merged",
                                                                 "keep_phone": "merged", "keep_address": "survivor"})
    assert 'id="merge-confirm-text"' in confirm.text and 'name="confirmed" value="1"' in confirm.text
    assert 'name="keep_name" value="merged"' in confirm.text
    resp = web.post(f"/shops/cdnow/merges/{merge_id}/accept", follow_redirects=False,
                    data={"csrf_token": csrf, "confirmed": "1", "keep_name": "merged", "keep_phone": "merged",
                          "keep_address": "survivor"})
    assert resp.status_code == 303
    with session_scope(small_engine) as s:
        mg, surv = s.get(m.Merge, merge_id), s.get(m.Customer, survivor_pk)
        assert mg is not None and surv is not None and mg.status == "accepted"
        assert surv.name == "Renamed Person" and surv.phone == "+48 600 100 200"
        # the address kept is the survivor's; an empty one is filled from the duplicate (identity's rule)
        assert surv.address == (old_address or "ul. Długa 5")
        changes = json.loads(mg.changes or "{}")
        assert changes["choices"] == {"name": "merged", "phone": "merged", "address": "survivor"}
        assert changes["chosen"]["name"] == {"old": old_name, "new": "Renamed Person"}
    # the accepted merge's page shows each profile's own orders (those that moved on the merged side)
    after = web.get(f"/shops/cdnow/merges/{merge_id}")
    after_orders = re.search(r"<th>Orders</th><td>(\d+)", after.text)
    assert after_orders is not None and int(after_orders.group(1)) == orders

    resp = web.post(f"/shops/cdnow/merges/{merge_id}/undo", data={"csrf_token": csrf}, follow_redirects=False)
    assert resp.status_code == 303
    with session_scope(small_engine) as s:
        surv = s.get(m.Customer, survivor_pk)
        assert surv is not None and surv.name == old_name and s.get(m.Merge, merge_id).status == "undone"  # type: ignore[union-attr]


def test_not_a_duplicate(small_app, small_engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(small_engine) as s:
        shop = s.scalars(select(m.Shop).where(m.Shop.name == "cdnow")).one()
        a, b = s.scalars(select(m.Customer).where(m.Customer.shop_id == shop.id, m.Customer.external_id.in_(["30", "31"]))).all()
        rec = m.Merge(shop_id=shop.id, survivor_id=a.id, merged_id=b.id, status="suggested", rule="fuzzy_name_address",
                      score=0.9, created_at=datetime(1998, 7, 1))
        s.add(rec)
        s.flush()
        merge_id = rec.id
    web = TestClient(small_app)
    csrf = login(web, "admin", PASSWORDS["admin"])
    page = web.get(f"/shops/cdnow/merges/{merge_id}")
    assert page.status_code == 200 and 'id="merge-reject"' in page.text
    resp = web.post(f"/shops/cdnow/merges/{merge_id}/reject", data={"csrf_token": csrf}, follow_redirects=False)
    assert resp.status_code == 303
    with session_scope(small_engine) as s:
        assert s.get(m.Merge, merge_id).status == "rejected"  # type: ignore[union-attr]
    assert 'id="merge-reject"' not in web.get(f"/shops/cdnow/merges/{merge_id}").text


def test_bad_choices_are_refused_with_the_field(small_app, small_engine) -> None:  # type: ignore[no-untyped-def]
    merge_id, *_ = _suggested(small_engine)
    web = TestClient(small_app)
    csrf = login(web, "admin", PASSWORDS["admin"])
    resp = web.post(f"/shops/cdnow/merges/{merge_id}/accept", follow_redirects=False,
                    data={"csrf_token": csrf, "confirmed": "1", "keep_birthday": "merged"})
    assert resp.status_code in (400, 422) and "keep_birthday" not in resp.text and "birthday" in resp.text
    with session_scope(small_engine) as s:
        assert s.get(m.Merge, merge_id).status == "suggested"  # type: ignore[union-attr]
