"""Fixtures of the metric tests."""

from __future__ import annotations

import pytest

import importlib
from ltr.metrics import _fast


@pytest.fixture(params=["numba", "numpy"])
def path(request, monkeypatch):
    """Run the test on evaluate()'s numba kernels (when installed) and on its numpy reference path."""
    if request.param == "numba" and not _fast.AVAILABLE:
        pytest.skip("numba or pyarrow is not installed")
    if request.param == "numpy":
        monkeypatch.setattr(_fast, "AVAILABLE", False)
    else:
        # the module, not the function of the same name that ltr.metrics re-exports
        monkeypatch.setattr(importlib.import_module("ltr.metrics.evaluate"), "FAST_MIN_ROWS", 0)
    return request.param
