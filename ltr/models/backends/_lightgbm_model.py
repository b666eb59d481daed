"""The structure of a LightGBM text model, checked before LightGBM's loader sees it.

LightGBM's loader (``GBDT::LoadModelFromString``, ``Tree::Tree(const char*)``, LightGBM 4) trusts its input:
it jumps to each tree by the byte offsets in ``tree_sizes``, reads most arrays without checking their
length (``StringToArrayFast``), and prediction follows ``left_child``/``right_child`` and indexes the row
by ``split_feature`` without a bounds check. A model file edited by hand or by an attacker (the manifest's
SHA-256 is as easy to rewrite as the model) then crashes the process (SIGSEGV, SIGABRT), loops forever (a
cycle of children) or predicts from memory outside the model. :func:`check_lightgbm_model` refuses every
such file with a :class:`~ltr.errors.ModelFormatError` naming the file, the tree and what is wrong:

- the header: ``num_class``, ``num_tree_per_iteration`` (equal: LightGBM sizes its prediction buffer by
  the classes and writes one output per tree of an iteration), ``max_feature_idx`` + 1 = the feature count
  the manifest lists = the number of ``feature_names`` and ``feature_infos``;
- ``tree_sizes``: one per tree, each the exact byte length of its ``Tree=`` block, within the file;
- each tree: integer and float fields that parse, every array of exactly the length ``num_leaves`` implies,
  children that form one binary tree over all nodes and leaves (in range, each reached once, no cycle),
  split features < ``max_feature_idx`` + 1, decision types LightGBM defines, categorical splits whose
  ``cat_boundaries``/``cat_threshold`` are consistent, linear leaves whose features are in range.

This is a structural check against crashes and silent misreads, not a sandbox (README, "Trusted input").
"""

from __future__ import annotations

import re

import numpy as np

from ltr.errors import ModelFormatError

#: Largest tree (leaves) accepted; LightGBM's num_leaves is an int and our models stay far below.
_MAX_LEAVES = 1 << 24
_INT = re.compile(r"-?\d+")
#: Per-tree fields LightGBM 4 writes; arrays of num_leaves - 1 (internal nodes) or num_leaves (leaves).
_INTERNAL = ("split_feature", "split_gain", "threshold", "decision_type", "left_child", "right_child",
             "internal_value", "internal_weight", "internal_count")
_LEAF = ("leaf_value", "leaf_weight", "leaf_count")
_REQUIRED_INTERNAL = ("split_feature", "threshold", "left_child", "right_child")
#: The arrays prediction indexes by or follows: parsed and range-checked (the others: length only).
_PARSED = {"split_feature", "threshold", "decision_type", "left_child", "right_child"}
_INT_FIELDS = {"split_feature", "decision_type", "left_child", "right_child", "internal_count", "leaf_count",
               "cat_boundaries", "cat_threshold", "num_features", "leaf_features"}


class _Fail(Exception):
    pass


def _int(text: str, what: str) -> int:
    text = text.strip()
    if not _INT.fullmatch(text):
        raise _Fail(f"{what} must be an integer, got {text[:40]!r}")
    return int(text)


def _array(text: str, n: int | None, what: str, *, integer: bool) -> np.ndarray:
    parts = text.split()
    if n is not None and len(parts) != n:
        raise _Fail(f"{what} has {len(parts)} values, expected {n}")
    try:
        return np.array(parts, dtype=np.int64 if integer else np.float64)
    except (ValueError, OverflowError):
        kind = "integers" if integer else "numbers"
        raise _Fail(f"{what} must be {kind} separated by spaces") from None


def _count(text: str, n: int, what: str) -> None:
    """Arrays prediction does not index by: only their length matters to the loader."""
    got = len(text.split())
    if got != n:
        raise _Fail(f"{what} has {got} values, expected {n}")


