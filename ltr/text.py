"""The one tokenizer shared by the lexical features and the first-stage retriever.

Lexical features (``features.lexical``) and first-stage BM25 (``ltr.pipeline.first_stage``) must see the
same tokens, or the first-stage score and the ``bm25__body`` feature of the same pair disagree. Both build
their tokens with :class:`Tokenizer`.

The defaults reproduce the setup of bm25s (``bm25s.tokenize`` with ``stopwords="english"`` and a PyStemmer
``"english"`` stemmer), which ``../shared/data/REFERENCE.md`` used for its first-stage BM25 figures:

1. lower-case the text (``str.lower``);
2. split with the regular expression ``(?u)\\b\\w\\w+\\b`` (scikit-learn's and bm25s' default: words of
   two or more word characters; single letters and punctuation are dropped);
3. drop the stop words (bm25s' 33-word English list, :data:`STOPWORDS_EN`), *before* stemming;
4. stem with the Snowball English stemmer (PyStemmer ``Stemmer.Stemmer("english")``).

Missing text (``None``, NaN) tokenises to ``[]``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from functools import cached_property

from ltr.errors import ConfigError

#: bm25s' English stop list (``bm25s.stopwords.STOPWORDS_EN``, itself NLTK's short list), kept here so the
#: tokenizer does not depend on bm25s; ``tests/test_text.py`` checks the two are equal.
STOPWORDS_EN: tuple[str, ...] = (
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no",
    "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to",
    "was", "will", "with",
)

_STOPWORD_LISTS = {"english": STOPWORDS_EN, "en": STOPWORDS_EN}
DEFAULT_PATTERN = r"(?u)\b\w\w+\b"

# Stemmers are C objects with a cache; one per algorithm per process.
_STEMMERS: dict[str, object] = {}


def _stemmer(name: str):
    if name not in _STEMMERS:
        try:
            import Stemmer  # PyStemmer
        except ImportError:  # pragma: no cover - PyStemmer is a hard dependency in setup.cfg
            raise ConfigError("stemming needs PyStemmer: pip install PyStemmer, or pass stemmer=None") from None
        algorithms = sorted(Stemmer.algorithms())
        if name not in algorithms:
            raise ConfigError(f"Unknown stemmer {name!r}. Choose from {algorithms} or None.")
        _STEMMERS[name] = Stemmer.Stemmer(name)
    return _STEMMERS[name]


def _is_missing(text) -> bool:
    return text is None or (isinstance(text, float) and math.isnan(text))


class Tokenizer:
    """Lower-casing, regex splitting, stop-word removal and stemming, as one frozen, hashable config.

    Parameters
    ----------
    lowercase : bool, default=True
    stopwords : {"english", None} or iterable of str, default="english"
        ``"english"`` is bm25s' 33-word list :data:`STOPWORDS_EN`. Stop words are matched after
        lower-casing and before stemming (as bm25s does).
    stemmer : str or None, default="english"
        A Snowball algorithm name known to PyStemmer (``Stemmer.algorithms()``), or None.
    pattern : str, default=r"(?u)\\b\\w\\w+\\b"
        The tokens are ``re.findall(pattern, text)``.

    Two tokenizers with the same settings are equal and hash alike; ``repr`` prints only the settings that
    differ from the defaults, so ``repr(Tokenizer())`` is ``"Tokenizer()"``.

    Examples
    --------
    >>> Tokenizer().tokenize("The Ranking of Documents, ranked by BM25!")
    ['rank', 'document', 'rank', 'bm25']
    >>> Tokenizer(stemmer=None, stopwords=None).tokenize("The cats")
    ['the', 'cats']
    >>> Tokenizer().tokenize(None)
    []
    """

    def __init__(self, *, lowercase: bool = True, stopwords="english", stemmer: str | None = "english",
                 pattern: str = DEFAULT_PATTERN):
        if isinstance(stopwords, str):
            if stopwords not in _STOPWORD_LISTS:
                raise ConfigError(f"Unknown stop-word list {stopwords!r}. Choose from {sorted(_STOPWORD_LISTS)}, "
                                  f"None or a list of words.")
            words: tuple[str, ...] | str | None = stopwords
        elif stopwords is None:
            words = None
        else:
            words = tuple(sorted(set(stopwords)))
            if not all(isinstance(w, str) for w in words):
                raise ConfigError(f"stopwords must be strings; got {[w for w in words if not isinstance(w, str)][:5]}")
        if stemmer is not None:
            _stemmer(stemmer)  # fail now, not at the first document
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"The token pattern {pattern!r} is not a valid regular expression: {exc}") from None
        object.__setattr__(self, "lowercase", bool(lowercase))
        object.__setattr__(self, "stopwords", words)
        object.__setattr__(self, "stemmer", stemmer)
        object.__setattr__(self, "pattern", pattern)

    def __setattr__(self, name, value):
        raise AttributeError("Tokenizer is frozen: build a new one with different settings")

    # identity ---------------------------------------------------------------------------------
    def _key(self):
        return (self.lowercase, self.stopwords, self.stemmer, self.pattern)

    def __eq__(self, other):
        return isinstance(other, Tokenizer) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def params(self) -> dict:
        """The settings as keyword arguments (``Tokenizer(**t.params()) == t``)."""
        return {"lowercase": self.lowercase, "stopwords": self.stopwords, "stemmer": self.stemmer,
                "pattern": self.pattern}

    def __repr__(self):
        default = {"lowercase": True, "stopwords": "english", "stemmer": "english", "pattern": DEFAULT_PATTERN}
        parts = [f"{k}={v!r}" for k, v in self.params().items() if v != default[k]]
        return f"Tokenizer({', '.join(parts)})"

    # machinery --------------------------------------------------------------------------------
    @cached_property
    def _split(self):
        return re.compile(self.pattern).findall

    @cached_property
    def _stop(self) -> frozenset:
        if self.stopwords is None:
            return frozenset()
        if isinstance(self.stopwords, str):
            return frozenset(_STOPWORD_LISTS[self.stopwords])
        return frozenset(self.stopwords)

    @cached_property
    def _stem_cache(self) -> dict:
        return {}

    def _stem_all(self, words: Iterable[str]) -> dict:
        """Map each word to its stem, stemming only the words not seen before (PyStemmer's stemWords)."""
        cache = self._stem_cache
        if len(cache) > 2_000_000:  # bound the memory on huge vocabularies; correctness is unaffected
            cache.clear()
        new = [w for w in set(words) if w not in cache]
        if new:
            cache.update(zip(new, _stemmer(self.stemmer).stemWords(new)))
        return cache

    def _words(self, text) -> list[str]:
        if _is_missing(text):
            return []
        if not isinstance(text, str):
            text = str(text)
        if self.lowercase:
            text = text.lower()
        stop = self._stop
        return [w for w in self._split(text) if w not in stop]

    def tokenize(self, text) -> list[str]:
        """The tokens of one text (``[]`` for None/NaN)."""
        words = self._words(text)
        if self.stemmer is None or not words:
            return words
        stems = self._stem_all(words)
        return [stems[w] for w in words]

    def tokenize_many(self, texts: Sequence) -> list[list[str]]:
        """The tokens of each text; stems each distinct word once (much faster than :meth:`tokenize` in a loop)."""
        split = [self._words(t) for t in texts]
        if self.stemmer is None:
            return split
        stems = self._stem_all(w for words in split for w in words)
        return [[stems[w] for w in words] for words in split]

    def __call__(self, text) -> list[str]:
        return self.tokenize(text)
