"""Hyper-parameters of estimators, the scikit-learn way, without importing scikit-learn.

:class:`Params` gives a class scikit-learn's ``get_params`` / ``set_params`` / ``clone`` contract (the
parameters are the keyword arguments of ``__init__``, stored unchanged under their own names), so that
``sklearn.base.clone`` and ``sklearn.utils.validation.check_is_fitted`` work on it, while ``import features``
stays cheap (``sklearn.base`` alone imports scipy.stats: about 1.7 s).

>>> class Scaler(Params):
...     def __init__(self, *, factor=1.0, name="x"):
...         self.factor, self.name = factor, name
>>> Scaler(factor=2.0)
Scaler(factor=2.0)
>>> clone(Scaler(factor=2.0).set_params(name="y")).get_params()
{'factor': 2.0, 'name': 'y'}
"""

from __future__ import annotations

import copy
import inspect

from ltr.errors import ConfigError


class Params:
    """Mixin: ``get_params(deep=True)``, ``set_params(**params)`` and a repr of the non-default parameters."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        kinds = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        params = [p for p in inspect.signature(init).parameters.values() if p.name != "self"]
        if any(p.kind in kinds for p in params):
            raise RuntimeError(f"{cls.__name__}.__init__ takes *args or **kwargs, so its parameters cannot be "
                               f"introspected; this is a bug in ltr; please report it.")
        return sorted(p.name for p in params)

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's parameters (and, with ``deep``, those of nested estimators as ``name__param``)."""
        out = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{name}__{k}", v) for k, v in value.get_params().items())
            out[name] = value
        return out

    def set_params(self, **params):
        """Set parameters (``name`` or ``nested__name``); unknown names are a :class:`ConfigError`."""
        valid = self._get_param_names()
        nested: dict[str, dict] = {}
        for key, value in params.items():
            name, sep, sub = key.partition("__")
            if name not in valid:
                raise ConfigError(f"Invalid parameter {name!r} for {type(self).__name__}. Valid parameters are: "
                                  f"{valid}.")
            if sep:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        try:
            defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        except (TypeError, ValueError):  # pragma: no cover
            defaults = {}
        shown = [f"{k}={v!r}" for k, v in self.get_params(deep=False).items()
                 if k not in defaults or not _same(v, defaults[k])]
        return f"{type(self).__name__}({', '.join(shown)})"


def _same(a, b) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # noqa: BLE001 - arrays and other objects without a plain truth value
        return a is b


def clone(estimator):
    """A new, unfitted estimator with the same parameters (nested estimators and lists of them cloned too),
    like :func:`sklearn.base.clone`."""
    if isinstance(estimator, (list, tuple)):
        return type(estimator)(clone(e) for e in estimator)
    if not hasattr(estimator, "get_params") or isinstance(estimator, type):
        return copy.deepcopy(estimator)
    params = {k: clone(v) for k, v in estimator.get_params(deep=False).items()}
    return type(estimator)(**params)


def check_type(value, types, what: str):
    """``value`` if it is of ``types`` (a bool is an int only where ``bool`` is named), else a ConfigError
    naming ``what``, the expected types and the value: ``training.n_estimators must be int, got str '100'``."""
    types = types if isinstance(types, tuple) else (types,)
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        names = " or ".join(t.__name__ for t in types)
        raise ConfigError(f"{what} must be {names}, got {type(value).__name__} {value!r}")
    return value
