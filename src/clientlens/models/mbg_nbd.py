"""MBG/NBD: the modified BG/NBD of Batislam, Denizel & Filiztekin (2007).

Batislam, E. P., Denizel, M. & Filiztekin, A. (2007). Empirical validation and comparison of models
for customer base analysis. *International Journal of Research in Marketing* 24(3), 201-209.

As BG/NBD (:mod:`clientlens.models.bg_nbd`), but a customer may also drop out right after the first
purchase (time 0), so customers with no repeat purchase are no longer certainly alive:
P(alive) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)) for every x (their eq. 4), and the
likelihood carries B(a, b+x+1) (their eq. 3).
"""

from __future__ import annotations

from typing import ClassVar

from clientlens.models.bg_nbd import BetaGeo


class ModifiedBetaGeo(BetaGeo):
    """MBG/NBD. ``params_``: ``r``, ``alpha`` (time unit of the summary), ``a``, ``b``."""

    _modified: ClassVar[bool] = True
    prior_centre: ClassVar[tuple[float, ...]] = (0.525, 6.183 * 10 / 38.86, 0.891, 1.614)  # CDNOW, our fit
