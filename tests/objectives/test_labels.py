"""Label kinds: which labels each objective takes, and the errors that say why not and what to do."""

from __future__ import annotations

import numpy as np
import pytest

from ltr.errors import DataError, GroupError, LabelError
from ltr.objectives import available_objectives, get_objective

KIND_SAMPLES = {
    "binary": np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0]),
    "graded": np.array([0.0, 2.0, 1.0, 3.0, 0.0, 4.0]),
    "real": np.array([0.25, 1.7, 0.0, 2.2, -0.4, 0.9]),
}


@pytest.mark.parametrize("name", available_objectives())
@pytest.mark.parametrize("kind", sorted(KIND_SAMPLES))
def test_label_kinds_declared_are_the_ones_accepted(name, kind):
    """Invariant: check_labels accepts a kind of labels exactly when the objective declares it."""
    obj = get_objective(name)
    labels = KIND_SAMPLES[kind]
    if kind in obj.label_kinds:
        obj.check_labels(labels, [4, 2], backend=obj.backends[0])
    else:
        with pytest.raises(LabelError):
            obj.check_labels(labels, [4, 2], backend=obj.backends[0])


def test_real_labels_for_lambdarank_say_why_and_what_to_do():
    labels = np.array([0.0, 1.0, 2.0, 0.0, 0.37, 1.0])
    with pytest.raises(LabelError) as err:
        get_objective("lambdarank").check_labels(labels, [3, 3], backend="lightgbm")
    msg = str(err.value)
    assert "objective lambdarank needs integer grades on lightgbm; got real values such as 0.37 in query #1 " \
           "(rows 3..5), row 4 (1 non-integer labels)" in msg
    assert "get_objective('lambdarank(quantize=(0.5, 1.5))')" in msg and "'ranknet'" in msg


def test_quantize_turns_real_labels_into_grades_explicitly():
    labels = np.array([0.2, 0.5, 1.49, 1.5, 7.0, -3.0])
    obj = get_objective("lambdarank(quantize=(0.5, 1.5))")
    obj.check_labels(labels, [3, 3], backend="lightgbm")
    assert obj.transform_labels(labels, backend="lightgbm").tolist() == [0.0, 1.0, 1.0, 2.0, 2.0, 0.0]
    assert get_objective("lambdarank").transform_labels(labels, backend="lightgbm").tolist() == labels.tolist()


def test_more_than_31_grades_need_label_gain():
    labels = np.array([0.0, 31.0, 5.0])
    with pytest.raises(LabelError, match=r"takes grades 0..30 on lightgbm \(LightGBM's default label_gain 2\^i - 1 "
                                         r"has 31 entries\); got 31 in query #0 \(rows 0..2\), row 1. Pass "
                                         r"label_gain"):
        get_objective("lambdarank").check_labels(labels, [3], backend="lightgbm")
    get_objective("lambdarank").check_labels(labels, [3], backend="xgboost")      # XGBoost: 2^y - 1 up to 31
    with pytest.raises(LabelError, match=r"takes grades 0..31 on xgboost"):
        get_objective("lambdarank").check_labels(labels + 1, [3], backend="xgboost")
    gain = tuple(range(32))
    get_objective(f"lambdarank(label_gain={gain})").check_labels(labels, [3], backend="lightgbm")
    with pytest.raises(LabelError, match=r"label_gain has 4 entries"):
        get_objective("lambdarank_ref(label_gain=(0, 1, 3, 7))").check_labels(labels, [3], backend="lightgbm")


def test_negative_grades_are_refused():
    with pytest.raises(LabelError, match=r"needs grades >= 0; got -1 in query #0"):
        get_objective("rank_xendcg").check_labels(np.array([-1.0, 0.0]), [2], backend="lightgbm")


