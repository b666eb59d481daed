"""Model folders from someone else: a crafted model file is refused before LightGBM or XGBoost parse it.

Each case edits a saved model the way an attacker or a bad merge would (the manifest's SHA-256 rewritten to
match, as anyone can) and expects a ModelFormatError naming the model file and the fault. Unchecked, the
native loaders crash on these (SIGSEGV, SIGABRT), loop forever (a cycle of children) or read memory outside
the model; measured on LightGBM 4.7 and XGBoost 3.2 when these checks were written. The end-to-end test runs
``ltr predict`` on every crafted folder in a child process, so a native crash fails that test instead of
killing pytest.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ltr.errors import ModelFormatError
from ltr.io import write_letor
from ltr.models import Ranker
from tests.models.conftest import make_dataset

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A LightGBM and an XGBoost model folder (4 features, a few trees of 4 leaves) and a LETOR test file."""
    root = tmp_path_factory.mktemp("models")
    train = make_dataset(12, n_features=4, seed=0)
    out = {}
    for backend, kw in (("lightgbm", {"num_leaves": 4}), ("xgboost", {"max_depth": 2})):
        ranker = Ranker(objective="lambdarank", backend=backend, n_estimators=3, early_stopping_rounds=None,
                        n_jobs=1, **kw).fit(train)
        ranker.save(root / backend)
        out[backend] = root / backend
    write_letor(make_dataset(3, n_features=4, seed=1, prefix="t"), root / "test.txt")
    out["test"] = root / "test.txt"
    return out


