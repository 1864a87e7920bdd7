"""Input handling shared by the models: columns out of pandas / Polars / Arrow, invariants, compression.

Every model takes a *summary* (one row per customer, columns ``frequency``, ``recency``, ``T`` and for
Gamma-Gamma ``monetary_value``) as a pandas or Polars DataFrame or an Arrow table, and returns NumPy
arrays aligned with its rows. Fitting works on the unique (frequency, recency, T) rows with their
counts as weights, and each likelihood is evaluated on the distinct levels of every column
(:class:`Design`), so the cost grows with the number of distinct values, not with the customers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from clientlens.errors import MissingColumnsError, ModelError

FloatArray = np.ndarray


def as_pandas(data: Any) -> pd.DataFrame:
    """A pandas frame from pandas, Polars or Arrow input (one conversion for every model)."""
    if isinstance(data, pd.DataFrame):
        return data
    if hasattr(data, "to_pandas"):
        return data.to_pandas()  # type: ignore[no-any-return]
    raise ModelError(f"expected a pandas or Polars DataFrame or an Arrow table, got {type(data).__name__}")


def column_names(data: Any) -> list[str]:
    """Column names of a pandas / Polars DataFrame or an Arrow table."""
    if hasattr(data, "column_names"):  # pyarrow.Table / RecordBatch
        return list(data.column_names)
    if hasattr(data, "columns"):
        return [str(c) for c in data.columns]
    raise ModelError(f"expected a pandas or Polars DataFrame or an Arrow table, got {type(data).__name__}")


def get_column(data: Any, name: str) -> np.ndarray:
    """One column as a NumPy array (nulls become NaN)."""
    if hasattr(data, "column_names") and hasattr(data, "column"):  # Arrow
        col = data.column(name)
        return np.asarray(col.to_numpy(zero_copy_only=False) if hasattr(col, "to_numpy") else col)
    col = data[name]
    if isinstance(col, pd.Series):
        return col.to_numpy(dtype=float, na_value=np.nan) if col.dtype != object else col.to_numpy()
    return np.asarray(col.to_numpy())


def as_float(values: Any, name: str) -> FloatArray:
    """``values`` as a float64 array; a clear error names the column when it is not numeric."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"column {name!r} must be numeric ({exc})") from exc
    return np.atleast_1d(arr)


def _first_bad(mask: np.ndarray, index: Sequence[Any] | None) -> str:
    pos = int(np.flatnonzero(mask)[0])
    label = f" (customer {index[pos]!r})" if index is not None else ""
    return f"row {pos + 1}{label}; {int(mask.sum())} row(s) in all"


def row_index(data: Any) -> Sequence[Any] | None:
    """The pandas index (customer ids) when there is one, for error messages."""
    return data.index if isinstance(data, pd.DataFrame) else None


def frt_arrays(data: Any, *, need_recency: bool = True) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validated ``frequency``, ``recency``, ``T`` arrays of a summary.

    Raises :class:`~clientlens.errors.ModelError` naming the column and the first bad row for
    negative or non-integer frequencies, negative recency, recency greater than T, or missing values.
    """
    cols = column_names(data)
    required = ["frequency", "recency", "T"] if need_recency else ["frequency", "T"]
    missing = [c for c in required if c not in cols]
    if missing:
        raise MissingColumnsError(
            f"summary lacks column(s) {', '.join(missing)}; build it with clientlens.features.rfm_summary"
        )
    idx = row_index(data)
    x = as_float(get_column(data, "frequency"), "frequency")
    T = as_float(get_column(data, "T"), "T")
    tx = as_float(get_column(data, "recency"), "recency") if need_recency else np.zeros_like(T)
    for name, arr in (("frequency", x), ("recency", tx), ("T", T)):
        bad = ~np.isfinite(arr)
        if bad.any():
            raise ModelError(f"column {name!r} has missing or infinite values at {_first_bad(bad, idx)}")
        bad = arr < 0
        if bad.any():
            raise ModelError(f"column {name!r} has negative values at {_first_bad(bad, idx)}")
    bad = x != np.round(x)
    if bad.any():
        raise ModelError(f"column 'frequency' must hold whole numbers; not so at {_first_bad(bad, idx)}")
    bad = tx > T * (1 + 1e-12) + 1e-12
    if bad.any():
        raise ModelError(f"column 'recency' is greater than 'T' at {_first_bad(bad, idx)}")
    bad = (x == 0) & (tx != 0)
    if bad.any():
        raise ModelError(f"column 'recency' must be 0 where 'frequency' is 0; not so at {_first_bad(bad, idx)}")
    return x, np.minimum(tx, T), T


def weights_array(data: Any, n: int, weights: Any = None) -> FloatArray:
    """Per-row weights (counts of identical customers); ones by default."""
    if weights is None:
        return np.ones(n)
    w = as_float(weights, "weights")
    if w.shape != (n,) or np.any(~np.isfinite(w)) or np.any(w < 0):
        raise ModelError("weights must be one non-negative finite number per summary row")
    return w


@dataclass(frozen=True)
class Level:
    """The distinct values of one column (``values``) and each unique row's position in them (``ix``)."""

    values: FloatArray
    ix: np.ndarray


