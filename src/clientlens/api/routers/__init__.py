"""One router per resource, mounted under ``/api/v1`` by :func:`clientlens.api.app.create_app`."""
