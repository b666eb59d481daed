"""Other tools' metric names, read into ours: trec_eval's (``ndcg_cut_10``, ``P.10``, ``map``) and
ir_measures' (``nDCG(dcg='exp-log2')@10``, ``SetP``, ``BPref``).

:func:`ltr.metrics.parse_metric` calls :func:`translate` on every parsed name that is not one of ours, so
``nDCG@10``, ``ndcg@10``, ``ndcg_cut_10`` and ``ndcg_cut.10`` are one metric whose ``repr`` is ``nDCG@10``.
The tables below are the single list of what is translated; a name of those tools without an equivalent
here is refused with a message that says so (never silently mapped to something close).

==================================== ===================== ============================================
trec_eval (``-m`` form / output key) ours                  ir_measures
==================================== ===================== ============================================
``map``                              ``AP``                ``AP``, ``MAP``
``map_cut.k`` / ``map_cut_k``        ``AP@k``              ``AP@k``
``ndcg``                             ``nDCG``              ``nDCG``, ``NDCG``
``ndcg_cut.k`` / ``ndcg_cut_k``      ``nDCG@k``            ``nDCG@k``; ``nDCG(dcg='exp-log2')@k`` is
                                                           ``nDCG(gain='exp')@k``
``P.k`` / ``P_k``                    ``P@k``               ``P@k``
``recall.k`` / ``recall_k``          ``R@k``               ``R@k``
``success.k`` / ``success_k``        ``Success@k``         ``Success@k``
``recip_rank``                       ``RR``                ``RR``, ``MRR``
``Rprec``                            ``Rprec``             ``Rprec``, ``RPrec``
``bpref``                            ``Bpref``             ``Bpref``, ``BPref``
``set_P``                            ``P``                 ``SetP``
``set_recall``                       ``R``                 ``SetR``
==================================== ===================== ============================================

trec_eval's relevance level (``-l 2``) is a metric parameter here: ``P(rel=2)@10``. trec_eval's bare
``P`` (all its default cutoffs at once) is our ``P`` without cutoff, i.e. trec_eval's ``set_P``.
"""

from __future__ import annotations

import re
from typing import Any

from ltr.errors import ConfigError, UnknownNameError
from ltr.naming import Spec

#: trec_eval measures with a cutoff: trec_eval name -> our name (``P.10``, ``P_10`` -> ``P@10``).
TREC_EVAL_CUT = {"map_cut": "AP", "ndcg_cut": "nDCG", "P": "P", "recall": "R", "success": "Success"}
#: trec_eval measures without a cutoff that are not already names of ours.
TREC_EVAL_PLAIN = {"set_P": "P", "set_recall": "R"}
#: ir_measures names that are not already names (or aliases) of ours; they take no cutoff.
IR_MEASURES_PLAIN = {"SetP": "P", "SetR": "R"}
#: trec_eval and ir_measures measures with no equivalent here (said so instead of "unknown metric").
NO_EQUIVALENT = ("num_q", "num_ret", "num_rel", "num_rel_ret", "gm_map", "gm_bpref", "infAP", "iprec_at_recall",
                 "11pt_avg", "Rndcg", "ndcg_rel", "binG", "G", "set_F", "set_map", "set_relative_P",
                 "relative_P", "utility", "relstring", "runid", "Rprec_mult", "P_avgjg", "map_avgjg",
                 "NumQ", "NumRet", "NumRel", "NumRelRet", "SetF", "SetAP", "SetRelP", "IPrec", "RBP", "SDCG",
                 "INST", "INSQ", "BPM", "NERR8", "NERR9", "NERR10", "NERR11", "alpha_nDCG", "alpha_DCG",
                 "ERR_IA", "nERR_IA", "NRBP", "nNRBP", "AP_IA", "P_IA", "STREC")

_CUT = re.compile(r"^(%s)[._](\d+)$" % "|".join(sorted(TREC_EVAL_CUT, key=len, reverse=True)))
_MULTI_CUT = re.compile(r"^\s*(%s)\.(\d+(?:\s*,\s*\d+)+)\s*$" % "|".join(TREC_EVAL_CUT))
#: ir_measures' nDCG ``dcg`` parameter -> our ``gain``.
_IRM_DCG = {"log2": "linear", "exp-log2": "exp"}


