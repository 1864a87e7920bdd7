"""The use cases every surface shares (API routers, web pages, CLI, library): their schemas, queries,
reads and writes. Routes and commands are thin callers of these functions."""
