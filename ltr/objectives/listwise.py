"""Listwise objectives: a loss over the whole list of a query."""

from __future__ import annotations

from ltr.objectives.base import Objective, _bad, check_grades, integer, quantize, quantize_edges, register

#: LightGBM's seeds are C ints and a seed s draws what s mod 2^31 draws: larger ones are refused, not folded.
_MAX_SEED = 2**31 - 1


def _optional_seed(value, key, owner):
    if value is None:
        return None
    value = integer(value, key, owner)
    if not 0 <= value <= _MAX_SEED:
        raise _bad(owner, key, f"None or an int in [0, {_MAX_SEED}] (LightGBM's seeds are 32-bit signed ints; "
                               f"a larger seed would silently repeat a smaller one)", value)
    return value

__all__ = ["RankXENDCG"]


@register
class RankXENDCG(Objective):
    r"""XE-NDCG (Bruch et al., 2019): cross-entropy between the softmax of the scores and a randomised
    distribution derived from the gains. LightGBM's ``rank_xendcg`` (XGBoost has no listwise objective).

    .. math::

        L_q = -\sum_i \phi_i \log \frac{e^{s_i}}{\sum_j e^{s_j}}, \quad
        \phi_i = \frac{2^{y_i} - \gamma_i}{\sum_j (2^{y_j} - \gamma_j)}, \quad \gamma_i \sim U[0, 1)

    LightGBM draws :math:`\gamma` afresh at every iteration from one generator per query seeded with
    ``objective_seed + query index``: the objective is randomised, so runs compare only at equal seeds.
    Queries of one document contribute nothing. Labels must be integer grades (LightGBM would truncate
    real labels silently with ``static_cast<int>``; we refuse them, see ``quantize``).

    Parameters
    ----------
    objective_seed : int or None, default=None
        LightGBM ``objective_seed``. None leaves it to LightGBM, which derives it from the model's ``seed``
        (the Ranker's ``random_state``), so different training seeds give different randomisations.
    quantize : tuple of float or None, default=None
        Thresholds turning real labels into grades (grade = number of thresholds <= label).

    References
    ----------
    Bruch, S., Han, S., Bendersky, M., Najork, M. (2020). A stochastic treatment of learning to rank
    scoring functions. WSDM. doi:10.1145/3336191.3371844 (arXiv:1911.09798)
    """

    name = "rank_xendcg"
    family = "listwise"
    backends = ("lightgbm",)
    label_kinds = frozenset({"binary", "graded"})
    native = {"lightgbm": "rank_xendcg"}
    _spec = {"objective_seed": (None, _optional_seed), "quantize": (None, quantize_edges)}

    def transform_labels(self, labels, *, backend: str):
        return quantize(labels, self.params["quantize"])

    def _check_kind(self, y, sizes, backend):
        # 2^y must stay finite in double precision
        check_grades(self, y, sizes, 1023, backend=backend, why_max="beyond, the gain 2^y overflows a double",
                     fix_max="Quantise the labels with quantize=(...).")

    def _native_params(self, backend, *, labels, group_sizes):
        params = {"objective": "rank_xendcg"}
        if self.params["objective_seed"] is not None:
            params["objective_seed"] = self.params["objective_seed"]
        return params

    def _notes(self, backend):
        return ["randomised: gamma ~ U[0,1) redrawn each iteration, per-query generators seeded with "
                "objective_seed (derived from the training seed unless given) + query index; no reference gradient in ltr (grad_hess raises "
                "NotImplementedError)"]