def _check_tree(i: int, block: str, n_features: int) -> None:
    lines = block.split("\n")
    if not lines[0].startswith("Tree=") or _int(lines[0][5:], "the tree index") != i:
        raise _Fail(f"tree {i}: expected the line 'Tree={i}', found {lines[0][:40]!r}")
    fields: dict[str, str] = {}
    for line in lines[1:]:
        line = line.rstrip("\r")
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep:
            # LightGBM scans for '=' past the end of the line (and past the buffer after the last tree)
            raise _Fail(f"tree {i}: line {line[:40]!r} is not key=value")
        if key in fields:
            raise _Fail(f"tree {i}: field {key!r} appears twice")
        fields[key] = value
    for key in ("num_leaves", "num_cat", "leaf_value"):
        if key not in fields:
            raise _Fail(f"tree {i}: lacks the field {key!r}")
    n_leaves = _int(fields["num_leaves"], f"tree {i}: num_leaves")
    n_cat = _int(fields["num_cat"], f"tree {i}: num_cat")
    if not 1 <= n_leaves <= _MAX_LEAVES:
        raise _Fail(f"tree {i}: num_leaves={n_leaves} is out of range (1..{_MAX_LEAVES})")
    if n_cat < 0:
        raise _Fail(f"tree {i}: num_cat={n_cat} is negative")
    is_linear = _int(fields.get("is_linear", "0"), f"tree {i}: is_linear")
    if is_linear not in (0, 1):
        raise _Fail(f"tree {i}: is_linear must be 0 or 1, got {is_linear}")
    if "shrinkage" in fields:
        _array(fields["shrinkage"], 1, f"tree {i}: shrinkage", integer=False)
    arrays: dict[str, np.ndarray] = {}
    for key in _LEAF:
        if key == "leaf_value":
            arrays[key] = _array(fields[key], n_leaves, f"tree {i}: {key}", integer=False)
        elif key in fields:
            _count(fields[key], n_leaves, f"tree {i}: {key}")
    if not np.all(np.isfinite(arrays["leaf_value"])):
        raise _Fail(f"tree {i}: leaf_value holds a NaN or infinite value")
    if n_leaves > 1 or is_linear:
        for key in _REQUIRED_INTERNAL:
            if key not in fields and n_leaves > 1:
                raise _Fail(f"tree {i}: lacks the field {key!r} (a tree of {n_leaves} leaves has splits)")
        for key in _INTERNAL:
            if key not in fields:
                continue
            if key in _PARSED:
                arrays[key] = _array(fields[key], n_leaves - 1, f"tree {i}: {key}", integer=key in _INT_FIELDS)
            else:
                _count(fields[key], n_leaves - 1, f"tree {i}: {key}")
    if n_leaves > 1:
        _check_structure(i, arrays["left_child"], arrays["right_child"], n_leaves)
        feats = arrays["split_feature"]
        bad = np.flatnonzero((feats < 0) | (feats >= n_features))
        if bad.size:
            raise _Fail(f"tree {i}: split_feature[{int(bad[0])}] = {int(feats[bad[0]])} is not a feature index "
                        f"0..{n_features - 1} (max_feature_idx + 1 = {n_features})")
        dtype = arrays.get("decision_type", np.zeros(n_leaves - 1, dtype=np.int64))
        bad = np.flatnonzero((dtype < 0) | (dtype > 15) | (((dtype >> 2) & 3) == 3))
        if bad.size:
            raise _Fail(f"tree {i}: decision_type[{int(bad[0])}] = {int(dtype[bad[0]])} is not one LightGBM "
                        f"writes (bits: categorical 1, default-left 2, missing type 0-2 in bits 2-3)")
        categorical = np.flatnonzero(dtype & 1)
        if categorical.size or n_cat:
            _check_categorical(i, fields, arrays, categorical, n_cat)
    if is_linear:
        _check_linear(i, fields, n_leaves, n_features)


