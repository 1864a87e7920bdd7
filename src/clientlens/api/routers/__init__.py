"""One router per resource, mounted under ``/api/v1`` by :func:`clientlens.app.create_app`."""
