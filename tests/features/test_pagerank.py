"""PageRank against networkx, and the ``pagerank`` extractor."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from features.base import check_extractor, get_extractor
from features.pagerank import (
    PageRank,
    PowerIterationFailedConvergence,
    link_matrix,
    pagerank,
)
from ltr.collection import Collection
from ltr.errors import ConfigError, DataError, LTRError


def _random_graph(rng, n, m):
    """Edges with dangling nodes, self-loops and duplicate edges."""
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    src[src % 7 == 0] = 1  # nodes divisible by 7 have no out-links (dangling)
    src[:4] = dst[:4]  # self-loops
    src = np.concatenate([src, src[4:12], src[4:6]])  # duplicates, some three times
    dst = np.concatenate([dst, dst[4:12], dst[4:6]])
    return src, dst


def _networkx(src, dst, n, **kwargs):
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(src.tolist(), dst.tolist()))
    # networkx stops at an L1 change < N * tol: a tiny tol makes its answer exact to rounding
    ref = nx.pagerank(g, tol=1e-16, max_iter=100_000, **kwargs)
    return np.array([ref[i] for i in range(n)])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_networkx_multidigraph(seed):
    """Oracle: networkx.pagerank on a MultiDiGraph with dangling nodes, self-loops and parallel edges."""
    rng = np.random.default_rng(seed)
    n = 60
    src, dst = _random_graph(rng, n, 200)
    assert (np.bincount(src, minlength=n) == 0).any() and (src == dst).any()
    ours = pagerank(src, dst, n_nodes=n, tol=1e-15)
    np.testing.assert_allclose(ours, _networkx(src, dst, n), rtol=0, atol=1e-13)
    assert ours.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("damping", [0.5, 0.85, 0.99])
def test_personalization_and_dangling_equal_networkx(damping):
    """Oracle: networkx.pagerank with personalization and dangling dicts (zeros included)."""
    rng = np.random.default_rng(3)
    n = 40
    src, dst = _random_graph(rng, n, 120)
    pers = rng.random(n)
    pers[:5] = 0.0
    dang = rng.random(n)
    dang[5:10] = 0.0
    ours = pagerank(src, dst, n_nodes=n, damping=damping, personalization=pers, dangling=dang, tol=1e-15,
                    max_iter=100_000)
    ref = _networkx(src, dst, n, alpha=damping, personalization=dict(enumerate(pers)),
                    dangling=dict(enumerate(dang)))
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


def test_fixed_iterations_match_networkx_iterates():
    """Oracle: networkx's own iterates; the same number of steps gives the same vector (nx uses tol*N).

    networkx stops after the first iterate whose L1 change is < N*tol; we stop after the first < tol, so
    calling ours with tol = N*tol_nx must stop at the same iterate and return the same numbers."""
    rng = np.random.default_rng(4)
    n = 500
    src, dst = _random_graph(rng, n, 2000)
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(src.tolist(), dst.tolist()))
    ref = nx.pagerank(g, tol=1e-6)
    ours = pagerank(src, dst, n_nodes=n, tol=n * 1e-6)
    np.testing.assert_allclose(ours, [ref[i] for i in range(n)], rtol=0, atol=1e-15)


def test_weights_equal_networkx_digraph():
    """Oracle: networkx.pagerank with weight='weight' on a weighted DiGraph."""
    rng = np.random.default_rng(5)
    n = 30
    pairs = {(int(a), int(b)) for a, b in rng.integers(0, n, (100, 2))}
    src, dst = (np.array(x) for x in zip(*sorted(pairs)))
    w = rng.random(len(src)) + 0.1
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from(zip(src.tolist(), dst.tolist(), w.tolist()))
    ref = nx.pagerank(g, tol=1e-16, max_iter=100_000)
    np.testing.assert_allclose(pagerank(src, dst, n, weights=w, tol=1e-15), [ref[i] for i in range(n)], atol=1e-13)


def test_duplicate_edges_count_once_per_copy():
    """Invariant: an edge listed twice equals a weight-2 edge (and differs from a single copy)."""
    two = pagerank([0, 0, 0], [1, 1, 2], n_nodes=3)
    weighted = pagerank([0, 0], [1, 2], n_nodes=3, weights=[2.0, 1.0])
    once = pagerank([0, 0], [1, 2], n_nodes=3)
    np.testing.assert_allclose(two, weighted, atol=1e-14)
    assert two[1] > once[1]
    assert link_matrix([0, 0, 0], [1, 1, 2]).toarray()[0].tolist() == [0.0, 2.0, 1.0]


def test_absolute_tolerance_is_met():
    """Invariant: the result is within tol (L1) of the fixed point (reference: a 10x tighter run)."""
    rng = np.random.default_rng(6)
    n = 2000
    src, dst = _random_graph(rng, n, 10_000)
    loose = pagerank(src, dst, n, tol=1e-6)
    tight = pagerank(src, dst, n, tol=1e-14)
    err = np.abs(loose - tight).sum()
    # the error of a power iteration is at most change * d / (1 - d)
    assert err < 1e-6 * 0.85 / 0.15


def test_edge_cases():
    """Hand-derived: no nodes -> empty; no edges -> personalization; a 3-cycle -> uniform."""
    assert pagerank([], [], n_nodes=0).shape == (0,)
    assert pagerank(np.array([], dtype=int), np.array([], dtype=int)).shape == (0,)
    np.testing.assert_allclose(pagerank([], [], n_nodes=4), np.full(4, 0.25))
    np.testing.assert_allclose(pagerank([], [], n_nodes=2, personalization=[3, 1]), [0.75, 0.25])
    np.testing.assert_allclose(pagerank([0, 1, 2], [1, 2, 0]), np.full(3, 1 / 3), atol=1e-12)
    # isolated trailing nodes declared by n_nodes
    assert pagerank([0], [1], n_nodes=5).shape == (5,)


def test_errors():
    """Messages: each bad input names what was expected and what arrived."""
    with pytest.raises(DataError, match=r"out of range for n_nodes=2"):
        pagerank([0, 2], [1, 0], n_nodes=2)
    with pytest.raises(DataError, match=r"same length"):
        pagerank([0, 1], [1])
    with pytest.raises(DataError, match=r"must be >= 0; found -1"):
        pagerank([0, -1], [1, 0])
    with pytest.raises(DataError, match=r"integer node ids"):
        pagerank(["a"], ["b"])
    with pytest.raises(DataError, match=r"personalization must have one value per node, shape \(3,\)"):
        pagerank([0], [1], n_nodes=3, personalization=[1, 1])
    with pytest.raises(DataError, match=r"dangling sums to 0"):
        pagerank([0], [1], n_nodes=3, dangling=[0, 0, 0])
    with pytest.raises(ConfigError, match=r"'damping' parameter of pagerank must be a float in \[0, 1\]. Got 1.5"):
        pagerank([0], [1], damping=1.5)
    with pytest.raises(PowerIterationFailedConvergence, match=r"did not converge .* in 3 iterations") as info:
        pagerank(*_random_graph(np.random.default_rng(0), 50, 200), max_iter=3)
    assert isinstance(info.value, LTRError) and info.value.max_iter == 3 and info.value.error > 1e-10


# ---- the extractor ---------------------------------------------------------------------------------


def test_contract(tiny_collection, tiny_pairs):
    """Contract: features.base.check_extractor."""
    check_extractor(PageRank(), tiny_collection, tiny_pairs)
    check_extractor(get_extractor("pagerank(damping=0.5)"), tiny_collection, tiny_pairs)


def test_extractor_values(tiny_collection, tiny_pairs):
    """Oracle: networkx.pagerank on the tiny collection's links (a MultiDiGraph of docids); degrees by hand."""
    out = PageRank().fit(tiny_collection).transform(tiny_pairs)
    g = nx.MultiDiGraph()
    g.add_nodes_from(tiny_collection.docids)
    g.add_edges_from(tiny_collection.links.itertuples(index=False, name=None))
    ref = nx.pagerank(g, tol=1e-16, max_iter=10_000)
    docs = tiny_pairs["docid"]
    np.testing.assert_allclose(out["pagerank__pagerank"], docs.map(ref).astype(np.float32), rtol=1e-6)
    n = len(tiny_collection.documents)
    np.testing.assert_allclose(out["pagerank__log_pagerank"],
                               np.log(docs.map(ref).to_numpy(dtype=float) * n).astype(np.float32), rtol=1e-5)
    # d1 <- d2, d3, d4, d4 (a duplicate link counts twice); d4 -> d1, d1 (two copies); d5 -> d5 (self-link)
    first = out.groupby(docs.to_numpy()).first()
    assert first.loc["d1", "pagerank__in_degree"] == 4.0
    assert first.loc["d4", "pagerank__out_degree"] == 2.0
    assert first.loc["d5", "pagerank__in_degree"] == 1.0 and first.loc["d5", "pagerank__out_degree"] == 1.0
    assert first.loc["d6", "pagerank__in_degree"] == 0.0 and first.loc["d6", "pagerank__out_degree"] == 0.0


