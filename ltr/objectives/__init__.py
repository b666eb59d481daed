"""Training objectives: a registry of named, parameterised losses with backend mappings.

>>> from ltr.objectives import get_objective
>>> obj = get_objective("lambdarank(truncation_level=20)")
>>> obj, obj.family, obj.is_custom("lightgbm")
(lambdarank(truncation_level=20), 'pairwise', False)
>>> get_objective("ranknet").is_custom("lightgbm")
True

Every objective's printed form parses back (``get_objective(repr(obj)) == obj``); an unknown name lists
the registered ones. The families live one per module: :mod:`ltr.objectives.pointwise`,
:mod:`ltr.objectives.ranknet`, :mod:`ltr.objectives.lambdarank`, :mod:`ltr.objectives.listwise`, and the
objectives for learning from clicks, :mod:`ltr.objectives.unbiased`.
The gradient kernels (:mod:`ltr.objectives._kernels`) are numba-compiled with numpy references.
"""

from ltr.objectives.base import (
    LABEL_KINDS, Objective, available_objectives, get_objective, objective_backends, quantize, register,
    registry,
)
from ltr.objectives.lambdarank import LambdaRank, LambdaRankMAP, LambdaRankRef, default_label_gain
from ltr.objectives.listwise import RankXENDCG
from ltr.objectives.pointwise import Binary, Multiclass, Regression
from ltr.objectives.ranknet import RankNet
from ltr.objectives.unbiased import IPSBinary, IPSRankNet, LambdaRankPosition, UnbiasedLambdaMART

_KERNELS = {"HAVE_NUMBA", "lambdarank_grad_hess", "lambdarank_numpy", "lightgbm_sigmoid", "ranknet_grad_hess",
            "ranknet_loss", "ranknet_numpy", "ranknet_sampled_grad_hess", "ranknet_sampled_reference"}


def __getattr__(name):
    # the gradient kernels import numba (about a second); listing or parsing objectives does not need them
    if name in _KERNELS:
        from ltr.objectives import _kernels
        return getattr(_kernels, name)
    raise AttributeError(f"module 'ltr.objectives' has no attribute {name!r}")


__all__ = [
    "HAVE_NUMBA", "IPSBinary", "IPSRankNet", "LABEL_KINDS", "Binary", "LambdaRank", "LambdaRankMAP",
    "LambdaRankPosition", "LambdaRankRef", "UnbiasedLambdaMART",
    "Multiclass", "Objective", "RankNet", "RankXENDCG", "Regression", "available_objectives",
    "default_label_gain", "get_objective", "lambdarank_grad_hess", "lambdarank_numpy", "lightgbm_sigmoid",
    "objective_backends", "quantize", "ranknet_grad_hess", "ranknet_loss", "ranknet_numpy", "ranknet_sampled_grad_hess",
    "ranknet_sampled_reference", "register", "registry",
]
