"""FeatureSet: composition, duplicate names, per-query and global normalisation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features import FeatureSet
from features.base import _per_query_params
from ltr.errors import ConfigError, NotFittedError


@pytest.mark.parametrize("normalize", ["zscore", "minmax"])
def test_per_query_statistics_equal_pandas_and_ignore_interleaving(normalize):
    """Oracle: pandas groupby mean/std(ddof=0)/min/max (NaN skipped). The statistics of a query must not
    depend on how the other queries' rows are interleaved with its own (bit for bit)."""
    rng = np.random.default_rng(0)
    values = rng.normal(size=(80, 3))
    values[rng.random(values.shape) < 0.2] = np.nan
    qids = rng.integers(0, 6, 80).astype(str)
    values[qids == "1", 2] = np.nan                      # a column missing on all of a query's rows
    shift, scale = _per_query_params(values, qids, normalize)
    grouped = pd.DataFrame(values).groupby(qids, sort=False)
    if normalize == "zscore":
        expected_shift = grouped.transform("mean").to_numpy()
        expected_scale = grouped.transform(lambda s: s.std(ddof=0)).to_numpy()
    else:
        expected_shift = grouped.transform("min").to_numpy()
        expected_scale = grouped.transform("max").to_numpy() - expected_shift
    np.testing.assert_allclose(shift, expected_shift, atol=1e-14, equal_nan=True)
    np.testing.assert_allclose(scale, expected_scale, atol=1e-14, equal_nan=True)
    # the same rows of each query, in the same order within the query, but grouped differently
    order = np.argsort(qids, kind="stable")
    shift2, scale2 = _per_query_params(values[order], qids[order], normalize)
    inverse = np.argsort(order)
    assert np.array_equal(shift2[inverse], shift, equal_nan=True)
    assert np.array_equal(scale2[inverse], scale, equal_nan=True)


def test_featureset_refuses_duplicate_names():
    with pytest.raises(ConfigError, match=r"duplicate feature names \['bm25__body'\]"):
        FeatureSet(["bm25(field='body')", "bm25(field='body', k1=0.9)"])


def test_featureset_normalisation(tiny_collection, tiny_pairs):
    raw = FeatureSet(["bm25(field='body')", "recency"]).fit_transform(tiny_collection, tiny_pairs)
    per_query = FeatureSet(["bm25(field='body')", "recency"], normalize="zscore").fit_transform(
        tiny_collection, tiny_pairs)
    assert list(per_query.columns) == list(raw.columns) and per_query.index.equals(tiny_pairs.index)
    means = per_query.groupby(tiny_pairs["qid"].to_numpy()).mean()["bm25__body"]
    assert np.isnan(means["q3"])          # 'the' has no term after stop words: NaN stays NaN, never 0
    np.testing.assert_allclose(means.drop("q3").to_numpy(), 0.0, atol=1e-6)
    glob = FeatureSet(["bm25(field='body')"], normalize="minmax", scope="global")
    with pytest.raises(ConfigError, match="learns its normalisation from training pairs"):
        glob.fit(tiny_collection)
    with pytest.raises(NotFittedError):
        glob.transform(tiny_pairs)
    out = glob.fit(tiny_collection, tiny_pairs).transform(tiny_pairs)
    assert float(out["bm25__body"].min()) == 0.0 and float(out["bm25__body"].max()) == 1.0
