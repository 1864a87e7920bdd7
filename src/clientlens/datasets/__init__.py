"""Data sets: the real CDNOW logs shipped in the package, and the sample-shop generator."""

from clientlens.datasets.cdnow import load_cdnow_master, load_cdnow_sample

__all__ = ["load_cdnow_master", "load_cdnow_sample"]
