"""Simulated customer bases from the BG/NBD family, for tests and benchmarks.

A customer buys at Poisson rate lambda ~ Gamma(r, alpha) while active and drops out after each
repeat purchase with probability p ~ Beta(a, b) (MBG/NBD: after the first purchase too). First
purchases are spread uniformly over ``acquisition`` time units; purchase times are continuous or,
as a real order log gives them, whole days (several purchases on one day count once).

>>> s = simulate_bg_nbd(1000, r=0.25, alpha=4.0, a=0.2, b=0.5, seed=1)
>>> sorted(s.columns)
['T', 'duration_holdout', 'frequency', 'frequency_holdout', 'recency']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clientlens.features.btyd import UNIT_DAYS


def simulate_bg_nbd(n: int, *, r: float, alpha: float, a: float, b: float, calibration: float = 39.0,
                    holdout: float = 39.0, acquisition: float | tuple[float, float] = 12.0,
                    modified: bool = False, whole_days: bool = False, time_unit: str = "W",
                    seed: int = 0) -> pd.DataFrame:
    """Summary of ``n`` simulated customers: ``frequency``, ``recency``, ``T`` (calibration) and
    ``frequency_holdout``, ``duration_holdout`` (``holdout`` time units after the calibration end).

    ``acquisition`` is the length of the period of first purchases from the start, or a (min, max)
    range of T: first purchases then fall so that T is uniform over that range. Times are in
    ``time_unit`` ("D", "W", "M"); ``whole_days`` rounds every purchase down to its day.
    """
    rng = np.random.default_rng(seed)
    day = 1.0 / UNIT_DAYS[time_unit]  # one day in time units
    if isinstance(acquisition, tuple):
        lo, hi = acquisition
        T = rng.uniform(lo, hi, n)
        first = calibration - T
    else:
        first = rng.uniform(0.0, acquisition, n)
    if whole_days:
        first = np.floor(first / day) * day
    lam = rng.gamma(r, 1.0 / alpha, n)
    drop = rng.beta(a, b, n)
    end = calibration + holdout
    t = first.copy()
    last = first.copy()
    last_cal = first.copy()
    freq = np.zeros(n)
    freq_hold = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    if modified:
        alive &= rng.random(n) >= drop
    idx = np.flatnonzero(alive)
    while idx.size:
        t[idx] += rng.exponential(1.0, idx.size) / np.maximum(lam[idx], 1e-300)
        inside = t[idx] < end
        idx = idx[inside]
        when = np.floor(t[idx] / day) * day if whole_days else t[idx]
        new = when > last[idx]
        got = idx[new]
        last[got] = when[new]
        in_cal = when[new] < calibration
        freq[got[in_cal]] += 1
        last_cal[got[in_cal]] = when[new][in_cal]
        freq_hold[got[~in_cal]] += 1
        survive = rng.random(idx.size) >= drop[idx]
        idx = idx[survive]
    return pd.DataFrame({"frequency": freq, "recency": last_cal - first, "T": calibration - first,
                         "frequency_holdout": freq_hold, "duration_holdout": np.full(n, holdout)})


__all__ = ["simulate_bg_nbd"]
