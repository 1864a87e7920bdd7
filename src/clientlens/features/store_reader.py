"""Read one shop from the SQLAlchemy store as Arrow, in the canonical analysis frames.

Rows are fetched as Arrow through ADBC (SQLite and PostgreSQL drivers) when available, otherwise
through SQLAlchemy Core. Money is converted from integer minor units to float in the shop's
reporting currency (``exchange_rates`` of the order's date, the latest earlier rate, else the
earliest later one); customers merged into another profile (``merged_into_id``) are mapped to the
surviving profile's external id and are not customers of their own.
"""

from __future__ import annotations

import logging

import pandas as pd
import pyarrow as pa
from sqlalchemy import text
from sqlalchemy.engine import Engine as SAEngine

from clientlens.config import Settings
from clientlens.errors import InputError, StoreError
from clientlens.features.frames import FRAME_KINDS, arrow_schema
from clientlens.money import UnknownCurrencyError, exponent

log = logging.getLogger(__name__)

_QUERIES = {
    "shop": "SELECT id FROM shops WHERE name = :name",
    "customer_ids": "SELECT id, external_id, merged_into_id FROM customers WHERE shop_id = {shop}",
    "customers": (
        "SELECT external_id AS customer_id, kind, name, email, phone, birth_date, gender, income_band, "
        "country, city, language, preferred_channel, created_at, consent_email, consent_sms, "
        "consent_phone, consent_post, consent_chat, consent_social "
        "FROM customers WHERE shop_id = {shop} AND merged_into_id IS NULL"
    ),
    "orders": (
        "SELECT o.customer_id AS cust_pk, o.external_id AS order_id, o.ordered_at AS order_date, "
        "o.channel, o.currency, o.total_minor, o.discount_minor, o.status "
        "FROM orders o WHERE o.shop_id = {shop}"
    ),
    "order_lines": (
        "SELECT o.external_id AS order_id, p.external_id AS product_id, p.category, l.quantity, "
        "l.unit_price_minor, l.discount_minor, l.is_new_arrival, o.currency, o.ordered_at "
        "FROM order_lines l JOIN orders o ON o.id = l.order_id JOIN products p ON p.id = l.product_id "
        "WHERE l.shop_id = {shop}"
    ),
    "products": (
        "SELECT external_id AS product_id, name, category, price_minor, currency, launched_at "
        "FROM products WHERE shop_id = {shop}"
    ),
    "interactions": (
        "SELECT customer_id AS cust_pk, external_id AS interaction_id, channel, direction, occurred_at, "
        "thread_id, agent FROM interactions WHERE shop_id = {shop}"
    ),
    "feedback": (
        "SELECT f.customer_id AS cust_pk, f.kind, f.score, f.submitted_at, i.external_id AS interaction_id "
        "FROM feedback f LEFT JOIN interactions i ON i.id = f.interaction_id WHERE f.shop_id = {shop}"
    ),
    "rates": "SELECT date, currency, rate_to_reporting FROM exchange_rates WHERE shop_id = {shop}",
    "currency": (
        "SELECT currency, COUNT(*) AS n FROM orders WHERE shop_id = {shop} GROUP BY currency "
        "ORDER BY n DESC, currency LIMIT 1"
    ),
}


def currency_exponent(code: str) -> int:
    """Digits of the minor unit of an ISO 4217 currency (``clientlens.money``; 2 when unknown)."""
    try:
        return exponent(code)
    except UnknownCurrencyError:
        return 2


