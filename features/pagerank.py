"""PageRank over a link graph, and the ``pagerank`` extractor (PageRank, in- and out-degree per document).

:func:`pagerank` is a power iteration on a scipy CSR matrix that reproduces ``networkx.pagerank`` on a
``networkx.MultiDiGraph`` built from the same edge list (parallel edges each count, self-loops are kept,
dangling nodes' mass is redistributed by the ``dangling`` distribution), with one deliberate difference:
convergence is declared when the L1 change between two iterates falls below the *absolute* ``tol``, whereas
networkx stops when it falls below ``N * tol`` (so its accuracy degrades with the size of the graph).

The iteration is

.. math::

    x^{(t+1)} = d \\, \\big(W^\\top x^{(t)} + (\\textstyle\\sum_{j \\in D} x^{(t)}_j)\\, u\\big) + (1 - d)\\, p

where :math:`W = \\mathrm{diag}(1/\\mathrm{out}) A` is the row-normalised (weighted, duplicates summed)
adjacency matrix, :math:`D` the set of dangling nodes (no out-links), :math:`u` the dangling distribution
(default :math:`p`), :math:`p` the personalisation (default uniform) and :math:`d` the damping factor.
Started from the uniform vector, every iterate sums to 1.

References
----------
.. [1] L. Page, S. Brin, R. Motwani, T. Winograd, "The PageRank citation ranking: bringing order to the
   web", Stanford InfoLab Technical Report 1999-66, 1999.
.. [2] A. Langville, C. Meyer, "Deeper inside PageRank", Internet Mathematics 1(3), 2004 (dangling nodes,
   personalisation, power iteration).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from features.base import FeatureExtractor, register
from ltr.collection import LINK_SOURCE, LINK_TARGET, Collection, doc_rows
from ltr.errors import ConfigError, DataError, LTRError
from ltr.schema import DOCID

__all__ = ["PageRank", "PowerIterationFailedConvergence", "collection_pagerank", "link_matrix", "pagerank"]


class PowerIterationFailedConvergence(LTRError, RuntimeError):
    """The power iteration did not reach the requested tolerance within ``max_iter`` iterations.

    Attributes
    ----------
    max_iter : int
    error : float
        The L1 change of the last iteration.
    """

    def __init__(self, message: str, *, max_iter: int, error: float):
        self.max_iter, self.error = max_iter, error
        super().__init__(message)


def _check_probability_vector(values, n: int, what: str) -> np.ndarray:
    vec = np.asarray(values, dtype=np.float64)
    if vec.shape != (n,):
        raise DataError(f"pagerank: {what} must have one value per node, shape ({n},); got shape {vec.shape}")
    if not np.all(np.isfinite(vec)) or np.any(vec < 0):
        raise DataError(f"pagerank: {what} must hold finite values >= 0 (it is normalised to sum to 1)")
    total = vec.sum()
    if total <= 0:
        raise DataError(f"pagerank: {what} sums to 0; give at least one node a positive weight")
    return vec / total


def _check_edges(sources, targets, n_nodes, weights) -> tuple[np.ndarray, np.ndarray, int, np.ndarray | None]:
    src = np.asarray(sources)
    dst = np.asarray(targets)
    if src.ndim != 1 or dst.ndim != 1 or len(src) != len(dst):
        raise DataError(f"pagerank: sources and targets must be 1-D arrays of the same length; "
                        f"got shapes {src.shape} and {dst.shape}")
    for arr, what in ((src, "sources"), (dst, "targets")):
        if len(arr) and not np.issubdtype(arr.dtype, np.integer):
            raise DataError(f"pagerank: {what} must be integer node ids 0..n_nodes-1; got dtype {arr.dtype} "
                            f"(map ids to integers first, e.g. with pandas.factorize)")
    src = src.astype(np.int64, copy=False)
    dst = dst.astype(np.int64, copy=False)
    lo = min(src.min(initial=0), dst.min(initial=0))
    if lo < 0:
        raise DataError(f"pagerank: node ids must be >= 0; found {lo}")
    hi = max(src.max(initial=-1), dst.max(initial=-1))
    if n_nodes is None:
        n_nodes = int(hi) + 1
    elif int(n_nodes) != n_nodes or n_nodes < 0:
        raise DataError(f"pagerank: n_nodes must be an integer >= 0; got {n_nodes!r}")
    elif hi >= n_nodes:
        raise DataError(f"pagerank: node id {hi} is out of range for n_nodes={n_nodes} (ids are 0..n_nodes-1)")
    w = None
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != src.shape:
            raise DataError(f"pagerank: weights must have one value per edge, shape {src.shape}; got {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise DataError("pagerank: edge weights must be finite and >= 0")
    return src, dst, int(n_nodes), w


def link_matrix(sources, targets, n_nodes: int | None = None, weights=None) -> sp.csr_array:
    """The adjacency matrix ``A[i, j]`` = total weight of the edges ``i -> j`` (parallel edges summed).

    Parameters
    ----------
    sources, targets : array-like of int of shape (n_edges,)
        Node ids in ``0 .. n_nodes - 1``.
    n_nodes : int, optional
        Defaults to the largest id + 1.
    weights : array-like of shape (n_edges,), optional
        Defaults to 1 per edge, so that ``A[i, j]`` counts the copies of ``i -> j``.

    Returns
    -------
    scipy.sparse.csr_array of shape (n_nodes, n_nodes), float64
    """
    src, dst, n, w = _check_edges(sources, targets, n_nodes, weights)
    data = np.ones(len(src)) if w is None else w
    return sp.csr_array((data, (src, dst)), shape=(n, n))  # the COO -> CSR conversion sums duplicates


def pagerank(sources, targets, n_nodes: int | None = None, damping: float = 0.85, personalization=None,
             tol: float = 1e-10, max_iter: int = 1000, dangling=None, weights=None) -> np.ndarray:
    """PageRank of every node of a directed multigraph given as an edge list.

    Parameters
    ----------
    sources, targets : array-like of int of shape (n_edges,)
        Edge ``k`` goes from ``sources[k]`` to ``targets[k]``. Node ids are ``0 .. n_nodes - 1``. Repeated
        edges each count (as in a ``networkx.MultiDiGraph``); self-loops are kept.
    n_nodes : int, optional
        Number of nodes (isolated nodes included). Defaults to the largest id + 1.
    damping : float, default=0.85
        Probability of following a link, in [0, 1]; networkx's ``alpha``.
    personalization : array-like of shape (n_nodes,), optional
        Teleport distribution (normalised to sum to 1). Default uniform.
    tol : float, default=1e-10
        Stop when the L1 change between two iterates is below ``tol`` (absolute, *not* multiplied by the
        number of nodes as networkx does).
    max_iter : int, default=1000
    dangling : array-like of shape (n_nodes,), optional
        Where the mass of dangling nodes (no out-edges) goes (normalised). Default: ``personalization``.
    weights : array-like of shape (n_edges,), optional
        Edge weights (default 1); a node's out-edges are normalised by its total out-weight.

    Returns
    -------
    ndarray of shape (n_nodes,), float64, summing to 1 (empty when there are no nodes).

    Raises
    ------
    PowerIterationFailedConvergence
        When the L1 change is still >= ``tol`` after ``max_iter`` iterations.
    DataError
        On ids out of range, mismatched lengths or invalid distributions.

    Examples
    --------
    >>> pr = pagerank([0, 1, 2], [1, 2, 0])
    >>> pr.round(4).tolist()
    [0.3333, 0.3333, 0.3333]
    """
    if not (0.0 <= damping <= 1.0):
        raise ConfigError(f"The 'damping' parameter of pagerank must be a float in [0, 1]. Got {damping!r} instead.")
    if not (tol > 0):
        raise ConfigError(f"The 'tol' parameter of pagerank must be a float > 0. Got {tol!r} instead.")
    if int(max_iter) != max_iter or max_iter < 1:
        raise ConfigError(f"The 'max_iter' parameter of pagerank must be an int >= 1. Got {max_iter!r} instead.")
    src, dst, n, w = _check_edges(sources, targets, n_nodes, weights)
    if n == 0:
        return np.zeros(0)
    p = np.full(n, 1.0 / n) if personalization is None else _check_probability_vector(personalization, n,
                                                                                       "personalization")
    u = p if dangling is None else _check_probability_vector(dangling, n, "dangling")

    wt, dangling_idx = _transition(src, dst, n, w)

    # Step 2: power iteration from the uniform vector (networkx's default nstart).
    x, _, err = _power_iteration(wt, dangling_idx, p, u, damping, tol, int(max_iter))
    if err < tol:
        return x
    raise PowerIterationFailedConvergence(
        f"pagerank did not converge to an L1 change < {tol:g} in {max_iter} iterations (last change "
        f"{err:.3g}); raise max_iter or tol, or lower damping", max_iter=int(max_iter), error=float(err))


def _transition(src, dst, n, w) -> tuple[sp.csr_array, np.ndarray]:
    """The transposed, row-normalised matrix W^T (rows = targets) and the dangling nodes.

    Transposed so that one iteration is one CSR mat-vec; the COO -> CSR conversion sums parallel edges.
    """
    out_w = np.bincount(src, weights=w, minlength=n)
    is_dangling = out_w == 0
    inv = np.zeros(n)
    inv[~is_dangling] = 1.0 / out_w[~is_dangling]
    data = inv[src] if w is None else w * inv[src]
    return sp.csr_array((data, (dst, src)), shape=(n, n)), np.flatnonzero(is_dangling)


def _power_iteration(wt, dangling_idx, p, u, damping, tol, max_iter) -> tuple[np.ndarray, int, float]:
    """Iterate until the L1 change is < tol or max_iter steps; returns (x, iterations, last change).

    One iteration costs one CSR mat-vec plus three passes over n: the damping is folded into the matrix,
    teleport and dangling mass are one scaled add (a scalar add when both distributions are uniform), and
    the L1 change reuses one buffer.
    """
    n = wt.shape[0]
    dwt = wt * damping
    same_u = u is p or np.array_equal(u, p)
    uniform = same_u and bool(np.all(p == p[0]))
    teleport = (1.0 - damping) * p
    x = np.full(n, 1.0 / n)
    buf = np.empty(n)
    err, it = np.inf, 0
    for it in range(1, max_iter + 1):
        new = dwt @ x
        mass = float(x[dangling_idx].sum()) if len(dangling_idx) else 0.0
        if uniform:
            new += ((1.0 - damping) + damping * mass) * p[0]
        elif same_u:
            np.multiply(p, (1.0 - damping) + damping * mass, out=buf)
            new += buf
        else:
            new += teleport
            np.multiply(u, damping * mass, out=buf)
            new += buf
        np.subtract(new, x, out=buf)
        np.abs(buf, out=buf)
        err = float(buf.sum())
        x = new
        if err < tol:
            break
    return x, it, err


def link_indices(collection: Collection) -> tuple[np.ndarray, np.ndarray, int]:
    """The collection's links as integer ids into ``collection.documents`` (collection order)."""
    docids = collection.documents[DOCID]
    index = pd.Index(docids.to_numpy())
    src = index.get_indexer(collection.links[LINK_SOURCE].to_numpy())
    dst = index.get_indexer(collection.links[LINK_TARGET].to_numpy())
    if (src < 0).any() or (dst < 0).any():  # Collection refuses these already; kept as an invariant
        raise DataError(f"Collection {collection.name!r}: links name unknown documents")
    return src, dst, len(index)


