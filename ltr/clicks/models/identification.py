"""What a position-based click model can identify from a log.

PBM's click probability is ``gamma_k * alpha_qd``: scaling every gamma by c and every alpha by 1/c changes
nothing, so only ratios ``gamma_k / gamma_1`` can be identified, and only where the log links positions
through documents shown at both. Build the bipartite graph whose nodes are positions (UBM: cells
(position, previous click)) and (query, document) pairs, with an edge where the pair was shown there; the
ratios between two positions are identified exactly when they lie in one connected component. With one fixed
ranking per query every pair sits at one position, every position is its own component, and only the
products ``gamma_k * alpha_qd`` are identified: the fitted values then reflect the starting point and the
smoothing prior, not the users.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Identification", "identify"]


@dataclass(frozen=True)
class Identification:
    """Which examination ratios a log identifies.

    Attributes
    ----------
    identified : bool
        True when every node observed lies in one component with the first one (ratios to it identified).
    components : tuple of tuples
        The observed nodes (position labels) of each connected component, largest first.
    note : str
        One sentence for people: what is identified and what to do otherwise.
    """

    identified: bool
    components: tuple
    note: str

    def to_dict(self) -> dict:
        return {"identified": self.identified, "components": [list(c) for c in self.components],
                "note": self.note}


def _clip(group, n: int = 6) -> str:
    items = [str(g) for g in group[:n]]
    return "[" + ", ".join(items) + (f", ... ({len(group)} in all)" if len(group) > n else "") + "]"


def identify(pair_flat: np.ndarray, node_flat: np.ndarray, labels: list, *, reference: int = 0,
             what: str = "positions", reference_name: str = "position 1") -> Identification:
    """Connected components of the (pair, node) graph.

    Parameters
    ----------
    pair_flat, node_flat : int arrays of the same length
        One entry per impression: its pair index and its node (position or cell) index.
    labels : list
        Printable label of each node index (e.g. position numbers).
    reference : int
        The node ratios are taken against (position 1).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n_nodes = len(labels)
    n_pairs = int(pair_flat.max()) + 1 if len(pair_flat) else 0
    key = np.unique(np.asarray(pair_flat, dtype=np.int64) * n_nodes + np.asarray(node_flat, dtype=np.int64))
    edges = np.stack([key // n_nodes, key % n_nodes], axis=1)
    rows = edges[:, 0]
    cols = n_pairs + edges[:, 1]
    size = n_pairs + n_nodes
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(size, size))
    _, comp = connected_components(graph, directed=False)
    observed = np.unique(edges[:, 1])
    node_comp = comp[n_pairs + observed]
    groups: dict[int, list] = {}
    for node, c in zip(observed.tolist(), node_comp.tolist()):
        groups.setdefault(c, []).append(labels[node])
    components = tuple(sorted((tuple(g) for g in groups.values()), key=lambda g: (-len(g), str(g[0]))))
    identified = len(groups) == 1 and reference in observed.tolist()
    if identified:
        note = (f"the log links all {len(observed)} {what} observed through documents shown at several of "
                f"them: examination ratios to {reference_name} are identified (absolute values are not: "
                f"scale is shared with attractiveness)")
    else:
        shown = "; ".join(_clip(g) for g in components[:4]) + (" ..." if len(components) > 4 else "")
        note = (f"not identified: the {what} fall into {len(groups)} groups that share no document ({shown}); "
                f"across groups only the products examination x attractiveness are identified (as with one "
                f"fixed ranking per query, where every document sits at one position). Log ranking variation "
                f"(swap or top-k randomisation interventions, or several rankers) to separate them")
    return Identification(identified=identified, components=components, note=note)
