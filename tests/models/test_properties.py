"""Never NaN or inf for valid input, and clear errors for invalid input (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientlens.errors import MissingColumnsError, ModelError
from clientlens.models import BetaGeo, GammaGamma, ModifiedBetaGeo, ParetoNBD
from clientlens.models._data import Design, make_design
from clientlens.models.bg_nbd import bg_family_mean_nll
from clientlens.models.pareto_nbd import _pareto_mean_nll_value


@st.composite
def customers(draw, max_size: int = 30):  # type: ignore[no-untyped-def]
    n = draw(st.integers(1, max_size))
    rows = []
    for _ in range(n):
        T = draw(st.floats(0.1, 5000.0))
        x = draw(st.integers(0, 3000))
        tx = 0.0 if x == 0 else draw(st.floats(0.0, 1.0)) * T
        rows.append((float(x), tx, T))
    return pd.DataFrame(rows, columns=["frequency", "recency", "T"])


params4 = st.tuples(*(st.floats(1e-3, 1e3) for _ in range(4)))


@settings(max_examples=60, deadline=None)
@given(customers(), params4)
def test_likelihoods_are_finite(df: pd.DataFrame, p: tuple[float, float, float, float]) -> None:
    d: Design = make_design(df["frequency"].to_numpy(), df["recency"].to_numpy(), df["T"].to_numpy(),
                            np.ones(len(df)))
    theta = np.log(np.array(p))
    for modified in (False, True):
        f, g = bg_family_mean_nll(theta, d, modified)
        assert np.isfinite(f) and np.all(np.isfinite(g))
    assert np.isfinite(_pareto_mean_nll_value(theta, d))


FITTED: dict[type, object] = {}


def _fitted(model: type, summary: pd.DataFrame):  # type: ignore[no-untyped-def]
    if model not in FITTED:
        FITTED[model] = model().fit(summary)
    return FITTED[model]


@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo, ParetoNBD])
def test_predictions_are_finite_for_extreme_customers(cdnow_summary: pd.DataFrame, model: type) -> None:
    m = _fitted(model, cdnow_summary)

    @settings(max_examples=40, deadline=None)
    @given(customers(), st.floats(0.0, 5000.0))
    def check(df: pd.DataFrame, t: float) -> None:
        e = m.expected_purchases(t, df)
        p = m.p_alive(df)
        q0 = m.prob_purchases(0, t, df)
        q2 = m.prob_purchases(2, t, df)
        for arr in (e, p, q0, q2):
            assert np.all(np.isfinite(arr))
        assert np.all(e >= 0) and np.all((p >= 0) & (p <= 1)) and np.all((q0 >= 0) & (q0 <= 1))
        assert np.all(np.isfinite(m.expected_purchases_new(np.array([t]))))

    check()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 500), st.floats(0.01, 1e5)), min_size=1, max_size=30))
def test_gamma_gamma_spend_is_finite(rows: list[tuple[int, float]]) -> None:
    gg = GammaGamma()
    gg.params_ = {"p": 6.25, "q": 3.74, "v": 15.44}
    df = pd.DataFrame(rows, columns=["frequency", "monetary_value"])
    out = gg.expected_spend(df)
    assert np.all(np.isfinite(out)) and np.all(out > 0)


def test_large_frequency_and_T_stay_finite() -> None:
    """A loyal customer of a daily-unit shop: hundreds of purchases over years."""
    df = pd.DataFrame({"frequency": [0.0, 900.0, 2500.0], "recency": [0.0, 3600.0, 3000.0],
                       "T": [4000.0, 3650.0, 3650.0]})
    for model in (BetaGeo(), ModifiedBetaGeo(), ParetoNBD()):
        model.fit(df)
        assert np.isfinite(model.log_likelihood_)
        for arr in (model.p_alive(df), model.expected_purchases(365.0, df)):
            assert np.all(np.isfinite(arr))


@pytest.mark.parametrize(("frame", "message"), [
    ({"frequency": [1.0], "recency": [5.0], "T": [4.0]}, "greater than 'T'"),
    ({"frequency": [-1.0], "recency": [0.0], "T": [4.0]}, "negative"),
    ({"frequency": [1.5], "recency": [1.0], "T": [4.0]}, "whole numbers"),
    ({"frequency": [0.0], "recency": [1.0], "T": [4.0]}, "must be 0"),
    ({"frequency": [1.0], "recency": [float("nan")], "T": [4.0]}, "missing"),
])
@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo, ParetoNBD])
def test_invalid_input_is_a_model_error(model: type, frame: dict[str, list[float]], message: str) -> None:
    df = pd.DataFrame(frame, index=pd.Index(["c-7"], name="customer_id"))
    with pytest.raises(ModelError, match=message) as info:
        model().fit(df)
    assert "c-7" in str(info.value) and "row 1" in str(info.value)


def test_missing_columns_and_bad_spend() -> None:
    with pytest.raises(MissingColumnsError, match="recency"):
        BetaGeo().fit(pd.DataFrame({"frequency": [1.0], "T": [3.0]}))
    with pytest.raises(ModelError, match="repeat buyers"):
        GammaGamma().fit(pd.DataFrame({"frequency": [0.0, 2.0], "monetary_value": [0.0, 10.0]}))
    with pytest.raises(ModelError, match="penalizer_coef"):
        BetaGeo(penalizer_coef=-1).fit(pd.DataFrame({"frequency": [1.0], "recency": [1.0], "T": [3.0]}))


def test_polars_arrow_and_pandas_give_the_same_fit(cdnow_summary: pd.DataFrame) -> None:
    base = cdnow_summary[["frequency", "recency", "T"]]
    p1 = BetaGeo().fit(base).params_
    p2 = BetaGeo().fit(pl.from_pandas(base.reset_index(drop=True))).params_
    p3 = BetaGeo().fit(pa.Table.from_pandas(base.reset_index(drop=True))).params_
    assert p1 == p2 == p3
    pl_summary = pl.from_pandas(base.reset_index(drop=True))
    np.testing.assert_array_equal(BetaGeo().fit(base).p_alive(pl_summary), BetaGeo().fit(base).p_alive(base))


def test_weights_equal_repeated_rows(cdnow_summary: pd.DataFrame) -> None:
    s = cdnow_summary[["frequency", "recency", "T"]].iloc[:300]
    doubled = pd.concat([s, s])
    a = ParetoNBD().fit(doubled)
    b = ParetoNBD().fit(s, weights=np.full(len(s), 2.0))
    assert a.params_ == pytest.approx(b.params_, rel=1e-10)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-10)


@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo, ParetoNBD])
def test_predictions_per_distinct_history_equal_row_by_row(cdnow_summary: pd.DataFrame, model: type,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import clientlens.models._base as base

    m = _fitted(model, cdnow_summary)
    s = cdnow_summary[["frequency", "recency", "T"]]
    rows = (m.p_alive(s), m.expected_purchases(39.0, s), m.prob_purchases(1, 10.0, s))
    monkeypatch.setattr(base, "COMPRESS_MIN_ROWS", 10)
    packed = (m.p_alive(s), m.expected_purchases(39.0, s), m.prob_purchases(1, 10.0, s))
    for a, b in zip(rows, packed, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo, ParetoNBD])
def test_warm_start_of_large_bases_reaches_the_same_optimum(cdnow_summary: pd.DataFrame, model: type,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import clientlens.models._base as base

    direct = model().fit(cdnow_summary)
    monkeypatch.setattr(base, "COARSE_MIN_ROWS", 100)  # CDNOW has ~1,500 distinct histories
    warm = model().fit(cdnow_summary)
    assert warm.params_ == pytest.approx(direct.params_, rel=1e-5)
    assert warm.log_likelihood_ == pytest.approx(direct.log_likelihood_, abs=1e-6)


@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo, ParetoNBD])
def test_log_likelihood_on_the_data_scale_and_design_order(model: type) -> None:
    """The log-likelihood reported after a fit on rescaled times equals the likelihood evaluated on
    the original times; the design is the same whatever the order of the customers."""
    from clientlens.models.simulate import simulate_bg_nbd

    s = simulate_bg_nbd(30_000, r=0.243, alpha=4.414, a=0.793, b=2.426, acquisition=(26.0, 78.0),
                        calibration=78.0, holdout=0.0, whole_days=True, seed=5)
    m = model().fit(s)
    d = make_design(s["frequency"].to_numpy(), s["recency"].to_numpy(), s["T"].to_numpy(), np.ones(len(s)))
    theta = np.log([m.params_[k] for k in model.param_names])
    direct = -model._mean_nll(theta, d)[0] * len(s)
    assert m.log_likelihood_ == pytest.approx(direct, rel=1e-10)
    shuffled = s.sample(frac=1.0, random_state=1)
    d2 = make_design(shuffled["frequency"].to_numpy(), shuffled["recency"].to_numpy(), shuffled["T"].to_numpy(),
                     np.ones(len(s)))
    np.testing.assert_array_equal(d.x, d2.x)
    np.testing.assert_array_equal(d.T, d2.T)
    np.testing.assert_array_equal(d.w, d2.w)
    assert model().fit(shuffled).params_ == m.params_
