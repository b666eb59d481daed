"""Build the ONNX graph of an exported ranker from an :class:`~ltr.models.export._trees.Ensemble`.

The graph, input ``features`` (float64, ``[N, n_features]``) to output ``score`` (float64, ``[N]``)::

    features -> Cast(float32) -> Cast(float64)            the Ranker sees float32 features
             [-> normalisation in float64 -> Cast(float32) -> Cast(float64)]
             [-> |x| <= 1e-35 read as 0.0]                 LightGBM's predictor does this
             -> tree ensemble (double thresholds and leaves) -> + intercept
             -> margin | Sigmoid(scale * margin) | sum_c c * Softmax(margin)_c

Two encodings of the trees (``ml_opset``):

- ``5`` (default): ``ai.onnx.ml.TreeEnsemble``, float64 thresholds, leaf weights and output. The graph's
  score equals the backend's to float64 rounding of the sum (onnxruntime >= 1.21 runs it).
- ``3``: ``ai.onnx.ml.TreeEnsembleRegressor`` with ``nodes_values_as_tensor`` / ``target_weights_as_tensor``
  (float64 thresholds and leaves, summed in float64) but a **float32 output** (the operator's output type
  is fixed): scores are rounded to float32 (relative error 6e-8). For runtimes without ``ai.onnx.ml`` 5.
"""

from __future__ import annotations

import numpy as np

from ltr.errors import ConfigError

INPUT, OUTPUT = "features", "score"
OPSET = 18                 # default domain: Reduce* take axes as an input from 18 on
ML_OPSETS = (3, 5)


def _onnx():
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError as err:
        raise ConfigError(f"exporting to ONNX needs the onnx package, which is not installed ({err}). Install "
                          f"the extra with `pip install 'ltr[onnx]'`") from None
    return onnx, TensorProto, helper, numpy_helper


class _Builder:
    """Collects nodes and initializers with unique names."""

    def __init__(self):
        self.onnx, self.TP, self.helper, self.nh = _onnx()
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, stem: str) -> str:
        self.n += 1
        return f"{stem}_{self.n}"

    def const(self, stem: str, value, dtype=np.float64) -> str:
        name = self.name(stem)
        self.inits.append(self.nh.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, inputs, stem: str | None = None, *, domain: str = "", outputs: int = 1, **attrs):
        outs = [self.name(stem or op_type.lower()) for _ in range(outputs)]
        self.nodes.append(self.helper.make_node(op_type, list(inputs), outs, name=self.name(op_type), domain=domain,
                                                **attrs))
        return outs[0] if outputs == 1 else outs

    def round_float32(self, x: str) -> str:
        """float64 -> float32 -> float64: the rounding a float32 feature matrix applies."""
        return self.op("Cast", [self.op("Cast", [x], "as_float32", to=self.TP.FLOAT)], "as_float64",
                       to=self.TP.DOUBLE)


# --------------------------------------------------------------------------------------------------
# normalisation
# --------------------------------------------------------------------------------------------------

def _normalise(b: _Builder, x: str, norm) -> str:
    if norm.scope == "global":
        shift, scale = norm.constants()
        out = b.op("Div", [b.op("Sub", [x, b.const("shift", shift)]), b.const("scale", scale)], "normalised")
        return b.round_float32(out)
    axes = b.const("axis0", [0], np.int64)
    nan = b.op("IsNaN", [x], "is_nan")
    zero, one = b.const("zero", 0.0), b.const("one", 1.0)
    if norm.method == "zscore":
        present = b.op("Cast", [b.op("Not", [nan])], "present", to=b.TP.DOUBLE)
        count = b.op("ReduceSum", [present, axes], "count", keepdims=1)
        filled = b.op("Where", [nan, zero, x], "filled")
        mean = b.op("Div", [b.op("ReduceSum", [filled, axes], "total", keepdims=1), count], "mean")
        centred = b.op("Where", [nan, zero, b.op("Sub", [x, mean])], "centred")
        var = b.op("Div", [b.op("ReduceSum", [b.op("Mul", [centred, centred]), axes], "sq", keepdims=1), count],
                   "var")
        shift, spread = mean, b.op("Sqrt", [var], "std")
    else:
        low = b.op("ReduceMin", [b.op("Where", [nan, b.const("inf", np.inf), x]), axes], "min", keepdims=1)
        high = b.op("ReduceMax", [b.op("Where", [nan, b.const("neg_inf", -np.inf), x]), axes], "max", keepdims=1)
        shift, spread = low, b.op("Sub", [high, low], "range")
    # a constant (or all-NaN) column is divided by 1, as FeatureSet does
    scale = b.op("Where", [b.op("Greater", [spread, zero]), spread, one], "scale")
    return b.round_float32(b.op("Div", [b.op("Sub", [x, shift]), scale], "normalised"))


