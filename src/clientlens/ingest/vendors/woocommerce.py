"""WooCommerce's order and customer exports, as WooCommerce and the common export plugins write them.

- **Analytics > Orders > Download** (WooCommerce's built-in report CSV): ``Date``, ``Order #``,
  ``Status``, ``Customer`` (a name), ``Customer type``, ``Product(s)``, ``Items sold``, ``Coupon(s)``,
  ``Net Sales`` (after coupons and refunds: the spend). The customer is known by name only.
- **Order export plugins** (Advanced Order Export For WooCommerce's default fields: ``Order Number``,
  ``Order Status``, ``Order Date``, ``First Name (Billing)`` ... ``Email (Billing)``, ``Phone
  (Billing)``, ``Country Code (Billing)``, ``Cart Discount Amount``, ``Order Refund Amount``, ``Order
  Total Amount``, then one row per product (order fields repeated); and the snake_case exports of
  the Customer/Order CSV Export and Order Export & Import plugins: ``order_id``, ``order_number``,
  ``order_date``, ``status``, ``order_total``, ``refunded``, ``order_currency``, ``customer_email`` /
  ``billing_email``, ``billing_first_name`` ... ``billing_country``, ``customer_user``).
  The spend is the total minus the refunded amount.
- **Customers**: Analytics > Customers > Download (``Name``, ``Username``, ``Last active``,
  ``Date registered``, ``Email``, ``Orders``, ``Total spend``, ``AOV``, ``Country / Region``, ``City``,
  ``Region``, ``Postal code``) and the user exports of the customer export plugins (``user_email``,
  ``first_name``, ``last_name``, ``user_registered``, ``billing_*``).

Statuses (``wc-`` prefix allowed): completed and processing (paid, not yet shipped) are completed;
pending (payment), on-hold (awaiting payment), draft and checkout-draft are ``pending``; refunded is
returned; cancelled and failed are cancelled. The buyer is the order's e-mail, else its customer
user id, else its phone, else its billing name. WooCommerce records no marketing consent, so none is
read.
"""

from __future__ import annotations

import polars as pl

from clientlens.ingest.columns import norm
from clientlens.ingest.vendors.base import (
    Headers,
    VendorLayout,
    VendorState,
    country_code,
    full_name,
    money_minus,
    unquote,
)

STATUSES = {"completed": "completed", "processing": "completed", "pending": "pending",
            "pendingpayment": "pending", "onhold": "pending", "draft": "pending", "checkoutdraft": "pending",
            "refunded": "returned", "cancelled": "cancelled", "canceled": "cancelled", "failed": "cancelled",
            "trash": "cancelled"}
ORDER_ID = ("Order Number", "Order #", "order_number", "order_id", "Order ID")
TOTAL = ("Order Total Amount", "order_total", "Order Total", "Net Sales")
REFUNDED = ("Order Refund Amount", "refunded", "refunded_total", "total_refunded", "order_refund", "Refund Amount")
EMAIL = ("Email (Billing)", "billing_email", "customer_email", "Billing Email Address", "Billing Email")
PHONE = ("Phone (Billing)", "billing_phone", "Billing Phone")
COUNTRY = ("Country Code (Billing)", "billing_country", "Country (Billing)", "Billing Country")
CITY = ("City (Billing)", "billing_city", "Billing City")
ADDRESS = ("Address 1&2 (Billing)", "Address 1 (Billing)", "billing_address_1", "Billing Address 1")
FIRST = ("First Name (Billing)", "billing_first_name", "Billing First Name")
LAST = ("Last Name (Billing)", "billing_last_name", "Billing Last Name")
USER = ("Customer User ID", "customer_user", "customer_id", "Customer ID", "User ID")
CREATED_VIA = {"checkout": "online", "storeapi": "online", "restapi": "online", "admin": "phone",
               "pos": "in_store", "posrest": "in_store"}


def _norms(headers: list[str]) -> set[str]:
    return {norm(x) for x in headers}


def _is_analytics_orders(headers: list[str]) -> bool:
    return {"date", "order#", "status", "customer", "netsales"} <= _norms(headers)


def _is_orders(headers: list[str]) -> bool:
    h = Headers(headers)
    billing = any(n.startswith("billing") or n.endswith("(billing)") for n in _norms(headers))
    return h.has(*ORDER_ID) and h.has(*TOTAL[:3]) and billing and "financialstatus" not in _norms(headers)


def _is_customers(headers: list[str]) -> bool:
    n = _norms(headers)
    analytics = {"name", "username", "lastactive", "totalspend"} <= n
    users = ("useremail" in n or "userlogin" in n) and any(x.startswith("billing") for x in n)
    return analytics or users


