"""The :class:`Objective` base class, the objective registry and the checks every objective shares.

An objective is an immutable, named, parameterised object: ``repr`` is its identity
(``lambdarank(truncation_level=20)``), it parses back through :func:`ltr.naming.parse_spec`, and equal
``repr`` means equal and the same hash (as ir_measures' measures). It knows

- which backends run it (``backends``) and whether a backend runs it natively or through our gradient
  (:meth:`Objective.is_custom`);
- which relevance labels it takes (``label_kinds``), refusing the others with a :class:`LabelError` that
  says why and what to do, never with a silent cast (:meth:`Objective.check_labels`);
- the exact native configuration it stands for on each backend (:meth:`Objective.backend_params`,
  printed by :meth:`Objective.describe`).

Conventions shared by all objectives
------------------------------------
``labels`` are float64 of shape (n_samples,), ``scores`` float64 raw margins, ``group_sizes`` the sizes
of the contiguous query blocks (summing to n_samples). Gradients follow LightGBM's sign convention:
``grad`` is the derivative of the loss with respect to the score, the booster steps by
``-learning_rate * sum(grad) / sum(hess)`` in each leaf.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from ltr.errors import ConfigError, DataError, LabelError, UnknownNameError
from ltr.naming import check_params, format_spec, parse_spec, select

__all__ = [
    "LABEL_KINDS", "Objective", "available_objectives", "get_objective", "objective_backends", "register",
    "registry",
]

# The list of backends lives in one place, the backend registry (ltr.models.backends, a floor above):
# an objective names the backends it runs on in ``backends``, and tests/models/test_backends.py checks every
# name against the registry. Here only the union of those names is known (objective_backends).

#: Kinds of relevance labels: 0/1, integer grades 0..k, any real number.
LABEL_KINDS: dict[str, str] = {
    "binary": "0/1 labels",
    "graded": "integer grades 0..k",
    "real": "real-valued relevance",
}

#: name -> Objective subclass. Filled by :func:`register`; never edited by hand.
registry: dict[str, type[Objective]] = {}


def register(cls: type[Objective]) -> type[Objective]:
    """Class decorator adding an :class:`Objective` subclass to :data:`registry` under ``cls.name``."""
    if cls.name in registry:
        raise RuntimeError(f"objective {cls.name!r} registered twice; this is a bug in ltr, please report it")
    if not cls.backends:
        raise RuntimeError(f"objective {cls.name!r} names no backend; this is a bug in ltr")
    registry[cls.name] = cls
    return cls


def objective_backends() -> list[str]:
    """The backends some registered objective runs on (derived from the registry, never written by hand)."""
    return sorted({b for cls in registry.values() for b in cls.backends})


def available_objectives() -> list[str]:
    """Names of the registered objectives, sorted.

    >>> "ranknet" in available_objectives()
    True
    """
    return sorted(registry)


def get_objective(spec: str | Objective) -> Objective:
    """The objective named by ``spec``: ``"ranknet"``, ``"lambdarank(truncation_level=20)"``, or an Objective.

    Raises
    ------
    UnknownNameError
        For an unknown name (listing the registered ones) or unknown parameters (listing the valid ones).
    ConfigError
        For a parameter value of the wrong type or range.

    Examples
    --------
    >>> get_objective("lambdarank(truncation_level=20)")
    lambdarank(truncation_level=20)
    >>> get_objective(repr(get_objective("ranknet(sigma=2.0)"))) == get_objective("ranknet(sigma=2)")
    True
    """
    if isinstance(spec, Objective):
        return spec
    parsed = parse_spec(spec, what="objective")
    if parsed.cutoff is not None:
        raise UnknownNameError(f"objective {spec!r} has a cutoff '@{parsed.cutoff}'; objectives take "
                               f"parameters instead, e.g. 'lambdarank(truncation_level={parsed.cutoff})'")
    cls = select(registry, parsed.name, what="objective")
    return cls(**parsed.params)


# --------------------------------------------------------------------------------------------------
# Parameter validators: (value, key, owner) -> normalised value, or ConfigError in sklearn's wording.
# --------------------------------------------------------------------------------------------------

def _bad(owner: str, key: str, expected: str, value: Any) -> ConfigError:
    return ConfigError(f"The {key!r} parameter of {owner} must be {expected}. Got {value!r} instead.")


def positive_float(value, key, owner):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value <= 0:
        raise _bad(owner, key, "a float > 0", value)
    return float(value)


def finite_float(value, key, owner):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value):
        raise _bad(owner, key, "a finite float", value)
    return float(value)


def positive_int(value, key, owner):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise _bad(owner, key, "an int >= 1", value)
    return int(value)


def integer(value, key, owner):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise _bad(owner, key, "an int", value)
    return int(value)


def optional_positive_int(value, key, owner):
    return None if value is None else positive_int(value, key, owner)


def boolean(value, key, owner):
    if not isinstance(value, (bool, np.bool_)):
        raise _bad(owner, key, "True or False", value)
    return bool(value)


def choice(*options):
    """Validator accepting one of ``options`` (the message lists them)."""
    def validate(value, key, owner):
        if value not in options:
            raise _bad(owner, key, f"one of {list(options)}", value)
        return value
    return validate


def optional_float(value, key, owner):
    return None if value is None else finite_float(value, key, owner)


def quantize_edges(value, key, owner):
    """``None`` or strictly increasing finite thresholds; grade = number of thresholds <= label."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = (value,)
    try:
        edges = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise _bad(owner, key, "None or a tuple of increasing thresholds such as (0.5, 1.5)", value) from None
    if not edges or any(not math.isfinite(e) for e in edges) or any(b <= a for a, b in zip(edges, edges[1:])):
        raise _bad(owner, key, "None or a non-empty tuple of strictly increasing finite thresholds "
                               "such as (0.5, 1.5)", value)
    return edges