def _check_structure(i: int, left: np.ndarray, right: np.ndarray, n_leaves: int) -> None:
    """One binary tree: from the root, every internal node 0..n-2 and every leaf 0..n-1 (written ~leaf)
    reached exactly once."""
    n_internal = n_leaves - 1
    left, right = left.tolist(), right.tolist()
    seen_node = bytearray(n_internal)
    seen_leaf = bytearray(n_leaves)
    stack = [0]
    seen_node[0] = 1
    while stack:
        node = stack.pop()
        for side, child in (("left_child", left[node]), ("right_child", right[node])):
            if child >= 0:
                if child >= n_internal:
                    raise _Fail(f"tree {i}: {side}[{node}] = {child} is not a node index 0..{n_internal - 1}")
                if seen_node[child]:
                    raise _Fail(f"tree {i}: node {child} is reached twice ({side}[{node}]); the children do not "
                                f"form a tree (a cycle or a shared node)")
                seen_node[child] = 1
                stack.append(child)
            else:
                leaf = ~child
                if leaf >= n_leaves:
                    raise _Fail(f"tree {i}: {side}[{node}] = {child} names leaf {leaf}, but the tree has "
                                f"{n_leaves} leaves")
                if seen_leaf[leaf]:
                    raise _Fail(f"tree {i}: leaf {leaf} is reached twice ({side}[{node}])")
                seen_leaf[leaf] = 1
    if sum(seen_node) != n_internal or sum(seen_leaf) != n_leaves:
        missing = (f"node {seen_node.index(0)}" if sum(seen_node) != n_internal else f"leaf {seen_leaf.index(0)}")
        raise _Fail(f"tree {i}: {missing} cannot be reached from the root")


def _check_categorical(i: int, fields: dict, arrays: dict, nodes: np.ndarray, n_cat: int) -> None:
    if n_cat == 0:
        raise _Fail(f"tree {i}: node {int(nodes[0])} is a categorical split but num_cat is 0")
    for key in ("cat_boundaries", "cat_threshold"):
        if key not in fields:
            raise _Fail(f"tree {i}: num_cat={n_cat} but the field {key!r} is missing")
    bounds = _array(fields["cat_boundaries"], n_cat + 1, f"tree {i}: cat_boundaries", integer=True)
    words = _array(fields["cat_threshold"], None, f"tree {i}: cat_threshold", integer=True)
    if bounds[0] != 0 or np.any(np.diff(bounds) < 0) or bounds[-1] != words.size:
        raise _Fail(f"tree {i}: cat_boundaries must rise from 0 to the {words.size} values of cat_threshold")
    if words.size and (words.min() < 0 or words.max() > 0xFFFFFFFF):
        raise _Fail(f"tree {i}: cat_threshold values must be 32-bit unsigned integers")
    threshold = arrays["threshold"][nodes]
    index = threshold.astype(np.int64) if np.all(np.isfinite(threshold)) else None
    if index is None or np.any(index < 0) or np.any(index >= n_cat) or np.any(index != threshold):
        raise _Fail(f"tree {i}: a categorical split's threshold must be a category-set index 0..{n_cat - 1}")


def _check_linear(i: int, fields: dict, n_leaves: int, n_features: int) -> None:
    counts = _array(fields.get("num_features", ""), None, f"tree {i}: num_features", integer=True)
    if counts.size == 0:
        return
    if counts.size != n_leaves or counts.min() < 0:
        raise _Fail(f"tree {i}: num_features must hold {n_leaves} counts >= 0")
    total = int(counts.sum())
    for key in ("leaf_features", "leaf_coeff"):
        if key in fields:
            arr = _array(fields[key], total, f"tree {i}: {key}", integer=key == "leaf_features")
            if key == "leaf_features" and arr.size and (arr.min() < 0 or arr.max() >= n_features):
                raise _Fail(f"tree {i}: leaf_features holds a feature index outside 0..{n_features - 1}")
    if "leaf_const" in fields:
        _array(fields["leaf_const"], n_leaves, f"tree {i}: leaf_const", integer=False)


def check_lightgbm_model(data: bytes, *, path, n_features: int) -> None:
    """Refuse a LightGBM text model whose structure LightGBM's loader or predictor could crash on, or read
    wrong; ``n_features`` is the feature count the model's manifest lists.

    Raises
    ------
    ModelFormatError
        ``"<path>: <what is wrong>"``.
    """
    try:
        _check(data, n_features)
    except _Fail as err:
        raise ModelFormatError(f"{path}: not a well-formed LightGBM model: {err}. The file was edited or "
                               f"damaged; restore it or save the model again") from None


