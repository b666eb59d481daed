"""Oracle: a line-by-line Python port of the LETOR evaluation scripts, Eval-Score-4.0.pl and Eval-Score-3.0.pl.

The port below follows the Perl scripts of the LETOR 4.0 / 3.0 distributions (Jun Xu and Tie-Yan Liu,
Microsoft Research Asia; read from copies in public repositories: ``diogofreitasribeiro/PG-Rank``
``Eval-Score-4.0.pl`` and ``JuniorZilles/tcc_learning_to_rank`` ``Eval-Score-3.0.pl``) sub by sub, in their
order of operations: ``ReadInputFiles``
(documents keyed by qid and docid, in file order), ``EvalQuery`` (a stable sort by prediction, descending,
over the documents in file order), ``PrecisionAtN``, ``MAP``, ``DCG``, ``NDCG`` and the averaging of
``OuputResults``, where a position a query does not reach (Perl's undef) adds 0. Before it was committed
it was checked against the real scripts run by perl 5.36 on the 40 files of ``random_letor(0..39)`` each
(largest difference 5e-16 on the 3.0 means and on the 4.0 values, which 4.0 prints to 4 decimals). :mod:`ltr.metrics.letor` must give the port's values on every query.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from ltr.errors import ConfigError, LabelError
from ltr.metrics import aggregate, evaluate, parse_metric

NDCG_REL_SCORE = {"2": 3, "1": 1, "0": 0}          # %hsNdcgRelScore
PRECISION_REL = {"2": 1, "1": 1, "0": 0}           # %hsPrecisionRel


# --------------------------------------------------------------------------------------------------------
# The port (one Python function per Perl sub; `version` selects the 3.0 / 4.0 differences)
# --------------------------------------------------------------------------------------------------------

def read_input_files(feature_lines, prediction_lines):
    """ReadInputFiles: {qid: {docid: {label, pred, lineNum}}}; a later line of the same docid overwrites."""
    table: dict[str, dict[str, dict]] = {}
    for line_num, (fea, pred) in enumerate(zip(feature_lines, prediction_lines), start=1):
        m = re.match(r"^(\d+) qid:(\S+).*?#docid = (\S+)", fea)
        assert m, f"cannot parse line {line_num}"
        label, qid, did = m.groups()
        table.setdefault(qid, {})[did] = {"label": label, "pred": float(pred), "lineNum": line_num}
    return table


def precision_at_n(top_n, rates, version):
    """PrecisionAtN. 4.0 (2009-04-24): positions past the list count as non-relevant; 3.0: they are absent."""
    prec, num_relevant = [], 0
    stop = top_n if version == "4.0" else min(top_n, len(rates))
    for i_pos in range(stop):
        r = rates[i_pos] if i_pos < len(rates) else "0"
        if PRECISION_REL.get(r) == 1:
            num_relevant += 1
        prec.append(num_relevant / (i_pos + 1))
    return prec


def mean_ap(rates):
    """MAP: mean precision at the relevant positions, over the relevant documents of the list; 0 if none."""
    num_relevant, avg_precision = 0, 0.0
    for i_pos, r in enumerate(rates):
        if PRECISION_REL.get(r) == 1:
            num_relevant += 1
            avg_precision += num_relevant / (i_pos + 1)
    return 0.0 if num_relevant == 0 else avg_precision / num_relevant


def dcg(top_n, rates, version):
    """DCG: positions 0 and 1 undiscounted, then gain * log(2) / log(iPos + 1); 4.0 pads the list with 0."""
    out = [NDCG_REL_SCORE.get(rates[0], 0)]
    stop = top_n if version == "4.0" else min(top_n, len(rates))
    for i_pos in range(1, stop):
        r = rates[i_pos] if i_pos < len(rates) else "0"
        g = NDCG_REL_SCORE.get(r, 0)
        if i_pos < 2:
            out.append(out[i_pos - 1] + g)
        else:
            out.append(out[i_pos - 1] + (g * math.log(2.0) / math.log(i_pos + 1.0)))
    return out


def ndcg(top_n, rates, version):
    """NDCG: DCG over the ideal order of the same labels (a stable sort by gain); 0 where the ideal is 0."""
    d = dcg(top_n, rates, version)
    st_rates = sorted(rates, key=lambda r: -NDCG_REL_SCORE.get(r, 0))
    best = dcg(top_n, st_rates, version)
    out = []
    for i_pos in range(min(top_n, len(rates))):
        out.append(d[i_pos] / best[i_pos] if best[i_pos] != 0 else 0)
    return out


def eval_query(table, version):
    """EvalQuery: per qid, P@N (N <= iMaxPosition), MAP and NDCG (4.0: at every position of the list)."""
    max_position = 10 if version == "4.0" else 16
    results = {}
    for qid in sorted(table, key=float):
        docs = table[qid]
        tmp_did = sorted(docs, key=lambda d: docs[d]["lineNum"])
        docids = sorted(tmp_did, key=lambda d: -docs[d]["pred"])        # Python's sort is stable, as Perl's
        rates = [docs[d]["label"] for d in docids]
        results[qid] = {"PatN": precision_at_n(max_position, rates, version), "MAP": mean_ap(rates),
                        "NDCG": ndcg(len(rates) if version == "4.0" else max_position, rates, version)}
    return results


def script(feature_lines, prediction_lines, version):
    """The scripts end to end: per-query values {qid: {name: value}} and the averages OuputResults prints.
    A position a query lacks is undef in Perl and adds 0 to the average."""
    results = eval_query(read_input_files(feature_lines, prediction_lines), version)
    max_position = 10 if version == "4.0" else 16
    per_query = {}
    for qid, res in results.items():
        values = {"MAP": res["MAP"]}
        for k in range(1, max_position + 1):
            values[f"P@{k}"] = res["PatN"][k - 1] if k - 1 < len(res["PatN"]) else 0.0
            values[f"NDCG@{k}"] = res["NDCG"][k - 1] if k - 1 < len(res["NDCG"]) else 0.0
        per_query[qid] = values
    means = {name: sum(v[name] for v in per_query.values()) / len(per_query) for name in next(iter(per_query.values()))}
    return per_query, means


# --------------------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------------------

def random_letor(seed):
    """LETOR lines and predictions: queries of 1-25 documents (many fewer than 10), labels 0-2, some queries
    without a relevant document, and tied predictions."""
    rng = np.random.default_rng(seed)
    lines, preds, rows = [], [], []
    for q in range(int(rng.integers(3, 15))):
        qid = str(int(rng.integers(1, 30000)) * 100 + q)
        n = int(rng.integers(1, 26))
        labels = rng.choice([0, 1, 2], n, p=[0.6, 0.25, 0.15]) if rng.random() > 0.2 else np.zeros(n, int)
        kind = rng.integers(0, 3)
        if kind == 0:
            scores = rng.integers(0, 3, n) * 0.5                       # exact ties
        elif kind == 1:
            scores = rng.normal(size=n)
        else:
            scores = np.round(rng.normal(size=n), 1)
        for i in range(n):
            docid = f"GX{rng.integers(0, 999):03d}-{q:02d}-{i:07d}"
            lines.append(f"{labels[i]} qid:{qid} 1:0.5 2:0.25 #docid = {docid} inc = 1 prob = 0.5")
            preds.append(repr(float(scores[i])))
            rows.append((qid, docid, float(labels[i]), float(scores[i])))
    frame = pd.DataFrame(rows, columns=["qid", "docid", "label", "score"])
    return lines, preds, frame[["qid", "docid", "label"]], frame[["qid", "docid", "score"]]


def ours_per_query(qrels, run, version, ks):
    conv = "letor4" if version == "4.0" else "letor3"
    names = {f"nDCG(convention='{conv}')@{k}": f"NDCG@{k}" for k in ks}
    names.update({f"P(convention='{conv}')@{k}": f"P@{k}" for k in ks})
    names[f"AP(convention='{conv}')"] = "MAP"
    frame = evaluate(qrels, run, list(names))
    return frame.assign(metric=frame.metric.map(names)).set_index(["qid", "metric"])["value"], frame, names


@pytest.mark.parametrize("version", ["4.0", "3.0"])
@pytest.mark.parametrize("seed", range(15))
def test_every_query_matches_the_script(seed, version):
    """Oracle: the port above; every query, NDCG@1..k, P@1..k and MAP, to 1e-12."""
    lines, preds, qrels, run = random_letor(seed)
    per_query, means = script(lines, preds, version)
    ks = range(1, (10 if version == "4.0" else 16) + 1)
    ours, frame, names = ours_per_query(qrels, run, version, ks)
    assert set(frame.qid) == set(per_query)
    for qid, values in per_query.items():
        for name, value in values.items():
            assert ours[(qid, name)] == pytest.approx(value, abs=1e-12), (qid, name)
    agg = aggregate(frame)
    for ours_name, name in names.items():
        assert agg[ours_name] == pytest.approx(means[name], abs=1e-12), name


def test_queries_with_fewer_than_k_documents_score_zero():
    """Oracle: the port; a query of 3 documents in the right order scores NDCG@3 = 1 and NDCG@5 = 0, and P@5
    counts the missing positions as non-relevant in 4.0 but scores 0 in 3.0."""
    lines = [f"{lab} qid:1 1:0 #docid = d{i}" for i, lab in enumerate([2, 1, 0])]
    preds = ["3", "2", "1"]
    per_query, _ = script(lines, preds, "4.0")
    assert per_query["1"]["NDCG@3"] == 1.0 and per_query["1"]["NDCG@5"] == 0.0
    assert per_query["1"]["P@5"] == pytest.approx(2 / 5)
    assert script(lines, preds, "3.0")[0]["1"]["P@5"] == 0.0
    qrels = pd.DataFrame({"qid": "1", "docid": ["d0", "d1", "d2"], "label": [2.0, 1.0, 0.0]})
    run = pd.DataFrame({"qid": "1", "docid": ["d0", "d1", "d2"], "score": [3.0, 2.0, 1.0]})
    got = evaluate(qrels, run, ["nDCG(convention='letor4')@3", "nDCG(convention='letor4')@5",
                                "P(convention='letor4')@5", "P(convention='letor3')@5", "nDCG@5"])
    assert got.value.tolist()[:4] == [1.0, 0.0, pytest.approx(0.4), 0.0]
    assert got.value.iloc[4] == pytest.approx(1.0)          # trec_eval: the ideal list is as short


def test_mq2008_fold1_test_with_a_feature_as_scores(shared_data):
    """Oracle: the port on real LETOR 4.0 data (MQ2008 Fold1 test, feature 1 as predictions: many ties, queries
    with fewer than 10 documents and queries without relevant documents)."""
    path = shared_data("letor4-mq2008", "MQ2008", "Fold1", "test.txt")
    lines = path.read_text().splitlines()
    rows = []
    for line in lines:
        head, _, comment = line.partition("#")
        parts = head.split()
        feats = dict(p.split(":") for p in parts[2:])
        rows.append((parts[1].split(":")[1], comment.split()[2], float(parts[0]), float(feats["1"])))
    frame = pd.DataFrame(rows, columns=["qid", "docid", "label", "score"])
    assert not frame.duplicated(["qid", "docid"]).any()
    preds = [repr(s) for s in frame.score]
    per_query, means = script(lines, preds, "4.0")
    ours, _, _ = ours_per_query(frame[["qid", "docid", "label"]], frame[["qid", "docid", "score"]], "4.0",
                                range(1, 11))
    assert len(per_query) == 156
    for qid, values in per_query.items():
        for name, value in values.items():
            assert ours[(qid, name)] == pytest.approx(value, abs=1e-12), (qid, name)
    short = sum(len([1 for l in lines if f"qid:{qid} " in l]) < 10 for qid in per_query)
    assert short > 30               # the rule that matters on MQ2008


def test_letor_names_and_errors():
    """Oracle: the printed form is the identity and the rules the script fixes cannot be changed."""
    m = parse_metric("nDCG(convention='letor4')@10")
    assert repr(m) == "nDCG(convention='letor4')@10" and m.ties == "row" and parse_metric(repr(m)) == m
    assert m != parse_metric("nDCG@10") and m != parse_metric("nDCG(convention='letor3')@10")
    with pytest.raises(ConfigError, match=r"convention='letor4' needs a cutoff"):
        parse_metric("nDCG(convention='letor4')")
    with pytest.raises(ConfigError, match=r"rules fix \['gain', 'norel', 'ties'\] \(got ties='docid'\)"):
        parse_metric("nDCG(convention='letor4', ties='docid')@10")
    with pytest.raises(ConfigError, match=r"AP with convention='letor3' takes no cutoff"):
        parse_metric("AP(convention='letor3')@10")
    with pytest.raises(ConfigError, match=r"convention of metric P must be one of \['trec_eval', 'letor3', "):
        parse_metric("P(convention='letor')@10")
    qrels = pd.DataFrame({"qid": "1", "docid": ["a", "b"], "label": [4.0, 0.0]})
    run = pd.DataFrame({"qid": "1", "docid": ["a", "b"], "score": [1.0, 0.0]})
    with pytest.raises(LabelError, match=r"gain table has labels 0, 1 and 2 only; found label 4.0"):
        evaluate(qrels, run, ["nDCG(convention='letor4')@10"])
