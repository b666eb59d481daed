"""The shared extractor contract (features.base.check_extractor) over every registered extractor.

Oracle: the contract itself (index and order kept, input not mutated, declared names, float32,
deterministic, empty input, clone from get_params, printed form parses back). Extractors written by other
modules are picked up through the registry (features.available()).
"""

from __future__ import annotations

import pytest

import features
from features.base import check_extractor, get_extractor
from features.lexical import BM25, Length, QueryLikelihood, TermMatch, TfIdfCosine


@pytest.mark.parametrize("name", features.available())
def test_registered_extractor_contract(name, tiny_collection, tiny_pairs):
    check_extractor(get_extractor(name), tiny_collection, tiny_pairs)


LEXICAL_VARIANTS = [
    BM25(field="title", variant="robertson", k1=1.2, b=0.75),
    BM25(variant="bm25l", delta=1.0),
    BM25(variant="bm25+"),
    BM25(variant="atire", stemmer=None, stopwords=None),
    BM25(field="all", stopwords=("ranking", "trees")),
    QueryLikelihood(smoothing="jm", lam=0.5, field="title"),
    QueryLikelihood(mu=10.0),
    TfIdfCosine(field="title", lowercase=False),
    TermMatch(field="all"),
    Length(field="title"),
]


@pytest.mark.parametrize("extractor", LEXICAL_VARIANTS, ids=lambda e: e.spec())
def test_lexical_variants_contract(extractor, tiny_collection, tiny_pairs):
    check_extractor(extractor, tiny_collection, tiny_pairs)
