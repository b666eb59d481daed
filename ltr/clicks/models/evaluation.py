"""Log-likelihood and perplexity of a fitted click model on held-out SERPs, in PyClick's conventions.

- **Log-likelihood** (PyClick ``LogLikelihood``): natural log; for each SERP the *mean* over its positions
  of ``ln P(C_r = c_r | C_<r)``, then the mean over SERPs. It is a per-position average, not a sum.
- **Perplexity** at position r (PyClick ``Perplexity``, after Dupret and Piwowarski 2008):
  ``2 ** (-(1/N_r) * sum_s log2 P(C_r = c_r))`` with the *unconditional* click probability; the overall
  perplexity is the arithmetic mean of the per-position values. A probability <= 0 is skipped and counted
  (PyClick prints a warning).
- **Conditional perplexity** (PyClick ``PerplexityCond``): the same with ``P(C_r = c_r | C_<r)``.
- **Test filter** (PyClick ``Utils.filter_sessions``, as in its examples): SERPs whose query is not in the
  training log are left out and counted (``unseen_queries="drop"``); ``"keep"`` evaluates them, with every
  pair at the unseen value.

Difference from PyClick, for logs whose SERPs have different lengths only: ``N_r`` is the number of SERPs
that show position r (PyClick divides by the number of all SERPs) and the overall perplexity averages the
positions that occur (PyClick always averages 10 slots, counting a missing position as perplexity 1). With
SERPs of 10 results, as in the Yandex sample, the two agree exactly.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from ltr.clicks.log import as_serps
from ltr.errors import DataError

__all__ = ["ClickModelScore", "log_likelihood", "perplexity", "evaluate"]


@dataclass(frozen=True)
class ClickModelScore:
    """Held-out fit of one click model (all values follow PyClick's definitions; see the module)."""

    model: str
    log_likelihood: float
    perplexity: float
    perplexity_at: tuple
    conditional_perplexity: float
    conditional_perplexity_at: tuple
    serps: int
    dropped_unseen_query: int = 0
    unseen_pairs: int = 0
    skipped: int = 0

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["perplexity_at"] = [float(v) for v in self.perplexity_at]
        out["conditional_perplexity_at"] = [float(v) for v in self.conditional_perplexity_at]
        return out


def log_likelihood(conditional: np.ndarray, mask: np.ndarray) -> float:
    """PyClick's log-likelihood: mean over SERPs of the mean over positions of ``ln P(C_r = c_r | C_<r)``.

    Parameters
    ----------
    conditional : ndarray of shape (n_serps, max_len)
        Probability of the observed click value given the clicks above.
    mask : ndarray of bool, same shape
        Positions shown.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(mask, np.log(np.where(mask, conditional, 1.0)), 0.0)
    per_serp = logs.sum(axis=1) / mask.sum(axis=1)
    return float(per_serp.mean())


def perplexity(observed: np.ndarray, mask: np.ndarray) -> tuple[float, np.ndarray, int]:
    """Per-position perplexity ``2 ** (-(1/N_r) sum log2 p)`` and its mean over positions.

    ``observed`` holds the probability of the observed value (``p`` for a click, ``1 - p`` otherwise).
    Returns (overall, per position, number of probabilities <= 0 skipped).
    """
    ok = mask & (observed > 0)
    skipped = int((mask & ~ok).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(ok, np.log2(np.where(ok, observed, 1.0)), 0.0)
    n_at = mask.sum(axis=0)
    present = n_at > 0
    per = np.full(mask.shape[1], np.nan)
    per[present] = 2.0 ** (-logs.sum(axis=0)[present] / n_at[present])
    return float(per[present].mean()), per, skipped


def evaluate(model, log, *, unseen_queries: str = "drop") -> ClickModelScore:
    """Score a fitted click model on held-out SERPs.

    Parameters
    ----------
    model : ClickModel
        Fitted.
    log : ClickLog or SerpMatrix
    unseen_queries : {"drop", "keep"}, default "drop"
        PyClick's protocol drops test SERPs whose query was not in training (counted in the result).
    """
    if unseen_queries not in ("drop", "keep"):
        raise DataError(f"unseen_queries must be 'drop' or 'keep', got {unseen_queries!r}")
    model._check_fitted()
    m = as_serps(log)
    dropped = 0
    if unseen_queries == "drop":
        known = pd.Index(model.train_queries_).get_indexer(m.queries) >= 0
        keep = known[m.query]
        dropped = int((~keep).sum())
        if dropped:
            m = m.take(np.flatnonzero(keep))
    if m.n_serps == 0:
        raise DataError(f"no SERPs to evaluate {model!r} on ({dropped} dropped: their queries are not in the "
                        f"training log); pass unseen_queries='keep' to score them with unseen parameters")
    full = model.click_probabilities(m)
    unseen = model._last_unseen
    cond = model.conditional_probabilities(m)
    mask = m.mask
    observed = np.where(m.click, full, 1.0 - full)
    ll = log_likelihood(cond, mask)
    perp, per, skipped = perplexity(observed, mask)
    cperp, cper, cskipped = perplexity(cond, mask)
    if skipped:
        warnings.warn(f"{model!r}: {skipped} click probabilities <= 0 were skipped in the perplexity "
                      f"(as PyClick does)", RuntimeWarning, stacklevel=2)
    if not np.isfinite(ll):
        warnings.warn(f"{model!r}: a conditional probability is 0, the log-likelihood is -inf",
                      RuntimeWarning, stacklevel=2)
    return ClickModelScore(model=repr(model), log_likelihood=ll, perplexity=perp, perplexity_at=tuple(per.tolist()),
                           conditional_perplexity=cperp, conditional_perplexity_at=tuple(cper.tolist()),
                           serps=m.n_serps, dropped_unseen_query=dropped, unseen_pairs=unseen,
                           skipped=skipped + cskipped)
