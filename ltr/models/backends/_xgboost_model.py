"""The structure of an XGBoost JSON model, checked before XGBoost's loader sees it.

XGBoost's JSON loader checks the lengths of a tree's arrays against ``num_nodes``, but not the values:
prediction follows ``left_children``/``right_children`` and reads the row at ``split_indices`` without a
bounds check, and ``tree_info`` picks the output group a tree adds to. A child index out of range or a
cycle, a split feature beyond the row, or a tree group beyond the outputs crashes the process (SIGSEGV)
or reads memory outside the model. :func:`check_xgboost_model` refuses every such file with a
:class:`~ltr.errors.ModelFormatError` naming the file, the tree and what is wrong:

- ``learner_model_param``: ``num_feature`` = the feature count the manifest lists, ``num_class`` and
  ``num_target`` non-negative integers;
- the booster: ``gbtree`` (or ``dart``, whose ``weight_drop`` has one weight per tree); ``num_trees`` =
  the trees present; ``tree_info`` one output group per tree, each in range; ``iteration_indptr`` rising
  from 0 to the number of trees;
- each tree: ``id`` its position, ``tree_param`` (``num_nodes``, ``num_feature``, ``size_leaf_vector``
  = 1: ltr trains single-output trees), every node array of length ``num_nodes``, children that form one
  binary tree from the root (both -1 at a leaf, both in range at a split, each node reached once, the
  unreachable nodes exactly the ``num_deleted`` ones pruning leaves behind, ``parents`` consistent), split
  features < ``num_feature``, finite split conditions and leaf values, numerical splits only (ltr never
  gives XGBoost categorical data, so a categorical split is refused).

This is a structural check against crashes and silent misreads, not a sandbox (README, "Trusted input").
"""

from __future__ import annotations

import json
import re

import numpy as np

from ltr.errors import ModelFormatError

_ROOT_PARENT = 2147483647         # XGBoost's kInvalidNodeId as written for the root's parent
_NODE_ARRAYS = ("left_children", "right_children", "parents", "split_indices", "split_conditions",
                "default_left", "split_type", "base_weights", "loss_changes", "sum_hessian")
_UINT = re.compile(r"\d+")


class _Fail(Exception):
    pass


def _get(obj, key: str, where: str, kind=dict):
    if not isinstance(obj, dict) or key not in obj:
        raise _Fail(f"{where} lacks {key!r}")
    value = obj[key]
    if kind is not None and not isinstance(value, kind):
        raise _Fail(f"{where}.{key} must be a JSON {'object' if kind is dict else kind.__name__}")
    return value