# --------------------------------------------------------------------------------------------------
# trees
# --------------------------------------------------------------------------------------------------

def _flatten(ensemble):
    """Global arrays of internal nodes and leaves over all trees (single-leaf trees get one dummy node
    whose two branches reach the same leaf, as the TreeEnsemble spec prescribes)."""
    feat, thr, nan_left, t_id, t_leaf, f_id, f_leaf, roots = [], [], [], [], [], [], [], []
    leaf_w, leaf_t = [], []
    for tree in ensemble.trees:
        node0, leaf0 = len(feat), len(leaf_w)
        roots.append(node0)
        leaf_w.extend(tree.leaf_value.tolist())
        leaf_t.extend([tree.target] * len(tree.leaf_value))
        if tree.n_nodes == 0:
            feat.append(0), thr.append(0.0), nan_left.append(True)
            t_id.append(leaf0), t_leaf.append(1), f_id.append(leaf0), f_leaf.append(1)
            continue
        for i in range(tree.n_nodes):
            feat.append(int(tree.feature[i]))
            thr.append(float(tree.threshold[i]))
            nan_left.append(bool(tree.nan_left[i]))
            for child, ids, leafs in ((tree.left[i], t_id, t_leaf), (tree.right[i], f_id, f_leaf)):
                if child < 0:
                    ids.append(leaf0 + int(~child)), leafs.append(1)
                else:
                    ids.append(node0 + int(child)), leafs.append(0)
    return dict(feat=feat, thr=thr, nan_left=nan_left, t_id=t_id, t_leaf=t_leaf, f_id=f_id, f_leaf=f_leaf,
                roots=roots, leaf_w=leaf_w, leaf_t=leaf_t)


def _tree_ensemble_v5(b: _Builder, x: str, ensemble) -> str:
    a = _flatten(ensemble)
    mode = 0 if ensemble.comparison == "<=" else 1          # BRANCH_LEQ / BRANCH_LT
    nh = b.nh
    return b.op("TreeEnsemble", [x], "margin", domain="ai.onnx.ml",
                n_targets=ensemble.n_targets, aggregate_function=1, post_transform=0,
                tree_roots=a["roots"], nodes_featureids=a["feat"],
                nodes_modes=nh.from_array(np.full(len(a["feat"]), mode, dtype=np.uint8)),
                nodes_splits=nh.from_array(np.asarray(a["thr"], dtype=np.float64)),
                nodes_missing_value_tracks_true=[int(v) for v in a["nan_left"]],
                nodes_truenodeids=a["t_id"], nodes_trueleafs=a["t_leaf"],
                nodes_falsenodeids=a["f_id"], nodes_falseleafs=a["f_leaf"],
                leaf_targetids=a["leaf_t"], leaf_weights=nh.from_array(np.asarray(a["leaf_w"], dtype=np.float64)))