@dataclass(frozen=True)
class LevelSums:
    """Weights per level: ``wx`` per x, ``wT`` per T, ``wxT`` (weight * x) per T; ``w_has_k`` the row
    weights of the rows with x > 0 (BG/NBD) and of all rows (MBG/NBD)."""

    W: float
    wx: np.ndarray
    wT: np.ndarray
    wxT: np.ndarray
    w_has_k: tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Design:
    """Unique (frequency, recency, T) rows with counts, each column kept as its distinct levels.

    ``x``, ``tx`` and ``T`` are the unique rows; ``levels`` hold the distinct values of each column so
    that per-value terms (gammaln of the frequency, logs of the times) are computed once per level.
    """

    x: FloatArray
    tx: FloatArray
    T: FloatArray
    w: FloatArray
    lx: Level
    ltx: Level
    lT: Level

    @property
    def n_customers(self) -> float:
        return float(self.w.sum())

    @cached_property
    def level_sums(self) -> LevelSums:
        """Weights summed per x level and per T level (for the likelihoods' per-level terms)."""
        w = self.w
        has = self.x > 0
        return LevelSums(
            W=float(w.sum()),
            wx=np.bincount(self.lx.ix, weights=w, minlength=len(self.lx.values)),
            wT=np.bincount(self.lT.ix, weights=w, minlength=len(self.lT.values)),
            wxT=np.bincount(self.lT.ix, weights=w * self.x, minlength=len(self.lT.values)),
            w_has_k=(w * has, w),
        )

    @cached_property
    def xt_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Distinct (x, u) pairs over u in t_x and T, and each row's pair index for t_x and for T
        (the Pareto/NBD hypergeometric terms depend on the pair only)."""
        n = len(self.x)
        nt = len(self.ltx.values) + len(self.lT.values)
        tcode = np.concatenate([self.ltx.ix, len(self.ltx.values) + self.lT.ix])
        key = np.concatenate([self.lx.ix, self.lx.ix]) * nt + tcode
        codes, ukeys = pd.factorize(key, sort=True)
        ukeys = np.asarray(ukeys, dtype=np.int64)
        tv = np.concatenate([self.ltx.values, self.lT.values])
        return self.lx.values[ukeys // nt], tv[ukeys % nt], codes[:n], codes[n:]

    def scaled(self, factor: float) -> Design:
        """The same design with the times multiplied by ``factor`` (for conditioning)."""
        return Design(self.x, self.tx * factor, self.T * factor, self.w, self.lx,
                      Level(self.ltx.values * factor, self.ltx.ix), Level(self.lT.values * factor, self.lT.ix))


def _factorize(values: FloatArray, sort: bool = True) -> tuple[np.ndarray, FloatArray]:
    """Codes and distinct values (hash-based; with ``sort`` the few distinct values are sorted
    afterwards and the codes renumbered, cheaper than pandas' sorting factorize)."""
    bits = np.ascontiguousarray(values, dtype=float) + 0.0  # -0.0 -> 0.0: equal values, equal bits
    if np.isfinite(bits).all():  # hashing the bit patterns is about twice as fast as hashing floats
        codes, ubits = pd.factorize(bits.view(np.int64), sort=False)
        uniques = np.asarray(ubits, dtype=np.int64).view(float)
    else:
        codes, uniques = pd.factorize(values, sort=False)
        uniques = np.asarray(uniques, dtype=float)
    codes = codes.astype(np.int64)
    if sort:
        order = np.argsort(uniques, kind="stable")
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        codes, uniques = rank[codes], uniques[order]
    return codes, uniques


#: Largest key space combined by marking a dense boolean array (one byte per key) instead of hashing;
#: up to _DENSE_MAP keys, each row's code is then read from a dense map (4 more bytes per key),
#: above by binary search in the distinct keys.
_DENSE_KEYS = 1 << 26
_DENSE_MAP = 1 << 24


def _combine(a: np.ndarray, b: np.ndarray, nb: int) -> tuple[np.ndarray, np.ndarray]:
    """Dense codes of the pairs (a, b) in sorted (a, b) order, and the distinct pair keys a * nb + b."""
    key = a * nb + b
    space = (int(a.max()) + 1) * nb if len(a) else 0
    if space <= _DENSE_KEYS:
        seen = np.zeros(space, dtype=bool)
        seen[key] = True
        ukeys = np.flatnonzero(seen)
        del seen
        if space > _DENSE_MAP:
            return np.searchsorted(ukeys, key).astype(np.int64), ukeys
        mapping = np.zeros(space, dtype=np.int32)
        mapping[ukeys] = np.arange(len(ukeys), dtype=np.int32)
        return mapping[key].astype(np.int64), ukeys
    codes, uk = pd.factorize(key, sort=False)
    ukeys = np.asarray(uk, dtype=np.int64)
    order = np.argsort(ukeys, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[codes.astype(np.int64)], ukeys[order]


def _row_keys(x: FloatArray, tx: FloatArray, T: FloatArray, sort: bool = True
              ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray], tuple[FloatArray, FloatArray, FloatArray]]:
    """(each row's distinct-row number, the level positions (ix, it, iT) of every distinct row, the
    column levels). Distinct rows are in sorted (x, t_x, T) order.

    Each column is factorised on its own (few distinct values); (t_x, T) pairs and then (x, pair)
    are made dense by marking an array of the key space (O(n)) when it is small enough, else by
    hashing."""
    cx, ux = _factorize(x, sort)
    ct, ut = _factorize(tx, sort)
    cT, uT = _factorize(T, sort)
    nT = len(uT)
    pair, upair = _combine(ct, cT, nT)  # (t_x, T) pairs first: t_x <= T keeps them few
    inverse, ukeys = _combine(cx, pair, len(upair))
    p = upair[ukeys % len(upair)]
    return inverse, (ukeys // len(upair), p // nT, p % nT), (ux, ut, uT)


def make_design(x: FloatArray, tx: FloatArray, T: FloatArray, w: FloatArray) -> Design:
    """Compress customers to unique (x, t_x, T) rows with summed weights (O(n)); the unique rows are
    in sorted order, so the design does not depend on the order of the customers."""
    inverse, (ix, it, iT), (ux, ut, uT) = _row_keys(x, tx, T)
    wsum = np.bincount(inverse, weights=w, minlength=len(ix))
    keep = wsum > 0
    ix, it, iT, wsum = ix[keep], it[keep], iT[keep], wsum[keep]
    return Design(ux[ix], ut[it], uT[iT], wsum, Level(ux, ix), Level(ut, it), Level(uT, iT))


#: Rows sampled by :func:`worth_compressing`.
_SAMPLE_ROWS = 2048


def worth_compressing(T: FloatArray) -> bool:
    """Whether customers are likely to share histories: False when nearly every sampled T differs
    (continuous times), where compressing would cost more than it saves."""
    if len(T) <= _SAMPLE_ROWS:
        return True
    sample = T[:: len(T) // _SAMPLE_ROWS][:_SAMPLE_ROWS]
    return bool(len(np.unique(sample)) <= 0.9 * len(sample))


def compress_rows(x: FloatArray, tx: FloatArray, T: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, np.ndarray]:
    """Unique (x, t_x, T) rows and, for every input row, the position of its unique row."""
    inverse, (ix, it, iT), (ux, ut, uT) = _row_keys(x, tx, T, sort=False)
    return ux[ix], ut[it], uT[iT], inverse
