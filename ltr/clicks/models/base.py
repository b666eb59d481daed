"""The click-model contract, parameter lookups, PyClick's conventions and the model registry.

A click model is a scikit-learn-style estimator: keyword-only hyperparameters stored unchanged in
``__init__``, ``fit(log)`` returning ``self`` with fitted state ending in ``_``. It computes on a
:class:`~ltr.clicks.log.SerpMatrix` (one row per SERP, positions as columns) and gives, per SERP and
position, the unconditional click probability ``P(C_r = 1)`` (:meth:`ClickModel.click_probabilities`) and
the probability of what was observed given the clicks above, ``P(C_r = c_r | C_<r)``
(:meth:`ClickModel.conditional_probabilities`). :mod:`ltr.clicks.models.evaluation` turns those into
log-likelihood and perplexity.

PyClick conventions followed (PyClick at commit 98e7e46; see ``../shared/data/yandex-clicks-sample/SOURCE.md``):

- every parameter starts at 1/2; MLE estimates are ``(1 + k) / (2 + n)`` (add-one smoothing), not capped;
- EM runs a fixed number of iterations (default 50, no convergence test); each iteration starts from
  numerator 1 and denominator 2, adds the expected counts computed with the previous iteration's values
  (iteration 1 uses 1/2 everywhere) and caps the result at ``1 - 1e-6`` (:data:`PROB_MIN`);
- a (query, document) pair never seen in training gets 1/2 (attractiveness, and satisfaction for SDBN and
  DBN); so does a position never seen in training (PyClick's rank containers have 10 slots, all 1/2 until
  data reach them);
- models index positions 1..n of each SERP; PyClick's 0-based ranks are our positions minus one.

Where we differ (each difference is stated where it matters and switchable where it changes numbers):
logs whose SERPs have different lengths (PyClick assumes 10 results; see the evaluation module and UBM), and
the DBN E-step (``convention='pyclick'`` reproduces PyClick's approximations, ``'exact'`` is the exact
posterior; see :mod:`ltr.clicks.models.dbn`).
"""

from __future__ import annotations

import inspect
from typing import ClassVar

import numpy as np
import pandas as pd

from ltr.clicks.log import ClickLog, SerpMatrix, as_serps  # noqa: F401 (as_serps re-exported)
from ltr.errors import ConfigError, DataError, NotFittedError, SchemaError
from ltr.naming import check_params, format_spec, parse_spec, select
from ltr.schema import DOCID, QID

__all__ = ["PROB_MIN", "UNSEEN", "ClickModel", "register", "registry", "get_click_model",
           "available_click_models", "as_serps", "unique_serps"]

PROB_MIN = 1e-6
"""PyClick's ``ParamEM.PROB_MIN``: EM values are capped at ``1 - PROB_MIN``; CM uses it for impossible events."""

UNSEEN = 0.5
"""Value of a parameter no training data reached (PyClick's initial value)."""

registry: dict[str, type["ClickModel"]] = {}


def register(cls):
    """Class decorator adding a :class:`ClickModel` subclass to :data:`registry` under ``cls.name``."""
    if cls.name in registry:
        raise RuntimeError(f"click model {cls.name!r} registered twice; this is a bug in ltr, please report it")
    registry[cls.name] = cls
    return cls


def available_click_models() -> list[str]:
    """Registered click-model names (PyClick's class names in lower case), sorted."""
    return sorted(registry)


def get_click_model(spec) -> "ClickModel":
    """A fresh click model from a name such as ``"pbm"`` or ``"dbn(iterations=5, convention='exact')"``.

    Raises
    ------
    UnknownNameError
        Unknown model (listing the registered ones) or unknown parameter (listing the valid ones).
    ConfigError
        A parameter value out of range.
    """
    if isinstance(spec, ClickModel):
        return spec
    parsed = parse_spec(spec, what="click model")
    cls = select(registry, parsed.name.lower(), what="click model")
    check_params(parsed.params, cls._param_names(), owner=cls.name)
    return cls(**parsed.params)


def em_value(num, den):
    """PyClick's EM parameter value: ``min(num / den, 1 - PROB_MIN)`` with num, den from 1 and 2."""
    return np.minimum(num / den, 1.0 - PROB_MIN)


