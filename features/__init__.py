"""Feature extractors over (query, document) pairs, importable on their own.

Each extractor is a scikit-learn-style estimator: ``fit(collection)`` learns collection statistics,
``transform(pairs)`` returns named float32 columns on the pairs' index. Compose them with
:class:`features.base.FeatureSet`. Depends only on the core of ``ltr`` (schema, errors, naming, text,
datasets.collection).
"""

from features.base import FeatureExtractor, FeatureSet, available, check_extractor, get_extractor, register

__all__ = ["FeatureExtractor", "FeatureSet", "available", "check_extractor", "get_extractor", "register"]
