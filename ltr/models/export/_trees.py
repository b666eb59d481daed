"""A backend-neutral record of a fitted tree ensemble, read from each backend's own model dump.

LightGBM: ``Booster.dump_model(num_iteration=n)``, whose thresholds and leaf values are doubles printed
with 17 significant digits (exact). XGBoost: ``Booster[:n].save_raw("json")``, whose split conditions and
leaf values are float32 (XGBoost stores and compares in float32), and ``save_config()`` for the objective
and ``base_score``.

The record keeps exactly what the backend computes with, so that the ONNX graph built from it
(:mod:`ltr.models.export._graph`) takes the same branch on every input:

===============  =========================================  ==========================================
                 LightGBM                                   XGBoost
===============  =========================================  ==========================================
comparison       ``x <= threshold`` (double) goes left      ``x < threshold`` (float32) goes left
tiny values      ``|x| <= 1e-35`` is read as 0.0 (its         kept as they are
                 predictor drops them as sparse zeros)
NaN              missing type NaN: the default direction;   the default direction (``default_left``)
                 type None: NaN is read as 0.0 first
intercept        folded into the first tree's leaves        ``base_score`` (a probability for
                                                            ``binary:logistic``, a margin otherwise)
multi-class      tree ``i`` scores class ``i % num_class``  ``tree_info[i]``
===============  =========================================  ==========================================
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from ltr.errors import ExportError

__all__ = ["Ensemble", "LIGHTGBM_ZERO_THRESHOLD", "Tree", "read_ensemble"]

#: LightGBM's ``kZeroThreshold`` (the float literal ``1e-35f`` as a double): its predictor keeps a dense
#: value only if ``|x| > kZeroThreshold`` (``RowFunctionFromDenseMatric``), so smaller ones are read as 0.0,
#: and a split at ``-kZeroThreshold`` sends such a value right although ``x <= threshold``.
LIGHTGBM_ZERO_THRESHOLD = float(np.float32(1e-35))


@dataclass
class Tree:
    """One regression tree. Internal nodes are ``0..n-1``; a child ``c < 0`` is the leaf ``~c``.

    A tree that is a single leaf has no internal nodes and one leaf.
    """

    feature: np.ndarray         # int64, per internal node
    threshold: np.ndarray       # float64, per internal node (exactly the backend's value)
    nan_left: np.ndarray        # bool, per internal node: where a NaN feature goes
    left: np.ndarray            # int64, per internal node: the branch taken when the comparison holds
    right: np.ndarray           # int64
    leaf_value: np.ndarray      # float64, per leaf
    target: int = 0             # the class this tree scores (0 unless multi-class)

    @property
    def n_nodes(self) -> int:
        return len(self.feature)


@dataclass
class Ensemble:
    """A tree ensemble and how its summed output becomes the Ranker's score.

    ``output`` is ``"margin"`` (the sum itself), ``"logistic"`` (``1 / (1 + exp(-scale * margin))``) or
    ``"expected_grade"`` (``sum_c c * softmax(margin)_c``), as :meth:`Ranker.predict_scores` returns.
    """

    backend: str
    n_features: int
    n_targets: int
    comparison: str                     # "<=" (LightGBM) or "<" (XGBoost)
    trees: list[Tree]
    intercept: np.ndarray               # (n_targets,) float64, added to the summed margin
    output: str
    logistic_scale: float = 1.0
    native_objective: str = ""
    notes: list[str] = field(default_factory=list)
    #: values with ``|x| <= zero_threshold`` are read as 0.0 before the trees (LightGBM), or None
    zero_threshold: float | None = None

    def thresholds_by_feature(self) -> dict[int, np.ndarray]:
        """Every split threshold per feature (for probe rows that sit on the thresholds)."""
        feats = np.concatenate([t.feature for t in self.trees] or [np.empty(0, np.int64)])
        thr = np.concatenate([t.threshold for t in self.trees] or [np.empty(0)])
        return {int(f): np.unique(thr[feats == f]) for f in np.unique(feats)}


def _refuse(message: str):
    raise ExportError(f"cannot export this model to ONNX: {message}")


# --------------------------------------------------------------------------------------------------
# LightGBM
# --------------------------------------------------------------------------------------------------

def _lightgbm_node(node: dict, index: int) -> tuple[int, float, bool]:
    """(feature, threshold, NaN goes left) of a LightGBM split, or an ExportError if ONNX cannot express it."""
    decision = node["decision_type"]
    if decision != "<=":
        _refuse(f"tree {index} has a categorical split ({decision!r} on feature {node['split_feature']}); "
                f"ltr exports numerical splits only; train without categorical_feature")
    missing = node["missing_type"]
    thr = float(node["threshold"])
    if missing == "NaN":
        goes_left = bool(node["default_left"])
    elif missing == "None":
        goes_left = 0.0 <= thr              # LightGBM reads NaN as 0.0 when the feature has no missing type
    else:
        _refuse(f"tree {index} treats zeros as missing values (zero_as_missing=True, missing type "
                f"{missing!r}); ONNX trees treat only NaN as missing; train without zero_as_missing")
    return int(node["split_feature"]), thr, goes_left


def _lightgbm_leaf(node: dict) -> float:
    if "leaf_coeff" in node:
        _refuse("LightGBM linear trees (linear_tree=True) have a linear model in each leaf, which ONNX's "
                "TreeEnsemble cannot express; train without linear_tree")
    return float(node["leaf_value"])


def _lightgbm_tree(structure: dict, target: int, index: int) -> Tree:
    return _build(structure, target, index,
                  is_leaf=lambda n: "split_index" not in n,
                  leaf_value=_lightgbm_leaf,
                  split=lambda n: _lightgbm_node(n, index),
                  children=lambda n: (n["left_child"], n["right_child"]))


def _build(root, target, index, *, is_leaf, leaf_value, split, children) -> Tree:
    """Number the nodes of a tree depth-first (internal ``0..n-1``, leaves ``~0..~(m-1)``), iteratively."""
    feature, threshold, nan_left, left, right, leaves = [], [], [], [], [], []
    stack = [(root, None, None)]             # (node, parent's index, "left"/"right")
    while stack:
        node, parent, side = stack.pop()
        if is_leaf(node):
            leaves.append(leaf_value(node))
            ref = ~(len(leaves) - 1)
        else:
            f, t, nl = split(node)
            ref = len(feature)
            feature.append(f)
            threshold.append(t)
            nan_left.append(nl)
            left.append(0)
            right.append(0)
            lo, hi = children(node)
            stack.append((hi, ref, "right"))
            stack.append((lo, ref, "left"))
        if parent is not None:
            (left if side == "left" else right)[parent] = ref
    return Tree(np.asarray(feature, np.int64), np.asarray(threshold, np.float64), np.asarray(nan_left, bool),
                np.asarray(left, np.int64), np.asarray(right, np.int64), np.asarray(leaves, np.float64), target)


def _lightgbm(booster, n_trees: int, objective, is_custom: bool) -> Ensemble:
    dump = booster.dump_model(num_iteration=n_trees)
    if dump.get("average_output"):
        _refuse("the LightGBM model averages its trees (boosting='rf'); export supports additive boosting "
                "(gbdt, goss, dart)")
    per_iter = int(dump["num_tree_per_iteration"])
    native = str(dump.get("objective") or "custom")
    head = native.split(" ")[0]
    scale = 1.0
    if is_custom:
        output = "margin"
    elif head == "binary":
        output = "logistic"
        for token in native.split(" ")[1:]:
            if token.startswith("sigmoid:"):
                scale = float(token.split(":", 1)[1])
    elif head == "multiclass":
        output = "expected_grade"
    elif head in ("lambdarank", "rank_xendcg", "regression", "regression_l2"):
        output = "margin"
    else:
        _refuse(f"LightGBM objective {native!r} is not one ltr trains; the exporter knows how the objectives of "
                f"ltr.objectives turn trees into scores")
    _check_output(objective, output, native)
    trees = [_lightgbm_tree(info["tree_structure"], i % per_iter, i) for i, info in enumerate(dump["tree_info"])]
    return Ensemble("lightgbm", int(dump["max_feature_idx"]) + 1, per_iter, "<=", trees,
                    np.zeros(per_iter), output, scale, native, zero_threshold=LIGHTGBM_ZERO_THRESHOLD)


# --------------------------------------------------------------------------------------------------
# XGBoost
# --------------------------------------------------------------------------------------------------

def _float32(values) -> np.ndarray:
    """JSON numbers XGBoost printed from float32, back to those exact float32 values (as float64)."""
    return np.asarray(values, dtype=np.float32).astype(np.float64)


def _xgboost_tree(tree: dict, target: int, index: int) -> Tree:
    if any(int(t) != 0 for t in tree.get("split_type", [])):
        _refuse(f"tree {index} has a categorical split; ltr exports numerical splits only; train without "
                f"enable_categorical")
    lefts, rights = tree["left_children"], tree["right_children"]
    feats, conds, default_left = tree["split_indices"], _float32(tree["split_conditions"]), tree["default_left"]
    return _build(0, target, index,
                  is_leaf=lambda n: lefts[n] == -1,
                  leaf_value=lambda n: float(conds[n]),     # XGBoost keeps a leaf's value in split_conditions
                  split=lambda n: (int(feats[n]), float(conds[n]), bool(default_left[n])),
                  children=lambda n: (lefts[n], rights[n]))


def _parse_base_score(text) -> np.ndarray:
    """``"5E-1"`` or ``"[5E-1,2E-1]"`` (XGBoost >= 3 writes a vector) as float32 values."""
    text = str(text).strip()
    if text.startswith("["):
        text = text[1:-1]
    return _float32([float(v) for v in text.split(",") if v.strip()])


def _xgboost(booster, n_trees: int, objective, is_custom: bool) -> Ensemble:
    sliced = booster[:n_trees] if n_trees < booster.num_boosted_rounds() else booster
    model = json.loads(bytes(sliced.save_raw(raw_format="json")))
    config = json.loads(booster.save_config())["learner"]
    gbm = model["learner"]["gradient_booster"]
    if gbm.get("name") != "gbtree":
        _refuse(f"XGBoost booster {gbm.get('name')!r}: export supports booster='gbtree' (dart reweights its "
                f"trees at prediction time and gblinear has no trees)")
    native = config["objective"]["name"]
    params = config["learner_model_param"]
    n_class = int(params.get("num_class", "0") or 0)
    n_targets = max(1, n_class)
    base = _parse_base_score(params["base_score"])
    if base.size == 1 and n_targets > 1:
        base = np.repeat(base, n_targets)
    if is_custom:
        output = "margin"
    elif native == "binary:logistic":
        output = "logistic"
        # base_score is a probability here; the margin starts at its logit (XGBoost's ProbToMargin)
        with np.errstate(divide="ignore"):
            base = np.log(base / (1.0 - base))
    elif native in ("multi:softprob", "multi:softmax"):
        output = "expected_grade"        # XGBoost >= 3 keeps one base margin per class
    elif native in ("reg:squarederror", "rank:ndcg", "rank:pairwise", "rank:map"):
        output = "margin"
    else:
        _refuse(f"XGBoost objective {native!r} is not one ltr trains; the exporter knows how the objectives of "
                f"ltr.objectives turn trees into scores")
    _check_output(objective, output, native)
    if base.size != n_targets:
        raise RuntimeError(f"XGBoost base_score has {base.size} values for {n_targets} targets; this is a bug in "
                           f"ltr; please report it")
    info = gbm["model"]["tree_info"]
    trees = [_xgboost_tree(t, int(info[i]), i) for i, t in enumerate(gbm["model"]["trees"])]
    notes = ["XGBoost sums its trees in float32; the graph sums them in float64 (differences of about "
             "1e-7 times the score)"]
    return Ensemble("xgboost", int(params["num_feature"]), n_targets, "<", trees, base.astype(np.float64),
                    output, 1.0, native, notes)


def _check_output(objective, output: str, native: str) -> None:
    """The Ranker's score for ``objective`` must be what the dump says the backend predicts."""
    expected = {"binary": "logistic", "multiclass": "expected_grade"}.get(objective.name, "margin")
    if output != expected:
        raise RuntimeError(f"objective {objective!r} scores by {expected} but the model's native objective "
                           f"{native!r} predicts {output}; this is a bug in ltr; please report it")


def read_ensemble(booster, backend: str, n_trees: int, objective) -> Ensemble:
    """The first ``n_trees`` iterations of ``booster`` as an :class:`Ensemble` (ExportError if not exportable)."""
    is_custom = objective.is_custom(backend)
    if backend == "lightgbm":
        return _lightgbm(booster, n_trees, objective, is_custom)
    if backend == "xgboost":
        return _xgboost(booster, n_trees, objective, is_custom)
    _refuse(f"backend {backend!r} has no exporter (available: lightgbm, xgboost)")
