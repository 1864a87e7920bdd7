"""Static assets: gzip for clients that accept it, a year's immutable cache for the vendored libraries
(their URLs carry the release), revalidation for the app's own files, a favicon."""

from __future__ import annotations

from fastapi.testclient import TestClient

from clientlens import __version__


def test_vendored_scripts_are_compressed_and_cached_for_a_year(small_app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(small_app)
    plain = client.get("/static/vendor/vega.min.js", headers={"accept-encoding": "identity"})
    zipped = client.get("/static/vendor/vega.min.js", headers={"accept-encoding": "gzip"})
    assert plain.status_code == zipped.status_code == 200
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.num_bytes_downloaded < plain.num_bytes_downloaded / 2  # bytes on the wire
    assert zipped.content == plain.content  # httpx decodes it back to the same bytes
    assert zipped.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get("/static/app.css").headers["cache-control"] == "no-cache"


def test_pages_reference_vendored_assets_by_release_and_have_a_favicon(small_app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(small_app)
    page = client.get("/login")
    assert f'/static/vendor/htmx.min.js?v={__version__}' in page.text
    assert 'rel="icon"' in page.text
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in icon.content