def quantize(labels: np.ndarray, edges: tuple[float, ...] | None) -> np.ndarray:
    """Grades from real labels: ``grade = #{k : edges[k] <= label}``, so ``label >= edges[g-1]`` gives grade >= g.

    >>> quantize(np.array([0.2, 0.5, 1.7]), (0.5, 1.5)).tolist()
    [0.0, 1.0, 2.0]
    """
    labels = np.asarray(labels, dtype=np.float64)
    if edges is None:
        return labels
    return np.searchsorted(np.asarray(edges), labels, side="right").astype(np.float64)


# --------------------------------------------------------------------------------------------------
# Shared input checks
# --------------------------------------------------------------------------------------------------

def as_labels(labels, *, name: str = "labels") -> np.ndarray:
    y = np.asarray(labels, dtype=np.float64)
    if y.ndim != 1:
        raise LabelError(f"{name} must be a 1-D array of shape (n_samples,), got shape {y.shape}")
    return y


def as_group_sizes(group_sizes, n_rows: int) -> np.ndarray:
    """Positive integer group sizes summing to ``n_rows`` (GroupError naming both numbers otherwise)."""
    from ltr.schema import check_group_sizes      # here: ltr.schema imports pandas, which listing objectives avoids
    return check_group_sizes(group_sizes, n_rows)


def offsets_of(sizes: np.ndarray) -> np.ndarray:
    """Row offsets of the queries: ``offsets[q]:offsets[q+1]`` are the rows of query ``q``."""
    out = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=out[1:])
    return out


def where(row: int, sizes: np.ndarray) -> str:
    """``"query #3 (rows 30..39), row 34"`` for messages."""
    offsets = offsets_of(sizes)
    q = int(np.searchsorted(offsets, row, side="right") - 1)
    return f"query #{q} (rows {offsets[q]}..{offsets[q + 1] - 1}), row {row}"


