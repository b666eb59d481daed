"""Oracle: trec_eval (pytrec_eval-terrier 0.5.11 bundles trec_eval 9) on random qrels and runs.

With its defaults, ``ltr.metrics.evaluate`` must give trec_eval's value on every query to 1e-9, including
scores that tie in float32 but not in float64, graded and negative ("in pool, unjudged") labels, unjudged
retrieved documents, queries without relevant documents and queries on one side only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ltr.metrics import evaluate

pytrec_eval = pytest.importorskip("pytrec_eval")


CUTS = (1, 3, 5, 10, 20)
# our name -> (trec_eval measure, output key, relevance_level)
MEASURES = {
    **{f"nDCG@{k}": ("ndcg_cut", f"ndcg_cut_{k}", 1) for k in CUTS},
    "nDCG": ("ndcg", "ndcg", 1),
    "AP": ("map", "map", 1),
    **{f"AP@{k}": ("map_cut", f"map_cut_{k}", 1) for k in CUTS},
    "RR": ("recip_rank", "recip_rank", 1),
    **{f"P@{k}": ("P", f"P_{k}", 1) for k in CUTS},
    **{f"R@{k}": ("recall", f"recall_{k}", 1) for k in CUTS},
    "Rprec": ("Rprec", "Rprec", 1),
    "Bpref": ("bpref", "bpref", 1),
    **{f"Success@{k}": ("success", f"success_{k}", 1) for k in CUTS},
    "P(rel=2)@5": ("P", "P_5", 2),
    "AP(rel=2)": ("map", "map", 2),
    "R(rel=2)@10": ("recall", "recall_10", 2),
    "RR(rel=3)": ("recip_rank", "recip_rank", 3),
    "Bpref(rel=2)": ("bpref", "bpref", 2),
    "Rprec(rel=2)": ("Rprec", "Rprec", 2),
}
DOC_POOL = np.array([f"d{i}" for i in range(40)] + ["D7", "d-1", "d_1", "z", "Z9", "é1", "e\u0301", "ß"],
                    dtype=object)


def random_case(seed: int):
    """Random qrels and run with many ties; returns (qrels frame, run frame)."""
    rng = np.random.default_rng(seed)
    qrel_rows, run_rows = [], []
    for q in range(int(rng.integers(3, 12))):
        qid = str(rng.choice(["", "0", "q"])) + str(q)
        docs = rng.choice(DOC_POOL, size=int(rng.integers(1, 30)), replace=False)
        in_run = rng.random() > 0.1
        in_qrels = rng.random() > 0.1
        if in_run:
            n = int(rng.integers(1, len(docs) + 1))
            kind = rng.integers(0, 3)
            if kind == 0:
                scores = rng.integers(0, 4, n).astype(np.float64)                  # exact ties
            elif kind == 1:
                scores = rng.normal(size=n)
            else:
                base = rng.integers(0, 3, n).astype(np.float64) + 0.5
                scores = base * (1 + rng.choice([0.0, 1e-9, -1e-10, 1e-6], size=n))  # float32 ties
            for d, s in zip(docs[:n], scores):
                run_rows.append((qid, d, float(s)))
        if in_qrels:
            judged = rng.choice(docs, size=int(rng.integers(1, len(docs) + 1)), replace=False)
            top = int(rng.choice([0, 1, 2, 3]))          # top == 0: a query without relevant documents
            for i, d in enumerate(judged):
                label = int(rng.integers(-1, top + 1)) if rng.random() > 0.2 else 0
                # trec_eval's ndcg loops forever on a query whose labels are all negative: keep one >= 0
                qrel_rows.append((qid, d, max(label, 0) if i == 0 else label))
    qrels = pd.DataFrame(qrel_rows, columns=["qid", "docid", "label"])
    run = pd.DataFrame(run_rows, columns=["qid", "docid", "score"])
    return qrels, run


def trec_eval_values(qrels: pd.DataFrame, run: pd.DataFrame, measure: str, key: str, level: int, cuts):
    qd, rd = {}, {}
    for q, d, label in qrels.itertuples(index=False):
        qd.setdefault(q, {})[d] = int(label)
    for q, d, s in run.itertuples(index=False):
        rd.setdefault(q, {})[d] = float(s)
    spec = measure if measure in ("ndcg", "map", "recip_rank", "Rprec", "bpref") else \
        f"{measure}.{','.join(map(str, cuts))}"
    out = pytrec_eval.RelevanceEvaluator(qd, {spec}, relevance_level=level).evaluate(rd)
    return {q: v[key] for q, v in out.items()}


def check_against_trec_eval(qrels, run, measures):
    ours = evaluate(qrels, run, list(measures)).pivot(index="qid", columns="metric", values="value")
    qd, rd = {}, {}
    for q, d, label in qrels.itertuples(index=False):
        qd.setdefault(q, {})[d] = int(label)
    for q, d, s in run.itertuples(index=False):
        rd.setdefault(q, {})[d] = float(s)
    for level in sorted({v[2] for v in measures.values()}):
        specs = {m if m in ("ndcg", "map", "recip_rank", "Rprec", "bpref") else f"{m}.{','.join(map(str, CUTS))}"
                 for m, _, lv in measures.values() if lv == level}
        expected = pytrec_eval.RelevanceEvaluator(qd, specs, relevance_level=level).evaluate(rd)
        assert sorted(ours.index) == sorted(expected)
        for name, (_, key, lv) in measures.items():
            if lv != level:
                continue
            for qid, values in expected.items():
                assert ours.at[qid, name] == pytest.approx(values[key], abs=1e-9), (name, qid)


@pytest.mark.parametrize("seed", range(25))
def test_every_query_matches_trec_eval(seed, path):
    """Oracle: pytrec_eval; every measure, every query, to 1e-9 (values and the set of queries)."""
    qrels, run = random_case(seed)
    if not set(qrels.qid) & set(run.qid):
        pytest.skip("no common query in this random case")
    check_against_trec_eval(qrels, run, MEASURES)


@pytest.mark.parametrize("seed", range(25))
def test_cutoff_measures_match_trec_eval(seed, path):
    """Oracle: pytrec_eval; only measures with a cutoff, which the numba path computes from each query's
    top k documents instead of a full sort."""
    qrels, run = random_case(1000 + seed)
    if not set(qrels.qid) & set(run.qid):
        pytest.skip("no common query in this random case")
    check_against_trec_eval(qrels, run, {k: v for k, v in MEASURES.items() if "@" in k})


@pytest.mark.parametrize("seed", range(10))
def test_float32_ties_broken_by_docid_descending(seed, path):
    """Oracle: pytrec_eval; all scores differ in float64 but collapse in float32, so only docids order."""
    rng = np.random.default_rng(100 + seed)
    docs = rng.choice(DOC_POOL, size=20, replace=False)
    run = pd.DataFrame({"qid": "1", "docid": docs, "score": 1.0 + rng.integers(0, 50, 20) * 1e-12})
    qrels = pd.DataFrame({"qid": "1", "docid": docs, "label": rng.integers(0, 3, 20)})
    ours = evaluate(qrels, run, ["nDCG@5", "AP", "RR"]).set_index("metric")["value"]
    for name, (measure, key, level) in {"nDCG@5": ("ndcg_cut", "ndcg_cut_5", 1), "AP": ("map", "map", 1),
                                        "RR": ("recip_rank", "recip_rank", 1)}.items():
        assert ours[name] == pytest.approx(trec_eval_values(qrels, run, measure, key, level, (5,))["1"],
                                           abs=1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_rr_at_k_is_recip_rank_of_truncated_run(seed, path):
    """Oracle: pytrec_eval recip_rank on the run cut to its top k (trec_eval order: float32 score, docid)."""
    qrels, run = random_case(200 + seed)
    if not set(qrels.qid) & set(run.qid):
        pytest.skip("no common query in this random case")
    k = 3
    run32 = run.assign(s32=run.score.astype(np.float32), b=run.docid.map(lambda d: d.encode()))
    cut = (run32.sort_values(["qid", "s32", "b"], ascending=[True, False, False])
           .groupby("qid", sort=False).head(k)[["qid", "docid", "score"]])
    expected = trec_eval_values(qrels, cut, "recip_rank", "recip_rank", 1, ())
    got = evaluate(qrels, run, [f"RR@{k}"]).set_index("qid")["value"]
    for qid, value in expected.items():
        assert got[qid] == pytest.approx(value, abs=1e-12)


def test_missing_queries_zero_is_trec_eval_c(path):
    """Oracle: pytrec_eval for the common queries; trec_eval -c scores a qrels query absent from the run
    as an empty ranking (0 for every measure here), and the means count it."""
    qrels, run = random_case(7)
    run = run[run.qid != run.qid.iloc[0]]
    missing = sorted(set(qrels.qid) - set(run.qid))
    assert missing
    skip = evaluate(qrels, run, ["nDCG@10", "AP"])
    zero = evaluate(qrels, run, ["nDCG@10", "AP"], missing_queries="zero")
    assert set(zero.qid) == set(qrels.qid)
    extra = zero[zero.qid.isin(missing)]
    assert (extra.value == 0).all()
    common = zero[~zero.qid.isin(missing)].reset_index(drop=True)
    pd.testing.assert_frame_equal(common, skip)
    expected = trec_eval_values(qrels, run, "map", "map", 1, ())
    assert common[common.metric == "AP"].set_index("qid")["value"].to_dict() == pytest.approx(expected)


def test_mq2008_fold1_vali_as_run(shared_data, path):
    """Oracle: pytrec_eval on real LETOR data: MQ2008 Fold1 vali labels as qrels, feature 1 as scores
    (many ties), docids from the file."""
    from itertools import islice
    path = shared_data("letor4-mq2008", "MQ2008", "Fold1", "vali.txt")
    rows = []
    with open(path) as fh:
        for line in islice(fh, 3000):
            head, _, comment = line.partition("#")
            parts = head.split()
            feats = dict(p.split(":") for p in parts[2:])
            docid = comment.split("docid =")[1].split()[0]
            rows.append((parts[1].split(":")[1], docid, float(parts[0]), float(feats["1"])))
    frame = pd.DataFrame(rows, columns=["qid", "docid", "label", "score"]).drop_duplicates(["qid", "docid"])
    qrels, run = frame[["qid", "docid", "label"]], frame[["qid", "docid", "score"]]
    ours = evaluate(qrels, run, ["nDCG@10", "AP", "P@5"])
    for name, (measure, key) in {"nDCG@10": ("ndcg_cut", "ndcg_cut_10"), "AP": ("map", "map"),
                                 "P@5": ("P", "P_5")}.items():
        expected = trec_eval_values(qrels, run, measure, key, 1, (5, 10))
        got = ours[ours.metric == name].set_index("qid")["value"]
        assert len(expected) > 50
        for qid, value in expected.items():
            assert got[qid] == pytest.approx(value, abs=1e-9)


@pytest.mark.parametrize("seed", range(10))
def test_shuffled_and_threaded_runs_match_trec_eval(seed, path, monkeypatch):
    """Oracle: pytrec_eval. The run's and the qrels' rows shuffled (queries no longer in blocks: the kernels
    gather each query's rows instead of reading its block), and the queries ranked in 3 threads."""
    import importlib
    frames = importlib.import_module("ltr.metrics.frames")
    monkeypatch.setattr(frames, "THREADED_MIN_ROWS", 0)
    monkeypatch.setattr(frames._fast, "threads", lambda: 3)
    qrels, run = random_case(2000 + seed)
    if not set(qrels.qid) & set(run.qid):
        pytest.skip("no common query in this random case")
    rng = np.random.default_rng(seed)
    run = run.iloc[rng.permutation(len(run))].reset_index(drop=True)
    qrels = qrels.iloc[rng.permutation(len(qrels))].reset_index(drop=True)
    check_against_trec_eval(qrels, run, {k: v for k, v in MEASURES.items() if "@" in k})
    check_against_trec_eval(qrels, run, MEASURES)
