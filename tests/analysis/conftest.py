"""Fixtures of the analysis tests: the feature table (real, or the pandas stand-in until it exists)."""

from __future__ import annotations

import pytest

from clientlens.analysis import adapters
from tests.analysis.standin import standin_feature_table


@pytest.fixture(autouse=True)
def feature_table_available(monkeypatch: pytest.MonkeyPatch) -> None:
    """Use the pandas stand-in while clientlens.features has no feature table."""
    if adapters.find_function(adapters.FEATURE_TABLE_CANDIDATES) is None:
        monkeypatch.setattr(adapters, "find_function",
                            lambda cands, _orig=adapters.find_function: standin_feature_table
                            if cands == adapters.FEATURE_TABLE_CANDIDATES else _orig(cands))