def _status(h: Headers) -> pl.Expr:
    k = h.text("Order Status", "status", "Status").str.to_lowercase().str.replace(r"^wc-", "") \
        .str.replace_all(r"[\s_\-]+", "")
    return k.replace_strict(STATUSES, default=None, return_dtype=pl.String).fill_null(k)


def _derive_analytics_orders(frame: pl.DataFrame, h: Headers, state: VendorState) -> dict[str, pl.Expr]:
    name = h.text("Customer")
    return {
        "order_id": h.text("Order #"),
        "customer_id": pl.coalesce([pl.lit("name:") + name, pl.lit("guest-order:") + h.text("Order #")]),
        "order_date": h.text("Date"),
        "total": h.text("Net Sales"),
        "status": _status(h),
        "profile_name": name,
    }


def _derive_orders(frame: pl.DataFrame, h: Headers, state: VendorState) -> dict[str, pl.Expr]:
    email = h.text(*EMAIL).str.to_lowercase()
    phone = unquote(h.first(PHONE, ("Phone (Shipping)", "shipping_phone")))
    name = pl.coalesce([full_name(h.text(*FIRST), h.text(*LAST)),
                        full_name(h.text("First Name (Shipping)", "shipping_first_name"),
                                  h.text("Last Name (Shipping)", "shipping_last_name"))])
    user = unquote(h.text(*USER))
    user = pl.when(user.is_in(["0", "guest"])).then(None).otherwise(user)
    order = h.text(*ORDER_ID)
    customer = pl.coalesce([email, pl.lit("user:") + user, pl.lit("phone:") + phone.str.replace_all(r"[^\d+]", ""),
                            pl.lit("name:") + name, pl.lit("guest-order:") + order])
    via = h.text("created_via", "Created Via").str.to_lowercase().str.replace_all(r"[\s_\-]+", "")
    return {
        "order_id": order,
        "customer_id": customer,
        "order_date": h.text("Order Date", "order_date", "Date", "date_created"),
        "currency": h.text("Currency", "order_currency", "Order Currency"),
        "total": money_minus(h.text(*TOTAL[:3]), h.text(*REFUNDED)),
        "discount_total": h.text("Cart Discount Amount", "cart_discount", "discount_total", "Order Discount Amount"),
        "status": _status(h),
        "channel": pl.when(via.is_null()).then(pl.lit("online"))
        .otherwise(via.replace_strict(CREATED_VIA, default="online", return_dtype=pl.String)),
        "profile_name": name,
        "profile_email": email,
        "profile_phone": phone,
        "profile_country": country_code(h.first(COUNTRY, ("Country Code (Shipping)", "shipping_country"))),
        "profile_city": h.first(CITY, ("City (Shipping)", "shipping_city")),
        "profile_address": h.first(ADDRESS, ("Address 1 (Shipping)", "shipping_address_1")),
    }


def _derive_customers(frame: pl.DataFrame, h: Headers, state: VendorState) -> dict[str, pl.Expr]:
    analytics = h.has("Last active") and h.has("Total spend")
    email = h.text("Email", "user_email", "billing_email")
    name = pl.coalesce([h.text("Name"), full_name(h.text("first_name"), h.text("last_name")),
                        full_name(h.text("billing_first_name"), h.text("billing_last_name"))])
    phone = unquote(h.text("billing_phone", "Phone"))
    if analytics:  # keyed by name, as the Analytics orders report knows its customers
        key = pl.coalesce([pl.lit("name:") + name, email.str.to_lowercase(), pl.lit("user:") + h.text("Username")])
    else:
        key = pl.coalesce([unquote(h.text("customer_id", "ID", "user_id")), email.str.to_lowercase(),
                           pl.lit("user:") + h.text("user_login")])
    company = h.text("billing_company")
    return {
        "customer_id": key,
        "name": name,
        "email": email,
        "phone": phone,
        "country": country_code(h.text("Country / Region", "Country", "billing_country")),
        "city": h.text("City", "billing_city"),
        "address": h.text("billing_address_1"),
        "created_at": h.text("Date registered", "Sign Up", "user_registered", "date_created"),
        "kind": pl.when(company.is_not_null()).then(pl.lit("professional")).otherwise(None),
    }


WOO_ANALYTICS_ORDERS = VendorLayout(name="woocommerce-analytics-orders", entity="orders",
                                    matches=_is_analytics_orders, derive=_derive_analytics_orders,
                                    order_key=("Order #",), one_row_per_order=True)
WOO_ORDERS = VendorLayout(name="woocommerce-orders", entity="orders", matches=_is_orders, derive=_derive_orders,
                          order_key=ORDER_ID, one_row_per_order=True)
WOO_CUSTOMERS = VendorLayout(name="woocommerce-customers", entity="customers", matches=_is_customers,
                             derive=_derive_customers)
