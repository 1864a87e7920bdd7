"""Predictive customer models: BG/NBD, Pareto/NBD, MBG/NBD, Gamma-Gamma, sBG, CLV, next products.

Every model follows the scikit-learn estimator contract (``fit`` returns ``self``; ``params_``,
``log_likelihood_``, ``standard_errors_``; :class:`~clientlens.errors.NotFittedError` before fit).

>>> from clientlens.datasets import load_cdnow_sample
>>> from clientlens.features import rfm_summary
>>> from clientlens.models import BetaGeo, GammaGamma
>>> summary = rfm_summary(load_cdnow_sample(), observation_end="1997-09-30")
>>> bg = BetaGeo().fit(summary)
>>> round(bg.params_["alpha"], 3)
4.414
"""

from __future__ import annotations

from clientlens.models.bg_nbd import BetaGeo
from clientlens.models.clv import average_days_between_orders, clv, expected_next_order
from clientlens.models.cnbd import ModifiedBetaGeoCNBD
from clientlens.models.gamma_gamma import GammaGamma
from clientlens.models.mbg_nbd import ModifiedBetaGeo
from clientlens.models.pareto_nbd import ParetoNBD
from clientlens.models.sbg import ShiftedBetaGeometric

#: The transaction models by their configuration name.
TRANSACTION_MODELS = {"bg_nbd": BetaGeo, "pareto_nbd": ParetoNBD, "mbg_nbd": ModifiedBetaGeo,
                      "mbg_cnbd_k": ModifiedBetaGeoCNBD}

__all__ = [
    "TRANSACTION_MODELS",
    "BetaGeo",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ModifiedBetaGeoCNBD",
    "ParetoNBD",
    "ShiftedBetaGeometric",
    "average_days_between_orders",
    "clv",
    "expected_next_order",
]
