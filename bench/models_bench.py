"""Benchmark: clientlens.models against lifetimes 0.11.3, fit and scoring times.

Customers are simulated from the CDNOW BG/NBD parameters (r=0.243, alpha=4.414 per week, a=0.793,
b=2.426; Gamma-Gamma spend p=6.25, q=3.74, v=15.44), first purchases spread over 12 weeks, a 39-week
calibration period, purchase times in whole days (as a real log gives them), summaries in weeks.
Each model is fitted by clientlens and by lifetimes in the same run; lifetimes' Pareto/NBD is run at
the smallest size only and its time at the larger one extrapolated linearly (marked "~").

Two further cases, each against lifetimes in the same run (the issue 14 goals):
- BG/NBD fit on a base with T uniform over 26-78 weeks in whole days (``clientlens.models.simulate``),
- scoring (P(alive), expected purchases over 90 and 365 days) on continuous, non-day times.

    .venv/bin/python bench/models_bench.py            # 100k and 1M customers
    .venv/bin/python bench/models_bench.py --quick    # 10k and 50k
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from clientlens.models import BetaGeo, GammaGamma, ModifiedBetaGeo, ParetoNBD

R, ALPHA, A, B = 0.243, 4.414, 0.793, 2.426
P, Q, V = 6.25, 3.74, 15.44
CAL_DAYS = 273


def simulate(n: int, seed: int = 7) -> pd.DataFrame:
    """BG/NBD customers with whole-day purchase times -> summary (frequency, recency, T, monetary_value)."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, 84, n)
    lam = rng.gamma(R, 1 / ALPHA, n) / 7.0  # per day
    drop = rng.beta(A, B, n)
    t = first.astype(float)
    last_day = first.copy()
    freq = np.zeros(n, dtype=np.int64)
    active = np.ones(n, dtype=bool)
    idx = np.arange(n)
    while idx.size:
        t[idx] += rng.exponential(1.0, idx.size) / np.maximum(lam[idx], 1e-300)
        day = np.floor(t[idx]).astype(np.int64)
        inside = day < CAL_DAYS
        idx, day = idx[inside], day[inside]
        new_day = day > last_day[idx]
        freq[idx[new_day]] += 1
        last_day[idx[new_day]] = day[new_day]
        survive = rng.random(idx.size) >= drop[idx]
        active[idx[~survive]] = False
        idx = idx[survive]
    nu = rng.gamma(Q, 1 / V, n)
    spend = np.where(freq > 0, rng.gamma(P * np.maximum(freq, 1), 1 / nu) / np.maximum(freq, 1), 0.0)
    return pd.DataFrame({"frequency": freq.astype(float), "recency": (last_day - first) / 7.0,
                         "T": (CAL_DAYS - first) / 7.0, "monetary_value": spend})


