"""Shared fixtures. Tests that read ../shared/data skip with a reason when it is absent (a user's clone)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LTR_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared_path(*parts: str) -> Path:
    """Path inside ../shared/data; skips the calling test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the project's shared data sets, ../shared/data next to the clone; "
                    f"set LTR_SHARED_DATA to point elsewhere)")
    return path


@pytest.fixture
def shared_data():
    return shared_path


@pytest.fixture(params=["numba", "numpy"])
def path(request, monkeypatch):
    """Run a metrics test on evaluate()'s numba kernels (when installed) and on its numpy reference path."""
    import importlib

    from ltr.metrics import _fast
    if request.param == "numba" and not _fast.AVAILABLE:
        pytest.skip("numba or pyarrow is not installed")
    if request.param == "numpy":
        monkeypatch.setattr(_fast, "AVAILABLE", False)
    else:
        # the module, not the function of the same name that ltr.metrics re-exports
        monkeypatch.setattr(importlib.import_module("ltr.metrics.frames"), "FAST_MIN_ROWS", 0)
    return request.param
