"""HTTP plumbing shared by the REST API and the web pages: the request's store session, the caller, the
shop in the path, path and query parameters, and the JSON error bodies. Below ``api`` and ``web``, above
``service``: the two surfaces share it instead of importing each other."""
