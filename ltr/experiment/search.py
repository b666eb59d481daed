"""The hyper-parameter search: the same budget for every system of a fold, random or Optuna's TPE.

The first configuration is always the training defaults, so a budget of 1 means "no tuning". The others come
from the declared sampler (``[tuning] sampler``):

- ``"random"`` (the default): drawn from ``tuning.space`` with ``numpy.random.default_rng`` seeded from
  ``(tuning.seed, fold name)``, so each fold draws its own configurations and every objective and backend of
  a fold sees exactly the same ones (:func:`search_configurations`).
- ``"tpe"``: Optuna's Tree-structured Parzen Estimator (Bergstra et al., NeurIPS 2011; ``pip install
  'ltr[tune]'``), one study per (fold, system) that proposes each configuration from the validation scores
  of the ones before it, so systems see different configurations but the same number of them. Its sampler
  is seeded from ``(tuning.seed, fold name)`` as the random search is: its first ``startup`` proposals
  (random, before TPE models anything) are the same for every system of a fold. The defaults are told to
  the study as its first trial (the entries that lie inside the space; ``reg_lambda = 0`` does not lie in a
  log range). With one worker a search is the same bit for bit on every run (Optuna's sampling is seeded and
  sequential; the models are deterministic).

Both samplers draw in the units of ``tuning.space``: under the scale-aware protocol a ``reg_lambda`` draw is
the shrinkage ratio ``r`` whichever sampler drew it, turned into backend units by
:func:`ltr.experiment.protocol.effective_settings` afterwards. A backend is only asked for the entries it has
(:meth:`System.own_settings`): TPE does not model parameters that change nothing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math

import numpy as np

from ltr.errors import ConfigError

#: The samplers ``[tuning] sampler`` accepts.
SAMPLERS = {"random": "configurations drawn uniformly (in each entry's kind) from tuning.space, the same for "
                      "every system of a fold",
            "tpe": "Optuna's TPE: each configuration proposed from the validation scores of the earlier ones "
                   "(pip install 'ltr[tune]')"}


def _seed(exp, fold_name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{exp.tuning.seed}/{fold_name}".encode()).digest()[:8], "little")


def defaults(exp) -> dict:
    """The first configuration of every search: the training settings of the entries of the space."""
    return {k: getattr(exp.training, k) for k in exp.tuning.space}


def search_configurations(exp, fold_name: str) -> list[dict]:
    """The ``budget`` configurations of a fold's random search (see the module docstring)."""
    space = exp.tuning.space
    configs = [defaults(exp)]
    rng = np.random.default_rng(_seed(exp, fold_name))
    for _ in range(exp.tuning.budget - 1):
        config = {}
        for name, (kind, low, high) in space.items():
            if kind == "log":
                config[name] = float(math.exp(rng.uniform(math.log(low), math.log(high))))
            elif kind == "int":
                config[name] = int(rng.integers(int(low), int(high) + 1))
            else:
                config[name] = float(rng.uniform(low, high))
        configs.append(config)
    return configs


def have_optuna() -> bool:
    """Whether Optuna can be imported (without importing it: ``import optuna`` costs about a second)."""
    try:
        return importlib.util.find_spec("optuna") is not None
    except (ImportError, ValueError):
        return False


def require_optuna(owner: str = "tuning.sampler = 'tpe'"):
    """The ``optuna`` module, or a ConfigError saying how to install it."""
    try:
        import optuna
    except ImportError:
        raise ConfigError(f"{owner} needs Optuna, which is not installed: pip install 'ltr[tune]' (or pip install "
                          f"optuna), or use sampler = 'random'") from None
    return optuna


def tpe_startup(budget: int) -> int:
    """Trials before TPE models anything (random ones; the defaults count as one): a quarter of the budget,
    at least 2 and at most 10 (Optuna's own default, which would leave a budget of 8 purely random)."""
    return min(10, max(2, budget // 4))


class RandomSearch:
    """The random search of a fold as an ask/tell loop (tell is ignored: the draws do not depend on scores)."""

    def __init__(self, exp, fold_name: str, system):
        self._configs = search_configurations(exp, fold_name)
        self._i = 0

    def ask(self) -> dict:
        config = self._configs[self._i]
        self._i += 1
        return config

    def tell(self, score: float | None) -> None:
        pass


class TPESearch:
    """One Optuna study per (fold, system), driven with Optuna's ask-and-tell interface."""

    def __init__(self, exp, fold_name: str, system):
        optuna = require_optuna()
        self._optuna = optuna
        self._distributions = {}
        for name, (kind, low, high) in exp.tuning.space.items():
            if not system.takes(name):
                continue
            if kind == "int":
                self._distributions[name] = optuna.distributions.IntDistribution(int(low), int(high))
            else:
                self._distributions[name] = optuna.distributions.FloatDistribution(float(low), float(high),
                                                                                 log=kind == "log")
        seed = _seed(exp, fold_name) % (2 ** 32)   # numpy's RandomState, inside Optuna, takes 32-bit seeds
        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=tpe_startup(exp.tuning.budget))
        with _quiet(optuna):
            self._study = optuna.create_study(direction="maximize", sampler=sampler)
        self._defaults = defaults(exp)
        self._trial = None
        self._first = True

    def ask(self) -> dict:
        if self._first:
            return dict(self._defaults)
        with _quiet(self._optuna):
            self._trial = self._study.ask(self._distributions)
        drawn = dict(self._trial.params)
        # every entry of the space, as the random search returns it (entries this backend lacks keep the
        # defaults; TrainingSpec.settings drops them)
        return {k: drawn.get(k, v) for k, v in self._defaults.items()}

    def tell(self, score: float | None) -> None:
        value = 0.0 if score is None or not math.isfinite(score) else float(score)
        with _quiet(self._optuna):
            if self._first:
                self._first = False
                inside = {k: self._defaults[k] for k, d in self._distributions.items()
                          if _contains(d, self._defaults[k])}
                self._study.add_trial(self._optuna.trial.create_trial(
                    params=inside, distributions={k: self._distributions[k] for k in inside}, value=value))
                return
            self._study.tell(self._trial, value)


def _contains(distribution, value) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if type(distribution).__name__ == "IntDistribution" and value != int(value):
        return False
    return distribution.low <= value <= distribution.high


class _quiet:
    """Optuna's INFO line per trial silenced for the duration of a block (its verbosity restored after)."""

    def __init__(self, optuna):
        self._logging = optuna.logging

    def __enter__(self):
        self._before = self._logging.get_verbosity()
        self._logging.set_verbosity(self._logging.WARNING)

    def __exit__(self, *exc):
        self._logging.set_verbosity(self._before)


SEARCH_CLASSES = {"random": RandomSearch, "tpe": TPESearch}


def make_search(exp, fold_name: str, system):
    """The ask/tell search of ``system`` on fold ``fold_name`` under ``tuning.sampler``."""
    return SEARCH_CLASSES[exp.tuning.sampler](exp, fold_name, system)