def grad_inputs(labels, scores, group_sizes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validated ``(labels, scores, group_sizes, offsets)`` for a ``grad_hess`` call."""
    y = as_labels(labels)
    s = np.asarray(scores, dtype=np.float64)
    if s.shape[:1] != y.shape:
        raise DataError(f"scores have {s.shape[0] if s.ndim else 0} rows but labels have {len(y)}")
    sizes = as_group_sizes(group_sizes, len(y))
    if not np.isfinite(y).all():        # O(n), negligible next to the pairs; NaN would break the label sort
        refuse_nonfinite(y, sizes, "grad_hess")
    return y, s, sizes, offsets_of(sizes)


def apply_weights(grad: np.ndarray, hess: np.ndarray, weights) -> tuple[np.ndarray, np.ndarray]:
    """Per-row weights as LightGBM applies them: each row's gradient and hessian times its weight."""
    if weights is None:
        return grad, hess
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape[0] != grad.shape[0]:
        raise DataError(f"weights must have one value per row ({grad.shape[0]}), got shape {w.shape}")
    if grad.ndim == 2:
        w = w[:, None]
    return grad * w, hess * w


def refuse_nonfinite(y: np.ndarray, sizes: np.ndarray, owner: str) -> None:
    bad = ~np.isfinite(y)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise LabelError(f"{owner} got {int(bad.sum())} non-finite label(s) (NaN or inf), the first in "
                         f"{where(row, sizes)}: {float(y[row]):g}. Drop or fill those rows before training.")


def check_grades(obj: Objective, y: np.ndarray, sizes: np.ndarray, max_grade: int | None, *,
                 backend: str, why_max: str, fix_max: str) -> None:
    """Integer grades 0..max_grade, or a LabelError saying why and what to do."""
    quantized = obj.params.get("quantize") is not None
    frac = np.flatnonzero(np.floor(y) != y)
    if frac.size:
        row = int(frac[0])
        raise LabelError(
            f"objective {obj!r} needs integer grades on {backend}; got real values such as {float(y[row]):g} "
            f"in {where(row, sizes)} ({frac.size} non-integer labels). Quantise explicitly, e.g. "
            f"get_objective('{obj.name}(quantize=(0.5, 1.5))') (grade = number of thresholds <= label), or use "
            f"'ranknet' or 'regression', which take real values.")
    neg = np.flatnonzero(y < 0)
    if neg.size:
        row = int(neg[0])
        raise LabelError(f"objective {obj!r} needs grades >= 0; got {float(y[row]):g} in {where(row, sizes)}. "
                         f"Shift the labels so that the lowest grade is 0.")
    if max_grade is not None and y.size and y.max() > max_grade:
        row = int(np.argmax(y))
        more = " after quantisation" if quantized else ""
        raise LabelError(f"objective {obj!r} takes grades 0..{max_grade} on {backend} ({why_max}); got "
                         f"{y[row]:g}{more} in {where(row, sizes)}. {fix_max}")


# --------------------------------------------------------------------------------------------------
# The base class
# --------------------------------------------------------------------------------------------------

class Objective:
    """A training objective: a named loss with parameters, label kinds and backend mappings.

    Subclasses set the class attributes below and the parameter table ``_spec``
    (``{name: (default, validator)}``); ``__init__`` takes the parameters as keywords.

    Attributes
    ----------
    name : str
        Registry name (LightGBM's where one exists).
    family : {"pointwise", "pairwise", "listwise"}
    backends : tuple of str
        Backends that can train it.
    label_kinds : frozenset of str
        Subset of {"binary", "graded", "real"}.
    params : Mapping
        The parameters, defaults filled in (read-only).
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    backends: ClassVar[tuple[str, ...]] = ()
    label_kinds: ClassVar[frozenset] = frozenset()
    #: backend -> native objective name; a backend in ``backends`` but not here runs our grad_hess.
    native: ClassVar[dict[str, str]] = {}
    #: Trains on the click counts of an aggregated click set (``RankingDataset.clicks``): the Ranker then
    #: replaces the labels by :meth:`labels_from_clicks` (the IPS objectives).
    needs_clicks: ClassVar[bool] = False
    #: Needs the display position of each row (``RankingDataset.positions``, one SERP per query block).
    needs_positions: ClassVar[bool] = False
    _spec: ClassVar[dict[str, tuple[Any, Callable]]] = {}

    def __init__(self, **params):
        owner = f"objective {self.name!r}"
        check_params(params, self._spec, owner=owner)
        values = {}
        for key, (default, validate) in self._spec.items():
            values[key] = validate(params[key], key, owner) if key in params else default
        object.__setattr__(self, "_params", MappingProxyType(values))
        self._validate()

    # -- identity ---------------------------------------------------------------------------------
    @property
    def params(self) -> Mapping[str, Any]:
        return self._params

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {k: d for k, (d, _) in cls._spec.items()}

    def __repr__(self) -> str:
        return format_spec(self.name, dict(self._params), defaults=self.defaults())

    def __eq__(self, other) -> bool:
        return isinstance(other, Objective) and repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))

    def __setattr__(self, key, value):
        raise AttributeError(f"{type(self).__name__} is immutable; build a new one with "
                             f"get_objective('{self.name}({key}=...)')")

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __getattr__(self, key):
        # parameters read as attributes: obj.truncation_level
        params = self.__dict__.get("_params")
        if params is not None and key in params:
            return params[key]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {key!r}")

    # -- hooks for subclasses -----------------------------------------------------------------------
    def _validate(self) -> None:
        """Cross-parameter checks (ConfigError)."""

    def _check_kind(self, y: np.ndarray, sizes: np.ndarray, backend: str) -> None:
        """Label-kind checks on the labels after :meth:`transform_labels` (LabelError)."""

    def _unsupported(self, backend: str) -> list[str]:
        """Parameters set to a value ``backend`` cannot express, as messages (empty: all fine)."""
        return []

    # -- backend plumbing ---------------------------------------------------------------------------
    def check_backend(self, backend: str) -> str:
        """``backend`` if this objective runs on it; UnknownNameError / ConfigError listing the valid ones."""
        select(dict.fromkeys(objective_backends()), backend, what="backend")
        if backend not in self.backends:
            raise ConfigError(f"objective {self!r} is not available on {backend}; it runs on "
                              f"{list(self.backends)}. Choose another backend or objective (objectives on "
                              f"{backend}: {[n for n in available_objectives() if backend in registry[n].backends]}).")
        problems = self._unsupported(backend)
        if problems:
            raise ConfigError(f"objective {self!r} cannot run on {backend}: " + "; ".join(problems))
        return backend

    def is_custom(self, backend: str) -> bool:
        """True if ``backend`` must call :meth:`grad_hess` (no native equivalent)."""
        self.check_backend(backend)
        return backend not in self.native

    def check_labels(self, labels, group_sizes, *, backend: str) -> None:
        """Refuse labels this objective cannot take on ``backend``.

        Raises
        ------
        UnknownNameError, ConfigError
            Unknown backend, or one this objective (with these parameters) does not run on.
        GroupError
            Group sizes that do not sum to the number of labels.
        LabelError
            NaN/inf labels, or labels of a kind the objective cannot take, with what to do instead.
        """
        self.check_backend(backend)
        y = as_labels(labels)
        sizes = as_group_sizes(group_sizes, len(y))
        refuse_nonfinite(y, sizes, f"objective {self!r}")
        mapped = self.transform_labels(y, backend=backend)
        self._check_kind(mapped, sizes, backend)
        self._check_signal(y, mapped, sizes)

    def _check_signal(self, raw: np.ndarray, y: np.ndarray, sizes: np.ndarray) -> None:
        """Refuse labels that leave nothing to learn; warn when a threshold empties most queries.

        A threshold (``threshold=``) or quantisation (``quantize=``) that maps every training label to one
        value is refused: ``lambdarank_map(threshold=5)`` on labels 0..2 has no relevant document anywhere.
        So are pairwise and listwise objectives on labels that are all equal (no pair differs). When the
        mapping leaves more than half of the queries that had different labels with one label only (no
        gradient from them, for a pairwise or listwise objective), a UserWarning says how many.
        """
        if not y.size:
            return
        mapping = {k: self.params[k] for k in ("threshold", "quantize") if self.params.get(k) is not None}
        how = ", ".join(f"{k}={v!r}" for k, v in mapping.items())
        lo, hi = float(raw.min()), float(raw.max())
        if mapping and y.min() == y.max() and lo != hi:
            if "threshold" in mapping:
                t = mapping["threshold"]
                side = ("no training label is >= {t:g}, so no document is relevant" if y[0] == 0 else
                        "every training label is >= {t:g}, so every document is relevant").format(t=t)
                fix = (f"Choose a threshold inside the labels' range, e.g. threshold={min(1.0, hi):g}"
                       if y[0] == 0 else f"Raise the threshold above {lo:g}")
            else:
                side = f"every training label falls into grade {y[0]:g}"
                fix = "Choose quantisation thresholds inside the labels' range"
            raise LabelError(f"objective {self!r}: {side} (labels range {lo:g}..{hi:g}, {how}); there is nothing "
                             f"to learn. {fix}.")
        if lo == hi and (mapping or self.family != "pointwise"):
            raise LabelError(f"objective {self!r}: all {y.size} training labels are {lo:g}, so no two documents "
                             f"differ and there is nothing to learn. Check the labels (a file of unjudged "
                             f"candidates?), or add documents of other grades.")
        if mapping and self.family != "pointwise":
            starts = offsets_of(sizes)[:-1]
            raw_varies = np.maximum.reduceat(raw, starts) != np.minimum.reduceat(raw, starts)
            y_varies = np.maximum.reduceat(y, starts) != np.minimum.reduceat(y, starts)
            lost = int(np.sum(raw_varies & ~y_varies))
            if lost and 2 * lost > int(np.sum(raw_varies)):
                import warnings
                warnings.warn(f"objective {self!r} ({how}) leaves {lost} of the {int(np.sum(raw_varies))} training "
                              f"queries that have different labels with a single label after the mapping: they "
                              f"contribute no gradient (labels range {lo:g}..{hi:g})", UserWarning, stacklevel=3)

    def transform_labels(self, labels, *, backend: str) -> np.ndarray:
        """Labels handed to the backend (float64). Identity unless the objective quantises or binarises."""
        return np.asarray(labels, dtype=np.float64)

    def transform_scores(self, raw) -> np.ndarray:
        """One ranking score per row from a backend prediction (identity on the raw margin)."""
        return np.asarray(raw, dtype=np.float64)

    def backend_params(self, backend: str, *, labels=None, group_sizes=None) -> dict:
        """Native parameters for ``backend`` (``{}`` for a custom objective)."""
        self.check_backend(backend)
        if backend not in self.native:
            return {}
        return self._native_params(backend, labels=labels, group_sizes=group_sizes)

    def _native_params(self, backend: str, *, labels, group_sizes) -> dict:
        return {"objective": self.native[backend]}

    def _notes(self, backend: str) -> list[str]:
        """Conventions a reader of a figure should know (hessian scale, parameters without equivalent)."""
        return []

    def labels_from_clicks(self, counts, group_sizes) -> np.ndarray:
        """Training labels from a :class:`ltr.ranking.ClickCounts` (objectives with ``needs_clicks``)."""
        raise NotImplementedError(f"objective {self!r} does not train on click counts")

    def session(self, labels, group_sizes, positions=None):
        """A fresh ``grad_hess(labels, scores, group_sizes, weights)`` callable for one training run.

        Stateless objectives return :meth:`grad_hess` itself; stateful ones (the reference Unbiased
        LambdaMART, whose position biases are re-estimated at every iteration) return a callable that
        keeps that state and exposes it as ``.state()`` after training.
        """
        return self.grad_hess

    def grad_hess(self, labels, scores, group_sizes, weights=None) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and hessian of the loss with respect to the scores (float64, LightGBM's sign).

        ``labels`` are the labels the backend trains on (the output of :meth:`transform_labels`).
        """
        raise NotImplementedError(f"objective {self!r} has no reference gradient in ltr")

    def describe(self, backend: str, *, labels=None, group_sizes=None) -> str:
        """The exact backend configuration this objective stands for, for reports.

        >>> print(get_objective("regression").describe("xgboost"))
        regression on xgboost: native objective
          objective = 'reg:squarederror'
        """
        self.check_backend(backend)
        lines = []
        if self.is_custom(backend):
            lines.append(f"{self!r} on {backend}: custom objective (ltr's grad_hess, "
                         f"{type(self).__module__}.{type(self).__name__})")
        else:
            lines.append(f"{self!r} on {backend}: native objective")
            params = self._native_params(backend, labels=labels, group_sizes=group_sizes)
            for key, value in params.items():
                lines.append(f"  {key} = {value!r}")
        lines.extend(f"  note: {n}" for n in self._notes(backend))
        return "\n".join(lines)


def parse_objective_name(text: str) -> str:
    """The registry name of an objective spec (no validation of its parameters)."""
    return parse_spec(text, what="objective").name
