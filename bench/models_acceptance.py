"""Issue 14 acceptance figures in one run (docs/models.md): CDNOW master holdout against lifetimes
and the baselines, what `analyze` predicts by default, the regularity models on the sample shop,
the next-order tables and the interval coverage.

    nice .venv/bin/python bench/models_acceptance.py [--customers 5000]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from clientlens.datasets.cdnow import load_cdnow_master
from clientlens.datasets.generator import generate_shop
from clientlens.features import rfm_summary
from clientlens.models.config import ModelSettings
from clientlens.models.health import fit_checked
from clientlens.models.intervals import purchase_intervals
from clientlens.models.regularity import add_litt, wheat_morrison
from clientlens.models.validation import auto_split, choose_model, holdout_log_likelihood, validate_models

CAL, END = "1997-09-30", "1998-06-30"


def _row(name: str, pred: np.ndarray, actual: np.ndarray, hll: float = float("nan")) -> dict[str, object]:
    return {"model": name, "holdout LL": hll, "predicted": pred.sum(), "actual": actual.sum(),
            "total vs actual": pred.sum() / actual.sum() - 1, "MAE": np.mean(np.abs(pred - actual))}


def _md(df: pd.DataFrame) -> str:
    def cell(v: object) -> str:
        if isinstance(v, float | np.floating):
            return "" if np.isnan(v) else f"{v:,.4f}"
        return str(v)

    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def cdnow(cfg: ModelSettings) -> None:
    orders = load_cdnow_master()
    res = validate_models(orders, calibration_end=CAL, holdout_end=END, settings=cfg)
    s = add_litt(rfm_summary(orders, calibration_end=CAL, observation_end=END), orders, end=CAL)
    actual = s["frequency_holdout"].to_numpy(dtype=float)
    dur = s["duration_holdout"].to_numpy(dtype=float)
    rows = [{"model": r.name, "holdout LL": r.holdout_log_likelihood, "predicted": r.predicted_total,
             "actual": r.actual_total, "total vs actual": r.predicted_total / r.actual_total - 1, "MAE": r.mae}
            for r in res.reports + res.baselines]
    import lifetimes

    warnings.filterwarnings("ignore")
    for name, cls in (("lifetimes BG/NBD", lifetimes.BetaGeoFitter), ("lifetimes Pareto/NBD", lifetimes.ParetoNBDFitter),
                      ("lifetimes MBG/NBD", lifetimes.ModifiedBetaGeoFitter)):
        f = cls().fit(s["frequency"], s["recency"], s["T"])
        pred = np.asarray(f.conditional_expected_number_of_purchases_up_to_time(dur, s["frequency"], s["recency"],
                                                                                  s["T"]), dtype=float)
        rows.append(_row(name, pred, actual))
    choice = choose_model(orders[orders["order_date"] <= CAL], as_of=CAL, settings=cfg)
    out = fit_checked(choice.name, s, cfg)
    assert out.model is not None
    pred = out.model.expected_purchases(dur, s)
    hll = float(np.mean(holdout_log_likelihood(out.model, s, actual, dur)))
    rows.append(_row(f"analyze default ({out.name}; {choice.source}, split {choice.calibration_end}"
                     f"..{choice.holdout_end})", pred, actual, hll))
    print(f"## CDNOW master, calibration to {CAL}, holdout to {END} ({len(s)} customers; holdout counts = "
          "repeat purchase days)\n")
    print(_md(pd.DataFrame(rows)))
    k = getattr(fit_checked("mbg_cnbd_k", s, cfg).model, "k_", None)
    wm, n = wheat_morrison(orders, end=CAL)
    print(f"\nMBG/CNBD-k chooses k = {k}; Wheat-Morrison regularity {wm:.3f} ({n} customers with 3+ purchase days)")
    lo, hi, mass = purchase_intervals(out.model, s, 39.0, level=cfg.interval_level, draws=cfg.interval_draws,
                                      with_mass=True)
    print(f"80% intervals of the 39-week holdout ({out.name}): {np.mean((actual >= lo) & (actual <= hi)):.3f} of "
          f"customers inside (predicted {mass.mean():.3f})\n")
    print("### Next order date (CDNOW)\n")
    print(_md(res.next_order) if res.next_order is not None else "none")


def sample_shop(cfg: ModelSettings, customers: int) -> None:
    shop = generate_shop(customers, seed=42)
    split = auto_split(shop.orders, shop.as_of, cfg)
    assert split is not None
    cal, end = split
    res = validate_models(shop.orders, calibration_end=cal, holdout_end=end, settings=cfg)
    print(f"\n## Sample shop (generate_shop({customers}, seed=42)), automatic split {cal} .. {end}\n")
    print(_md(pd.DataFrame([{"model": r.name, "holdout LL": r.holdout_log_likelihood, "predicted": r.predicted_total,
                             "actual": r.actual_total, "MAE": r.mae, "status": r.status}
                            for r in res.reports + res.baselines])))
    print(f"\nbest by holdout log-likelihood: {res.best}\n")
    s = add_litt(rfm_summary(shop.orders, calibration_end=cal, observation_end=end), shop.orders, end=cal)
    actual = s["frequency_holdout"].to_numpy(dtype=float)
    dur = s["duration_holdout"].to_numpy(dtype=float)
    profile = shop.truth.set_index(shop.truth["customer_id"].astype(str))["profile"].reindex(s.index.astype(str))
    fitted = {}
    for name in ("bg_nbd", "pareto_nbd", "mbg_nbd", "mbg_cnbd_k"):
        m = fit_checked(name, s, cfg).model
        if m is not None:
            fitted[name] = (m, holdout_log_likelihood(m, s, actual, dur), m.expected_purchases(dur, s))
    rows = []
    for p in sorted(profile.dropna().unique()):
        sel = (profile == p).to_numpy()
        wm, n = wheat_morrison(shop.orders, end=cal, customers=s.index[sel])
        row: dict[str, object] = {"profile": p, "customers": int(sel.sum()), "Wheat-Morrison k": wm}
        for name, (_, hll, pred) in fitted.items():
            row[f"{name} LL"] = float(hll[sel].mean())
            row[f"{name} MAE"] = float(np.mean(np.abs(pred[sel] - actual[sel])))
        rows.append(row)
    print(f"MBG/CNBD-k chose k = {getattr(fitted['mbg_cnbd_k'][0], 'k_', None)}; holdout log-likelihood and MAE "
          "per customer by the generator's profile:\n")
    print(_md(pd.DataFrame(rows)))
    print("\n### Next order date (sample shop)\n")
    print(_md(res.next_order) if res.next_order is not None else "none")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--customers", type=int, default=5000)
    args = ap.parse_args()
    cfg = ModelSettings()
    t0 = time.perf_counter()
    cdnow(cfg)
    sample_shop(cfg, args.customers)
    print(f"\n(run took {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
