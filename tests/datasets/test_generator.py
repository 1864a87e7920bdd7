"""The sample-shop generator: determinism, integrity, realism and its ground truth."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow.parquet as pq
import pytest

from clientlens.datasets.archetypes import ARCHETYPES, GeneratorSettings
from clientlens.datasets.generator import BLOCK_SIZE, generate_shop, generate_to_parquet, write_shop
from tests.datasets.reference_rules import customer_features, reference_labels, scores

# The canonical input columns of docs/interfaces.md (written out here, independently of the generator).
CANONICAL = {
    "customers": ["customer_id", "name", "email", "phone", "birth_date", "gender", "income_band", "kind",
                  "country", "city", "address", "language", "preferred_channel", "consent_email", "consent_sms",
                  "consent_phone", "consent_post", "consent_chat", "consent_social", "created_at"],
    "orders": ["order_id", "customer_id", "order_date", "channel", "currency", "total", "discount_total", "status"],
    "order_lines": ["order_id", "product_id", "product_name", "category", "quantity", "unit_price", "discount",
                    "is_new_arrival"],
    "products": ["product_id", "name", "category", "price", "launched_at"],
    "interactions": ["interaction_id", "customer_id", "channel", "direction", "occurred_at", "thread_id", "subject",
                     "body", "agent"],
    "feedback": ["customer_id", "kind", "score", "comment", "submitted_at", "interaction_id"],
}


@pytest.fixture(scope="module")
def shop():
    return generate_shop(3000, seed=11)


def test_same_seed_gives_identical_frames_and_another_seed_differs():
    a, b, c = generate_shop(300, seed=5), generate_shop(300, seed=5), generate_shop(300, seed=6)
    for name, frame in a.tables().items():
        pd.testing.assert_frame_equal(frame, b.tables()[name])
    assert not a.customers["name"].equals(c.customers["name"])
    assert not a.orders["total"].equals(c.orders["total"])


def test_referential_integrity(shop):
    customers = set(shop.customers["customer_id"])
    assert shop.customers["customer_id"].is_unique
    assert set(shop.orders["customer_id"]) <= customers
    assert shop.orders["order_id"].is_unique
    assert set(shop.order_lines["order_id"]) <= set(shop.orders["order_id"])
    assert set(shop.orders["order_id"]) <= set(shop.order_lines["order_id"])  # no order without lines
    assert set(shop.order_lines["product_id"]) <= set(shop.products["product_id"])
    assert set(shop.interactions["customer_id"]) <= customers
    assert shop.interactions["interaction_id"].is_unique
    assert set(shop.feedback["customer_id"]) <= customers
    linked = shop.feedback["interaction_id"].dropna()
    assert set(linked) <= set(shop.interactions["interaction_id"])
    assert list(shop.truth["customer_id"]) == list(shop.customers["customer_id"])


def test_order_totals_are_the_sum_of_their_lines(shop):
    lines = shop.order_lines.assign(net=lambda d: d.quantity * d.unit_price - d.discount)
    per_order = lines.groupby("order_id")[["net", "discount"]].sum().round(2)
    orders = shop.orders.set_index("order_id").loc[per_order.index]
    assert np.allclose(orders["total"], per_order["net"], atol=0.005)
    assert np.allclose(orders["discount_total"], per_order["discount"], atol=0.005)
    assert (shop.order_lines["discount"] >= 0).all() and (shop.orders["total"] > 0).all()
    assert set(shop.orders["status"]) == {"completed", "returned", "cancelled"}
    assert set(shop.orders["channel"]) == {"online", "in_store", "phone", "marketplace"}
    assert set(shop.orders["currency"]) == {"GBP"}


def test_everything_happens_inside_the_history(shop):
    end = pd.Timestamp(shop.as_of) + pd.Timedelta(days=1)
    start = pd.Timestamp(shop.as_of - timedelta(days=shop.settings.history_days))
    for frame, col in ((shop.orders, "order_date"), (shop.interactions, "occurred_at"), (shop.feedback, "submitted_at"),
                       (shop.customers, "created_at")):
        ts = pd.to_datetime(frame[col])
        assert ts.max() < end, col
    assert pd.to_datetime(shop.orders["order_date"]).min() >= start
    first_order = shop.orders.groupby("customer_id")["order_date"].min()
    created = shop.customers.set_index("customer_id")["created_at"].loc[first_order.index]
    assert (pd.to_datetime(created) <= pd.to_datetime(first_order)).all()


def test_files_have_the_import_columns_and_text_forms(shop, tmp_path):
    small = generate_shop(150, seed=2)
    paths = write_shop(small, tmp_path, format="csv")
    for name, cols in CANONICAL.items():
        header = pd.read_csv(paths[name], nrows=0).columns.tolist()
        extra = ["timezone"] if name == "customers" else []
        assert sorted(header) == sorted(cols + extra), name
    assert paths["truth"].exists()
    text = paths["orders"].read_text("utf-8").splitlines()
    first = dict(zip(text[0].split(","), text[1].split(","), strict=True))
    assert len(first["order_date"]) == 19 and first["order_date"][10] == "T"
    assert first["total"].count(".") == 1 and len(first["total"].split(".")[1]) == 2
    customers = pd.read_csv(paths["customers"], dtype=str, keep_default_na=False)
    assert set(customers["consent_email"]) <= {"true", "false", ""}
    assert {"true", "false"} <= set(customers["consent_email"])
    births = customers.loc[customers["birth_date"] != "", "birth_date"]
    assert births.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    back = pd.read_csv(paths["order_lines"])
    assert len(back) == len(small.order_lines)


def test_phones_parse_for_their_country(shop):
    c = shop.customers.dropna(subset=["phone"])
    truth = shop.truth.set_index("customer_id")
    assert len(c) > 0.8 * len(shop.customers)
    for cid, phone, country in zip(c["customer_id"], c["phone"], c["country"], strict=True):
        true_country = truth.at[cid, "country"]
        region = country if isinstance(country, str) else None  # without a country it must be E.164
        number = phonenumbers.parse(phone, region)
        assert phonenumbers.is_valid_number(number), phone
        assert phonenumbers.region_code_for_number(number) == true_country, (phone, true_country)


def test_locales_are_consistent_and_names_carry_diacritics(shop):
    t = shop.truth
    expected = {"GB": ("en", "Europe/London"), "FR": ("fr", "Europe/Paris"), "PL": ("pl", "Europe/Warsaw"),
                "VN": ("vi", "Asia/Ho_Chi_Minh")}
    for country, (lang, tz) in expected.items():
        sel = t["country"] == country
        assert sel.sum() > 20, country
        assert set(t.loc[sel, "language"]) == {lang} and set(t.loc[sel, "timezone"]) == {tz}
    names = shop.customers["name"]
    non_ascii = names.map(lambda s: not s.isascii())
    assert non_ascii[t["country"] == "VN"].mean() > 0.9
    assert non_ascii[t["country"] == "PL"].mean() > 0.3
    assert non_ascii[t["country"] == "FR"].mean() > 0.05
    assert names.str.contains("ễ|ạ|ư|ơ|đ|Đ").any() and names.str.contains("ł|ą|ę|ś|ż|ó").any()
    assert names.str.contains("é|è|ç|ô|É").any()


def test_organisations_have_legal_forms_or_public_body_names(shop):
    t = shop.truth.set_index("customer_id")
    names = shop.customers.set_index("customer_id")["name"]
    pro = names[t["customer_type"] == "professional"]
    inst = names[t["customer_type"] == "institutional"]
    forms = r"\b(?:Ltd|Limited|PLC|LLP|LLC|Inc|GmbH|SARL|SAS|SASU|EURL|S\.A\.|Sp\. z o\.o\.|Sp\.j\.|Sp\. k\.)|Công ty|Doanh nghiệp"
    assert pro.str.contains(forms).mean() > 0.8
    bodies = (r"University|Council|Hospital|Ministry|School|NHS|College|Library|Department|Academy|Mairie|Hôpital|"
              r"Université|Lycée|École|Centre hospitalier|Ministère|Conseil|Médiathèque|Urząd|Szkoła|Szpital|"
              r"Uniwersytet|Ministerstwo|Liceum|Biblioteka|Politechnika|Trường|Bệnh viện|Ủy ban|Bộ Y tế|Sở")
    assert inst.str.contains(bodies).all()
    people = names[t["customer_type"] == "individual"]
    assert not people.str.contains(forms).any()
    kind = shop.customers["kind"]
    assert 0.2 < kind.notna().mean() < 0.5  # most must be inferred
    given = kind.notna()
    assert (kind[given].to_numpy() == t["customer_type"].to_numpy()[given.to_numpy()]).all()


def test_birthdays_include_29_february_and_demographics_have_unknowns(shop):
    t = shop.truth
    births = t["birth_date"].dropna()
    assert any(d.month == 2 and d.day == 29 for d in births)
    c = shop.customers
    individual = (t["customer_type"] == "individual").to_numpy()
    for col in ("birth_date", "gender", "income_band"):
        share = c.loc[individual, col].notna().mean()
        assert 0.4 < share < 0.9, col
        assert c.loc[~individual, col].isna().all(), col
    assert set(t.loc[individual, "gender"]) == {"female", "male", "other"}
    assert set(t.loc[individual, "income_band"]) == {"low", "middle", "high"}
    ages = (pd.Timestamp(shop.as_of) - pd.to_datetime(births)).dt.days / 365.25
    assert ages.min() >= 17.9 and ages.max() < 100


def test_consents_withdrawn_are_false_and_preferred_channel_mostly_consented(shop):
    c = shop.customers.set_index("customer_id")
    withdrawn = shop.truth.set_index("customer_id")["consents_withdrawn"]
    rows = withdrawn[withdrawn != ""]
    assert len(rows) > 50
    for cid, chans in rows.items():
        for ch in chans.split(";"):
            assert c.at[cid, f"consent_{ch}"] is False or c.at[cid, f"consent_{ch}"] == False  # noqa: E712
    has_pref = c["preferred_channel"].notna()
    consented = [c.at[cid, f"consent_{ch}"] is True for cid, ch in c.loc[has_pref, "preferred_channel"].items()]
    assert np.mean(consented) > 0.8
    assert c["consent_sms"].isna().any()  # some consents unknown


def test_prospects_have_no_orders_and_buyers_have_completed_orders(shop):
    t = shop.truth
    prospects = set(t.loc[t["prospect"], "customer_id"])
    assert prospects and prospects.isdisjoint(shop.orders["customer_id"])
    completed = shop.orders[shop.orders["status"] == "completed"]
    assert set(t.loc[~t["prospect"], "customer_id"]) <= set(completed["customer_id"])


def test_threads_start_inbound_and_replies_follow(shop):
    msgs = shop.interactions.sort_values(["thread_id", "occurred_at"], kind="stable")
    first = msgs.groupby("thread_id").head(1)
    assert (first["direction"] == "inbound").all()
    assert set(msgs["direction"]) == {"inbound", "outbound"}
    assert msgs.loc[msgs["direction"] == "outbound", "agent"].notna().all()
    # first response time: the first outbound after the opening message
    out = msgs[msgs["direction"] == "outbound"].groupby("thread_id")["occurred_at"].min()
    opened = first.set_index("thread_id")["occurred_at"]
    frt = (pd.to_datetime(out) - pd.to_datetime(opened.loc[out.index])).dt.total_seconds() / 3600
    assert (frt > 0).all()
    local = pd.to_datetime(opened.loc[out.index]).dt.tz_localize("UTC").dt.tz_convert("Europe/London")
    in_hours = ((local.dt.day_of_week <= 4) & (local.dt.hour >= 9) & (local.dt.hour < 17)).to_numpy()
    assert 0.2 < in_hours.mean() < 0.8
    assert frt[in_hours].median() < 3 and frt[~in_hours].median() > 6  # outside hours waits for opening
    assert frt.quantile(0.95) > 24  # a slow tail (backlog)
    # a message received on a Saturday is answered on a weekday (shop hours, Europe/London)
    saturday = (local.dt.day_of_week == 5).to_numpy()
    replies = pd.to_datetime(out).dt.tz_localize("UTC").dt.tz_convert("Europe/London")
    assert saturday.any()
    assert (replies[saturday].dt.day_of_week <= 4).all()
    # open threads exist near the end (no reply yet)
    last = msgs.groupby("thread_id").tail(1)
    assert (last["direction"] == "inbound").any()


def test_csat_depends_on_first_response_time(shop):
    msgs = shop.interactions
    opened = msgs[msgs["direction"] == "inbound"].groupby("thread_id")["occurred_at"].min()
    replied = msgs[msgs["direction"] == "outbound"].groupby("thread_id")["occurred_at"].min()
    frt = ((pd.to_datetime(replied) - pd.to_datetime(opened.loc[replied.index])).dt.total_seconds() / 3600)
    csat = shop.feedback[shop.feedback["kind"] == "csat"].merge(
        msgs[["interaction_id", "thread_id"]], on="interaction_id")
    csat["frt"] = csat["thread_id"].map(frt)
    fast = csat.loc[csat["frt"] < 2, "score"].mean()
    slow = csat.loc[csat["frt"] > 24, "score"].mean()
    assert fast - slow > 1.0
    nps = shop.feedback[shop.feedback["kind"] == "nps"]["score"]
    assert nps.between(0, 10).all() and len(nps) > 100
    assert shop.feedback.loc[shop.feedback["kind"] == "csat", "score"].between(1, 5).all()


def test_new_arrival_flag_matches_launch_dates(shop):
    lines = shop.order_lines.merge(shop.orders[["order_id", "order_date"]], on="order_id").merge(
        shop.products[["product_id", "launched_at"]], on="product_id")
    age = (pd.to_datetime(lines["order_date"]).dt.normalize() - pd.to_datetime(lines["launched_at"])).dt.days
    window = shop.settings.new_arrival_days
    assert ((age >= -1) & (age <= window + 1))[lines["is_new_arrival"]].all()
    assert not ((age >= 1) & (age <= window - 1))[~lines["is_new_arrival"]].any()
    assert (age >= -1).all()  # nothing is bought before its launch


def test_archetype_rates_follow_the_documented_shares(shop):
    t, cfg = shop.truth, shop.settings
    n = len(t)
    buyers = ~t["prospect"]
    assert abs(t["prospect"].mean() - cfg.prospect_share) < 0.02
    assert abs(t["international"].mean() - cfg.international_share) < 0.03
    for profile in ("occasional", "lapsing"):
        assert abs(t.loc[buyers, profile].mean() - cfg.frequency_shares[profile]) < 0.03, profile
    for ctype, rate in cfg.bulk_buyer_share_by_type.items():
        sel = buyers & (t["customer_type"] == ctype)
        assert abs(t.loc[sel, "bulk_buyer"].mean() - rate) < max(0.1, 3 * np.sqrt(rate * (1 - rate) / sel.sum())), ctype
    for band in ("low", "middle", "high"):
        sel = buyers & (t["income_band"] == band)
        rate = cfg.price_conscious_share_by_income[band]
        assert abs(t.loc[sel, "price_conscious"].mean() - rate) < 0.05, band
    eligible = t["profile"].isin(["regular", "lapsing"]) & (t["completed_orders"] >= cfg.brand_loyal_min_orders)
    assert abs(t.loc[eligible, "brand_loyal"].mean() - cfg.brand_loyal_share) < 0.04
    assert not t.loc[~eligible, "brand_loyal"].any()
    assert 0.10 < t["trend_seeker"].mean() < 0.30
    # archetypes overlap: none is a partition of the others
    assert (t["price_conscious"] & t["trend_seeker"]).sum() > 10
    assert (t["brand_loyal"] & t["lapsing"]).sum() > 5
    # about 5-10 orders per customer
    assert 5 <= len(shop.orders) / n <= 10


def test_documented_rules_recover_every_archetype(shop):
    result = scores(shop.truth, reference_labels(customer_features(shop)))
    assert (result["precision"] >= 0.9).all(), result
    assert (result["recall"] >= 0.9).all(), result
    # and no archetype is perfectly separable by its own rule (borderline customers exist)
    noisy = [a for a in ("price_conscious", "brand_loyal", "trend_seeker", "bulk_buyer", "occasional")
             if result.loc[a, "precision"] < 1 or result.loc[a, "recall"] < 1]
    assert len(noisy) == 5, result
    assert result.loc["lapsing", "precision"] < 1 or result.loc["lapsing", "recall"] < 1


def test_non_members_are_clearly_outside_their_archetype(shop):
    f = customer_features(shop).drop(columns=["country"]).join(shop.truth.set_index("customer_id"))
    plain = f["borderline"] == ""
    a = ARCHETYPES
    non_pc = plain & ~f["price_conscious"] & f["orders"].gt(0)
    assert f.loc[non_pc, "promo_item_share"].max() <= a["price_conscious"].non_member[1] + 1e-9
    pc = plain & f["price_conscious"]
    assert f.loc[pc, "promo_item_share"].min() >= a["price_conscious"].member[0] - 1e-9
    non_trend = plain & ~f["trend_seeker"] & f["orders"].gt(0)
    assert f.loc[non_trend, "new_arrival_share"].quantile(0.99) <= a["trend_seeker"].non_member[1] + 0.05
    bulk = plain & f["bulk_buyer"]
    assert f.loc[bulk, "quantity_per_order"].min() >= a["bulk_buyer"].threshold


def test_chunked_parquet_equals_the_in_memory_shop(tmp_path):
    n = 2 * BLOCK_SIZE + 300
    shop = generate_shop(n, seed=4)
    mem = tmp_path / "mem"
    write_shop(shop, mem, format="parquet")
    chunked = tmp_path / "chunked"
    generate_to_parquet(n, chunked, chunk_size=BLOCK_SIZE, seed=4)
    for name in shop.tables():
        a = pq.read_table(mem / f"{name}.parquet")
        b = pq.read_table(chunked / f"{name}.parquet")
        assert a.equals(b), name
    # one row group per chunk; each holds only its own customers (bounded memory)
    meta = pq.ParquetFile(chunked / "customers.parquet")
    assert meta.num_row_groups == 3
    for g in range(3):
        ids = meta.read_row_group(g).column("customer_id").to_pylist()
        numbers = [int(i[1:]) for i in ids]
        assert min(numbers) == g * BLOCK_SIZE and max(numbers) < (g + 1) * BLOCK_SIZE
    orders = pq.ParquetFile(chunked / "orders.parquet")
    assert orders.num_row_groups == 3
    for g in range(3):
        owners = {int(c[1:]) // BLOCK_SIZE for c in orders.read_row_group(g).column("customer_id").to_pylist()}
        assert owners == {g}


def test_settings_overrides_and_validation():
    shop = generate_shop(800, seed=1, settings={"international_share": 0.6, "prospect_share": 0.0})
    assert shop.truth["international"].mean() > 0.5
    assert not shop.truth["prospect"].any()
    with pytest.raises(ValueError):
        generate_shop(10, settings={"no_such_knob": 1})
    with pytest.raises(ValueError):
        generate_shop(0)
    assert isinstance(shop.settings, GeneratorSettings)


def test_as_of_moves_the_history():
    shop = generate_shop(200, seed=1, as_of=date(2024, 6, 30))
    assert pd.to_datetime(shop.orders["order_date"]).max() < pd.Timestamp("2024-07-01")


def test_benchmark_subset_skips_service_but_keeps_the_other_tables(tmp_path):
    full = generate_shop(1200, seed=8)
    paths = generate_to_parquet(1200, tmp_path, seed=8, tables=("customers", "orders", "order_lines"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.parquet", "order_lines.parquet",
                                                           "orders.parquet"]
    assert set(paths) == {"customers", "orders", "order_lines"}
    back = pd.read_parquet(paths["orders"])
    assert list(back["order_id"]) == list(full.orders["order_id"])
    assert np.allclose(back["total"], full.orders["total"])
    assert list(pd.read_parquet(paths["customers"])["created_at"]) == list(full.customers["created_at"])
    with pytest.raises(ValueError, match="unknown tables"):
        generate_to_parquet(10, tmp_path, tables=("orders", "nope"))


def test_contacts_identify_one_customer_each(shop):
    emails = shop.customers["email"].dropna()
    assert not emails.duplicated().any()  # shared addresses would merge distinct customers
    assert not shop.customers["phone"].dropna().duplicated().any()
    assert emails.str.fullmatch(r"[a-z0-9._]+@[a-z0-9.-]+\.[a-z]+").all()


def test_generator_defaults_agree_with_the_sample_shop_configuration():
    from clientlens.config import load_settings

    shop_cfg = load_settings(search_cwd=False).shop("sample-shop")
    gen = GeneratorSettings()
    assert shop_cfg.home_country == gen.home_country and shop_cfg.currency == gen.currency
    assert shop_cfg.timezone == gen.shop_timezone
    assert (shop_cfg.business_hours_start.hour, shop_cfg.business_hours_end.hour) == gen.business_hours
    assert tuple(shop_cfg.business_days) == gen.business_days


def test_docs_show_the_archetype_table_as_coded():
    from pathlib import Path

    from clientlens.datasets.archetypes import archetype_table_markdown

    doc = Path(__file__).resolve().parents[2] / "docs" / "generator.md"
    assert archetype_table_markdown() in doc.read_text("utf-8")


def test_parallel_workers_write_the_same_files(tmp_path):
    n = 2 * BLOCK_SIZE + 50
    generate_to_parquet(n, tmp_path / "one", chunk_size=BLOCK_SIZE, seed=3, tables=("orders", "truth"))
    generate_to_parquet(n, tmp_path / "two", chunk_size=BLOCK_SIZE, seed=3, tables=("orders", "truth"), workers=2)
    for name in ("orders", "truth"):
        assert pq.read_table(tmp_path / "one" / f"{name}.parquet").equals(pq.read_table(tmp_path / "two" / f"{name}.parquet"))


def test_emails_stay_unique_across_blocks_in_memory_and_in_chunks(tmp_path):
    # Seed 0 at 5,000 customers draws two addresses in a later block that an earlier block gave out
    # (blocks are generated independently); the later customers get their id in the mailbox.
    shop = generate_shop(5 * BLOCK_SIZE, seed=0)
    emails = shop.customers["email"].dropna()
    assert not emails.duplicated().any()
    renamed = emails[emails.str.contains(r"\.c\d{7}@", regex=True)]
    assert len(renamed) >= 2  # the case shows
    for cid, email in shop.customers.loc[renamed.index, ["customer_id", "email"]].itertuples(index=False):
        assert f".{cid.lower()}@" in email
    generate_to_parquet(5 * BLOCK_SIZE, tmp_path, chunk_size=2 * BLOCK_SIZE, seed=0, tables=("customers",))
    chunked = pq.read_table(tmp_path / "customers.parquet").column("email").to_pylist()
    assert chunked == [e if isinstance(e, str) else None for e in shop.customers["email"].tolist()]
