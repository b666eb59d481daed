r"""Simulated experiments with the structure of a real one, for calibrating the tests (issue 13, item 6).

A per-query value of run r (a trained model: system s, seed r) on query q of fold f is

.. math::
    y_{s r q} = \mu + u_q + v_{s q} + \rho_{s r f} + \varepsilon_{s r q} + \Delta\,[s = s_\Delta,\ q \in Q_\Delta]

- :math:`u_q \sim N(0, \sigma_q^2)`: the query's difficulty, shared by every run (``query_sd``);
- :math:`v_{sq} \sim N(0, \sigma_{sq}^2)`: the system's own strength on the query, shared by its seeds
  (``system_query_sd``; 0 for an A/A comparison, where both systems are one objective);
- :math:`\rho_{srf} \sim N(0, \sigma_\rho^2)`: the seed noise of the whole run, a shift of all its queries,
  drawn anew in each fold (each fold trains its own model) (``run_sd``);
- :math:`\varepsilon_{srq} \sim N(0, \sigma_\varepsilon^2)`: the seed noise on each query (``run_query_sd``);
- an injected effect: a known shift :math:`\Delta` (``effect``) of one system's values (``effect_system``) on
  a known fraction of each fold's queries (``effect_fraction``; the queries are drawn once per experiment and
  shared by all the system's runs), so the system's mean rises by :math:`\Delta` times the fraction.

The folds hold disjoint test queries (``n_queries`` split as evenly as possible); each system trains
``seeds_per_system`` seeds in every fold, and the systems' seeds are disjoint (system i has seeds
``i * seeds_per_system, ...``), as in an A/A control. Under :math:`\Delta = 0` and :math:`\sigma_{sq} = 0` the
systems are exchangeable, so a calibrated run-level test rejects them at rate alpha. The per-query test on
seed-averaged values sees :math:`\bar\rho_A - \bar\rho_B` as a real difference of the two trained systems
and rejects more often the larger :math:`\sigma_\rho` is (that is the seed noise it is conditional on, not a
miscalibration). Values are on the metric's scale, not clipped to [0, 1] (clipping would only add ties).
"""

from __future__ import annotations

import numpy as np

from ltr.errors import DataError
from ltr.stats._checks import _check_int, _rng

__all__ = ["simulate_experiment", "seed_averaged"]