def _fetch(sa_engine: SAEngine, sql: str) -> pd.DataFrame:
    """Run ``sql`` on the store; ADBC Arrow when possible, SQLAlchemy otherwise."""
    table = _fetch_adbc(sa_engine, sql)
    if table is not None:
        return table.to_pandas()
    with sa_engine.connect() as conn:
        result = conn.execute(text(sql))
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _fetch_adbc(sa_engine: SAEngine, sql: str) -> pa.Table | None:
    url = sa_engine.url
    backend = url.get_backend_name()
    # Not for SQLite: the ADBC driver links its own copy of SQLite, and two SQLite libraries opening
    # one WAL database in one process break each other's POSIX locks ("disk I/O error", or worse,
    # in a long-running server that also writes). SQLite is read through sqlite3 instead.
    try:
        if backend == "postgresql":
            import adbc_driver_postgresql.dbapi as pg_driver

            uri = url.set(drivername="postgresql").render_as_string(hide_password=False)
            conn = pg_driver.connect(uri)
        else:
            return None
    except Exception as exc:  # driver missing or cannot connect: SQLAlchemy will say more
        log.debug("ADBC unavailable (%s); reading through SQLAlchemy", exc)
        return None
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetch_arrow_table()
    except Exception as exc:  # e.g. SQLite columns whose type changes between rows
        log.debug("ADBC read failed (%s); reading through SQLAlchemy", exc)
        return None
    finally:
        conn.close()


def _survivors(ids: pd.DataFrame) -> dict[int, str]:
    """Customer primary key -> external id of the profile it ends in after following merges."""
    ext = dict(zip(ids["id"].astype(int), ids["external_id"].astype(str), strict=True))
    parent = {int(i): int(p) for i, p in zip(ids["id"], ids["merged_into_id"], strict=True) if pd.notna(p)}
    out: dict[int, str] = {}
    for pk in ext:
        cur, seen = pk, {pk}
        while cur in parent and parent[cur] not in seen and parent[cur] in ext:
            cur = parent[cur]
            seen.add(cur)
        out[pk] = ext[cur]
    return out


def to_reporting(amount: pd.Series, currency: pd.Series, day: pd.Series, reporting: str,
                 rates: pd.DataFrame, *, shop: str, minor: bool = True) -> pd.Series:
    """Amounts in ``currency`` (integer minor units when ``minor``) -> float in ``reporting``.

    Each amount uses the rate of its day, else the latest earlier rate, else the earliest later one.
    """
    cur = currency.fillna(reporting).astype(str).str.upper()
    value = pd.to_numeric(amount, errors="coerce").astype("float64")
    if minor:
        value = value * cur.map(lambda c: 10.0 ** -currency_exponent(c)).astype("float64")
    foreign = cur != reporting
    if not foreign.any():
        return value
    rate = pd.Series(1.0, index=amount.index)
    days = pd.to_datetime(day).dt.normalize().astype("datetime64[us]")
    for code in cur[foreign].unique():
        table = rates[rates["currency"].str.upper() == code].sort_values("date")
        if table.empty:
            error = StoreError if minor else InputError
            raise error(
                f"shop {shop!r}: orders in {code} but no exchange rate from {code} to the reporting "
                f"currency {reporting}; import rates (date, currency, rate_to_reporting)"
            )
        mask = foreign & (cur == code)
        left = pd.DataFrame({"day": days[mask], "pos": days[mask].index}).sort_values("day")
        right = pd.DataFrame({"day": pd.to_datetime(table["date"]).astype("datetime64[us]"),
                              "rate": table["rate_to_reporting"].astype("float64").to_numpy()})
        back = pd.merge_asof(left, right, on="day", direction="backward")
        fwd = pd.merge_asof(left, right, on="day", direction="forward")
        back["rate"] = back["rate"].fillna(fwd["rate"])
        rate.loc[back["pos"].to_numpy()] = back["rate"].to_numpy()
    return value * rate


def reporting_currency_of(sa_engine: SAEngine, shop: str, settings: Settings) -> str:
    """The configured currency of ``shop``, else its most common order currency (USD if none)."""
    configured = settings.shop(shop).currency
    if configured:
        return configured.upper()
    shop_id = _shop_id(sa_engine, shop)
    row = _fetch(sa_engine, _QUERIES["currency"].format(shop=shop_id))
    return str(row["currency"].iloc[0]).upper() if len(row) else settings.ingest.default_currency


