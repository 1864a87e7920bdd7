"""The web app's static assets: compressed by the app's gzip middleware, cached by browsers.

The vendored libraries (``static/vendor``) never change within a release and are referenced with the
release in their URL (``?v=<version>``), so they are cached for a year as immutable; the app's own
files are revalidated (``no-cache`` with their ETag), so an upgrade shows at once.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.staticfiles import StaticFiles

VENDOR_CACHE = "public, max-age=31536000, immutable"
OWN_CACHE = "no-cache"


class CachedStaticFiles(StaticFiles):
    """``StaticFiles`` with the Cache-Control of each kind of asset."""

    def file_response(self, full_path: Any, stat_result: Any, scope: Any, status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        path = str(scope.get("path", ""))
        response.headers["Cache-Control"] = VENDOR_CACHE if "/vendor/" in path else OWN_CACHE
        return response
