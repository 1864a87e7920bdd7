"""Shop-system exports read as they are written: Shopify and WooCommerce, recognised by their headers.

A vendor layout turns a batch of the export's own text columns into canonical text columns (added
beside the originals, named ``<canonical> <- <their headers>``, so a rejection still says where a value
came from), drops the rows that only repeat an order (one row per line item), and says which of them
the entity's columns are. Orders exports also carry the buyer's profile (name, e-mail, phone,
country, marketing consent): :meth:`VendorLayout.profiles` gives it typed, for the loader to fill in
on the order's customer where the profile has nothing yet.

>>> detect(["Name", "Email", "Financial Status", "Total", "Created at", "Lineitem quantity"], "orders").name
'shopify-orders'
"""

from __future__ import annotations

from clientlens.ingest.vendors.base import VendorLayout, VendorState
from clientlens.ingest.vendors.shopify import SHOPIFY_CUSTOMERS, SHOPIFY_ORDERS
from clientlens.ingest.vendors.woocommerce import WOO_ANALYTICS_ORDERS, WOO_CUSTOMERS, WOO_ORDERS

__all__ = ["LAYOUTS", "VendorLayout", "VendorState", "detect"]

#: Every vendor layout, tried in this order.
LAYOUTS: tuple[VendorLayout, ...] = (SHOPIFY_ORDERS, SHOPIFY_CUSTOMERS, WOO_ANALYTICS_ORDERS, WOO_ORDERS,
                                     WOO_CUSTOMERS)


def detect(headers: list[str], entity: str) -> VendorLayout | None:
    """The vendor layout of a file with these headers imported as ``entity``, or None."""
    for layout in LAYOUTS:
        if layout.entity == entity and layout.matches(headers):
            return layout
    return None
