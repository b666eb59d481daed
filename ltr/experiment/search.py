"""The hyper-parameter search: the same configurations for every system of a fold.

The first configuration is always the training defaults, so a budget of 1 means "no tuning". The others are
drawn from ``tuning.space`` with ``numpy.random.default_rng`` seeded from ``(tuning.seed, fold name)``, so
each fold draws its own configurations and every objective and backend of a fold sees exactly the same ones.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np


def search_configurations(exp, fold_name: str) -> list[dict]:
    """The ``budget`` configurations of a fold's random search (see the module docstring)."""
    space = exp.tuning.space
    defaults = {k: getattr(exp.training, k) for k in space}
    configs = [defaults]
    seed = int.from_bytes(hashlib.sha256(f"{exp.tuning.seed}/{fold_name}".encode()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
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
