"""CDNOW sample summaries shared by the model tests (calibration to 1997-09-30, weeks)."""

from __future__ import annotations

import pandas as pd
import pytest

from clientlens.datasets import load_cdnow_sample
from clientlens.features import rfm_summary


@pytest.fixture(scope="session")
def cdnow_summary() -> pd.DataFrame:
    return rfm_summary(load_cdnow_sample(), calibration_end="1997-09-30", observation_end="1998-06-30")
