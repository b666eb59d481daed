"""Feature normalisation carried into an exported graph: what :class:`features.FeatureSet` did to the
features before the model saw them.

A FeatureSet with ``normalize="zscore"`` or ``"minmax"`` rescales each feature either by the statistics of
the query's own rows (``scope="query"``, RankLib's per-query normalisation) or by statistics learned once on
the training pairs (``scope="global"``, kept in ``norm_params_``). A model trained on normalised features must
be served the same way, so the exporter can put the normalisation inside the ONNX graph:

- ``scope="global"``: ``(x - shift) / scale`` with the stored constants (a constant feature, scale 0, is
  divided by 1 as FeatureSet does);
- ``scope="query"``: the graph computes each column's mean and standard deviation (population, NaN skipped)
  or min and max over the rows it is given. **One call of the graph must then hold exactly one query's
  candidate documents**; the manifest says so (``"rows_per_call": "one query"``).

As in FeatureSet, the statistics are computed in float64 on the float32 features and the result is rounded to
float32 before the trees see it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltr.errors import ConfigError, FeatureMismatchError

__all__ = ["FeatureNormalization"]

_METHODS = ("minmax", "zscore")
_SCOPES = ("global", "query")


@dataclass(frozen=True)
class FeatureNormalization:
    """Normalisation applied to the features before the model.

    Parameters
    ----------
    method : {"zscore", "minmax"}
    scope : {"query", "global"}
    shift, scale : tuple of float, optional
        Per feature; required for ``scope="global"`` (FeatureSet's ``norm_params_``), absent for
        ``scope="query"``.
    feature_names : tuple of str, optional
        The features ``shift`` and ``scale`` belong to, in their order; without it they are taken to be in
        the model's feature order.

    Examples
    --------
    >>> FeatureNormalization("zscore", "query").to_dict()
    {'method': 'zscore', 'scope': 'query'}
    """

    method: str
    scope: str = "query"
    shift: tuple | None = None
    scale: tuple | None = None
    feature_names: tuple | None = None

    def __post_init__(self):
        if self.method not in _METHODS:
            raise ConfigError(f"Unknown normalisation {self.method!r}. Choose from {list(_METHODS)}.")
        if self.scope not in _SCOPES:
            raise ConfigError(f"Unknown normalisation scope {self.scope!r}. Choose from {list(_SCOPES)}.")
        if self.scope == "global":
            if self.shift is None or self.scale is None:
                raise ConfigError("a global normalisation needs shift and scale per feature (FeatureSet's "
                                  "norm_params_ after fit(collection, train_pairs))")
            shift = tuple(float(v) for v in self.shift)
            scale = tuple(float(v) for v in self.scale)
            if len(shift) != len(scale):
                raise ConfigError(f"a global normalisation has {len(shift)} shifts but {len(scale)} scales")
            object.__setattr__(self, "shift", shift)
            object.__setattr__(self, "scale", scale)
            if self.feature_names is not None:
                names = tuple(str(n) for n in self.feature_names)
                if len(names) != len(shift):
                    raise ConfigError(f"a global normalisation names {len(names)} features but has "
                                      f"{len(shift)} shifts")
                object.__setattr__(self, "feature_names", names)
        elif self.shift is not None or self.scale is not None or self.feature_names is not None:
            raise ConfigError("a per-query normalisation takes no shift/scale: each query's own rows give them")

    # -- construction ----------------------------------------------------------------------------
    @classmethod
    def from_feature_set(cls, feature_set, feature_names=None) -> FeatureNormalization | None:
        """The normalisation of a fitted :class:`features.FeatureSet` (None when it does not normalise).

        ``feature_names`` (the model's, in order) are checked against the FeatureSet's output names.
        """
        method = getattr(feature_set, "normalize", None)
        if method is None:
            return None
        names = list(feature_set.feature_names_out())
        if feature_names is not None and list(feature_names) != names:
            raise FeatureMismatchError(f"the FeatureSet produces {names[:10]}{' ...' if len(names) > 10 else ''} "
                                       f"but the model was trained on {list(feature_names)[:10]}; export with the "
                                       f"FeatureSet whose output the model was trained on")
        if feature_set.scope == "query":
            return cls(method, "query")
        if not hasattr(feature_set, "norm_params_"):
            raise ConfigError("the FeatureSet's global normalisation is not fitted: call "
                              "fit(collection, train_pairs) first")
        shift, scale = feature_set.norm_params_
        return cls(method, "global", tuple(np.asarray(shift, float)), tuple(np.asarray(scale, float)), tuple(names))

    @classmethod
    def from_dict(cls, data: dict, *, source: str = "normalisation") -> FeatureNormalization:
        """Read ``{"method", "scope", ["shift", "scale"]}``; shift/scale may be lists or ``{feature: value}``."""
        if not isinstance(data, dict) or "method" not in data:
            raise ConfigError(f"{source}: expected an object with 'method' ('zscore' or 'minmax'), 'scope' "
                              f"('query' or 'global') and, for 'global', 'shift' and 'scale'; got {data!r}")
        unknown = sorted(set(data) - {"method", "scope", "shift", "scale", "feature_names"})
        if unknown:
            raise ConfigError(f"{source}: unknown keys {unknown}; expected method, scope, shift, scale")
        shift, scale = data.get("shift"), data.get("scale")
        names = data.get("feature_names")
        if isinstance(shift, dict) or isinstance(scale, dict):
            if not (isinstance(shift, dict) and isinstance(scale, dict)) or set(shift) != set(scale):
                raise ConfigError(f"{source}: shift and scale must both map the same feature names to numbers")
            names = list(shift)
            shift, scale = [shift[n] for n in names], [scale[n] for n in names]
        return cls(data["method"], data.get("scope", "query"), shift, scale,
                   None if names is None else tuple(names))

    def to_dict(self) -> dict:
        out = {"method": self.method, "scope": self.scope}
        if self.scope == "global":
            out["shift"], out["scale"] = list(self.shift), list(self.scale)
            if self.feature_names is not None:
                out["feature_names"] = list(self.feature_names)
        return out

    # -- use ----------------------------------------------------------------------------------------
    def aligned(self, feature_names: list[str]) -> FeatureNormalization:
        """This normalisation with global constants in ``feature_names`` order (checked)."""
        if self.scope != "global":
            return self
        names = self.feature_names
        if names is None:
            if len(self.shift) != len(feature_names):
                raise FeatureMismatchError(f"the normalisation has constants for {len(self.shift)} features but "
                                           f"the model has {len(feature_names)}")
            return self
        missing = [n for n in feature_names if n not in names]
        if missing or len(names) != len(feature_names):
            extra = [n for n in names if n not in set(feature_names)]
            raise FeatureMismatchError(f"the normalisation's features differ from the model's: missing {missing[:10]}, "
                                       f"unexpected {extra[:10]}")
        pos = {n: i for i, n in enumerate(names)}
        order = [pos[n] for n in feature_names]
        return FeatureNormalization(self.method, "global", tuple(self.shift[i] for i in order),
                                    tuple(self.scale[i] for i in order), tuple(feature_names))

    def constants(self) -> tuple[np.ndarray, np.ndarray]:
        """Global ``(shift, scale)`` as FeatureSet applies them: a scale <= 0 (constant feature) becomes 1."""
        shift = np.asarray(self.shift, dtype=np.float64)
        scale = np.asarray(self.scale, dtype=np.float64)
        return shift, np.where(scale > 0, scale, 1.0)

    def apply(self, X, qids=None) -> np.ndarray:
        """The normalised float32 features (the numpy reference of the graph; FeatureSet's own code for a
        per-query normalisation)."""
        X = np.asarray(X, dtype=np.float32).astype(np.float64)
        if self.scope == "global":
            shift, scale = self.constants()
        else:
            if qids is None:
                raise ConfigError("a per-query normalisation needs the query id of every row")
            from features.base import _per_query_params      # the one implementation FeatureSet uses
            shift, scale = _per_query_params(X, np.asarray(qids), self.method)
            scale = np.where(np.asarray(scale) > 0, scale, 1.0)
        return ((X - shift) / scale).astype(np.float32)

    def describe(self) -> str:
        if self.scope == "global":
            return f"{self.method} with constants learned on the training data (global)"
        what = "mean and population standard deviation" if self.method == "zscore" else "min and max"
        return f"{self.method} per query: each column's {what} over the rows of one call (one query)"