def _retarget(folder: Path, data: bytes, **manifest_edits) -> None:
    """Write ``data`` as the model file and make the manifest agree with it (as an attacker would)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / manifest["model_file"]).write_bytes(data)
    manifest["model_sha256"] = hashlib.sha256(data).hexdigest()
    manifest.update(manifest_edits)
    (folder / "manifest.json").write_text(json.dumps(manifest))


# -- LightGBM text model edits ------------------------------------------------------------------------------

def _lgb_tree_edit(text: str, key: str, value: str | None, tree: int = 0) -> str:
    """Set ``key`` in one tree (``value`` None: drop the '=value'), with tree_sizes made to match again."""
    blocks = re.split(r"(?m)^(?=Tree=)", text)
    head, trees = blocks[0], blocks[1:]
    end = trees[-1].index("end of trees")
    tail, trees[-1] = trees[-1][end:], trees[-1][:end]
    trees[tree] = re.sub(rf"(?m)^{key}=.*$", key if value is None else f"{key}={value}", trees[tree])
    head = re.sub(r"(?m)^tree_sizes=.*$", "tree_sizes=" + " ".join(str(len(t.encode())) for t in trees), head)
    return head + "".join(trees) + tail


def _lgb_line(text: str, key: str, value: str) -> str:
    return re.sub(rf"(?m)^{key}=.*$", f"{key}={value}", text, count=1)


LGB_CASES = {
    "split feature beyond the row": (lambda t: _lgb_tree_edit(t, "split_feature", "0 0 1000000"),
                                     r"tree 0: split_feature\[2\] = 1000000 is not a feature index 0\.\.3"),
    "child beyond the nodes": (lambda t: _lgb_tree_edit(t, "left_child", "2000000 -1 -2"),
                               r"tree 0: left_child\[0\] = 2000000 is not a node index 0\.\.2"),
    "leaf beyond the leaves": (lambda t: _lgb_tree_edit(t, "right_child", "-200000 -3 -4"),
                               r"names leaf 199999, but the tree has 4 leaves"),
    "cycle of children": (lambda t: _lgb_tree_edit(t, "left_child", "0 -1 -2"),
                          r"node 0 is reached twice .*a cycle or a shared node"),
    "array shorter than num_leaves implies": (lambda t: _lgb_tree_edit(t, "split_feature", "0"),
                                              r"tree 0: split_feature has 1 values, expected 3"),
    "num_leaves larger than the arrays": (lambda t: _lgb_tree_edit(t, "num_leaves", "400"),
                                          r"tree 0: leaf_value has 4 values, expected 400"),
    "tree_sizes pointing outside the file": (lambda t: _lgb_line(t, "tree_sizes", "10 10 99999999"),
                                             r"tree_sizes\[0\] = 10 bytes but tree 0 is \d+ bytes"),
    "tree_sizes for fewer trees": (lambda t: _lgb_line(t, "tree_sizes", t.split("tree_sizes=")[1].split()[0]),
                                   r"tree_sizes lists 1 trees but the file holds 3"),
    "trees per iteration beyond the classes": (lambda t: _lgb_line(t, "num_tree_per_iteration", "3"),
                                               r"num_class=1 and num_tree_per_iteration=3 must be equal"),
    "categorical split without categories": (lambda t: _lgb_tree_edit(t, "decision_type", "1 2 2"),
                                             r"node 0 is a categorical split but num_cat is 0"),
    "a line without '='": (lambda t: _lgb_tree_edit(t, "is_linear", None),
                           r"tree 0: line 'is_linear' is not key=value"),
    "a NaN leaf": (lambda t: _lgb_tree_edit(t, "leaf_value", "nan 0 0 0"), r"leaf_value holds a NaN"),
}


def _first_tree_shape(text: str) -> None:
    """The edits above assume trees of 4 leaves whose first split has a leaf on the right."""
    assert "num_leaves=4" in text


@pytest.mark.parametrize("case", sorted(LGB_CASES))
def test_crafted_lightgbm_model_is_refused_before_lightgbm_parses_it(saved, tmp_path, case):
    """Oracle: the expected message; the file is never handed to LightGBM (a crash would kill pytest)."""
    edit, message = LGB_CASES[case]
    folder = tmp_path / "model"
    folder.mkdir()
    for f in saved["lightgbm"].iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    text = (folder / "model.txt").read_text()
    _first_tree_shape(text)
    _retarget(folder, edit(text).encode())
    with pytest.raises(ModelFormatError, match=re.escape(str(folder / "model.txt")) + r": not a well-formed LightGBM "
                                                                                      r"model: .*" + message):
        Ranker.load(folder)


def test_lightgbm_model_with_fewer_features_than_the_manifest_is_refused(saved, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    for f in saved["lightgbm"].iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    text = (folder / "model.txt").read_text()
    text = _lgb_line(_lgb_line(_lgb_line(text, "max_feature_idx", "1"), "feature_names", "a b"), "feature_infos", "x y")
    _retarget(folder, text.encode())
    with pytest.raises(ModelFormatError, match=r"max_feature_idx=1 means 2 features, but the manifest lists 4"):
        Ranker.load(folder)


# -- XGBoost JSON model edits ---------------------------------------------------------------------------------

def _trees(model):
    return model["learner"]["gradient_booster"]["model"]["trees"]


def _set(path: str, value):
    def edit(model):
        node = model
        *keys, last = path
        for key in keys:
            node = node[key]
        node[last] = value
    return edit


XGB_CASES = {
    "split feature beyond the row": (lambda m: _trees(m)[0]["split_indices"].__setitem__(0, 100000),
                                     r"tree 0: split_indices\[0\] = 100000 is not a feature index 0\.\.3"),
    "child beyond the nodes": (lambda m: _trees(m)[0]["left_children"].__setitem__(0, 100000),
                               r"tree 0: left_children\[0\] = 100000 is not a node index 1\.\.\d+"),
    "child pointing at the root (a cycle)": (lambda m: _trees(m)[0]["left_children"].__setitem__(0, 0),
                                             r"tree 0: left_children\[0\] = 0 is not a node index"),
    "one child only": (lambda m: _trees(m)[0]["right_children"].__setitem__(0, -1),
                       r"tree 0: right_children\[0\] = -1 is not a node index"),
    "shared node": (lambda m: _trees(m)[0]["right_children"].__setitem__(0, _trees(m)[0]["left_children"][0]),
                    r"tree 0: node \d+ is reached twice"),
    "array shorter than num_nodes": (lambda m: _trees(m)[0].__setitem__("split_conditions", [0.5]),
                                     r"tree 0: split_conditions must be a list of \d+ numbers, got 1"),
    "num_trees beyond the trees": (_set(("learner", "gradient_booster", "model", "gbtree_model_param", "num_trees"),
                                        "9"), r"num_trees is '9' but 3 trees are present"),
    "tree group beyond the outputs": (lambda m: m["learner"]["gradient_booster"]["model"]["tree_info"].__setitem__(
        1, 7), r"tree_info names output group 7 but the model has 1"),
    "iteration pointer beyond the trees": (_set(("learner", "gradient_booster", "model", "iteration_indptr"),
                                                [0, 1, 2, 9]), r"iteration_indptr must rise from 0 to the 3 trees"),
    "categorical split": (lambda m: _trees(m)[0]["split_type"].__setitem__(0, 1), r"tree 0 has categorical splits"),
    "tree ids out of order": (lambda m: _trees(m)[1].__setitem__("id", 0), r"tree 1 has id 0"),
    "not JSON": (None, r"not valid JSON"),
}


@pytest.mark.parametrize("case", sorted(XGB_CASES))
def test_crafted_xgboost_model_is_refused_before_xgboost_parses_it(saved, tmp_path, case):
    """Oracle: the expected message; the file is never handed to XGBoost (a crash would kill pytest)."""
    edit, message = XGB_CASES[case]
    folder = tmp_path / "model"
    folder.mkdir()
    for f in saved["xgboost"].iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    raw = (folder / "model.json").read_bytes()
    if edit is None:
        data = raw[: len(raw) // 2]
    else:
        model = copy.deepcopy(json.loads(raw))
        edit(model)
        data = json.dumps(model).encode()
    _retarget(folder, data)
    with pytest.raises(ModelFormatError, match=re.escape(str(folder / "model.json")) + r": not a well-formed XGBoost "
                                                                                       r"model: .*" + message):
        Ranker.load(folder)


def test_manifest_feature_list_must_match_the_model(saved, tmp_path):
    """The manifest is checked too: a feature list that is not a list of unique strings, or that disagrees with
    the model's feature count, is refused before either file reaches the native loader."""
    for backend in ("lightgbm", "xgboost"):
        for edits, message in (({"feature_names": ["a", "b", "c"], "n_features": 3},
                                r"(max_feature_idx=3 means 4 features|num_feature is 4), but the manifest lists 3"),
                               ({"feature_names": ["a", "a", "b", "c"]}, r"lists the feature 'a' twice"),
                               ({"feature_names": [1, 2, 3, 4]}, r"feature_names must be a list of strings"),
                               ({"n_features": "4"}, r"n_features is '4'"),
                               ({"best_iteration": "3"}, r"best_iteration must be a non-negative integer")):
            folder = tmp_path / f"{backend}-{len(list(tmp_path.iterdir()))}"
            folder.mkdir()
            for f in saved[backend].iterdir():
                (folder / f.name).write_bytes(f.read_bytes())
            manifest = json.loads((folder / "manifest.json").read_text())
            _retarget(folder, (folder / manifest["model_file"]).read_bytes(), **edits)
            with pytest.raises(ModelFormatError, match=message):
                Ranker.load(folder)


