"""Shopify's orders export and customers export (Admin > Orders / Customers > Export > CSV).

Orders export: one row per line item, the order's fields on its first row only. ``Name`` (#1001) is
the order id; ``Created at`` its time (with the shop's offset); ``Total`` minus ``Refunded Amount`` its
spend; ``Financial Status`` and ``Cancelled at`` its status: paid, partially_paid and partially_refunded
(or none written) are completed (a partial refund lowers the spend), pending, authorized and unpaid are ``pending`` (not
a purchase until a later import says paid), refunded is returned, voided, expired and any cancelled
order are cancelled. ``Source`` gives the channel (web and the mobile apps online, pos in store,
shopify_draft_order by phone, marketplaces as marketplace, any other sales-channel app online).
The buyer is the order's ``Email``; a guest checkout without one is its phone number (``Phone``,
``Billing Phone``, ``Shipping Phone``), else its billing (or shipping) name, else the order itself.
Their profile comes from the ``Billing *`` fields (``Shipping *`` where billing is empty) and
``Accepts Marketing`` (e-mail consent).

Customers export: ``Customer ID`` (written with a leading apostrophe, ``'1234``), ``First Name`` /
``Last Name``, ``Email``, ``Phone`` (else ``Default Address Phone``), ``Default Address *`` (older
exports: ``Address1``, ``City``, ``Country Code`` ...), ``Accepts Email Marketing`` (older:
``Accepts Marketing``) and ``Accepts SMS Marketing``: yes is a consent given, no is none given (it
never withdraws a consent recorded otherwise). A ``Default Address Company`` makes the customer
professional. ``Tags``, ``Note``, ``Tax Exempt``, ``Total Spent`` and ``Total Orders`` are read but not
kept (the orders give the spend). Extra and reordered columns are ignored.
"""

from __future__ import annotations

import polars as pl

from clientlens.ingest.columns import norm
from clientlens.ingest.vendors.base import (
    Headers,
    VendorLayout,
    VendorState,
    consent,
    country_code,
    full_name,
    money_minus,
    unquote,
)

PENDING = ("pending", "authorized", "unpaid", "partially_authorized")
COMPLETED = ("paid", "partially_paid", "partially_refunded")
SOURCES = {"web": "online", "online_store": "online", "iphone": "online", "android": "online",
           "shopify": "online", "checkout": "online", "buy_button": "online", "mobile_app": "online",
           "pos": "in_store", "shopify_draft_order": "phone", "draft_order": "phone", "phone": "phone",
           "amazon": "marketplace", "ebay": "marketplace", "etsy": "marketplace", "walmart": "marketplace"}


def _is_orders(headers: list[str]) -> bool:
    h = {norm(x) for x in headers}
    return {"name", "financialstatus", "createdat"} <= h and ("lineitemquantity" in h or "total" in h)


def _is_customers(headers: list[str]) -> bool:
    h = {norm(x) for x in headers}
    new = {"firstname", "lastname", "acceptsemailmarketing"} <= h
    old = {"firstname", "lastname", "acceptsmarketing", "totalspent"} <= h
    return new or old


def _status(h: Headers) -> pl.Expr:
    fin = h.text("Financial Status").str.to_lowercase().str.replace_all(r"[\s\-]+", "_")
    cancelled = h.text("Cancelled at").is_not_null()
    return (pl.when(fin == "refunded").then(pl.lit("returned"))
            .when(cancelled | fin.is_in(["voided", "expired"])).then(pl.lit("cancelled"))
            .when(fin.is_in(PENDING)).then(pl.lit("pending"))
            .when(fin.is_in(COMPLETED)).then(pl.lit("completed"))
            .otherwise(fin))


def _channel(h: Headers) -> pl.Expr:
    src = h.text("Source").str.to_lowercase().str.replace_all(r"[\s\-]+", "_")
    return pl.when(src.is_null()).then(None).otherwise(
        src.replace_strict(SOURCES, default="online", return_dtype=pl.String))


def _phone(h: Headers) -> pl.Expr:
    return unquote(h.first(("Phone",), ("Billing Phone",), ("Shipping Phone",)))


def _derive_orders(frame: pl.DataFrame, h: Headers, state: VendorState) -> dict[str, pl.Expr]:
    email = h.text("Email").str.to_lowercase()
    phone = _phone(h)
    name = h.first(("Billing Name",), ("Shipping Name",))
    digits = phone.str.replace_all(r"[^\d+]", "")
    customer = pl.coalesce([email, pl.lit("phone:") + digits, pl.lit("guest:") + name,
                            pl.lit("guest-order:") + h.text("Name")])
    return {
        "order_id": h.text("Name"),
        "customer_id": customer,
        "order_date": h.text("Created at", "Paid at"),
        "currency": h.text("Currency"),
        "total": money_minus(h.text("Total"), h.text("Refunded Amount")),
        "discount_total": h.text("Discount Amount"),
        "status": _status(h),
        "channel": _channel(h),
        "profile_name": name,
        "profile_email": email,
        "profile_phone": phone,
        "profile_country": country_code(h.first(("Billing Country Code",), ("Billing Country",),
                                                ("Shipping Country Code",), ("Shipping Country",))),
        "profile_city": h.first(("Billing City",), ("Shipping City",)),
        "profile_address": h.first(("Billing Address1", "Billing Street"), ("Shipping Address1", "Shipping Street")),
        "profile_consent_email": consent(h.text("Accepts Marketing", "Accepts Email Marketing")),
    }


def _derive_customers(frame: pl.DataFrame, h: Headers, state: VendorState) -> dict[str, pl.Expr]:
    email = h.text("Email")
    phone = unquote(h.first(("Phone",), ("Default Address Phone",)))
    name = full_name(h.text("First Name"), h.text("Last Name"))
    addr_name = full_name(h.text("Default Address First Name"), h.text("Default Address Last Name"))
    key = pl.coalesce([unquote(h.text("Customer ID", "Id")), email.str.to_lowercase(),
                       pl.lit("phone:") + phone.str.replace_all(r"[^\d+]", ""), pl.lit("guest:") + name])
    company = h.text("Default Address Company", "Company")
    return {
        "customer_id": key,
        "name": pl.coalesce([name, addr_name]),
        "email": email,
        "phone": phone,
        "country": country_code(h.first(("Default Address Country Code", "Country Code"),
                                         ("Default Address Country", "Country"))),
        "city": h.text("Default Address City", "City"),
        "address": h.text("Default Address Address1", "Address1"),
        "consent_email": consent(h.text("Accepts Email Marketing", "Accepts Marketing")),
        "consent_sms": consent(h.text("Accepts SMS Marketing")),
        "kind": pl.when(company.is_not_null()).then(pl.lit("professional")).otherwise(None),
        "language": h.text("Language", "Locale"),
    }


SHOPIFY_ORDERS = VendorLayout(name="shopify-orders", entity="orders", matches=_is_orders, derive=_derive_orders,
                              order_key=("Name",), one_row_per_order=True)
SHOPIFY_CUSTOMERS = VendorLayout(name="shopify-customers", entity="customers", matches=_is_customers,
                                 derive=_derive_customers)