def _check_sd(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not value >= 0 \
            or not np.isfinite(value):
        raise DataError(f"The {name!r} parameter of simulate_experiment must be a float >= 0. Got {value!r}.")
    return float(value)


def simulate_experiment(*, n_queries: int = 200, n_folds: int = 5, n_systems: int = 2, seeds_per_system: int = 3,
                        mean: float = 0.5, query_sd: float = 0.2, system_query_sd: float = 0.0,
                        run_sd: float = 0.01, run_query_sd: float = 0.1, effect: float = 0.0,
                        effect_fraction: float = 1.0, effect_system: int = 0, seed=0):
    """One simulated experiment: per-query values of every (fold, system, seed) run (see the module docstring).

    Parameters
    ----------
    n_queries : int, default=200
        Test queries over all folds.
    n_folds : int, default=5
    n_systems : int, default=2
        Systems ``"s0"``, ``"s1"``, ...
    seeds_per_system : int, default=3
    mean, query_sd, system_query_sd, run_sd, run_query_sd : float
        :math:`\\mu, \\sigma_q, \\sigma_{sq}, \\sigma_\\rho, \\sigma_\\varepsilon`.
    effect : float or sequence of float, default=0.0
        :math:`\\Delta`, added to system ``effect_system`` on the effect queries; or one shift per system
        (length ``n_systems``), each added to its system on the effect queries (many A/B pairs in one call).
    effect_fraction : float in [0, 1], default=1.0
        The share of each fold's queries that get the effect.
    effect_system : int, default=0
    seed : int or numpy.random.Generator, default=0

    Returns
    -------
    pandas.DataFrame
        Long rows ``fold, system, seed, qid, value`` (``fold1``..., ``s0``..., ints, ``q0000``..., float),
        ordered by fold, system, seed, qid. ``attrs["effect_qids"]`` lists the queries with the effect.
    """
    import pandas as pd

    caller = "simulate_experiment"
    n_queries = _check_int(n_queries, "n_queries", caller)
    n_folds = _check_int(n_folds, "n_folds", caller)
    n_systems = _check_int(n_systems, "n_systems", caller)
    seeds_per_system = _check_int(seeds_per_system, "seeds_per_system", caller)
    if n_queries < n_folds:
        raise DataError(f"{caller}: {n_queries} queries cannot fill {n_folds} folds")
    sds = {name: _check_sd(v, name) for name, v in (("query_sd", query_sd), ("system_query_sd", system_query_sd),
                                                   ("run_sd", run_sd), ("run_query_sd", run_query_sd))}
    if isinstance(effect_fraction, bool) or not 0 <= effect_fraction <= 1:
        raise DataError(f"The 'effect_fraction' parameter of {caller} must be a float in [0, 1]. "
                        f"Got {effect_fraction!r}.")
    shifts = np.zeros(n_systems)
    if np.ndim(effect) == 0:
        shifts[effect_system if 0 <= effect_system < n_systems else 0] = float(effect)
    else:
        shifts = np.asarray(effect, dtype=np.float64)
        if shifts.shape != (n_systems,):
            raise DataError(f"The 'effect' parameter of {caller} must be a float or one float per system "
                            f"({n_systems}). Got shape {shifts.shape}.")
    if not np.all(np.isfinite(shifts)):
        raise DataError(f"The 'effect' parameter of {caller} must be finite. Got {effect!r}.")
    if not 0 <= effect_system < n_systems:
        raise DataError(f"The 'effect_system' parameter of {caller} must be in [0, {n_systems}). "
                        f"Got {effect_system!r}.")
    rng = _rng(seed)
    fold_of = np.repeat(np.arange(n_folds), np.diff(np.linspace(0, n_queries, n_folds + 1).round().astype(int)))
    # Step 1: the queries (difficulty) and the systems' own per-query strengths
    u = rng.normal(0.0, sds["query_sd"], n_queries)
    v = rng.normal(0.0, sds["system_query_sd"], (n_systems, n_queries))
    # Step 2: seed noise, of whole runs (one shift per fold, as each fold trains anew) and per query
    rho = rng.normal(0.0, sds["run_sd"], (n_systems, seeds_per_system, n_folds))
    eps = rng.normal(0.0, sds["run_query_sd"], (n_systems, seeds_per_system, n_queries))
    y = mean + u[None, None, :] + v[:, None, :] + rho[:, :, fold_of] + eps
    # Step 3: the injected effect on a known fraction of each fold's queries
    chosen = np.zeros(n_queries, dtype=bool)
    for f in range(n_folds):
        members = np.flatnonzero(fold_of == f)
        take = round(effect_fraction * members.size)
        chosen[rng.permutation(members)[:take]] = True
    y[:, :, chosen] += shifts[:, None, None]
    width = max(4, len(str(n_queries - 1)))
    qids = np.array([f"q{q:0{width}d}" for q in range(n_queries)], dtype=object)
    s_idx, r_idx, q_idx = np.meshgrid(np.arange(n_systems), np.arange(seeds_per_system), np.arange(n_queries),
                                      indexing="ij")
    frame = pd.DataFrame({
        "fold": np.array([f"fold{f + 1}" for f in range(n_folds)], dtype=object)[fold_of[q_idx.ravel()]],
        "system": np.array([f"s{s}" for s in range(n_systems)], dtype=object)[s_idx.ravel()],
        "seed": (s_idx * seeds_per_system + r_idx).ravel(),
        "qid": qids[q_idx.ravel()],
        "value": y.ravel(),
    })
    frame = frame.sort_values(["fold", "system", "seed", "qid"], kind="stable", ignore_index=True)
    frame.attrs["effect_qids"] = qids[chosen].tolist()
    return frame


def seed_averaged(per_query, *, value: str = "value"):
    """The per-query value of each system averaged over its seeds (and folds' runs): what the per-query tests
    and the Tukey HSD pair. Rows ``system, qid, value`` [with ``metric``], in sorted order."""
    keys = [c for c in ("metric", "system", "qid") if c in per_query.columns]
    return per_query.groupby(keys, sort=True)[value].mean().reset_index()
