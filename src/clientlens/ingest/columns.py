"""Canonical input columns per entity, their types, and header matching (docs/interfaces.md).

Headers are matched case-insensitively ignoring spaces, ``_`` and ``-``; known export layouts
(Shopify, WooCommerce, UCI Online Retail, CDNOW) and the alternative headers listed in docs/interfaces.md
map onto the canonical names; a mapping file's ``[columns]`` wins over everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clientlens.errors import InputError, MissingColumnsError

ENTITIES = ("customers", "orders", "order-lines", "products", "interactions", "feedback", "rates")


@dataclass(frozen=True)
class Col:
    """One canonical column: its type (``id``, ``str``, ``text``, ``date``, ``datetime``, ``money``,
    ``number``, ``int``, ``bool``, ``currency``, ``country``, ``channel``, ``status``, ``kind``,
    ``direction``, ``rate``) and whether it is required."""

    name: str
    type: str
    required: bool = False


def _cols(spec: str) -> tuple[Col, ...]:
    out = []
    for item in spec.split():
        name, typ = item.split(":")
        out.append(Col(name.rstrip("*"), typ, name.endswith("*")))
    return tuple(out)


CONSENTS = " ".join(f"consent_{c}:bool" for c in ("email", "sms", "phone", "post", "chat", "social"))

SPECS: dict[str, tuple[Col, ...]] = {
    "customers": _cols("customer_id*:id name:str email:str phone:str birth_date:date gender:str "
                       "income_band:str kind:str country:country city:str address:str language:str timezone:str "
                       f"preferred_channel:str {CONSENTS} consent_date:datetime created_at:datetime"),
    "orders": _cols("order_id:id customer_id*:id order_date*:datetime channel:channel currency:currency "
                    "total*:money discount_total:money status:status"),
    # customer_id / order_date / currency are optional extras: with them, unknown orders are created.
    "order-lines": _cols("order_id*:id product_id*:id product_name:str category:str quantity*:number "
                         "unit_price*:money discount:money is_new_arrival:bool customer_id:id "
                         "order_date:datetime currency:currency"),
    "products": _cols("product_id*:id name:str category:str price:money launched_at:date currency:currency"),
    "interactions": _cols("interaction_id:id customer_id*:id channel*:str direction:direction "
                          "occurred_at*:datetime thread_id:str subject:text body:text agent:str"),
    "feedback": _cols("customer_id*:id kind*:kind score*:int comment:text submitted_at*:datetime "
                      "interaction_id:id"),
    "rates": _cols("date*:date currency*:currency rate_to_reporting*:rate"),
}

# Alternative headers (normalised: lower case, no spaces / _ / -).
ALIASES: dict[str, tuple[str, ...]] = {
    "customer_id": ("customer", "customerid", "clientid", "custid", "buyerid", "customerno",
                    "customernumber", "customeruser", "client"),
    "order_id": ("invoice", "invoiceno", "invoicenumber", "ordernumber", "orderno", "transactionid",
                 "order"),
    "order_date": ("date", "invoicedate", "purchasedate", "createdat", "timestamp", "orderedat"),
    "total": ("amount", "value", "revenue", "sales", "dollarvalue", "ordertotal", "grandtotal",
              "totalamount"),
    "quantity": ("qty", "numberofcds", "units"),
    "unit_price": ("price", "unitprice", "itemprice", "itemcost"),
    "currency": ("curr", "currencycode", "ordercurrency"),
    "product_id": ("sku", "stockcode", "itemid", "product", "productcode"),
    "product_name": ("description", "itemname", "productname", "title"),
    "email": ("emailaddress", "mail", "email"),
    "phone": ("phonenumber", "telephone", "mobile", "tel"),
    "discount_total": ("discount", "discountamount", "cartdiscount"),
    "status": ("orderstatus", "financialstatus"),
    "occurred_at": ("date", "timestamp", "createdat", "sentat", "time"),
    "submitted_at": ("date", "timestamp", "createdat", "time"),
    "rate_to_reporting": ("rate", "exchangerate"),
    "launched_at": ("launchdate", "releasedate"),
    "birth_date": ("dateofbirth", "dob", "birthday"),
    "created_at": ("signupdate", "registeredat"),
    "name": ("customername", "fullname", "productname"),
}

# Known export layouts: recognised by a signature of headers, mapping before the generic aliases.
LAYOUTS: dict[str, tuple[frozenset[str], dict[str, str]]] = {
    "shopify": (frozenset({"name", "financialstatus", "lineitemquantity"}), {
        "order_id": "name", "customer_id": "email", "order_date": "createdat", "total": "total",
        "discount_total": "discountamount", "currency": "currency", "product_id": "lineitemsku",
        "product_name": "lineitemname", "quantity": "lineitemquantity", "unit_price": "lineitemprice",
        "phone": "billingphone"}),
    "shopify-customers": (frozenset({"customerid", "firstname", "lastname", "acceptsemailmarketing"}), {
        "customer_id": "customerid", "email": "email", "phone": "phone",
        "consent_email": "acceptsemailmarketing", "consent_sms": "acceptssmsmarketing",
        "country": "defaultaddresscountrycode", "city": "defaultaddresscity",
        "address": "defaultaddressaddress1"}),
    "woocommerce": (frozenset({"ordernumber", "orderdate", "ordertotalamount"}), {
        "order_id": "ordernumber", "order_date": "orderdate", "total": "ordertotalamount",
        "customer_id": "customeruserid", "currency": "ordercurrency", "status": "orderstatus",
        "discount_total": "cartdiscountamount", "email": "billingemailaddress",
        "product_id": "sku", "product_name": "itemname", "quantity": "quantity", "unit_price": "itemcost"}),
    "uci-online-retail": (frozenset({"invoiceno", "stockcode", "invoicedate", "unitprice"}), {
        "order_id": "invoiceno", "product_id": "stockcode", "product_name": "description",
        "quantity": "quantity", "order_date": "invoicedate", "unit_price": "unitprice",
        "customer_id": "customerid", "country": "country"}),
    "cdnow": (frozenset({"customerid", "date", "numberofcds", "dollarvalue"}), {
        "customer_id": "customerid", "order_date": "date", "quantity": "numberofcds",
        "total": "dollarvalue"}),
}

_NORM = re.compile(r"[\s_\-]+")


def norm(header: str) -> str:
    """``"Customer ID"`` -> ``"customerid"``: how headers are compared."""
    return _NORM.sub("", header.strip().lower())


def spec(entity: str) -> tuple[Col, ...]:
    """The canonical columns of ``entity``; InputError for an unknown entity."""
    if entity not in SPECS:
        raise InputError(f"unknown entity {entity!r}; expected one of {', '.join(ENTITIES)}")
    return SPECS[entity]


def match_columns(entity: str, headers: list[str], *, mapping: dict[str, str] | None = None,
                  source: str = "input") -> tuple[dict[str, str], str | None]:
    """Map canonical names to the file's headers: ``({canonical: header}, layout or None)``.

    Raises MissingColumnsError naming the file, the missing columns and the headers found.
    """
    cols = spec(entity)
    names = {c.name for c in cols}
    by_norm: dict[str, str] = {}
    for h in headers:
        by_norm.setdefault(norm(h), h)
    out: dict[str, str] = {}
    used: set[str] = set()
    for canon, theirs in (mapping or {}).items():
        if canon not in names:
            raise InputError(f"mapping for {entity}: {canon!r} is not a canonical column "
                             f"(expected one of {', '.join(sorted(names))})")
        if theirs not in headers and norm(theirs) not in by_norm:
            raise MissingColumnsError(f"{source}: mapped column {theirs!r} (for {canon}) is not in the "
                                      f"file; headers found: {', '.join(headers)}")
        header = theirs if theirs in headers else by_norm[norm(theirs)]
        out[canon] = header
        used.add(header)
    layout = None
    present = set(by_norm)
    for lname, (signature, lmap) in LAYOUTS.items():
        if signature <= present:
            layout = lname
            for canon, h in lmap.items():
                if canon in names and canon not in out and h in by_norm and by_norm[h] not in used:
                    out[canon] = by_norm[h]
                    used.add(by_norm[h])
            break
    for col in cols:  # exact canonical names first, then aliases
        n = norm(col.name)
        if col.name not in out and n in by_norm and by_norm[n] not in used:
            out[col.name] = by_norm[n]
            used.add(by_norm[n])
    for col in cols:
        if col.name in out:
            continue
        for alias in ALIASES.get(col.name, ()):
            if alias in by_norm and by_norm[alias] not in used:
                out[col.name] = by_norm[alias]
                used.add(by_norm[alias])
                break
    missing = [c.name for c in cols if c.required and c.name not in out]
    if missing:
        raise MissingColumnsError(
            f"{source}: required column(s) {', '.join(missing)} missing for {entity}; headers found: "
            f"{', '.join(repr(h) for h in headers[:30])}. Rename them or map them in a mapping file "
            f"([columns] {missing[0]} = \"<your header>\").")
    return out, layout
