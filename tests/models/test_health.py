"""No silent nonsense: small CDNOW subsamples never give a degenerate fit without saying so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clientlens.config import load_settings
from clientlens.datasets import load_cdnow_sample
from clientlens.models import TRANSACTION_MODELS
from clientlens.models.config import ModelSettings, model_settings
from clientlens.models.health import fit_checked, fit_problems
from clientlens.models.scoring import score_customers

#: A prediction more than this factor away from the full-sample model's is nonsense.
MAX_FACTOR = 5.0


@pytest.fixture(scope="module")
def full(cdnow_summary: pd.DataFrame) -> dict[str, object]:
    return {name: cls().fit(cdnow_summary) for name, cls in TRANSACTION_MODELS.items()}


def _subsamples(summary: pd.DataFrame, n: int, count: int = 12) -> list[pd.DataFrame]:
    rng = np.random.default_rng(n)
    return [summary.iloc[rng.choice(len(summary), n, replace=False)] for _ in range(count)]


def _nonsense(model, truth_model, sub: pd.DataFrame) -> bool:  # type: ignore[no-untyped-def]
    pred = model.expected_purchases(39.0, sub)
    truth = truth_model.expected_purchases(39.0, sub)
    factor = np.exp(np.max(np.abs(np.log((pred + 0.05) / (truth + 0.05)))))
    return bool(factor > MAX_FACTOR or fit_problems(model, ModelSettings()))


@pytest.mark.parametrize("n", [5, 20, 200])
def test_subsamples_never_give_a_silent_degenerate_fit(cdnow_summary: pd.DataFrame, full, n: int) -> None:  # type: ignore[no-untyped-def]
    cfg = ModelSettings()
    for sub in _subsamples(cdnow_summary, n):
        for name in TRANSACTION_MODELS:
            outcome = fit_checked(name, sub, cfg)
            if outcome.status != "ok":
                assert outcome.notes, outcome  # never silent
            if outcome.model is None:
                assert outcome.status == "empty"
                continue
            assert not _nonsense(outcome.model, full[outcome.name or name], sub), (n, name, outcome)
            if n < cfg.small_base_customers:
                assert outcome.status in ("regularised", "fallback")
    if n < ModelSettings().min_customers:
        assert fit_checked("bg_nbd", sub, cfg).status == "empty"


def test_degenerate_maximum_likelihood_is_detected_and_regularised(cdnow_summary: pd.DataFrame, full) -> None:  # type: ignore[no-untyped-def]
    """With the small-base rule switched off, 20-customer maximum-likelihood fits often sit on a
    boundary; every such fit is caught, refitted with the prior and flagged."""
    cfg = ModelSettings(small_base_customers=0)
    caught = 0
    for sub in _subsamples(cdnow_summary, 20):
        for name, cls in TRANSACTION_MODELS.items():
            mle = cls().fit(sub)
            outcome = fit_checked(name, sub, cfg)
            if fit_problems(mle, cfg):
                caught += 1
                assert outcome.status in ("regularised", "fallback", "empty")
                said = "min_repeat_buyers" if outcome.status == "empty" and outcome.model is None else "degenerate"
                assert any(said in note for note in outcome.notes), outcome
            if outcome.model is not None:
                assert not _nonsense(outcome.model, full[outcome.name or name], sub)
    assert caught >= 3


def test_scores_say_when_the_fit_is_regularised() -> None:
    orders = load_cdnow_sample()
    ids = orders["customer_id"].drop_duplicates().sample(200, random_state=3)
    sub = orders[orders["customer_id"].isin(ids)]
    settings = load_settings(search_cwd=False)
    scores = score_customers(sub, None, as_of="1997-09-30", settings=settings, model="bg_nbd")
    info = scores.attrs["models"]
    assert set(scores["model_status"]) == {"regularised"} == {info["status"]}
    assert "small_base_customers" in " ".join(info["notes"])
    assert scores["expected_purchases_365d"].notna().all()
    cfg = model_settings(settings)
    assert cfg.small_base_customers > 200
