"""The ``clientlens`` command line (Typer + Rich): a root app and one module per command group."""