def _check(data: bytes, n_features: int) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _Fail(f"not UTF-8 text (byte {err.start})") from None
    if "\x00" in text:
        raise _Fail("contains a NUL byte")
    first_tree = text.find("\nTree=")
    end = text.find("\nend of trees")
    head_end = first_tree + 1 if first_tree >= 0 else (end + 1 if end >= 0 else len(text))
    header: dict[str, str] = {}
    lines = text[:head_end].split("\n")
    if lines[0].rstrip("\r") != "tree":
        raise _Fail(f"the first line must be 'tree', found {lines[0][:40]!r}")
    for line in lines[1:]:
        line = line.rstrip("\r")
        if not line:
            continue
        key, sep, value = line.partition("=")
        if sep and "=" in value and key != "feature_names":
            raise _Fail(f"header line {line[:40]!r} has more than one '='")
        header[key] = value
    for key in ("num_class", "label_index", "max_feature_idx", "feature_names", "feature_infos"):
        if key not in header:
            raise _Fail(f"the header lacks {key!r}")
    n_class = _int(header["num_class"], "num_class")
    per_iter = _int(header.get("num_tree_per_iteration", header["num_class"]), "num_tree_per_iteration")
    if n_class < 1 or per_iter != n_class:
        raise _Fail(f"num_class={n_class} and num_tree_per_iteration={per_iter} must be equal and >= 1 (LightGBM "
                    f"writes one output per class and one tree per class and iteration)")
    if _int(header["label_index"], "label_index") < 0:
        raise _Fail("label_index is negative")
    max_idx = _int(header["max_feature_idx"], "max_feature_idx")
    if max_idx + 1 != n_features:
        raise _Fail(f"max_feature_idx={max_idx} means {max_idx + 1} features, but the manifest lists "
                    f"{n_features}")
    for key in ("feature_names", "feature_infos"):
        count = len(header[key].split(" ")) if header[key] else 0
        if count != n_features:
            raise _Fail(f"{key} lists {count} entries for {n_features} features")
    if end < 0:
        raise _Fail("the line 'end of trees' is missing")
    body = data[len(text[:head_end].encode("utf-8")):len(text[:end + 1].encode("utf-8"))]
    blocks = ([0] if body.startswith(b"Tree=") else []) + [m.start() + 1 for m in re.finditer(rb"\nTree=", body)]
    n_trees = len(blocks)
    if n_trees % per_iter:
        raise _Fail(f"{n_trees} trees is not a multiple of num_tree_per_iteration={per_iter}")
    if "tree_sizes" in header:
        sizes = _array(header["tree_sizes"], None, "tree_sizes", integer=True)
        actual = np.diff(np.r_[blocks, len(body)]) if n_trees else np.zeros(0, dtype=np.int64)
        if sizes.size != n_trees:
            raise _Fail(f"tree_sizes lists {sizes.size} trees but the file holds {n_trees}")
        wrong = np.flatnonzero(sizes != actual)
        if wrong.size:
            k = int(wrong[0])
            raise _Fail(f"tree_sizes[{k}] = {int(sizes[k])} bytes but tree {k} is {int(actual[k])} bytes (LightGBM "
                        f"jumps to each tree by these offsets)")
    trees = [body[a:b].decode("utf-8") for a, b in zip(blocks, [*blocks[1:], len(body)])]
    if _all_plain_trees_ok(trees, n_features):
        return
    for i, block in enumerate(trees):             # the exact check, tree by tree; it names what is wrong
        _check_tree(i, block, n_features)


def _fields(block: str) -> dict | None:
    fields: dict[str, str] = {}
    for line in block.split("\n")[1:]:
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep or key in fields:
            return None
        fields[key] = value
    return fields