def expand_trec_eval(name: str) -> list[str]:
    """trec_eval's multi-cutoff ``-m`` form ``P.5,10`` as one name per cutoff; other names unchanged.

    >>> expand_trec_eval("P.5,10")
    ['P.5', 'P.10']
    >>> expand_trec_eval("nDCG@10")
    ['nDCG@10']
    """
    m = _MULTI_CUT.match(name) if isinstance(name, str) else None
    if not m:
        return [name]
    return [f"{m.group(1)}.{int(k)}" for k in m.group(2).split(",")]


def translate(spec: Spec, registry) -> Spec:
    """Our (name, parameters, cutoff) for a parsed name of ours, of trec_eval or of ir_measures.

    Parameters
    ----------
    spec : Spec
        The name as :func:`ltr.naming.parse_spec` read it.
    registry : mapping of str -> metric class
        Our registry; names found in it are kept (their ir_measures-only parameters translated).

    Raises
    ------
    UnknownNameError
        A trec_eval/ir_measures measure with no equivalent here.
    ConfigError
        An ir_measures parameter with no equivalent (``judged_only=True``, ``gains={...}``), or a cutoff
        given twice (``P_10@5``).
    """
    name, params, cutoff = spec.name, dict(spec.params), spec.cutoff
    if name not in registry:
        m = _CUT.match(name)
        if m:
            if cutoff is not None:
                raise ConfigError(f"metric {name!r} already has its cutoff ({m.group(2)}); drop '@{cutoff}' "
                                  f"or write '{TREC_EVAL_CUT[m.group(1)]}@{cutoff}'")
            name, cutoff = TREC_EVAL_CUT[m.group(1)], int(m.group(2))
            if cutoff <= 0:
                raise ConfigError(f"the cutoff of trec_eval measure {spec.name!r} must be a positive integer")
        elif name in TREC_EVAL_PLAIN or name in IR_MEASURES_PLAIN:
            ours = TREC_EVAL_PLAIN.get(name) or IR_MEASURES_PLAIN[name]
            if cutoff is not None:
                raise ConfigError(f"{name} is a set measure and takes no cutoff; for a cutoff write "
                                  f"'{ours}@{cutoff}'")
            name = ours
        elif name in NO_EQUIVALENT:
            raise UnknownNameError(f"metric {name!r} (trec_eval / ir_measures) has no equivalent in ltr; "
                                   f"ltr's metrics: {sorted(c.name for c in set(registry.values()))}")
    return Spec(name, _ir_measures_params(name, params, registry), cutoff)


def _ir_measures_params(name: str, params: dict[str, Any], registry) -> dict[str, Any]:
    """ir_measures' ``judged_only`` and nDCG's ``dcg`` in our terms; other parameters unchanged."""
    if "judged_only" in params and "judged_only" not in getattr(registry.get(name), "defaults", {}):
        if params.pop("judged_only") not in (False, 0):
            raise ConfigError(f"metric {name}: judged_only=True (ir_measures: unjudged documents removed from "
                              f"the ranking first) is not supported; remove the unjudged documents from the run "
                              f"before evaluating, or use Judged@k to measure how many there are")
    if registry.get(name) is not None and registry[name].name in ("nDCG", "DCG"):
        if "dcg" in params:
            dcg = params.pop("dcg")
            if dcg not in _IRM_DCG:
                raise ConfigError(f"dcg of metric {name} (ir_measures' parameter) must be one of "
                                  f"{sorted(_IRM_DCG)}, got {dcg!r}; or give gain='linear' / gain='exp'")
            if "gain" in params and params["gain"] != _IRM_DCG[dcg]:
                raise ConfigError(f"metric {name} got dcg={dcg!r} (gain {_IRM_DCG[dcg]!r}) and gain="
                                  f"{params['gain']!r}; give one of them")
            params["gain"] = _IRM_DCG[dcg]
        if "gains" in params:
            raise ConfigError(f"metric {name}: a gain table (ir_measures' gains={params['gains']!r}) is not "
                              f"supported; ltr has gain='linear' (gain = label) and gain='exp' "
                              f"(gain = 2^label - 1)")
    return params
