"""ltr.errors: cheap to import, and NotFittedError is scikit-learn's."""

from __future__ import annotations

import pickle
import subprocess
import sys


def test_importing_ltr_errors_does_not_import_scikit_learn():
    """NotFittedError subclasses scikit-learn's, which costs about 1.7 s to import; the class is made on first
    access, so the other errors stay cheap."""
    code = "import sys, ltr.errors; ltr.errors.ConfigError; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_not_fitted_error_is_scikit_learns_and_travels_by_pickle():
    """Oracle: scikit-learn's class. Also a ValueError and an AttributeError (as scikit-learn's), an LTRError
    (so the CLI prints it as one line), and picklable by name (Dask sends errors between processes)."""
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    from ltr.errors import LTRError, NotFittedError
    err = NotFittedError("call fit first")
    assert isinstance(err, (SklearnNotFittedError, LTRError, ValueError, AttributeError))
    assert NotFittedError.__module__ == "ltr.errors" and NotFittedError.__qualname__ == "NotFittedError"
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is NotFittedError and str(back) == "call fit first"
    import ltr.errors
    assert "NotFittedError" in dir(ltr.errors) and ltr.errors.NotFittedError is NotFittedError