def test_multiclass_label_errors():
    with pytest.raises(LabelError, match=r"needs integer grades"):
        get_objective("multiclass").check_labels(np.array([0.5, 1.0]), [2], backend="lightgbm")
    with pytest.raises(LabelError, match=r"needs at least two grades; all 3 labels are 0"):
        get_objective("multiclass").check_labels(np.zeros(3), [3], backend="xgboost")
    with pytest.raises(LabelError, match=r"takes grades 0..1 on lightgbm \(num_class=2\)"):
        get_objective("multiclass(num_class=2)").check_labels(np.array([0.0, 2.0]), [2], backend="lightgbm")
    obj = get_objective("multiclass(quantize=(1.0,))")
    obj.check_labels(np.array([0.3, 2.5]), [2], backend="lightgbm")
    assert obj.backend_params("lightgbm", labels=np.array([0.3, 2.5]), group_sizes=[2])["num_class"] == 2


def test_multiclass_scores_are_expected_grades():
    obj = get_objective("multiclass")
    prob = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    np.testing.assert_allclose(obj.transform_scores(prob), [1.3, 0.0])
    with pytest.raises(DataError, match=r"expects probabilities"):
        obj.transform_scores(np.array([[2.0, -1.0, 0.5]]))
    with pytest.raises(DataError, match=r"shape \(n_samples, num_class\)"):
        obj.transform_scores(np.array([0.1, 0.2]))


def test_lambdarank_map_needs_binary_labels_or_a_threshold():
    graded = np.array([0.0, 2.0, 1.0])
    with pytest.raises(LabelError, match=r"needs binary labels 0/1 \(XGBoost's rank:map\); got 2 .* "
                                         r"get_objective\('lambdarank_map\(threshold=1\)'\)"):
        get_objective("lambdarank_map").check_labels(graded, [3], backend="xgboost")
    obj = get_objective("lambdarank_map(threshold=1)")
    obj.check_labels(graded, [3], backend="xgboost")
    assert obj.transform_labels(graded, backend="xgboost").tolist() == [0.0, 1.0, 1.0]


def test_binary_threshold_binarises_any_labels():
    obj = get_objective("binary(threshold=0.5)")
    obj.check_labels(KIND_SAMPLES["real"], [6], backend="lightgbm")
    assert obj.transform_labels(KIND_SAMPLES["real"], backend="lightgbm").tolist() == [0, 1, 0, 1, 0, 1]


@pytest.mark.parametrize("name", available_objectives())
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_labels_are_refused_by_every_objective(name, bad):
    obj = get_objective(name)
    labels = np.array([0.0, 1.0, 0.0, bad, 1.0])
    with pytest.raises(LabelError, match=r"got 1 non-finite label\(s\) \(NaN or inf\), the first in query #1 "
                                         r"\(rows 2..4\), row 3"):
        obj.check_labels(labels, [2, 3], backend=obj.backends[0])


@pytest.mark.parametrize("name", available_objectives())
def test_a_query_with_one_document_is_fine(name):
    """Pointwise objectives use it; pairwise/listwise ones get nothing from it, and must not crash.
    (lambdarank_map and lambdarank_position have no ltr gradient: LightGBM/XGBoost compute it natively.)"""
    obj = get_objective(name)
    labels = np.array([1.0, 0.0, 1.0, 0.0])
    obj.check_labels(labels, [1, 3], backend=obj.backends[0])
    if obj.family == "pairwise":
        g, h = obj.grad_hess(obj.transform_labels(labels, backend=obj.backends[0]), np.arange(4.0), [1, 3]) \
            if name not in ("lambdarank_map", "lambdarank_position") else (np.zeros(4), np.zeros(4))
        assert g[0] == 0.0 and h[0] == 0.0


def test_group_sizes_must_add_up():
    with pytest.raises(GroupError, match=r"group sizes sum to 4 but there are 5 rows"):
        get_objective("ranknet").check_labels(np.zeros(5), [2, 2], backend="lightgbm")
    with pytest.raises(GroupError, match=r"must be positive; query #1 has size 0"):
        get_objective("ranknet").check_labels(np.zeros(2), [2, 0], backend="lightgbm")