def _tokens(value: str) -> int:
    """Number of space-separated values, or -1 unless single spaces separate them (then the exact path)."""
    if not value:
        return 0
    if "  " in value or value[0] == " " or value[-1] == " " or "\r" in value:
        return -1
    return value.count(" ") + 1


def _all_plain_trees_ok(trees: list[str], n_features: int) -> bool:
    """All trees at once, vectorised, for the common case: numerical splits, no linear leaves, and children
    numbered after their parents (LightGBM's ``Tree::Split`` gives a new node the next index). True means
    every tree passes the checks of :func:`_check_tree`; False means some tree is unusual or wrong, and the
    caller runs :func:`_check_tree` on each, which names the fault (or accepts an unusual valid tree)."""
    n_leaves = np.zeros(len(trees), dtype=np.int64)
    columns: dict[str, list[str]] = {k: [] for k in ("left_child", "right_child", "split_feature", "decision_type",
                                                     "leaf_value", "shrinkage")}
    for i, block in enumerate(trees):
        if not block.startswith(f"Tree={i}\n"):
            return False
        fields = _fields(block)
        if fields is None or fields.get("num_cat") != "0" or fields.get("is_linear", "0") != "0":
            return False
        leaves = fields.get("num_leaves", "")
        if not leaves.isdigit() or not 1 <= int(leaves) <= _MAX_LEAVES or "leaf_value" not in fields:
            return False
        n = n_leaves[i] = int(leaves)
        for key in _LEAF:
            if key in fields and _tokens(fields[key]) != n:
                return False
        if "shrinkage" in fields:
            if _tokens(fields["shrinkage"]) != 1:
                return False
            columns["shrinkage"].append(fields["shrinkage"])
        if n > 1:
            if any(k not in fields for k in ("decision_type", *_REQUIRED_INTERNAL)):
                return False
            for key in _INTERNAL:
                if key in fields and _tokens(fields[key]) != n - 1:
                    return False
            for key in ("left_child", "right_child", "split_feature", "decision_type"):
                columns[key].append(fields[key])
        columns["leaf_value"].append(fields["leaf_value"])
    try:
        cols = {k: np.array(" ".join(v).split(), dtype=np.float64 if k in ("leaf_value", "shrinkage") else np.int64)
                for k, v in columns.items()}
    except (ValueError, OverflowError, TypeError):
        return False
    if not np.all(np.isfinite(cols["leaf_value"])):
        return False
    split_trees = np.flatnonzero(n_leaves > 1)
    n_int = n_leaves[split_trees] - 1
    if not n_int.size:
        return True
    tree = np.repeat(np.arange(n_int.size), n_int)                   # per internal node: its tree (of split_trees)
    start_int = np.r_[0, np.cumsum(n_int)[:-1]]
    node = np.arange(tree.size) - start_int[tree]                   # index of the node inside its tree
    start_leaf = np.r_[0, np.cumsum(n_int + 1)[:-1]]
    internal_seen = np.zeros(tree.size, dtype=np.int64)
    leaf_seen = np.zeros(int(np.sum(n_int + 1)), dtype=np.int64)
    for key in ("left_child", "right_child"):
        child = cols[key]
        inner = child >= 0
        if np.any(inner & ((child <= node) | (child >= n_int[tree]))):
            return False
        leaf = ~child
        if np.any(~inner & (leaf > n_int[tree])):
            return False
        np.add.at(internal_seen, start_int[tree[inner]] + child[inner], 1)
        np.add.at(leaf_seen, start_leaf[tree[~inner]] + leaf[~inner], 1)
    # every node but the root has exactly one parent, every leaf is reached once: with children numbered
    # after their parents, that is one binary tree
    if np.any(internal_seen != (node > 0)) or np.any(leaf_seen != 1):
        return False
    feats, dtype = cols["split_feature"], cols["decision_type"]
    if np.any((feats < 0) | (feats >= n_features)):
        return False
    return not np.any((dtype < 0) | (dtype > 15) | ((dtype & 1) == 1) | (((dtype >> 2) & 3) == 3))