def collection_pagerank(collection: Collection, *, damping: float = 0.85, tol: float = 1e-10,
                        max_iter: int = 1000) -> pd.DataFrame:
    """PageRank, in-degree and out-degree of every document of a collection with links.

    Returns
    -------
    DataFrame indexed by docid (collection order) with float64 columns ``pagerank``, ``in_degree`` and
    ``out_degree`` (link copies counted, self-links included).
    """
    if not collection.has_links:
        raise ConfigError(f"Collection {collection.name!r} has no link graph, so PageRank and link degrees are "
                          f"undefined; drop the 'pagerank' extractor for it (collections with links: CACM, the "
                          f"synthetic web)")
    src, dst, n = link_indices(collection)
    pr = pagerank(src, dst, n_nodes=n, damping=damping, tol=tol, max_iter=max_iter)
    return pd.DataFrame({"pagerank": pr,
                         "in_degree": np.bincount(dst, minlength=n).astype(np.float64),
                         "out_degree": np.bincount(src, minlength=n).astype(np.float64)},
                        index=pd.Index(collection.documents[DOCID].to_numpy(), name=DOCID))


def lookup_docs(table: pd.DataFrame, docids, *, owner: str) -> np.ndarray:
    """Row positions of ``docids`` in ``table`` (indexed by docid); unknown docids raise :class:`DataError`."""
    return doc_rows(table.index, docids, owner=owner)


