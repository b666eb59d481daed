"""A small synthetic web (2,000 pages, 60 queries, complete labels) shared by the pipeline tests."""

from __future__ import annotations

import pytest

from ltr.datasets.synthetic import make_synthetic_web


@pytest.fixture(scope="session")
def small_web():
    return make_synthetic_web(n_docs=2000, n_queries=60, seed=0)
