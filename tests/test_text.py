"""Tests of ltr.text.Tokenizer. Oracle: bm25s.tokenize with the same settings (the setup REFERENCE.md used)."""

from __future__ import annotations

import bm25s
import pytest
import Stemmer

from ltr.errors import ConfigError
from ltr.text import STOPWORDS_EN, Tokenizer

TEXTS = [
    "The Ranking of Documents, ranked by BM25!",
    "Time-sharing systems (TSS) for IBM/360 computers; a survey.",
    "Ünïcode wörds and naïve café résumé — 42 x 3.14",
    "It is not such a thing as they will be",
    "",
    "a b c d",
]


def test_stopword_list_is_bm25s():
    """Oracle: bm25s.stopwords.STOPWORDS_EN."""
    assert set(STOPWORDS_EN) == set(bm25s.stopwords.STOPWORDS_EN)


def test_defaults_equal_bm25s_tokenize():
    """Oracle: bm25s.tokenize(stopwords="english", stemmer=PyStemmer english, return_ids=False)."""
    expected = bm25s.tokenize(TEXTS, stopwords="english", stemmer=Stemmer.Stemmer("english"),
                              return_ids=False, show_progress=False, allow_empty=True)
    got = Tokenizer().tokenize_many(TEXTS)
    # bm25s returns [""] for an empty text even with allow_empty=True; we return []
    assert [g for g in got] == [[t for t in e if t] for e in expected]
    assert [Tokenizer().tokenize(t) for t in TEXTS] == got


def test_options():
    """Oracle: hand-derived tokens."""
    assert Tokenizer(stemmer=None).tokenize("The Cats ran") == ["cats", "ran"]
    assert Tokenizer(stemmer=None, stopwords=None).tokenize("The Cats") == ["the", "cats"]
    assert Tokenizer(stemmer=None, lowercase=False, stopwords=None).tokenize("The Cats") == ["The", "Cats"]
    assert Tokenizer(stemmer=None, stopwords=["cats"]).tokenize("the cats purr") == ["the", "purr"]
    assert Tokenizer(stemmer=None, stopwords=None, pattern=r"\w+").tokenize("a b") == ["a", "b"]


@pytest.mark.parametrize("missing", [None, float("nan")])
def test_missing_text_is_empty(missing):
    """Oracle: the documented rule (None/NaN -> [])."""
    assert Tokenizer().tokenize(missing) == []
    assert Tokenizer().tokenize_many(["ranking", missing]) == [["rank"], []]


def test_frozen_hashable_repr():
    """Oracle: the value semantics the docstring promises."""
    t = Tokenizer()
    assert t == Tokenizer() and hash(t) == hash(Tokenizer())
    assert t != Tokenizer(stemmer=None)
    assert repr(t) == "Tokenizer()"
    assert repr(Tokenizer(stemmer=None)) == "Tokenizer(stemmer=None)"
    assert Tokenizer(**Tokenizer(stopwords=["b", "a"]).params()) == Tokenizer(stopwords=("a", "b"))
    with pytest.raises(AttributeError, match="frozen"):
        t.lowercase = False
    assert len({Tokenizer(), Tokenizer(), Tokenizer(stemmer=None)}) == 2


def test_bad_settings():
    """Oracle: the error messages list the valid choices."""
    with pytest.raises(ConfigError, match=r"Unknown stop-word list 'klingon'. Choose from \['en', 'english'\]"):
        Tokenizer(stopwords="klingon")
    with pytest.raises(ConfigError, match=r"Unknown stemmer 'klingon'. Choose from \[.*'english'"):
        Tokenizer(stemmer="klingon")
    with pytest.raises(ConfigError, match="not a valid regular expression"):
        Tokenizer(pattern="(")


def test_non_string_text_is_read_as_text():
    """Oracle: str() of the value."""
    assert Tokenizer().tokenize(1234) == ["1234"]
    assert Tokenizer().tokenize("x y z") == []  # the default pattern needs two word characters