def _uint(value, what: str) -> int:
    """XGBoost writes its counts as decimal strings ("4"); refuse anything else."""
    if isinstance(value, bool):
        raise _Fail(f"{what} must be a non-negative integer, got {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _UINT.fullmatch(value):
        number = int(value)
    else:
        raise _Fail(f"{what} must be a non-negative integer, got {str(value)[:40]!r}")
    if number < 0:
        raise _Fail(f"{what} must be a non-negative integer, got {number}")
    return number


def _numbers(values, n: int, what: str, *, integer: bool) -> np.ndarray:
    if not isinstance(values, list) or len(values) != n:
        got = len(values) if isinstance(values, list) else type(values).__name__
        raise _Fail(f"{what} must be a list of {n} numbers, got {got}")
    try:
        arr = np.asarray(values) if values else np.zeros(0, dtype=np.int64 if integer else np.float64)
    except ValueError:
        raise _Fail(f"{what} must hold numbers only") from None
    if arr.ndim != 1 or arr.dtype.kind not in ("iu" if integer else "iuf"):
        raise _Fail(f"{what} must hold {'integers' if integer else 'numbers'} only")
    return arr.astype(np.int64 if integer else np.float64, copy=False)


def _check_tree(i: int, tree, n_features: int) -> None:
    where = f"tree {i}"
    if not isinstance(tree, dict):
        raise _Fail(f"{where} must be a JSON object")
    if tree.get("id") != i:
        raise _Fail(f"{where} has id {tree.get('id')!r}; the trees must be listed in order of their ids")
    param = _get(tree, "tree_param", where)
    n = _uint(_get(param, "num_nodes", f"{where}.tree_param", kind=None), f"{where}: num_nodes")
    if n < 1:
        raise _Fail(f"{where}: num_nodes is 0")
    n_deleted = _uint(param.get("num_deleted", "0"), f"{where}: num_deleted")
    if _uint(_get(param, "num_feature", f"{where}.tree_param", kind=None), f"{where}: num_feature") != n_features:
        raise _Fail(f"{where}: tree_param.num_feature is {param['num_feature']!r}, the model has {n_features} "
                    f"features")
    leaf_vector = _uint(param.get("size_leaf_vector", "1"), f"{where}: size_leaf_vector")
    if leaf_vector > 1:
        raise _Fail(f"{where}: size_leaf_vector={leaf_vector}; ltr trains single-output trees (1)")
    arrays = {}
    for key in _NODE_ARRAYS:
        integer = key in ("left_children", "right_children", "parents", "split_indices", "default_left",
                          "split_type")
        arrays[key] = _numbers(_get(tree, key, where, kind=list), n, f"{where}: {key}", integer=integer)
    # Step 1: walk from the root; prediction visits only these nodes. Pruned nodes (XGBoost's exact and
    # approx methods with the 'prune' updater) stay in the arrays, unreachable, counted by num_deleted.
    left, right = tree["left_children"], tree["right_children"]
    reached = bytearray(n)
    splits: list[int] = []
    stack = [0]
    while stack:
        node = stack.pop()
        if reached[node]:
            raise _Fail(f"{where}: node {node} is reached twice from the root (a cycle or a shared node)")
        reached[node] = 1
        a, b = left[node], right[node]
        if a == -1 and b == -1:
            continue
        for side, child in (("left_children", a), ("right_children", b)):
            if not isinstance(child, int) or not 1 <= child < n:
                raise _Fail(f"{where}: {side}[{node}] = {child!r} is not a node index 1..{n - 1} (a split has two "
                            f"children, a leaf -1 and -1)")
        splits.append(node)
        stack += [a, b]
    n_unreached = n - sum(reached)
    if n_unreached != n_deleted:
        raise _Fail(f"{where}: {n_unreached} nodes cannot be reached from the root but num_deleted is {n_deleted}")
    # Step 2: what prediction reads at the reachable splits and leaves
    idx = np.asarray(splits, dtype=np.int64)
    live = np.frombuffer(bytes(reached), dtype=np.uint8).astype(bool)
    recorded = arrays["parents"]
    if recorded[0] != _ROOT_PARENT:
        raise _Fail(f"{where}: parents[0] = {int(recorded[0])}; the root's parent is written as {_ROOT_PARENT}")
    if idx.size:
        for side in ("left_children", "right_children"):
            kids = arrays[side][idx]
            bad = np.flatnonzero(recorded[kids] != idx)
            if bad.size:
                k = int(kids[bad[0]])
                raise _Fail(f"{where}: parents[{k}] = {int(recorded[k])} but node {k} is a child of {int(idx[bad[0]])}")
        feats = arrays["split_indices"][idx]
        bad = np.flatnonzero((feats < 0) | (feats >= n_features))
        if bad.size:
            raise _Fail(f"{where}: split_indices[{int(idx[bad[0]])}] = {int(feats[bad[0]])} is not a feature index "
                        f"0..{n_features - 1}")
    if np.any(arrays["split_type"][live] != 0) or any(tree.get(k) for k in ("categories", "categories_nodes",
                                                                            "categories_segments",
                                                                            "categories_sizes")):
        raise _Fail(f"{where} has categorical splits; ltr never trains XGBoost on categorical data")
    if not np.all(np.isfinite(arrays["split_conditions"][live])):
        raise _Fail(f"{where}: split_conditions holds a NaN or infinite value")
    default_left = arrays["default_left"][live]
    if np.any((default_left != 0) & (default_left != 1)):
        raise _Fail(f"{where}: default_left must hold 0 or 1")


def check_xgboost_model(data: bytes, *, path, n_features: int) -> None:
    """Refuse an XGBoost JSON model whose structure XGBoost's loader or predictor could crash on, or read
    wrong; ``n_features`` is the feature count the model's manifest lists.

    Raises
    ------
    ModelFormatError
        ``"<path>: <what is wrong>"``.
    """
    try:
        _check(data, n_features)
    except _Fail as err:
        raise ModelFormatError(f"{path}: not a well-formed XGBoost model: {err}. The file was edited or damaged; "
                               f"restore it or save the model again") from None


def _check(data: bytes, n_features: int) -> None:
    try:
        model = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise _Fail(f"not UTF-8 JSON (byte {err.start})") from None
    except json.JSONDecodeError as err:
        raise _Fail(f"not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})") from None
    learner = _get(model, "learner", "the model")
    mparam = _get(learner, "learner_model_param", "learner")
    nf = _uint(_get(mparam, "num_feature", "learner_model_param", kind=None), "num_feature")
    if nf != n_features:
        raise _Fail(f"learner_model_param.num_feature is {nf}, but the manifest lists {n_features} features")
    n_class = _uint(mparam.get("num_class", "0"), "num_class")
    n_target = _uint(mparam.get("num_target", "1"), "num_target")
    n_groups = max(1, n_class, n_target)
    booster = _get(learner, "gradient_booster", "learner")
    name = booster.get("name")
    if name == "dart":
        inner = _get(booster, "gbtree", "gradient_booster")
        gbtree = _get(inner, "model", "gradient_booster.gbtree")
    elif name == "gbtree":
        gbtree = _get(booster, "model", "gradient_booster")
    else:
        raise _Fail(f"gradient_booster.name is {name!r}; ltr trains tree boosters ('gbtree' or 'dart')")
    trees = _get(gbtree, "trees", "the booster", kind=list)
    param = _get(gbtree, "gbtree_model_param", "the booster")
    if _uint(_get(param, "num_trees", "gbtree_model_param", kind=None), "num_trees") != len(trees):
        raise _Fail(f"gbtree_model_param.num_trees is {param['num_trees']!r} but {len(trees)} trees are present")
    if _uint(param.get("num_parallel_tree", "1"), "num_parallel_tree") < 1:
        raise _Fail("num_parallel_tree must be >= 1")
    info = _numbers(_get(gbtree, "tree_info", "the booster", kind=list), len(trees), "tree_info", integer=True)
    if info.size and (info.min() < 0 or info.max() >= n_groups):
        raise _Fail(f"tree_info names output group {int(info.max()) if info.max() >= n_groups else int(info.min())} "
                    f"but the model has {n_groups}")
    if "iteration_indptr" in gbtree:
        ptr = gbtree["iteration_indptr"]
        if not isinstance(ptr, list) or not ptr or any(isinstance(v, bool) or not isinstance(v, int) for v in ptr):
            raise _Fail("iteration_indptr must be a list of integers")
        if ptr[0] != 0 or ptr[-1] != len(trees) or any(b < a for a, b in zip(ptr, ptr[1:])):
            raise _Fail(f"iteration_indptr must rise from 0 to the {len(trees)} trees")
    cats = gbtree.get("cats")
    if isinstance(cats, dict) and any(cats.get(k) for k in cats):
        raise _Fail("the booster has categorical encodings; ltr never trains XGBoost on categorical data")
    if name == "dart":
        drops = _numbers(_get(booster, "weight_drop", "gradient_booster", kind=list), len(trees), "weight_drop",
                         integer=False)
        if not np.all(np.isfinite(drops)):
            raise _Fail("weight_drop holds a NaN or infinite value")
    if _all_plain_trees_ok(trees, n_features):
        return
    for i, tree in enumerate(trees):             # the exact check, tree by tree; it names what is wrong
        _check_tree(i, tree, n_features)


def _all_plain_trees_ok(trees: list, n_features: int) -> bool:
    """All trees at once, vectorised, for the common case: no pruned nodes, numerical splits, and children
    numbered after their parents (XGBoost allocates a split's children after it). True means every tree
    passes the checks of :func:`_check_tree`; False means some tree is unusual or wrong, and the caller runs
    :func:`_check_tree` on each, which names the fault (or accepts an unusual valid tree)."""
    from itertools import chain
    sizes = np.zeros(len(trees), dtype=np.int64)
    want = str(n_features)
    for i, tree in enumerate(trees):
        if not isinstance(tree, dict) or tree.get("id") != i:
            return False
        param = tree.get("tree_param")
        if not isinstance(param, dict) or param.get("num_deleted", "0") != "0" or param.get("num_feature") != want \
                or param.get("size_leaf_vector", "1") not in ("0", "1"):
            return False
        n = param.get("num_nodes")
        if not isinstance(n, str) or not n.isdigit() or int(n) < 1:
            return False
        n = sizes[i] = int(n)
        for key in _NODE_ARRAYS:
            if not isinstance(tree.get(key), list) or len(tree[key]) != n:
                return False
        if any(tree.get(k) for k in ("categories", "categories_nodes", "categories_segments", "categories_sizes")):
            return False
    total = int(sizes.sum())
    try:
        cols = {}
        for key in ("left_children", "right_children", "parents", "split_indices", "split_type", "default_left",
                    "split_conditions"):
            arr = np.fromiter(chain.from_iterable(t[key] for t in trees),
                              dtype=np.float64 if key == "split_conditions" else np.int64, count=total)
            cols[key] = arr
    except (TypeError, ValueError, OverflowError):
        return False
    # np.fromiter casts floats to int silently: the JSON lists of the integer arrays must hold ints only
    for key in ("left_children", "right_children", "split_indices"):
        if not all(type(v) is int for t in trees for v in t[key]):
            return False
    tree = np.repeat(np.arange(len(trees)), sizes)
    start = np.r_[0, np.cumsum(sizes)[:-1]]
    node = np.arange(total) - start[tree]
    left, right = cols["left_children"], cols["right_children"]
    leaf = left == -1
    split = ~leaf
    if np.any(leaf != (right == -1)):
        return False
    n_of = sizes[tree]
    for child in (left, right):
        if np.any(split & ((child <= node) | (child >= n_of))):
            return False
    parent_count = np.zeros(total, dtype=np.int64)
    np.add.at(parent_count, start[tree[split]] + left[split], 1)
    np.add.at(parent_count, start[tree[split]] + right[split], 1)
    # every node but the root has exactly one parent (numbered before it): one binary tree, all reachable
    if np.any(parent_count != (node > 0)):
        return False
    parents = cols["parents"]
    if np.any(parents[start] != _ROOT_PARENT):
        return False
    for child in (left, right):
        if np.any(parents[start[tree[split]] + child[split]] != node[split]):
            return False
    feats = cols["split_indices"][split]
    if np.any((feats < 0) | (feats >= n_features)):
        return False
    if np.any(cols["split_type"] != 0) or not np.all(np.isfinite(cols["split_conditions"])):
        return False
    return not np.any((cols["default_left"] != 0) & (cols["default_left"] != 1))
