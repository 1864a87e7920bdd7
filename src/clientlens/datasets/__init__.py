"""Data sets: the real CDNOW logs shipped in the package, and the sample-shop generator.

The generator is imported lazily (it pulls in Faker): ``from clientlens.datasets import generate_shop``.
"""

from __future__ import annotations

from typing import Any

from clientlens.datasets.cdnow import load_cdnow_master, load_cdnow_sample

_GENERATOR = {
    "ARCHETYPES": "clientlens.datasets.archetypes",
    "GeneratorSettings": "clientlens.datasets.archetypes",
    "DEFAULT_AS_OF": "clientlens.datasets.generator",
    "GeneratedShop": "clientlens.datasets.generator",
    "generate_shop": "clientlens.datasets.generator",
    "generate_to_parquet": "clientlens.datasets.generator",
    "write_shop": "clientlens.datasets.generator",
}

__all__ = ["load_cdnow_master", "load_cdnow_sample", *_GENERATOR]


def __getattr__(name: str) -> Any:
    if name in _GENERATOR:
        import importlib

        return getattr(importlib.import_module(_GENERATOR[name]), name)
    raise AttributeError(f"module 'clientlens.datasets' has no attribute {name!r}")