_CHILD = """
import json, sys
from pathlib import Path
from ltr.cli import main
for folder in sys.argv[2:]:
    code = main(["predict", folder, sys.argv[1], "--out", str(Path(folder) / "run.txt")])
    print(json.dumps([folder, code]), flush=True)
"""


def test_ltr_predict_refuses_every_crafted_folder_in_a_child_process(saved, tmp_path):
    """End to end through the CLI, in one child process: every crafted folder gives exit status 2 and a one-line
    error naming the model file; a native crash (SIGSEGV/SIGABRT) or a hang would end the child early."""
    folders = []
    for backend, cases in (("lightgbm", LGB_CASES), ("xgboost", XGB_CASES)):
        raw = (saved[backend] / ("model.txt" if backend == "lightgbm" else "model.json")).read_bytes()
        for i, (edit, _) in enumerate(cases.values()):
            folder = tmp_path / f"{backend}-{i}"
            folder.mkdir()
            for f in saved[backend].iterdir():
                (folder / f.name).write_bytes(f.read_bytes())
            if backend == "lightgbm":
                data = edit(raw.decode()).encode()
            elif edit is None:
                data = raw[: len(raw) // 2]
            else:
                model = json.loads(raw)
                edit(model)
                data = json.dumps(model).encode()
            _retarget(folder, data)
            folders.append(str(folder))
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(saved["test"]), *folders], capture_output=True, text=True,
                          timeout=300, cwd=REPO)
    assert proc.returncode == 0, f"the child died (status {proc.returncode}): {proc.stderr[-2000:]}"
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("[")]
    assert [f for f, _ in results] == folders
    assert all(code == 2 for _, code in results), results
    errors = [line for line in proc.stderr.splitlines() if line.startswith("ltr predict: error:")]
    assert len(errors) == len(folders)
    assert all("not a well-formed" in line and ("model.txt" in line or "model.json" in line) for line in errors)