@register
class PageRank(FeatureExtractor):
    """PageRank and link degrees of the document, from the collection's link graph.

    Features (``pagerank__<feature>``):

    - ``pagerank``: the PageRank :math:`\\pi_d` (sums to 1 over the collection), see :func:`pagerank`;
    - ``log_pagerank``: :math:`\\ln(N \\pi_d)`, PageRank relative to the uniform value :math:`1/N`
      (0 for an average document; comparable across collections of different sizes);
    - ``in_degree``, ``out_degree``: number of links into / out of the document (copies counted).

    Only for collections that have links (CACM, the synthetic web): ``fit`` raises :class:`ConfigError`
    otherwise. A pair whose docid is not in the collection raises :class:`DataError`.

    Parameters
    ----------
    damping : float, default=0.85
    tol : float, default=1e-10
        Absolute L1 tolerance of the power iteration.
    max_iter : int, default=1000
    """

    name = "pagerank"
    requires = (DOCID,)

    def __init__(self, *, damping: float = 0.85, tol: float = 1e-10, max_iter: int = 1000):
        self.damping, self.tol, self.max_iter = damping, tol, max_iter

    def fit(self, collection: Collection) -> PageRank:
        table = collection_pagerank(collection, damping=self.damping, tol=self.tol, max_iter=self.max_iter)
        n = len(table)
        with np.errstate(divide="ignore"):
            table["log_pagerank"] = np.log(table["pagerank"].to_numpy() * n)
        self.table_ = table[["pagerank", "log_pagerank", "in_degree", "out_degree"]]
        return self

    def feature_names_out(self) -> list[str]:
        return [f"{self.name}__{f}" for f in ("pagerank", "log_pagerank", "in_degree", "out_degree")]

    def transform(self, pairs: pd.DataFrame) -> pd.DataFrame:
        self._check_fitted("table_")
        self._check_pairs(pairs)
        pos = lookup_docs(self.table_, pairs[DOCID].to_numpy(), owner="PageRank.transform")
        values = self.table_.to_numpy()[pos]
        return self._frame(dict(zip(self.feature_names_out(), values.T)), pairs)