def mle_value(num, den):
    return num / den


def check_positive_int(value, key: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"The {key!r} parameter of {owner} must be an int >= 1. Got {value!r} instead.")
    return int(value)


def check_choice(value, choices, key: str, owner: str) -> str:
    if value not in choices:
        raise ConfigError(f"The {key!r} parameter of {owner} must be one of {sorted(choices)}. Got {value!r} instead.")
    return value


class PairIndex:
    """Maps (qid, docid) to the row of a fitted per-pair parameter table; unseen pairs to one extra slot."""

    def __init__(self, qids: np.ndarray, docids: np.ndarray):
        self.qids, self.docids = np.asarray(qids, dtype=object), np.asarray(docids, dtype=object)
        self._index = pd.MultiIndex.from_arrays([self.qids, self.docids])

    def __len__(self) -> int:
        return len(self.qids)

    def lookup(self, m: SerpMatrix) -> tuple[np.ndarray, int]:
        """(n_serps, max_len) indices into a table of ``len(self) + 1`` rows (the last = unseen or padding)
        and the number of distinct test pairs that are unseen."""
        if m.n_pairs == 0:
            return np.full(m.pair.shape, len(self), dtype=np.int64), 0
        lut = self._index.get_indexer(pd.MultiIndex.from_arrays([m.pair_qid, m.pair_docid]))
        used = np.zeros(len(lut), dtype=bool)
        used[m.pair[m.pair >= 0]] = True
        unseen = int((used & (lut < 0)).sum())
        lut = np.where(lut < 0, len(self), lut).astype(np.int64)
        out = np.where(m.pair >= 0, lut[np.maximum(m.pair, 0)], len(self))
        return out, unseen


def pad_positions(values: np.ndarray, width: int, fill: float = UNSEEN) -> np.ndarray:
    """Rank-level parameters extended to ``width`` positions (positions never fitted hold ``fill``)."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape[0] >= width:
        return values
    pad = np.full((width - values.shape[0],) + values.shape[1:], fill)
    return np.concatenate([values, pad], axis=0)


def unique_serps(m: SerpMatrix, pair: np.ndarray) -> tuple[SerpMatrix, np.ndarray, np.ndarray]:
    """The distinct SERPs (same documents at the same positions and the same clicks) with their counts.

    Session-level E-steps depend on a SERP only through its documents and clicks, so they run once per
    distinct SERP, weighted by its count (on the Yandex sample: 35,064 SERPs, about a quarter distinct).
    Returns (distinct SERPs in order of first appearance, their ``pair`` rows, counts as float64).
    """
    key = np.concatenate([pair, m.click.astype(pair.dtype)], axis=1)
    _, first, counts = np.unique(key, axis=0, return_index=True, return_counts=True)
    order = np.argsort(first, kind="stable")
    rows = first[order]
    return m.take(rows), pair[rows], counts[order].astype(np.float64)


def last_click(m: SerpMatrix) -> np.ndarray:
    """0-based position of each SERP's last click; the SERP length if there is none (PyClick's rule)."""
    c = m.click
    width = c.shape[1]
    any_click = c.any(axis=1)
    last = width - 1 - np.argmax(c[:, ::-1], axis=1)
    return np.where(any_click, last, m.length)


def first_click(m: SerpMatrix) -> np.ndarray:
    """0-based position of each SERP's first click; the SERP length if there is none."""
    c = m.click
    return np.where(c.any(axis=1), np.argmax(c, axis=1), m.length)