def test_collection_without_links_is_refused(tiny_collection):
    """Message: a collection without a link graph names itself and says what to do."""
    c = tiny_collection
    bare = Collection("nolinks", c.documents, c.queries, c.qrels, c.fields)
    with pytest.raises(ConfigError, match=r"Collection 'nolinks' has no link graph.*drop the 'pagerank' extractor"):
        PageRank().fit(bare)


def test_unknown_docid_is_refused(tiny_collection):
    """Message: a pair whose docid is not in the collection names it."""
    fitted = PageRank().fit(tiny_collection)
    with pytest.raises(DataError, match=r"PageRank.transform: 1 document ids of the pairs are not in the collection.*'zz'"):
        fitted.transform(pd.DataFrame({"qid": ["q1", "q1"], "docid": ["d1", "zz"]}))


def test_cacm_citation_graph_equals_networkx():
    """Oracle: networkx.pagerank on the CACM citation graph (../shared/data/cacm, links oriented by the loader)."""
    from ltr.datasets import load_cacm
    from tests.conftest import shared_path

    c = load_cacm(shared_path("cacm"))
    table = PageRank(tol=1e-15).fit(c).table_  # the default 1e-10 is L1-close, not to 1e-14 per node
    g = nx.MultiDiGraph()
    g.add_nodes_from(c.docids)
    g.add_edges_from(c.links.itertuples(index=False, name=None))
    ref = nx.pagerank(g, tol=1e-16, max_iter=10_000)
    np.testing.assert_allclose(table["pagerank"].to_numpy(), [ref[d] for d in table.index], rtol=0, atol=1e-14)
    assert table["in_degree"].sum() == table["out_degree"].sum() == len(c.links)