def timed(fn) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def lifetimes_fit(name: str, s: pd.DataFrame) -> float:
    import lifetimes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "GammaGamma":
            r = s[s["frequency"] > 0]
            return timed(lambda: lifetimes.GammaGammaFitter().fit(r["frequency"], r["monetary_value"]))[0]
        cls = {"BetaGeo": lifetimes.BetaGeoFitter, "ModifiedBetaGeo": lifetimes.ModifiedBetaGeoFitter,
               "ParetoNBD": lifetimes.ParetoNBDFitter}[name]
        return timed(lambda: cls().fit(s["frequency"], s["recency"], s["T"]))[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (10k, 50k)")
    ap.add_argument("--no-lifetimes", action="store_true", help="skip the lifetimes baselines")
    args = ap.parse_args()
    sizes = [10_000, 50_000] if args.quick else [100_000, 1_000_000]
    models = {"BetaGeo": BetaGeo, "ParetoNBD": ParetoNBD, "ModifiedBetaGeo": ModifiedBetaGeo, "GammaGamma": GammaGamma}
    rows = []
    pareto_lt_small: float | None = None
    for n in sizes:
        t_sim, s = timed(lambda n=n: simulate(n))
        print(f"\n{n:,} customers simulated in {t_sim:.1f}s; {int((s['frequency'] > 0).sum()):,} repeat buyers; "
              f"{len(s[['frequency', 'recency', 'T']].drop_duplicates()):,} distinct (x, t_x, T) rows")
        for name, cls in models.items():
            data = s[s["frequency"] > 0] if name == "GammaGamma" else s
            t_ours, m = timed(lambda cls=cls, data=data: cls().fit(data))
            params = ", ".join(f"{k}={v:.3g}" for k, v in m.params_.items())  # type: ignore[attr-defined]
            if args.no_lifetimes:
                t_lt, mark = float("nan"), ""
            elif name == "ParetoNBD" and n != sizes[0]:
                t_lt = (pareto_lt_small or float("nan")) * n / sizes[0]
                mark = "~"
            else:
                t_lt, mark = lifetimes_fit(name, s), ""
                if name == "ParetoNBD":
                    pareto_lt_small = t_lt
            ratio = t_lt / t_ours
            rows.append((n, name, t_ours, f"{mark}{t_lt:.2f}", ratio, params))
            print(f"  {name:<16} clientlens {t_ours:7.3f}s   lifetimes {mark}{t_lt:8.2f}s   {ratio:7.1f}x   {params}")
    n = sizes[-1]
    s = simulate(n)
    bg = BetaGeo().fit(s)
    gg = GammaGamma().fit(s[s["frequency"] > 0])

    from clientlens.models.scoring import predict_scores

    def score() -> None:
        predict_scores(bg, s, horizons=(90 / 7, 365 / 7))
        gg.expected_spend(s)

    t_score, _ = timed(score)
    print(f"\nscoring {n:,} customers (P(alive), expected purchases 90d and 365d, expected spend): {t_score:.3f}s")
    from clientlens.models import clv

    t_clv, _ = timed(lambda: clv(bg, gg, s))
    print(f"CLV of {n:,} customers (12 monthly steps): {t_clv:.3f}s")
    if not args.no_lifetimes:
        goals(n)
    print("\n| customers | model | clientlens (s) | lifetimes (s) | speed-up |")
    print("|---:|---|---:|---:|---:|")
    for n_, name, t_o, t_l, ratio, _ in rows:
        print(f"| {n_:,} | {name} | {t_o:.3f} | {t_l} | {ratio:.0f}x |")


def goals(n: int) -> None:
    """The two ratios of issue 14, each measured against lifetimes in this run."""
    import lifetimes

    from clientlens.models.scoring import predict_scores
    from clientlens.models.simulate import simulate_bg_nbd

    days = simulate_bg_nbd(n, r=R, alpha=ALPHA, a=A, b=B, acquisition=(26.0, 78.0), calibration=78.0, holdout=0.0,
                           whole_days=True, seed=11)
    t_ours = min(timed(lambda: BetaGeo().fit(days))[0] for _ in range(2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_lt, _ = timed(lambda: lifetimes.BetaGeoFitter().fit(days["frequency"], days["recency"], days["T"]))
    print(f"\nBG/NBD fit, {n:,} customers, T uniform over 26-78 weeks in whole days "
          f"({len(days[['frequency', 'recency', 'T']].drop_duplicates()):,} distinct histories): clientlens "
          f"{t_ours:.3f}s, lifetimes {t_lt:.2f}s: {t_lt / t_ours:.1f}x (goal 50x)")
    cont = simulate_bg_nbd(n, r=R, alpha=ALPHA, a=A, b=B, acquisition=(26.0, 78.0), calibration=78.0, holdout=0.0,
                           seed=12)
    bg = BetaGeo().fit(cont)
    lt = lifetimes.BetaGeoFitter()
    lt.params_ = pd.Series(bg.params_)
    horizons = (90 / 7, 365 / 7)
    t_ours = min(timed(lambda: predict_scores(bg, cont, horizons=horizons))[0] for _ in range(2))

    def theirs() -> None:
        f, r, T = cont["frequency"], cont["recency"], cont["T"]
        lt.conditional_probability_alive(f, r, T)
        for h in horizons:
            lt.conditional_expected_number_of_purchases_up_to_time(h, f, r, T)

    t_lt = min(timed(theirs)[0] for _ in range(2))
    print(f"scoring {n:,} customers on continuous times (P(alive), expected purchases 90d, 365d): clientlens "
          f"{t_ours:.3f}s, lifetimes {t_lt:.3f}s: {t_lt / t_ours:.2f}x (goal >= 1x)")


if __name__ == "__main__":
    main()
