"""Display names (English msgids, translated by the catalogues) of taxonomies, labels, features and rules.

Ids come from the store (docs/interfaces.md); the names here are what the interface shows.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message for extraction into the catalogues without translating it here."""
    return message


def humanise(identifier: str) -> str:
    """``price_conscious`` -> ``Price conscious`` (for ids without a display name)."""
    text = identifier.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


TAXONOMIES = {
    "customer_type": N_("Customer type"), "age_band": N_("Age band"), "gender": N_("Gender"),
    "income_band": N_("Income band"), "psychology": N_("Psychology"), "volume": N_("Volume"),
    "frequency": N_("Frequency"), "value": N_("Value"), "channel": N_("Channel"), "lifecycle": N_("Lifecycle"),
    "geography": N_("Geography"), "rfm_segment": N_("RFM segment"), "revenue_tier": N_("Revenue tier"),
}

LABELS = {
    "individual": N_("Individual"), "professional": N_("Professional"), "institutional": N_("Institutional"),
    "youth": N_("Youth"), "adult": N_("Adult"), "senior": N_("Senior"), "unknown": N_("Unknown"),
    "female": N_("Female"), "male": N_("Male"), "other": N_("Other"),
    "low": N_("Low"), "middle": N_("Middle"), "high": N_("High"), "medium": N_("Medium"),
    "price_conscious": N_("Price-conscious"), "brand_loyal": N_("Brand-loyal"), "trend_seeker": N_("Trend seeker"),
    "bulk": N_("Bulk"), "regular": N_("Regular"), "small": N_("Small"),
    "weekly": N_("Weekly"), "monthly": N_("Monthly"), "occasional": N_("Occasional"), "one_off": N_("One-off"),
    "online": N_("Online"), "in_store": N_("In store"), "phone": N_("Phone"), "marketplace": N_("Marketplace"),
    "omnichannel": N_("Omnichannel"),
    "potential": N_("Potential"), "new": N_("New"), "loyal": N_("Loyal"), "inactive": N_("Inactive"),
    "domestic": N_("Domestic"), "international": N_("International"),
    "champions": N_("Champions"), "loyal_customers": N_("Loyal customers"),
    "potential_loyalist": N_("Potential loyalist"), "new_customers": N_("New customers"),
    "promising": N_("Promising"), "need_attention": N_("Need attention"), "about_to_sleep": N_("About to sleep"),
    "at_risk": N_("At risk"), "cant_lose_them": N_("Can't lose them"), "hibernating": N_("Hibernating"),
    "lost": N_("Lost"), "top_20": N_("Top 20%"), "rest": N_("Other 80%"),
}

FEATURES = {
    "recency_days": N_("Days since last purchase"), "orders": N_("Orders"), "purchase_days": N_("Purchase days"),
    "tenure_days": N_("Customer for (days)"), "purchases_per_month": N_("Purchases per month"),
    "total_spend": N_("Total spend"), "avg_order_value": N_("Average order value"),
    "items_per_order": N_("Items per order"), "quantity_per_order": N_("Quantity per order"),
    "max_order_quantity": N_("Largest order quantity"), "ipi_mean_days": N_("Mean days between purchases"),
    "ipi_cv": N_("Regularity (CV)"), "n_channels": N_("Channels used"), "dominant_channel": N_("Main channel"),
    "promo_item_share": N_("Share of items on promotion"), "promo_spend_share": N_("Share of spend on promotion"),
    "new_arrival_share": N_("Share of new arrivals"), "category_breadth": N_("Categories bought"),
    "top_category_share": N_("Share of top category"), "repeat_product_share": N_("Share of repeat products"),
    "return_rate": N_("Return rate"), "spend_trend": N_("Spend trend"), "age_years": N_("Age"),
    "country": N_("Country"), "home_country": N_("Home country"), "threshold": N_("Threshold"),
    "min": N_("Minimum"), "max": N_("Maximum"), "r_score": N_("Recency score"), "f_score": N_("Frequency score"),
    "m_score": N_("Monetary score"), "revenue_share": N_("Revenue share"), "rank": N_("Rank"),
}

RULES: dict[str, str] = {}

# Words the templates translate from data values (statuses, roles, channels, kinds, actions).
VALUES = (
    N_("new"), N_("open"), N_("waiting_on_customer"), N_("resolved"), N_("admin"), N_("analyst"), N_("agent"),
    N_("email"), N_("sms"), N_("chat"), N_("post"), N_("phone"), N_("social"), N_("inbound"), N_("outbound"),
    N_("completed"), N_("pending"), N_("returned"), N_("cancelled"), N_("order"), N_("conversation"), N_("message"),
    N_("feedback"), N_("label_change"), N_("campaign_message"), N_("survey"), N_("consent"),
    N_("suggested"), N_("accepted"), N_("undone"), N_("rejected"), N_("birthday"), N_("loyalty_invitation"),
    N_("nurture"), N_("promotion"), N_("winback"), N_("win_back_offer"), N_("priority_care"),
    N_("outreach_in_language"), N_("no_consent"), N_("no_address"), N_("frequency_cap"),
)
