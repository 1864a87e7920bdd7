"""Shopify and WooCommerce export files written from their documented columns (tests only).

Each writer takes rows as dicts of the columns that matter and fills every other documented column
with what the shop system writes when it has nothing (an empty field), so each file has the whole
header of its export, in its order (or a shuffled order, with extra columns, for newer versions).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

SHOPIFY_ORDERS = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,"
    "Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,"
    "Lineitem name,Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,"
    "Lineitem taxable,Lineitem fulfillment status,Billing Name,Billing Street,Billing Address1,Billing Address2,"
    "Billing Company,Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,"
    "Shipping Street,Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,"
    "Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,Payment Method,"
    "Payment Reference,Refunded Amount,Vendor,Outstanding Balance,Employee,Location,Device ID,Id,Tags,"
    "Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,"
    "Tax 4 Name,Tax 4 Value,Tax 5 Name,Tax 5 Value,Phone,Receipt Number,Duties,Billing Province Name,"
    "Shipping Province Name,Payment ID,Payment Terms Name,Next Payment Due At,Payment References").split(",")
SHOPIFY_CUSTOMERS = (
    "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,"
    "Default Address Address1,Default Address Address2,Default Address City,Default Address Province Code,"
    "Default Address Country Code,Default Address Zip,Default Address Phone,Phone,Accepts SMS Marketing,"
    "Total Spent,Total Orders,Note,Tax Exempt,Tags").split(",")
#: Fields of an order's first row only (the line-item rows repeat Name, Email and the Lineitem fields).
LINE_FIELDS = ("Name", "Email", "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price",
               "Lineitem compare at price", "Lineitem sku", "Lineitem requires shipping", "Lineitem taxable",
               "Lineitem fulfillment status", "Lineitem discount", "Vendor")
WOO_AOE = (
    "Order Number,Order Status,Order Date,Customer Note,First Name (Billing),Last Name (Billing),"
    "Company (Billing),Address 1&2 (Billing),City (Billing),State Code (Billing),Postcode (Billing),"
    "Country Code (Billing),Email (Billing),Phone (Billing),First Name (Shipping),Last Name (Shipping),"
    "Address 1&2 (Shipping),City (Shipping),State Code (Shipping),Postcode (Shipping),Country Code (Shipping),"
    "Payment Method Title,Cart Discount Amount,Order Subtotal Amount,Shipping Method Title,Order Shipping Amount,"
    "Order Refund Amount,Order Total Amount,Order Total Tax Amount,SKU,Item #,Item Name,Quantity (- Refund),"
    "Item Cost,Coupon Code").split(",")
WOO_SNAKE = (
    "order_id,order_number,order_date,status,shipping_total,shipping_tax_total,fee_total,tax_total,"
    "cart_discount,order_discount,discount_total,order_total,refunded,order_currency,payment_method,"
    "shipping_method,customer_id,customer_user,customer_email,billing_first_name,billing_last_name,"
    "billing_company,billing_email,billing_phone,billing_address_1,billing_address_2,billing_postcode,"
    "billing_city,billing_state,billing_country,shipping_first_name,shipping_last_name,shipping_country,"
    "customer_note,line_item_1,line_item_2").split(",")
WOO_ANALYTICS_ORDERS = "Date,Order #,Status,Customer,Customer type,Product(s),Items sold,Coupon(s),Net Sales".split(",")
WOO_ANALYTICS_CUSTOMERS = ("Name,Username,Last active,Date registered,Email,Orders,Total spend,AOV,"
                           "Country / Region,City,Region,Postal code").split(",")


def write(path: Path, header: list[str], rows: list[dict[str, str]], *, shuffle: int | None = None,
          extra: tuple[str, ...] = ()) -> Path:
    """``rows`` under ``header`` (plus ``extra`` columns, the columns shuffled with seed ``shuffle``)."""
    cols = [*header, *extra]
    if shuffle is not None:
        random.Random(shuffle).shuffle(cols)
    unknown = {k for r in rows for k in r} - set(cols)
    assert not unknown, f"not in the documented header: {unknown}"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in cols})
    return path


def shopify_order(name: str, lines: list[tuple[str, str, int, str]], **order: str) -> list[dict[str, str]]:
    """The rows of one Shopify order: (sku, product name, quantity, price) per line item; the order's
    fields (``Financial_Status`` -> ``Financial Status``) on the first row only."""
    fields = {k.replace("_", " "): v for k, v in order.items()}
    out = []
    for i, (sku, pname, qty, price) in enumerate(lines):
        row = {"Name": name, "Lineitem sku": sku, "Lineitem name": pname, "Lineitem quantity": str(qty),
               "Lineitem price": price, "Lineitem requires shipping": "true", "Lineitem taxable": "true"}
        if "Email" in fields:
            row["Email"] = fields["Email"]
        if "Created at" in fields:
            row["Created at"] = fields["Created at"]
        if i == 0:
            row.update(fields)
        out.append(row)
    return out