def _shop_id(sa_engine: SAEngine, shop: str) -> int:
    with sa_engine.connect() as conn:
        row = conn.execute(text(_QUERIES["shop"]), {"name": shop}).first()
    if row is None:
        raise StoreError(f"shop {shop!r} does not exist in the store; import data with --shop {shop}")
    return int(row[0])


def _arrow(frame: pd.DataFrame, kind: str, extra: dict[str, pa.DataType] | None = None) -> pa.Table:
    schema = arrow_schema(kind)
    fields = list(schema) + [pa.field(n, t) for n, t in (extra or {}).items()]
    cols = {}
    for field in fields:
        values = frame[field.name] if field.name in frame else pd.Series([None] * len(frame), dtype=object)
        if pa.types.is_timestamp(field.type):
            values = pd.to_datetime(values, errors="coerce", format="mixed")
        elif pa.types.is_date(field.type):
            values = pd.to_datetime(values, errors="coerce", format="mixed").dt.date
        elif pa.types.is_boolean(field.type):
            values = values.map(lambda v: None if v is None or pd.isna(v) else bool(int(v))
                                if not isinstance(v, str) else v.lower() in ("1", "true", "t"))
        elif pa.types.is_floating(field.type) or pa.types.is_integer(field.type):
            values = pd.to_numeric(values, errors="coerce")
        elif pa.types.is_string(field.type):
            values = values.astype(object).map(
                lambda v: None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v))
        cols[field.name] = pa.array(values.tolist() if pa.types.is_date(field.type) else values,
                                    type=field.type, from_pandas=True)
    return pa.table(cols, schema=pa.schema(fields))


def load_store_frames(engine: SAEngine, shop: str, settings: Settings) -> dict[str, pa.Table]:
    """The canonical frames (orders, order_lines, products, customers, interactions, feedback) of ``shop``.

    ``engine`` is the store's SQLAlchemy engine. Customers also carry their ``consent_*`` flags.
    """
    shop_id = _shop_id(engine, shop)
    q = {k: v.format(shop=shop_id) for k, v in _QUERIES.items() if k not in ("shop",)}
    reporting = reporting_currency_of(engine, shop, settings)
    survivor = _survivors(_fetch(engine, q["customer_ids"]))
    rates = _fetch(engine, q["rates"])

    def ext_ids(pks: pd.Series) -> pd.Series:
        return pks.map(lambda v: survivor.get(int(v)) if pd.notna(v) else None)

    frames: dict[str, pa.Table] = {}
    consent = {f"consent_{c}": pa.bool_() for c in ("email", "sms", "phone", "post", "chat", "social")}
    frames["customers"] = _arrow(_fetch(engine, q["customers"]), "customers", consent)
    orders = _fetch(engine, q["orders"])
    orders["customer_id"] = ext_ids(orders["cust_pk"])
    for target, minor in (("total", "total_minor"), ("discount_total", "discount_minor")):
        orders[target] = to_reporting(orders[minor], orders["currency"], orders["order_date"], reporting,
                                       rates, shop=shop)
    frames["orders"] = _arrow(orders, "orders")
    lines = _fetch(engine, q["order_lines"])
    for target, minor in (("unit_price", "unit_price_minor"), ("discount", "discount_minor")):
        lines[target] = to_reporting(lines[minor], lines["currency"], lines["ordered_at"], reporting,
                                      rates, shop=shop)
    frames["order_lines"] = _arrow(lines, "order_lines")
    products = _fetch(engine, q["products"])
    latest = pd.Series(pd.Timestamp.now(tz="UTC").tz_localize(None), index=products.index)
    products["price"] = to_reporting(products["price_minor"], products["currency"], latest, reporting,
                                      rates, shop=shop)
    frames["products"] = _arrow(products, "products")
    for kind in ("interactions", "feedback"):
        frame = _fetch(engine, q[kind])
        frame["customer_id"] = ext_ids(frame["cust_pk"])
        frames[kind] = _arrow(frame, kind)
    assert set(frames) == set(FRAME_KINDS)
    log.info("read shop %s from the store: %s", shop, {k: v.num_rows for k, v in frames.items()})
    return frames
