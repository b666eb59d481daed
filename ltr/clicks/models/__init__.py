"""Click models fitted from logs, registered under PyClick's class names in lower case.

``gctr``, ``rctr``, ``dctr`` (CTR baselines), ``pbm`` (position-based), ``cm`` (cascade), ``ubm`` (user
browsing), ``dcm`` (dependent click), ``sdbn`` and ``dbn`` (dynamic Bayesian network), ``ccm`` (click
chain). Names take parameters: ``"dbn(iterations=5, convention='exact')"``.

>>> from ltr.clicks.models import get_click_model, available_click_models
>>> available_click_models()
['ccm', 'cm', 'dbn', 'dcm', 'dctr', 'gctr', 'pbm', 'rctr', 'sdbn', 'ubm']
>>> get_click_model("dbn(iterations=5)")
dbn(iterations=5)
"""

from ltr.clicks.models.base import (PROB_MIN, UNSEEN, ClickModel, available_click_models, get_click_model,
                                    register, registry)
from ltr.clicks.models.cascade import CM, DCM
from ltr.clicks.models.ccm import CCM
from ltr.clicks.models.ctr import DCTR, GCTR, RCTR
from ltr.clicks.models.dbn import DBN, SDBN
from ltr.clicks.models.comparison import compare_click_models
from ltr.clicks.models.evaluation import ClickModelScore, evaluate, log_likelihood, perplexity
from ltr.clicks.models.identification import Identification, identify
from ltr.clicks.models.pbm import PBM
from ltr.clicks.models.ubm import UBM

__all__ = ["PROB_MIN", "UNSEEN", "ClickModel", "ClickModelScore", "Identification", "available_click_models",
           "compare_click_models", "evaluate", "get_click_model", "identify", "log_likelihood", "perplexity",
           "register", "registry", "GCTR", "RCTR", "DCTR", "PBM", "CM", "UBM", "DCM", "SDBN", "DBN", "CCM"]
