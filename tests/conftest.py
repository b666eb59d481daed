"""Shared fixtures. Tests that read ../shared/data skip with a reason when it is absent (a user's clone)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# -- hypothesis profiles -----------------------------------------------------------------------------------
# "ci" (the default): derandomized (examples derived from each test's name, so a run never depends on luck),
# no example database (nothing replayed from an earlier local run), no deadline (a shared CI machine is slow
# at random moments). "deep": random seeds (pytest --hypothesis-seed=N to pick one) and FUZZ_SCALE times the
# examples of every property test; run it before you stop:
#     HYPOTHESIS_PROFILE=deep python -m pytest tests/io/test_fuzz.py --hypothesis-seed=1
# Every counterexample it finds stays in the test as an explicit @example.
FUZZ_SCALE = {"ci": 1, "deep": 10}
try:
    from hypothesis import HealthCheck, settings
except ImportError:  # pragma: no cover - hypothesis comes with the test extra
    PROFILE = "ci"
else:
    _COMMON = dict(deadline=None, database=None, print_blob=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                          HealthCheck.filter_too_much])
    settings.register_profile("ci", derandomize=True, **_COMMON)
    settings.register_profile("deep", derandomize=False, **_COMMON)
    PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    if PROFILE not in FUZZ_SCALE:
        raise pytest.UsageError(f"HYPOTHESIS_PROFILE={PROFILE!r}; choose from {sorted(FUZZ_SCALE)}")
    settings.load_profile(PROFILE)


def examples(n: int) -> int:
    """The number of examples a property test runs: ``n`` in CI, ``FUZZ_SCALE`` times more in "deep"."""
    return n * FUZZ_SCALE[PROFILE]
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