def _tree_ensemble_v3(b: _Builder, x: str, ensemble) -> str:
    """TreeEnsembleRegressor (ai.onnx.ml 3): leaves are nodes of mode LEAF; double tensors for values."""
    mode = "BRANCH_LEQ" if ensemble.comparison == "<=" else "BRANCH_LT"
    tree_ids, node_ids, feat, modes, values, true_ids, false_ids, nan_left = [], [], [], [], [], [], [], []
    tgt_tree, tgt_node, tgt_id, tgt_w = [], [], [], []
    for k, tree in enumerate(ensemble.trees):
        n = tree.n_nodes
        for i in range(n):
            tree_ids.append(k), node_ids.append(i), feat.append(int(tree.feature[i])), modes.append(mode)
            values.append(float(tree.threshold[i])), nan_left.append(int(tree.nan_left[i]))
            true_ids.append(int(tree.left[i]) if tree.left[i] >= 0 else n + int(~tree.left[i]))
            false_ids.append(int(tree.right[i]) if tree.right[i] >= 0 else n + int(~tree.right[i]))
        for j, w in enumerate(tree.leaf_value):
            tree_ids.append(k), node_ids.append(n + j), feat.append(0), modes.append("LEAF")
            values.append(0.0), nan_left.append(0), true_ids.append(0), false_ids.append(0)
            tgt_tree.append(k), tgt_node.append(n + j), tgt_id.append(tree.target), tgt_w.append(float(w))
    nh = b.nh
    out = b.op("TreeEnsembleRegressor", [x], "margin32", domain="ai.onnx.ml",
               n_targets=ensemble.n_targets, aggregate_function="SUM", post_transform="NONE",
               nodes_treeids=tree_ids, nodes_nodeids=node_ids, nodes_featureids=feat, nodes_modes=modes,
               nodes_values_as_tensor=nh.from_array(np.asarray(values, dtype=np.float64)),
               nodes_truenodeids=true_ids, nodes_falsenodeids=false_ids,
               nodes_missing_value_tracks_true=nan_left,
               target_treeids=tgt_tree, target_nodeids=tgt_node, target_ids=tgt_id,
               target_weights_as_tensor=nh.from_array(np.asarray(tgt_w, dtype=np.float64)))
    return b.op("Cast", [out], "margin", to=b.TP.DOUBLE)


def _head(b: _Builder, margin: str, ensemble) -> str:
    """[N, K] margin -> [N] score, as the Ranker turns the backend's prediction into a score."""
    margin = b.op("Add", [margin, b.const("intercept", ensemble.intercept)], "margin_total")
    if ensemble.output == "expected_grade":
        prob = b.op("Softmax", [margin], "probability", axis=1)
        grades = b.const("grades", np.arange(ensemble.n_targets, dtype=np.float64))
        return b.op("MatMul", [prob, grades], OUTPUT)
    if ensemble.output == "logistic":
        if ensemble.logistic_scale != 1.0:
            margin = b.op("Mul", [margin, b.const("sigmoid", ensemble.logistic_scale)], "scaled")
        margin = b.op("Sigmoid", [margin], "probability")
    return b.op("Squeeze", [margin, b.const("axis1", [1], np.int64)], OUTPUT)


def build_model(ensemble, *, normalization=None, ml_opset: int = 5, metadata: dict | None = None,
                doc: str = ""):
    """The ONNX ModelProto of ``ensemble`` (checked by ``onnx.checker``)."""
    if ml_opset not in ML_OPSETS:
        raise ConfigError(f"The 'ml_opset' parameter must be one of {list(ML_OPSETS)}. Got {ml_opset!r} instead.")
    b = _Builder()
    x = b.round_float32(INPUT)
    if normalization is not None:
        x = _normalise(b, x, normalization)
    if ensemble.zero_threshold is not None:
        # LightGBM reads |x| <= 1e-35 as 0.0 (NaN stays NaN: the comparison is false for it)
        tiny = b.op("LessOrEqual", [b.op("Abs", [x]), b.const("zero_threshold", ensemble.zero_threshold)], "tiny")
        x = b.op("Where", [tiny, b.const("zero", 0.0), x], "as_lightgbm_reads")
    margin = (_tree_ensemble_v5 if ml_opset == 5 else _tree_ensemble_v3)(b, x, ensemble)
    _head(b, margin, ensemble)
    b.nodes[-1].output[0] = OUTPUT          # the last node writes the graph output under its public name
    TP, helper = b.TP, b.helper
    graph = helper.make_graph(
        b.nodes, "ltr_ranker",
        [helper.make_tensor_value_info(INPUT, TP.DOUBLE, ["N", ensemble.n_features])],
        [helper.make_tensor_value_info(OUTPUT, TP.DOUBLE, ["N"])], initializer=b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                    helper.make_opsetid("ai.onnx.ml", ml_opset)],
                              producer_name="ltr", doc_string=doc)
    model.ir_version = 9            # onnx 1.15+; onnxruntime >= 1.16 reads it
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    b.onnx.checker.check_model(model)
    return model
