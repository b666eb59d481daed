"""Input checks shared by the statistics modules (private).

Every public function of :mod:`ltr.stats` validates its input here, so that bad input is one typed
:class:`ltr.errors.DataError` saying what was expected, what arrived and how to fix it.
"""

from __future__ import annotations

import numpy as np

from ltr.errors import DataError

# Rows of sign flips / bootstrap resamples / permutations drawn at once: bounds memory (batch x n float64)
# without changing results (numpy Generators yield the same stream whatever the batch shape).
_BATCH = 2_000

def _paired(a, b, *, caller: str) -> np.ndarray:
    """Validate two paired samples and return the differences ``a - b`` (float64)."""
    a = _sample(a, caller=caller, name="a")
    b = _sample(b, caller=caller, name="b")
    if a.shape != b.shape:
        raise DataError(f"{caller} needs paired values: a has {a.size} values but b has {b.size}. "
                        f"Pair them on qid first (same queries, same order).")
    return a - b


def _sample(x, *, caller: str, name: str = "values", min_size: int = 2, unit: str = "query") -> np.ndarray:
    """Validate one sample: a 1-d array of at least ``min_size`` finite numbers (float64)."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{caller}: {name} must be numbers, got {type(x).__name__}") from None
    if arr.ndim != 1:
        raise DataError(f"{caller}: {name} must be one-dimensional (one value per {unit}), "
                        f"got shape {arr.shape}")
    if arr.size < min_size:
        what = "paired values" if unit == "query" else f"values in {name} (one per {unit})"
        raise DataError(f"{caller} needs at least {min_size} {what}, got {arr.size}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise DataError(f"{caller}: {name} holds {bad.size} non-finite values (first at position "
                        f"{int(bad[0])}: {arr[bad[0]]}); per-{unit} values must be finite numbers")
    return arr


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _check_resamples(n_resamples, caller: str) -> int:
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise DataError(f"The 'n_resamples' parameter of {caller} must be an int >= 1. Got {n_resamples!r}.")
    return int(n_resamples)


def _check_confidence(confidence, caller: str) -> float:
    if not isinstance(confidence, (int, float)) or isinstance(confidence, bool) or not 0 < confidence < 1:
        raise DataError(f"The 'confidence' parameter of {caller} must be a float in (0, 1). "
                        f"Got {confidence!r}.")
    return float(confidence)



def _check_int(value, name: str, caller: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise DataError(f"The {name!r} parameter of {caller} must be an int >= {minimum}. Got {value!r}.")
    return int(value)


def _check_probability(value, name: str, caller: str) -> float:
    """A level such as alpha or power: a float strictly inside (0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not 0 < value < 1:
        raise DataError(f"The {name!r} parameter of {caller} must be a float in (0, 1). Got {value!r}.")
    return float(value)