def test_well_formed_models_of_every_kind_pass_the_check(tmp_path):
    """Invariant: models ltr writes load (no false alarm): multiclass (one tree per class), linear LightGBM
    leaves, DART on both backends, pruned XGBoost trees (unreachable nodes counted by num_deleted)."""
    data = make_dataset(20, n_features=4, seed=3)
    cases = [("multiclass", "lightgbm", {}), ("multiclass", "xgboost", {}),
             ("regression", "lightgbm", {"params": {"linear_tree": True}}),
             ("lambdarank", "lightgbm", {"params": {"boosting": "dart"}}),
             ("lambdarank", "xgboost", {"params": {"booster": "dart"}}),
             ("regression", "xgboost", {"params": {"tree_method": "exact", "updater": "grow_colmaker,prune",
                                                   "gamma": 0.5}})]
    for i, (objective, backend, kw) in enumerate(cases):
        ranker = Ranker(objective=objective, backend=backend, n_estimators=6, early_stopping_rounds=None, n_jobs=1,
                        **kw).fit(data)
        ranker.save(tmp_path / str(i))
        loaded = Ranker.load(tmp_path / str(i))
        assert loaded.predict_scores(data).tobytes() == ranker.predict_scores(data).tobytes(), (objective, backend)


def test_lightgbm_categorical_splits_are_checked_not_refused():
    """A LightGBM model with categorical splits (trained by LightGBM directly: ltr passes no categorical
    features) passes; its category sets are range-checked (a split naming a set that does not exist is refused)."""
    import lightgbm as lgb
    import numpy as np

    from ltr.models.backends._lightgbm_model import check_lightgbm_model
    rng = np.random.default_rng(0)
    X = rng.random((500, 4))
    X[:, 0] = rng.integers(0, 12, 500)
    y = ((X[:, 0] % 3 == 0) + X[:, 1]).round()
    booster = lgb.train({"objective": "lambdarank", "verbosity": -1, "num_leaves": 8, "min_data_in_leaf": 5,
                         "max_cat_to_onehot": 1, "min_data_per_group": 5, "cat_smooth": 1},
                        lgb.Dataset(X, y, group=[50] * 10, categorical_feature=[0]), 5)
    text = booster.model_to_string()
    assert re.search(r"num_cat=[1-9]", text)
    check_lightgbm_model(text.encode(), path="cat.txt", n_features=4)
    tree = next(i for i, block in enumerate(re.split(r"(?m)^(?=Tree=)", text)[1:]) if "num_cat=0" not in block)
    broken = _lgb_tree_edit(text, "cat_boundaries", "0 1 99999", tree=tree)
    with pytest.raises(ModelFormatError, match=rf"cat.txt: .*tree {tree}: cat_boundaries"):
        check_lightgbm_model(broken.encode(), path="cat.txt", n_features=4)