class ClickModel:
    """Base class of the click models. Subclasses set ``name``, ``fitting`` and implement ``_fit``,
    ``_click_probs`` and ``_conditional_probs``."""

    name: ClassVar[str] = ""
    fitting: ClassVar[str] = "mle"          # "mle" or "em"
    position_based: ClassVar[bool] = False  # has one examination value per position
    #: names of the fitted per-pair tables and of the rank-level parameters (for to_dict)
    pair_params: ClassVar[tuple[str, ...]] = ()
    rank_params: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self) -> dict:
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params) -> "ClickModel":
        check_params(params, self._param_names(), owner=self.name)
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def _defaults(self) -> dict:
        sig = inspect.signature(type(self).__init__)
        return {k: p.default for k, p in sig.parameters.items() if k != "self"}

    def __repr__(self) -> str:
        return format_spec(self.name, self.get_params(), defaults=self._defaults())

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))

    # -- fitting ----------------------------------------------------------------------------------
    def fit(self, log) -> "ClickModel":
        """Fit on a :class:`ClickLog` (or its :class:`SerpMatrix`); returns ``self``."""
        self._validate()
        m = as_serps(log)
        if m.n_serps == 0:
            raise DataError(f"{self.name}: the training log has no SERPs")
        self.pairs_ = PairIndex(m.pair_qid, m.pair_docid)
        self.n_positions_ = m.max_len
        self.n_train_serps_ = m.n_serps
        self.train_queries_ = np.asarray(m.queries, dtype=object)[np.unique(m.query)]
        self._fit(m, np.where(m.pair >= 0, m.pair, m.n_pairs))
        self.n_iterations_ = getattr(self, "iterations", None) if self.fitting == "em" else None
        return self

    def _validate(self) -> None:
        if hasattr(self, "iterations"):
            check_positive_int(self.iterations, "iterations", self.name)

    def _check_fitted(self) -> None:
        if not hasattr(self, "pairs_"):
            raise NotFittedError(f"this {self.name} click model is not fitted yet; call fit(log) first")

    def _fit(self, m: SerpMatrix, pair: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- prediction -------------------------------------------------------------------------------
    def _lookup(self, m: SerpMatrix) -> np.ndarray:
        idx, self._last_unseen = self.pairs_.lookup(m)
        return idx

    def click_probabilities(self, log) -> np.ndarray:
        """Unconditional ``P(C_r = 1)`` per SERP and position; NaN past each SERP's end."""
        self._check_fitted()
        m = as_serps(log)
        p = self._click_probs(m, self._lookup(m))
        return np.where(m.mask, p, np.nan)

    def conditional_probabilities(self, log) -> np.ndarray:
        """``P(C_r = c_r | C_1..C_{r-1})`` of the observed clicks, per SERP and position; NaN past the end."""
        self._check_fitted()
        m = as_serps(log)
        p = self._conditional_probs(m, self._lookup(m))
        return np.where(m.mask, p, np.nan)

    def _click_probs(self, m, idx):  # pragma: no cover - abstract
        raise NotImplementedError

    def _conditional_probs(self, m, idx):
        """Default for models whose clicks are independent given the parameters (CTR models, PBM)."""
        p = self._click_probs(m, idx)
        return np.where(m.click, p, 1.0 - p)

    def evaluate(self, log, *, unseen_queries: str = "drop"):
        """Log-likelihood and perplexity on ``log`` (see :func:`ltr.clicks.models.evaluation.evaluate`)."""
        from ltr.clicks.models.evaluation import evaluate
        return evaluate(self, log, unseen_queries=unseen_queries)

    # -- fitted parameters --------------------------------------------------------------------------
    def relevance(self) -> pd.DataFrame:
        """Fitted per-pair parameters as a frame: qid, docid and one column per table (e.g. ``attr``, ``sat``)."""
        self._check_fitted()
        out = pd.DataFrame({QID: self.pairs_.qids, DOCID: self.pairs_.docids})
        for name in self.pair_params:
            out[name] = getattr(self, f"{name}_")[: len(self.pairs_)]
        return out

    def rank_parameters(self) -> dict:
        """Rank-level parameters as plain lists (positions 1..n), e.g. ``{"exam": [...]}``."""
        self._check_fitted()
        out = {}
        for name in self.rank_params:
            value = getattr(self, f"{name}_")
            out[name] = value.tolist() if isinstance(value, np.ndarray) else float(value)
        return out

    def to_dict(self) -> dict:
        """JSON-ready summary: model, hyperparameters, rank-level parameters, table sizes."""
        self._check_fitted()
        return {"model": repr(self), "fitting": self.fitting, "iterations": self.n_iterations_,
                "train_serps": int(self.n_train_serps_), "train_pairs": len(self.pairs_),
                "positions": int(self.n_positions_), "rank_parameters": self.rank_parameters()}
