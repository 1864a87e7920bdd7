"""The scikit-learn estimator contract, run over every clientlens estimator (STYLE.md)."""

from __future__ import annotations

import inspect
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from clientlens.datasets import load_cdnow_sample
from clientlens.errors import NotFittedError
from clientlens.features import rfm_summary
from clientlens.models import BetaGeo, GammaGamma, ModifiedBetaGeo, ParetoNBD, ShiftedBetaGeometric


def _summary() -> pd.DataFrame:
    return rfm_summary(load_cdnow_sample(), observation_end="1997-09-30")


def _repeat() -> pd.DataFrame:
    s = _summary()
    return s[s["frequency"] > 0]


def _survival() -> list[int]:
    return [1000, 631, 468, 382, 326, 289, 262, 241]


def _lines() -> pd.DataFrame:
    from tests.models.test_recommend import small_order_lines

    return small_order_lines()


CASES: list[tuple[type, Callable[[], Any], Callable[[Any, Any], Any], tuple[str, ...]]] = [
    (BetaGeo, _summary, lambda m, d: m.p_alive(d), ("r", "alpha", "a", "b")),
    (ModifiedBetaGeo, _summary, lambda m, d: m.expected_purchases(10, d), ("r", "alpha", "a", "b")),
    (ParetoNBD, _summary, lambda m, d: m.p_alive(d), ("r", "alpha", "s", "beta")),
    (GammaGamma, _repeat, lambda m, d: m.expected_spend(d), ("p", "q", "v")),
    (ShiftedBetaGeometric, _survival, lambda m, d: m.survival([1, 2, 3]), ("alpha", "beta")),
]


def _copy(data: Any) -> Any:
    return data.copy(deep=True) if isinstance(data, pd.DataFrame) else list(data)


def _recommender_case() -> list[Any]:
    try:
        from clientlens.models.recommend import ItemToItemRecommender
    except ImportError:
        return []
    return [(ItemToItemRecommender, _lines, lambda m, d: m.recommend(["c1"], d, k=3), ())]


ALL = CASES + _recommender_case()
IDS = [c[0].__name__ for c in ALL]


@pytest.mark.parametrize(("cls", "data", "predict", "keys"), ALL, ids=IDS)
def test_init_only_stores_kwargs(cls: type, data: Callable[[], Any], predict: Callable[[Any, Any], Any],
                                 keys: tuple[str, ...]) -> None:
    sig = inspect.signature(cls.__init__)
    kwargs = {name: p.default for name, p in sig.parameters.items() if name != "self"}
    assert all(p.default is not inspect.Parameter.empty for n, p in sig.parameters.items() if n != "self")
    est = cls(**kwargs)
    assert est.get_params() == kwargs
    assert {k for k in vars(est)} == set(kwargs)  # nothing else is set in __init__
    assert repr(est).startswith(cls.__name__)


@pytest.mark.parametrize(("cls", "data", "predict", "keys"), ALL, ids=IDS)
def test_not_fitted_error_before_fit(cls: type, data: Callable[[], Any], predict: Callable[[Any, Any], Any],
                                     keys: tuple[str, ...]) -> None:
    d = data()
    with pytest.raises(NotFittedError) as info:
        predict(cls(), d)
    assert isinstance(info.value, ValueError) and isinstance(info.value, AttributeError)


@pytest.mark.parametrize(("cls", "data", "predict", "keys"), ALL, ids=IDS)
def test_fit_returns_self_learns_and_keeps_no_data(cls: type, data: Callable[[], Any],
                                                   predict: Callable[[Any, Any], Any], keys: tuple[str, ...]) -> None:
    d = data()
    est = cls()
    assert est.fit(d) is est
    if keys:
        assert tuple(est.params_) == keys
        assert np.isfinite(est.log_likelihood_)
        assert set(est.standard_errors_) == set(keys)
    for value in vars(est).values():  # no reference to the training data
        assert value is not d
        assert not isinstance(value, pd.DataFrame | pd.Series)
    size = len(pickle.dumps(est))
    assert size < 200_000
    first = np.asarray(predict(est, d))
    again = cls().fit(_copy(d))  # the same data (a fresh copy) gives the same parameters, bit for bit
    np.testing.assert_array_equal(np.asarray(predict(again, d)), first)
    if keys:
        assert again.params_ == est.params_


@pytest.mark.parametrize(("cls", "data", "predict", "keys"), ALL, ids=IDS)
def test_set_params_round_trip(cls: type, data: Callable[[], Any], predict: Callable[[Any, Any], Any],
                               keys: tuple[str, ...]) -> None:
    est = cls()
    params = est.get_params()
    assert est.set_params(**params) is est
    assert est.get_params() == params
