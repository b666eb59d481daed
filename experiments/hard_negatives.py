"""Hard versus random negatives on the synthetic web (labels complete, so every negative is truly non-relevant).

The training candidates of each variant differ only in how non-relevant documents are chosen; the evaluation
candidates (the BM25 top 100 of the test queries) are the same in every variant, so the per-query values are
paired. ``all`` trains on the whole first-stage top 100; ``hard`` on the relevant documents plus the 20
highest-ranked non-relevant ones (superficially relevant); ``random`` on 20 non-relevant documents drawn from
the collection; ``mix`` half and half.

    python experiments/hard_negatives.py [OUT_DIR]       # default results/hard-negatives
"""

import sys
from dataclasses import replace

from ltr.experiment import Experiment
from ltr.experiment.ablation import run_ablation

BASE = Experiment(
    name="hard-negatives",
    data={"kind": "collection", "collection": "synthetic-web(seed=0)",
          "features": ["bm25(field='title')", "bm25(field='body')", "ql(field='body')", "match(field='body')",
                       "recency", "url", "domain_prior", "pagerank"],
          "first_stage_k": 100, "splits": "kfold(k=5)"},
    objectives=["lambdarank"], backends=["lightgbm"],
    metrics=["nDCG@10", "AP", "RR"], seeds=[0, 1, 2],
    training={"n_estimators": 500, "learning_rate": 0.1}, tuning={"budget": 1},
)

VARIANTS = {
    strategy: replace(BASE, name=f"hard-negatives-{strategy}",
                      data=replace(BASE.data, negatives=spec))
    for strategy, spec in [("all", "all"), ("hard", "hard(n=20)"), ("random", "random(n=20)"),
                           ("mix", "mix(n=20, hard_ratio=0.5)")]
}

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "results/hard-negatives"
    print(run_ablation(VARIANTS, out))
