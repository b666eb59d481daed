"""FeatureExtractor base class, the extractor registry, FeatureSet and the shared contract check."""

from __future__ import annotations


import numpy as np
import pandas as pd

from ltr import errors
from ltr.collection import Collection
from ltr.errors import ConfigError, SchemaError
from ltr.naming import check_params, format_spec, parse_spec, select
from ltr.params import Params, clone
from ltr.schema import FEATURE_DTYPE, PAIRS, QID, require_columns

_REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: make an extractor constructible by its ``name`` (``get_extractor("bm25(k1=1.2)")``)."""
    name = cls.name
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise RuntimeError(f"feature extractor {name!r} registered twice")
    _REGISTRY[name] = cls
    return cls


def available() -> list[str]:
    """Names of the registered extractors."""
    _load_builtin()
    return sorted(_REGISTRY)


def _load_builtin() -> None:
    """Import the built-in extractor modules (their ``@register`` decorators fill the registry)."""
    import importlib
    for mod in ("features.lexical", "features.recency", "features.domain", "features.pagerank"):
        importlib.import_module(mod)


def get_extractor(spec: "str | FeatureExtractor") -> "FeatureExtractor":
    """An extractor from its printed form, e.g. ``"bm25(field='title', k1=1.2)"``."""
    if isinstance(spec, FeatureExtractor):
        return spec
    _load_builtin()
    parsed = parse_spec(spec, what="feature extractor")
    cls = select(_REGISTRY, parsed.name, what="feature extractor")
    check_params(parsed.params, cls().get_params(), owner=f"feature extractor {parsed.name!r}")
    return cls(**parsed.params)


def not_fitted(owner: str, how: str = "call fit(collection) first"):
    """The error of an estimator used before ``fit`` (scikit-learn's NotFittedError, subclassed by ltr's)."""
    return errors.NotFittedError(f"{owner} is not fitted yet: {how}")


class FeatureExtractor(Params):
    """Base class: ``fit(collection) -> self``, ``transform(pairs) -> DataFrame``, ``feature_names_out()``.

    Subclasses set ``name`` (registry key), ``requires`` (columns ``transform`` reads from the pairs) and
    keep ``__init__`` to keyword-only hyper-parameters stored unchanged (scikit-learn's ``clone`` contract).
    Fitted state ends in ``_``.
    """

    name: str = "extractor"
    requires: tuple[str, ...] = PAIRS

    def fit(self, collection: Collection) -> "FeatureExtractor":
        return self

    def transform(self, pairs: pd.DataFrame) -> pd.DataFrame:
        raise NotImplementedError

    def feature_names_out(self) -> list[str]:
        raise NotImplementedError

    def fit_transform(self, collection: Collection, pairs: pd.DataFrame) -> pd.DataFrame:
        return self.fit(collection).transform(pairs)

    # helpers for subclasses ------------------------------------------------------------------
    def _check_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise not_fitted(type(self).__name__)

    def _check_pairs(self, pairs: pd.DataFrame) -> None:
        require_columns(pairs, self.requires, caller=f"{type(self).__name__}.transform")

    def _frame(self, columns: dict[str, np.ndarray], pairs: pd.DataFrame) -> pd.DataFrame:
        """The output frame: float32 columns named as ``feature_names_out()``, on the pairs' index."""
        names = self.feature_names_out()
        if list(columns) != names:
            raise RuntimeError(f"{type(self).__name__} produced {list(columns)} but declares {names}; "
                               f"this is a bug in ltr; please report it.")
        return pd.DataFrame({k: np.asarray(v, dtype=FEATURE_DTYPE) for k, v in columns.items()},
                            index=pairs.index)

    def spec(self) -> str:
        """The printed form that :func:`get_extractor` parses back."""
        return format_spec(self.name, self.get_params(), defaults=type(self)().get_params())


_NORMALIZERS = ("zscore", "minmax")


def _per_query_params(values: np.ndarray, qids: np.ndarray, normalize: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-row shift and scale from each query's own rows: (mean, std) or (min, max - min), NaN skipped
    (a column that is NaN on all of a query's rows gives NaN).

    Each query's statistics are reduced over its rows in their order alone (a stable sort by query, then
    segment reductions), so they do not depend on how other queries' rows are interleaved with them.
    """
    if len(values) == 0:
        return values, values
    codes, _ = pd.factorize(qids)
    order = np.argsort(codes, kind="stable")
    sorted_values, sorted_codes = values[order], codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    sizes = np.diff(np.r_[starts, len(values)])
    present = ~np.isnan(sorted_values)
    count = np.add.reduceat(present, starts, axis=0).astype(np.float64)
    count[count == 0] = np.nan
    with np.errstate(invalid="ignore"):
        if normalize == "zscore":
            shift = np.add.reduceat(np.where(present, sorted_values, 0.0), starts, axis=0) / count
            centred = np.where(present, sorted_values - np.repeat(shift, sizes, axis=0), 0.0)
            scale = np.sqrt(np.add.reduceat(centred * centred, starts, axis=0) / count)
        else:
            shift = np.minimum.reduceat(np.where(present, sorted_values, np.inf), starts, axis=0)
            high = np.maximum.reduceat(np.where(present, sorted_values, -np.inf), starts, axis=0)
            shift[np.isnan(count)] = np.nan
            scale = high - shift
    per_row = np.empty(len(values), dtype=np.int64)
    per_row[order] = np.repeat(np.arange(len(starts)), sizes)
    return shift[per_row], scale[per_row]


class FeatureSet(Params):
    """An ordered list of extractors whose columns are concatenated; duplicate names are refused.

    An estimator like the extractors it holds: ``fit(collection, pairs=None)``, ``transform(pairs)``,
    ``get_params``/``set_params``/``clone``; its parameters are stored as given and checked at once (an unknown
    extractor name or two extractors with one feature name fail here, not after a long retrieval).

    Parameters
    ----------
    extractors : list of FeatureExtractor or str
        Extractors or their printed forms (``"bm25(field='title')"``); :attr:`steps` holds the objects.
    normalize : {None, "zscore", "minmax"}
        Feature normalisation, as RankLib's ``-norm zscore|linear``.
    scope : {"query", "global"}
        ``"query"`` normalises each query's rows by that query's own statistics (RankLib's per-query
        normalisation; the same rule applies to new queries, so nothing is learned). ``"global"`` learns
        one mean/std (or min/max) per feature on the pairs given to :meth:`fit` and keeps them
        (``norm_params_``) to score new data with.
    """

    def __init__(self, extractors, *, normalize: str | None = None, scope: str = "query"):
        self.extractors, self.normalize, self.scope = extractors, normalize, scope
        self._check()

    def _check(self) -> None:
        if isinstance(self.extractors, (str, FeatureExtractor)):
            raise ConfigError(f"FeatureSet takes a list of extractors, got {self.extractors!r}; write "
                              f"FeatureSet([{self.extractors!r}])")
        self._steps = [get_extractor(e) for e in self.extractors]
        if self.normalize is not None and self.normalize not in _NORMALIZERS:
            raise ConfigError(f"Unknown normalisation {self.normalize!r}. Choose from {list(_NORMALIZERS)} or "
                              f"None.")
        if self.scope not in ("query", "global"):
            raise ConfigError(f"Unknown normalisation scope {self.scope!r}. Choose from ['global', 'query'].")
        names = self.feature_names_out()
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ConfigError(f"FeatureSet has duplicate feature names {dup}; give the extractors different "
                              f"parameters (e.g. field=) or drop one")

    def set_params(self, **params) -> "FeatureSet":
        super().set_params(**params)
        self._check()
        return self

    def get_params(self, deep: bool = True) -> dict:
        return super().get_params(deep=False)   # the extractors may be names: nothing nested to expose

    @property
    def steps(self) -> list[FeatureExtractor]:
        """The extractors as objects, in order (the ones given, or built from their printed forms)."""
        return self._steps

    def feature_names_out(self) -> list[str]:
        return [n for e in self._steps for n in e.feature_names_out()]

    def fit(self, collection: Collection, pairs: pd.DataFrame | None = None) -> "FeatureSet":
        for e in self._steps:
            e.fit(collection)
        if self.normalize is not None and self.scope == "global":
            if pairs is None:
                raise ConfigError("FeatureSet(scope='global') learns its normalisation from training pairs: "
                                  "call fit(collection, train_pairs)")
            raw = self._raw(pairs)
            if self.normalize == "zscore":
                self.norm_params_ = (raw.mean().to_numpy(), raw.std(ddof=0).to_numpy())
            else:
                self.norm_params_ = (raw.min().to_numpy(), (raw.max() - raw.min()).to_numpy())
        return self

    def _raw(self, pairs: pd.DataFrame) -> pd.DataFrame:
        parts = [e.transform(pairs) for e in self._steps]
        if not parts:
            return pd.DataFrame(index=pairs.index)
        return pd.concat(parts, axis=1)

    def transform(self, pairs: pd.DataFrame) -> pd.DataFrame:
        raw = self._raw(pairs)
        if self.normalize is None:
            return raw
        if self.scope == "global":
            if not hasattr(self, "norm_params_"):
                raise not_fitted("FeatureSet", "call fit(collection, train_pairs) first")
            shift, scale = self.norm_params_
        else:
            require_columns(pairs, (QID,), caller="FeatureSet.transform")
            shift, scale = _per_query_params(raw.to_numpy(dtype=np.float64), pairs[QID].to_numpy(),
                                             self.normalize)
        scale = np.where(np.asarray(scale) > 0, scale, 1.0)  # constant features become 0, not NaN
        out = (raw.to_numpy(dtype=np.float64) - shift) / scale
        return pd.DataFrame(out.astype(FEATURE_DTYPE), index=raw.index, columns=raw.columns)

    def fit_transform(self, collection: Collection, pairs: pd.DataFrame) -> pd.DataFrame:
        return self.fit(collection, pairs).transform(pairs)

    def specs(self) -> list[str]:
        return [e.spec() for e in self._steps]

    def __repr__(self) -> str:
        extra = f", normalize={self.normalize!r}, scope={self.scope!r}" if self.normalize else ""
        return f"FeatureSet({self.specs()}{extra})"


def check_extractor(extractor: FeatureExtractor, collection: Collection, pairs: pd.DataFrame) -> None:
    """The contract every extractor passes (our ``check_estimator``).

    Keeps the input index and order; does not mutate the input; columns equal ``feature_names_out()``
    and are float32; deterministic; handles an empty frame; a clone from ``get_params()`` gives the same
    output. Raises :class:`SchemaError` describing the first violation.
    """
    def fail(msg: str):
        raise SchemaError(f"{type(extractor).__name__} breaks the extractor contract: {msg}")

    pairs = pairs.copy()
    pairs.index = pd.RangeIndex(100, 100 + 2 * len(pairs), 2)  # a non-default index must be kept
    before = pairs.copy(deep=True)
    fitted = clone(extractor).fit(collection)
    out = fitted.transform(pairs)
    if not pairs.equals(before):
        fail("transform mutated its input")
    if not out.index.equals(pairs.index):
        fail("the output index differs from the input index")
    if list(out.columns) != fitted.feature_names_out():
        fail(f"columns {list(out.columns)} != feature_names_out() {fitted.feature_names_out()}")
    bad = [c for c in out.columns if out[c].dtype != FEATURE_DTYPE]
    if bad:
        fail(f"columns {bad} are not float32")
    again = fitted.transform(pairs)
    if not out.equals(again):
        fail("two transforms of the same pairs differ")
    shuffled = pairs.iloc[::-1]
    if not fitted.transform(shuffled).equals(out.iloc[::-1]):
        fail("a row's features depend on the order of the other rows")
    empty = fitted.transform(pairs.iloc[:0])
    if len(empty) != 0 or list(empty.columns) != fitted.feature_names_out():
        fail("an empty input does not give an empty frame with the declared columns")
    params = extractor.get_params()
    rebuilt = type(extractor)(**params).fit(collection).transform(pairs)
    if not rebuilt.equals(out):
        fail("an extractor rebuilt from get_params() gives different features")
    spec = extractor.spec()
    if get_extractor(spec).get_params() != params:
        fail(f"its printed form {spec!r} does not parse back to the same parameters")
