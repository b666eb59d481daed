"""Typed errors.

Every error a user can trigger with bad input is one of these, so callers can catch them and the CLI can
print the one message without a traceback. Messages say what was expected, what arrived and how to fix it.
"""

from __future__ import annotations


class LTRError(Exception):
    """Base class of every error ltr raises on purpose."""


class SchemaError(LTRError, ValueError):
    """A frame lacks columns a stage needs, or a column has the wrong type."""


class ParseError(LTRError, ValueError):
    """A file could not be parsed; the message names the file and line.

    Parameters
    ----------
    message : str
        What was expected and what arrived.
    path : str or None
        The file, if any.
    line : int or None
        1-based line number, if known.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path, self.line, self.reason = path, line, message
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        elif line is not None:
            where = f"line {line}: "
        super().__init__(where + message)


class GroupError(LTRError, ValueError):
    """Query groups are inconsistent (a query split into blocks, sizes that do not sum to the rows)."""


class LabelError(LTRError, ValueError):
    """Relevance labels of a kind the objective or file format cannot take."""


class DataError(LTRError, ValueError):
    """Input data are invalid (NaN where not allowed, duplicates, nothing in common, ...)."""


class UnknownNameError(LTRError, ValueError):
    """A name (metric, objective, backend, extractor, dataset, ...) is not registered."""


class ConfigError(LTRError, ValueError):
    """An experiment or model configuration is invalid."""


class ModelFormatError(LTRError, ValueError):
    """A saved model directory is missing files or its manifest does not match its contents."""


class FeatureMismatchError(LTRError, ValueError):
    """Feature names or order differ from those seen at fit time."""


class WriteError(LTRError, OSError):
    """An output file could not be written (disk full, quota, read-only file system, no permission).

    The message names the file; the atomic writer leaves no half-written file behind and the previous
    version of the file, if any, unchanged. Also an :class:`OSError` (``errno`` and ``filename`` set), so
    code that caught those still does; ``str()`` is the one-line message alone.
    """

    def __init__(self, errno: int | None, message: str, filename: str | None = None):
        super().__init__(errno, message)
        self.message = message
        self.filename = filename

    def __str__(self) -> str:
        return self.message


class ExportError(ConfigError):
    """A model cannot be exported faithfully (a feature the target format lacks, or scores that differ)."""


# -- NotFittedError: scikit-learn's, defined on first use ------------------------------------------------
# ``ltr.errors.NotFittedError`` subclasses ``sklearn.exceptions.NotFittedError`` (itself a ValueError and an
# AttributeError), so ``except sklearn.exceptions.NotFittedError`` and scikit-learn's tools (``check_is_fitted``
# users, ``Pipeline``) treat ltr's estimators like their own. Importing scikit-learn costs about 1.7 s, which
# every ``import ltr.errors`` would pay; the class is therefore made on first access through the module's
# ``__getattr__`` (PEP 562): ``from ltr.errors import NotFittedError`` imports scikit-learn at that moment,
# other names of this module do not. Pickle finds the class by name, so it travels to Dask workers.

def _make_not_fitted_error():
    from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

    class NotFittedError(LTRError, _SklearnNotFittedError):
        """An estimator was used before fit(); also scikit-learn's ``NotFittedError``."""

    NotFittedError.__module__ = __name__
    NotFittedError.__qualname__ = "NotFittedError"
    return NotFittedError


def __getattr__(name: str):
    if name == "NotFittedError":
        cls = globals().get("_NotFittedError")
        if cls is None:
            cls = globals()["_NotFittedError"] = _make_not_fitted_error()
            globals()["NotFittedError"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), "NotFittedError"])