def test_lightgbm_lambdarank_query_size_limit():
    """LightGBM's lambdarank refuses queries over 10000 rows (DCGCalculator::kMaxPosition); say it first."""
    labels = np.zeros(10001)
    labels[0] = 1
    with pytest.raises(GroupError, match=r"at most 10000 documents per query .* query #0 has 10001"):
        get_objective("lambdarank").check_labels(labels, [10001], backend="lightgbm")
    get_objective("lambdarank_ref").check_labels(labels, [10001], backend="lightgbm")


def test_rank_xendcg_refuses_real_labels_that_lightgbm_would_truncate():
    with pytest.raises(LabelError, match=r"rank_xendcg needs integer grades on lightgbm"):
        get_objective("rank_xendcg").check_labels(np.array([0.5, 1.0]), [2], backend="lightgbm")
    get_objective("rank_xendcg(quantize=(0.5,))").check_labels(np.array([0.5, 0.1]), [2], backend="lightgbm")


# -- thresholds that leave nothing to learn (issue 11, point 5) ------------------------------------------------

@pytest.mark.parametrize("spec,backend,message", [
    ("lambdarank_map(threshold=5)", "xgboost",
     r"objective lambdarank_map\(threshold=5\.0\): no training label is >= 5, so no document is relevant \(labels "
     r"range 0\.\.2, threshold=5\.0\); there is nothing to learn\. Choose a threshold inside the labels' range, "
     r"e\.g\. threshold=1"),
    ("binary(threshold=5)", "lightgbm", r"no training label is >= 5, so no document is relevant"),
    ("binary(threshold=0)", "xgboost", r"every training label is >= 0, so every document is relevant"),
    ("lambdarank(quantize=(5.0,))", "lightgbm", r"every training label falls into grade 0 \(labels range 0\.\.2"),
    ("rank_xendcg(quantize=(7.0,))", "lightgbm", r"every training label falls into grade 0"),
    ("multiclass(quantize=(9.0,))", "lightgbm", r"needs at least two grades; all 6 labels are 0"),   # refused before
])
def test_a_threshold_above_every_label_is_refused(spec, backend, message):
    """Before, lambdarank_map(threshold=5) on labels 0..2 trained with no relevant document and no warning."""
    labels = np.array([0.0, 1.0, 2.0, 0.0, 2.0, 1.0])
    with pytest.raises(LabelError, match=message):
        get_objective(spec).check_labels(labels, [3, 3], backend=backend)


def test_equal_labels_leave_no_pair_to_learn_from():
    labels = np.zeros(6)
    for spec in ("lambdarank", "ranknet", "rank_xendcg"):
        with pytest.raises(LabelError, match=r"all 6 training labels are 0, so no two documents differ"):
            get_objective(spec).check_labels(labels, [3, 3], backend="lightgbm")
    get_objective("regression").check_labels(labels, [3, 3], backend="lightgbm")    # pointwise: allowed


def test_a_threshold_that_empties_most_queries_warns():
    """Queries whose labels differ but fall on one side of the threshold give a pairwise objective no gradient;
    when that is most of them, a warning says how many. A pointwise objective still learns from each row."""
    labels = np.array([0, 1, 0, 1, 0, 1, 1, 2, 0]).astype(float)      # queries: {0,1} {0,1} {0,1}... {1,2,0}
    with pytest.warns(UserWarning, match=r"leaves 2 of the 3 training queries that have different labels with a "
                                         r"single label"):
        get_objective("lambdarank_map(threshold=2)").check_labels(labels, [2, 2, 5], backend="xgboost")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        get_objective("binary(threshold=2)").check_labels(labels, [2, 2, 5], backend="xgboost")
        get_objective("lambdarank_map(threshold=1)").check_labels(labels, [2, 2, 5], backend="xgboost")
