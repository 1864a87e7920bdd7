"""Feature detection of the other layers' services (care, identity, ingest, analysis).

The web layer calls them when they are installed; until then it shows clear empty states.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


def optional_function(module: str, name: str) -> Callable[..., Any] | None:
    """``module.name`` if that module can be imported and defines a callable ``name``, else None."""
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    fn = getattr(mod, name, None)
    return fn if callable(fn) else None


def care_function(submodule: str, name: str) -> Callable[..., Any] | None:
    """A function of ``clientlens.care.<submodule>`` when the care layer provides it."""
    return optional_function(f"clientlens.care.{submodule}", name)


class NotAvailableError(Exception):
    """The layer that does this (ingest, identity, care) is not installed in this build."""


def require_function(module: str, *names: str) -> Callable[..., Any]:
    """The first of ``module.names`` that exists; NotAvailableError naming the layer otherwise."""
    for name in names:
        fn = optional_function(module, name)
        if fn is not None:
            return fn
    raise NotAvailableError(f"{module}.{names[0]} is not available in this build; the page lights up once "
                            f"that layer is installed")
