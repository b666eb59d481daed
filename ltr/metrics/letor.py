r"""The LETOR evaluation scripts' NDCG@k, P@k and MAP, so that our figures sit next to published LETOR tables.

Published LETOR 3.0 and 4.0 baselines (and most papers that compare with them) were computed with
Microsoft's Perl scripts ``Eval-Score-3.0.pl`` and ``Eval-Score-4.0.pl`` (Jun Xu and Tie-Yan Liu; the 4.0
version modified by Jun Xu on 2009-03-03 and 2009-04-24), not with trec_eval. Read from the scripts
themselves (copies of the LETOR distribution's files kept in public repositories: ``Eval-Score-4.0.pl`` in
``diogofreitasribeiro/PG-Rank``, with the 4.0 file format's parse line; ``Eval-Score-3.0.pl`` in
``JuniorZilles/tcc_learning_to_rank`` and ``gcmgomes/L2R-Framework``; no code is taken from them), they
differ from trec_eval in five ways:

1. **Gain table.** ``%hsNdcgRelScore = (2 => 3, 1 => 1, 0 => 0)``, i.e. :math:`2^{\ell} - 1` for the
   labels 0, 1, 2 of the LETOR data sets. Other labels are not in the table (Perl reads them as gain 0 and
   "not relevant" without a word); here they are refused with a :class:`~ltr.errors.LabelError`.
2. **Discount.** Ranks 1 and 2 are not discounted; rank :math:`r \ge 3` is divided by
   :math:`\log_2 r` (the script adds ``gain * log(2) / log(r)``), i.e.
   :math:`\mathrm{DCG@k} = \sum_{r \le k} g_r / \log_2 \max(r, 2)` (Järvelin and Kekäläinen's original
   form with base 2), against trec_eval's :math:`1 / \log_2(r + 1)`.
3. **The ideal ranking is the query's own list**: the labels of the query's documents in the file, sorted
   by gain. With LETOR files the list holds every judged document, so this is the usual ideal; for a run
   that leaves judged documents out it is not (here: the retrieved documents' labels).
4. **Queries with fewer than k documents score NDCG@k = 0.** The script computes NDCG at positions
   1..n only (n = the query's documents) and the average adds nothing for the missing positions, so such a
   query counts as 0 at every k > n. About half of MQ2008's queries have fewer than 10 documents, which is
   why its published NDCG@10 figures are so low. P@k: LETOR 3.0 also scores 0 when n < k; LETOR 4.0 counts
   the missing positions as non-relevant ("the hole", 2009-04-24), i.e. relevant-in-top-k / k.
5. **MAP** divides by the relevant documents *in the list* (labels 1 and 2), and a query without any scores
   0, as do NDCG and P. Every query of the file is averaged (none is skipped).

Ranking: documents are sorted by predicted score, descending, with Perl's ``sort`` (a merge sort, stable in
Perl 5.8 and later) over the documents in file order, so tied scores keep file order: ``ties='row'``,
with scores compared as double-precision numbers. The script keys documents by docid within a query, so a
docid repeated in a query would collapse to its last line; :func:`ltr.metrics.evaluate` refuses such runs
instead.

The two scripts agree on NDCG@k and MAP; they differ on P@k when n < k (rule 4) and in what they print
(3.0: positions 1-16; 4.0: 1-10 and a MeanNDCG, not provided here). Use ``convention='letor4'`` for
MQ2007/MQ2008 (LETOR 4.0) and ``convention='letor3'`` for the LETOR 3.0 sets (OHSUMED, TD/HP/NP 2003-2004).

References
----------
T. Qin, T.-Y. Liu, J. Xu and H. Li. LETOR: A benchmark collection for research on learning to rank for
information retrieval. Information Retrieval 13(4), 2010. doi:10.1007/s10791-009-9123-y
T. Qin and T.-Y. Liu. Introducing LETOR 4.0 datasets. arXiv:1306.2597, 2013.
"""

from __future__ import annotations

import numpy as np

from ltr.errors import LabelError

#: The scripts' gain table (%hsNdcgRelScore); labels 1 and 2 are relevant for P and MAP (%hsPrecisionRel).
GAIN = {0: 0.0, 1: 1.0, 2: 3.0}


def _gains(labels: np.ndarray, judged: np.ndarray, what: str) -> np.ndarray:
    """Gains of the ranked labels through the table; an unjudged document is label 0 (non-relevant)."""
    lab = np.where(judged, labels, 0.0)
    bad = ~np.isin(lab, list(GAIN))
    if bad.any():
        raise LabelError(f"{what} follows the LETOR scripts, whose gain table has labels 0, 1 and 2 only; found "
                         f"label {float(lab[np.flatnonzero(bad)[0]])!r} ({int(bad.sum())} ranked document(s)). Use "
                         f"the trec_eval convention (the default) for other labels")
    return np.exp2(lab) - 1.0          # exact for 0, 1, 2: 0, 1, 3


def ndcg(ranking, k: int, what: str) -> np.ndarray:
    """Per-query NDCG@k of the LETOR scripts (both versions agree)."""
    g = _gains(ranking.labels, ranking.judged, what)
    top = ranking.pos < k
    # the script multiplies by log(2) then divides by log(rank): the same order of operations here
    term = np.where(ranking.pos < 2, g, g * np.log(2.0) / np.log(np.maximum(ranking.pos + 1.0, 2.0)))
    dcg = ranking.sum(term, top)
    # ideal: the query's own labels sorted by gain, descending (stable sort; equal gains are equal values)
    order = np.lexsort((-g, ranking.qidx))
    ig = g[order]
    iterm = np.where(ranking.pos < 2, ig, ig * np.log(2.0) / np.log(np.maximum(ranking.pos + 1.0, 2.0)))
    idcg = ranking.sum(iterm, top)
    out = np.zeros(ranking.n_queries)
    ok = (idcg != 0) & (ranking.num_ret >= k)
    out[ok] = dcg[ok] / idcg[ok]
    return out


def _relevant(ranking, what: str) -> np.ndarray:
    return (_gains(ranking.labels, ranking.judged, what) > 0).astype(np.float64)


def precision(ranking, k: int, version: str, what: str) -> np.ndarray:
    """Per-query P@k: relevant in the top k / k; LETOR 3.0 scores 0 when the query has fewer than k documents."""
    rel = _relevant(ranking, what)
    out = ranking.sum(rel, ranking.pos < k) / float(k)
    if version == "letor3":
        out[ranking.num_ret < k] = 0.0
    return out


def average_precision(ranking, what: str) -> np.ndarray:
    """Per-query MAP of the scripts: mean of P@r over the relevant ranks r, over the relevant in the list."""
    rel = _relevant(ranking, what)
    prec = ranking.within_cumsum(rel) / (ranking.pos + 1.0)
    sums = ranking.sum(prec, rel > 0)
    nrel = ranking.sum(rel)
    out = np.zeros(ranking.n_queries)
    ok = nrel > 0
    out[ok] = sums[ok] / nrel[ok]
    return out
