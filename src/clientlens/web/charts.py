"""Vega-Lite specifications of the dashboard charts (data inlined; titles in the user's language)."""

from __future__ import annotations

import json
from typing import Any

from clientlens.web.i18n import I18n

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"  # an identifier only; never fetched


def _base(data: list[dict[str, Any]], title: str) -> dict[str, Any]:
    # The page shows the title above the chart; the spec keeps it as its description.
    return {"$schema": SCHEMA, "description": title, "data": {"values": data}, "width": "container", "height": 220,
            "config": {"view": {"stroke": None}, "axis": {"labelFontSize": 11, "titleFontSize": 11}}}


def segments(i18n: I18n, rows: list[dict[str, Any]], taxonomy: str) -> dict[str, Any]:
    _ = i18n.gettext
    data = [{**r, "name": i18n.label(taxonomy, r["label"])} for r in rows]
    spec = _base(data, _("Customers and revenue by segment"))
    spec["transform"] = [{"fold": ["customers_share", "revenue_share"], "as": ["measure", "share"]},
                         {"calculate": f"datum.measure == 'customers_share' ? {json.dumps(_('Customers'))} : {json.dumps(_('Revenue'))}",
                          "as": "what"}]
    spec["mark"] = {"type": "bar", "tooltip": True}
    spec["encoding"] = {"y": {"field": "name", "type": "nominal", "title": None, "sort": "-x"},
                        "x": {"field": "share", "type": "quantitative", "axis": {"format": "%"}, "title": _("Share")},
                        "yOffset": {"field": "what"}, "color": {"field": "what", "title": None}}
    return spec


def rfm_grid(i18n: I18n, rows: list[dict[str, Any]]) -> dict[str, Any]:
    _ = i18n.gettext
    spec = _base(rows, _("RFM grid (customers)"))
    spec["mark"] = {"type": "rect", "tooltip": True}
    spec["encoding"] = {"x": {"field": "frequency_score", "type": "ordinal", "title": _("Frequency score")},
                        "y": {"field": "recency_score", "type": "ordinal", "title": _("Recency score"), "sort": "descending"},
                        "color": {"field": "customers", "type": "quantitative", "title": _("Customers")}}
    return spec


def pareto(i18n: I18n, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The Pareto curve: share of revenue brought by the largest-spending share of customers.

    The snapshot stores the Lorenz curve (poorest first); the largest-first curve is its mirror,
    (1 - x, 1 - y), so the dashed 20% line reads "the top 20% of customers bring y% of revenue".
    """
    _ = i18n.gettext
    spec = _base(rows, _("Pareto / Lorenz curve"))
    spec["transform"] = [{"calculate": "1 - datum.customers_share", "as": "top_customers_share"},
                         {"calculate": "1 - datum.revenue_share", "as": "top_revenue_share"}]
    spec["layer"] = [
        {"mark": {"type": "line", "tooltip": True},
         "encoding": {"x": {"field": "top_customers_share", "type": "quantitative", "axis": {"format": "%"},
                            "title": _("Share of customers (largest first)")},
                      "y": {"field": "top_revenue_share", "type": "quantitative", "axis": {"format": "%"},
                            "title": _("Share of revenue")}}},
        {"mark": {"type": "rule", "strokeDash": [4, 4], "color": "#999"},
         "encoding": {"x": {"datum": 0.2}}},
    ]
    return spec


def cohorts(i18n: I18n, rows: list[dict[str, Any]]) -> dict[str, Any]:
    _ = i18n.gettext
    spec = _base(rows, _("Monthly cohort retention"))
    spec["mark"] = {"type": "rect", "tooltip": True}
    spec["encoding"] = {"x": {"field": "month", "type": "ordinal", "title": _("Months since first purchase")},
                        "y": {"field": "cohort", "type": "ordinal", "title": _("Cohort")},
                        "color": {"field": "retention", "type": "quantitative", "title": _("Retention"),
                                  "legend": {"format": "%"}}}
    spec["height"] = 260
    return spec


def clv(i18n: I18n, rows: list[dict[str, Any]]) -> dict[str, Any]:
    _ = i18n.gettext
    spec = _base(rows, _("CLV distribution"))
    spec["mark"] = {"type": "bar", "tooltip": True}
    spec["encoding"] = {"x": {"field": "clv_from", "type": "quantitative", "bin": {"binned": True}, "title": _("CLV")},
                        "x2": {"field": "clv_to"},
                        "y": {"field": "customers", "type": "quantitative", "title": _("Customers")}}
    return spec


def nps(i18n: I18n, rows: list[dict[str, Any]]) -> dict[str, Any]:
    _ = i18n.gettext
    spec = _base(rows, _("NPS trend"))
    spec["mark"] = {"type": "line", "point": True, "tooltip": True}
    spec["encoding"] = {"x": {"field": "month", "type": "ordinal", "title": _("Month")},
                        "y": {"field": "nps", "type": "quantitative", "title": _("NPS"),
                              "scale": {"domain": [-100, 100]}}}
    return spec


def sla(i18n: I18n, rows: list[dict[str, Any]]) -> dict[str, Any]:
    _ = i18n.gettext
    data = [{**r, "name": i18n.label("channel", r["channel"])} for r in rows]
    spec = _base(data, _("SLA attainment by channel"))
    spec["mark"] = {"type": "bar", "tooltip": True}
    spec["encoding"] = {"x": {"field": "name", "type": "nominal", "title": _("Channel")},
                        "y": {"field": "attainment", "type": "quantitative", "axis": {"format": "%"},
                              "scale": {"domain": [0, 1]}, "title": _("First replies within target")}}
    return spec


def dashboard_charts(i18n: I18n, charts: dict[str, list[dict[str, Any]]], taxonomy: str) -> list[dict[str, Any]]:
    """[{id, title, spec or None}] in display order; spec None means an empty state."""
    _ = i18n.gettext
    builders = [
        ("segments", _("Customers and revenue by segment"), lambda r: segments(i18n, r, taxonomy),
         _("No analysis yet: run clientlens analyze to see segments.")),
        ("rfm_grid", _("RFM grid (customers)"), lambda r: rfm_grid(i18n, r), _("No orders yet.")),
        ("pareto", _("Pareto / Lorenz curve"), lambda r: pareto(i18n, r), _("No revenue yet.")),
        ("cohorts", _("Monthly cohort retention"), lambda r: cohorts(i18n, r), _("No orders yet.")),
        ("clv", _("CLV distribution"), lambda r: clv(i18n, r), _("No predictions yet: run the models.")),
        ("nps", _("NPS trend"), lambda r: nps(i18n, r), _("No NPS answers yet.")),
        ("sla", _("SLA attainment by channel"), lambda r: sla(i18n, r), _("No answered conversations yet.")),
    ]
    out = []
    for key, title, build, empty in builders:
        rows = charts.get(key) or []
        out.append({"id": key, "title": title, "spec": build(rows) if rows else None, "empty": empty})
    return out
