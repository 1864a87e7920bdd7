"""Web pages (Jinja2 + HTMX + Vega-Lite, assets vendored under ``static/vendor``) and their translations."""
