"""The synthetic web: a deterministic test collection with known ground truth, the project's default data.

``make_synthetic_web(seed=0)`` builds, in a couple of seconds and without any file, a :class:`Collection`
with sites on real public suffixes, pages with URLs, titles, bodies and timestamps, a link graph with a
heavy-tailed in-degree, queries with a query time and a hidden intent, and graded labels 0..4 computed
from a documented utility. Because the generator knows why each document is relevant, an experiment can
check that a ranker learns what was put in (:func:`utility_factors` names the feature families that carry
each factor).

Generative story
----------------
1. **Vocabulary.** Pronounceable synthetic words (consonant-vowel syllables ending in ``a`` or ``o``, so
   an English stemmer leaves them unchanged). ``n_topics`` topic vocabularies of ``topic_vocab`` words each
   and one shared background vocabulary of ``background_vocab`` words; word frequencies within each
   vocabulary follow Zipf's law with exponent ``zipf_s``.
2. **Sites.** ``n_sites`` sites on real public suffixes (``com``, ``co.uk``, ``org.uk``, ``com.au``, ``de``,
   ``co.jp``, ... and the private suffixes ``github.io`` and ``blogspot.com``), some with a ``www.`` or
   section subdomain. Each site has an *authority* :math:`s_k` drawn from a Pareto distribution (shape
   ``authority_shape``), one to three topics, and a share of the pages drawn from a Zipf law. A fraction
   ``spam_site_fraction`` of sites are spam sites (low authority, keyword-stuffed pages).
3. **Pages.** Each page belongs to a site, takes one of its site's topics (or, with probability 0.3,
   any topic), a timestamp uniform in
   [``start``, ``end``), a URL whose path depth varies (0 to 4 segments, dated paths on news/blog sites,
   some query strings), a title and a body. Each word is a topic word with probability ``topic_mix``
   (``title_topic_mix`` in titles), else a background word. Its latent page *fitness* is
   :math:`a_d = s_{k(d)} \\cdot f_d` with :math:`f_d \\sim 1 + \\text{Pareto}(2)`.
4. **Links.** Each page has a geometric number of out-links (mean ``mean_out_links``; some pages have
   none). A link stays on the same site with probability 0.25, else goes to a page of the same topic
   with probability 0.5, else anywhere; within that pool the target is drawn with probability
   proportional to :math:`a_d` (a fitness model of preferential attachment [1]_), which gives a
   heavy-tailed in-degree. Spam pages link among spam pages (a link farm).
5. **Queries.** Each query has a topic, 2 or 3 distinct words of that topic (Zipf-weighted, skipping the
   very commonest), a query time uniform in the last ``query_window`` fraction of [start, end), and an
   intent: ``"fresh"`` (probability ``fresh_fraction``), ``"authority"`` (``authority_fraction``) or
   ``"neutral"``.
6. **Hard negatives.** For each query, ``hard_negatives_per_query`` spam pages off the query's topic whose
   title and body are stuffed with the query's words: high term overlap, label 0.
7. **Utility and labels.** For query :math:`q` and page :math:`d`,

   .. math::

       u(q, d) = g(q, d)\\,\\big(w_\\text{topic}\\, T(q, d) + w_\\text{auth}\\, m_a(q)\\, A(d)
                 + w_\\text{fresh}\\, m_f(q)\\, F(q, d)\\big) + \\sigma \\varepsilon

   - :math:`T(q, d) = \\frac{1}{|q|} \\sum_{t \\in q} \\frac{c_t}{c_t + 1}`, with :math:`c_t` = the
     count of :math:`t` in the body plus twice its count in the title (topical match, saturating);
   - :math:`A(d) \\in [0, 1]`: the percentile of the page fitness :math:`a_d` among all pages
     (authority, observable through PageRank, in-links and domain priors);
   - :math:`F(q, d) = 0.5^{\\text{age}/h}`: freshness at query time with half-life ``fresh_half_life_days``;
   - :math:`m_a(q)` = 1 for authority-intent queries, ``auth_weight_other`` otherwise; :math:`m_f(q)` = 1
     for fresh-intent queries, 0 otherwise;
   - the gate :math:`g(q, d)` is 1 when the page is on the query's topic, contains at least one query
     word, is not spam and was published before the query time; 0 otherwise;
   - :math:`\\varepsilon \\sim N(0, 1)`, :math:`\\sigma` = ``noise``.

   Grades are :math:`\\ell = \\#\\{\\theta_i \\le u\\}` for the thresholds ``label_thresholds``
   :math:`\\theta_1 < \\dots < \\theta_4`, so :math:`\\ell \\in \\{0, \\dots, 4\\}`.

The qrels list every page with a label > 0 for each query and every judged hard negative (label 0). All
other pages are label 0 *by construction*, so ``complete_judgments=True``. A few queries (about 4% with the
defaults: rare words, a small topic) have no page above the first threshold; like unanswerable queries of
real collections they are kept, with only their hard negatives judged. Pages newer than the query
time are label 0 (they did not exist yet): :func:`features.recency.future_mask` finds them.

The hidden parts (page topic, site, fitness, spam flag; query topic and intent; the utility's terms) are
in :class:`SyntheticWeb`, returned by :func:`generate_synthetic_web`; ``make_synthetic_web`` returns only
the collection, which is all a ranker may see.

Registered in the data set registry as ``"synthetic-web"`` (parameters as keywords, e.g.
``synthetic-web(seed=1, n_docs=50000)``).

References
----------
.. [1] G. Bianconi, A.-L. Barabási, "Competition and multiscaling in evolving networks",
   Europhysics Letters 54(4), 2001.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ltr.collection import LINK_SOURCE, LINK_TARGET, TIMESTAMP, URL, Collection
from ltr.errors import ConfigError
from ltr.naming import format_spec
from ltr.schema import DOCID, LABEL, QID, QUERY, QUERY_TIME

__all__ = ["SyntheticWeb", "generate_synthetic_web", "make_synthetic_web", "utility_factors"]

# Real public suffixes and their weights (private suffixes: github.io, blogspot.com)
_SUFFIXES = {"com": 40, "org": 10, "net": 7, "co.uk": 7, "org.uk": 2, "ac.uk": 2, "com.au": 3, "de": 5,
             "fr": 3, "co.jp": 2, "com.br": 2, "io": 3, "edu": 2, "gov.uk": 1, "ca": 2, "nl": 2,
             "github.io": 3, "blogspot.com": 3}
_SPAM_SUFFIXES = {"info": 3, "biz": 2, "xyz": 3, "top": 2, "com": 2}
_PRIVATE = ("github.io", "blogspot.com")
_SITE_WORDS = ("news", "daily", "times", "blog", "hub", "wiki", "labs", "press", "guide", "central", "world",
               "online", "review", "journal", "digest", "notes", "post", "forum", "today", "weekly")
_SPAM_WORDS = ("best", "cheap", "top", "free", "deals", "win", "click", "sale", "bonus", "offer")
_CONSONANTS = tuple("bdfgklmnprstvz")
_VOWELS = tuple("aiou")
_END_VOWELS = ("a", "o")
_INTENTS = ("neutral", "authority", "fresh")


def utility_factors() -> dict[str, tuple[str, ...]]:
    """The utility's factors and the feature families (extractor names) through which a ranker sees them.

    ``topical`` -> lexical matching (BM25, query likelihood, term coverage), ``authority`` -> link
    analysis and site priors, ``freshness`` -> document age at query time.
    """
    return {"topical": ("bm25", "tfidf", "ql", "match"),
            "authority": ("pagerank", "domain_prior"),
            "freshness": ("recency",)}


@dataclass(frozen=True)
class SyntheticWeb:
    """A generated web with its hidden ground truth.

    Attributes
    ----------
    collection : Collection
        What a ranker may see: documents (docid, title, body, url, timestamp), links, queries (qid, query,
        query_time), qrels.
    documents : DataFrame
        Hidden per-page truth: docid, site, topic, fitness, authority (percentile of fitness), is_spam,
        hard_negative_for (qid or None).
    queries : DataFrame
        Hidden per-query truth: qid, topic, intent.
    judgments : DataFrame
        The utility's terms for every judged pair (the qrels rows): qid, docid, topical, authority,
        freshness, noise, utility, label.
    params : dict
        The generator's parameters.
    """

    collection: Collection
    documents: pd.DataFrame
    queries: pd.DataFrame
    judgments: pd.DataFrame
    params: dict


def _words(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    """``n`` new pronounceable words (2-4 CV syllables, last vowel a/o), none in ``taken``."""
    out: list[str] = []
    while len(out) < n:
        k = n - len(out)
        syll = rng.integers(2, 5, size=2 * k)
        cons = rng.integers(0, len(_CONSONANTS), size=(2 * k, 4))
        vows = rng.integers(0, len(_VOWELS), size=(2 * k, 4))
        ends = rng.integers(0, len(_END_VOWELS), size=2 * k)
        for i in range(2 * k):
            s = syll[i]
            w = "".join(_CONSONANTS[cons[i, j]] + _VOWELS[vows[i, j]] for j in range(s - 1))
            w += _CONSONANTS[cons[i, s - 1]] + _END_VOWELS[ends[i]]
            if w not in taken:
                taken.add(w)
                out.append(w)
                if len(out) == n:
                    break
    return out


def _zipf(n: int, s: float) -> np.ndarray:
    p = 1.0 / np.arange(1, n + 1) ** s
    return p / p.sum()


def _check_params(p: dict) -> None:
    positive_ints = ("n_docs", "n_queries", "n_sites", "n_topics", "topic_vocab", "background_vocab")
    for k in positive_ints:
        v = p[k]
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ConfigError(f"The {k!r} parameter of make_synthetic_web must be an int >= 1. Got {v!r} instead.")
    for k in ("fresh_fraction", "authority_fraction", "spam_site_fraction", "topic_mix", "title_topic_mix",
              "query_window"):
        v = p[k]
        if not (isinstance(v, (int, float)) and 0 <= v <= 1):
            raise ConfigError(f"The {k!r} parameter of make_synthetic_web must be a float in [0, 1]. "
                              f"Got {v!r} instead.")
    if p["fresh_fraction"] + p["authority_fraction"] > 1:
        raise ConfigError("make_synthetic_web: fresh_fraction + authority_fraction must be <= 1 (the rest of "
                          f"the queries are neutral); got {p['fresh_fraction']} + {p['authority_fraction']}")
    th = p["label_thresholds"]
    if len(th) != 4 or any(b <= a for a, b in zip(th, th[1:])):
        raise ConfigError(f"make_synthetic_web: label_thresholds must be 4 increasing numbers; got {th!r}")
    n_hard = p["hard_negatives_per_query"] * p["n_queries"]
    if n_hard >= p["n_docs"] // 2:
        raise ConfigError(f"make_synthetic_web: {n_hard} hard negatives (hard_negatives_per_query x n_queries) "
                          f"leave too few of the n_docs={p['n_docs']} pages; lower hard_negatives_per_query "
                          f"or raise n_docs")
    if p["n_topics"] > p["n_docs"] // 10:
        raise ConfigError(f"make_synthetic_web: n_topics={p['n_topics']} is too many for n_docs={p['n_docs']} "
                          f"(need at least 10 pages per topic)")
    if pd.Timestamp(p["start"]) >= pd.Timestamp(p["end"]):
        raise ConfigError(f"make_synthetic_web: start {p['start']!r} must be before end {p['end']!r}")


def generate_synthetic_web(*, n_docs: int = 10_000, n_queries: int = 200, n_sites: int | None = None,
                           n_topics: int = 40, seed: int = 0, topic_vocab: int = 300,
                           background_vocab: int = 5_000, zipf_s: float = 1.05, topic_mix: float = 0.3,
                           title_topic_mix: float = 0.6, mean_body_length: float = 120.0,
                           mean_out_links: float = 8.0, authority_shape: float = 1.5,
                           spam_site_fraction: float = 0.05, hard_negatives_per_query: int = 5,
                           fresh_fraction: float = 0.3, authority_fraction: float = 0.3,
                           start: str = "2019-01-01", end: str = "2024-01-01", query_window: float = 0.5,
                           w_topic: float = 1.0, w_auth: float = 0.6, w_fresh: float = 0.8,
                           auth_weight_other: float = 0.25, fresh_half_life_days: float = 180.0,
                           noise: float = 0.1, label_thresholds: tuple = (0.5, 0.75, 1.0, 1.25),
                           ) -> SyntheticWeb:
    """Generate the synthetic web and its hidden truth (see the module docstring for the model).

    Parameters
    ----------
    n_docs : int, default=10000
        Pages, hard negatives included.
    n_queries : int, default=200
    n_sites : int, optional
        Default ``max(10, n_docs // 50)``.
    n_topics : int, default=40
    seed : int, default=0
        Everything is drawn from ``numpy.random.default_rng(seed)``: the same seed gives identical frames.
    topic_vocab, background_vocab : int
        Words per topic vocabulary and in the shared background vocabulary.
    zipf_s : float, default=1.05
        Zipf exponent of word frequencies.
    topic_mix, title_topic_mix : float
        Probability that a body / title word is a topic word.
    mean_body_length : float, default=120
        Mean body length in words (lognormal).
    mean_out_links : float, default=8
        Mean out-links per page.
    authority_shape : float, default=1.5
        Pareto shape of site authority (smaller: heavier tail).
    spam_site_fraction : float, default=0.05
    hard_negatives_per_query : int, default=5
    fresh_fraction, authority_fraction : float, default=0.3
        Shares of fresh-intent and authority-intent queries (the rest are neutral).
    start, end : str
        Time span of the pages' timestamps (UTC); ``end`` is the collection's ``reference_time``.
    query_window : float, default=0.5
        Query times are uniform in the last ``query_window`` fraction of the span.
    w_topic, w_auth, w_fresh, auth_weight_other, fresh_half_life_days, noise, label_thresholds
        The utility (module docstring, step 7).

    Returns
    -------
    SyntheticWeb
    """
    if n_sites is None:
        n_sites = max(10, n_docs // 50)
    params = dict(n_docs=n_docs, n_queries=n_queries, n_sites=n_sites, n_topics=n_topics, seed=seed,
                  topic_vocab=topic_vocab, background_vocab=background_vocab, zipf_s=zipf_s, topic_mix=topic_mix,
                  title_topic_mix=title_topic_mix, mean_body_length=mean_body_length,
                  mean_out_links=mean_out_links, authority_shape=authority_shape,
                  spam_site_fraction=spam_site_fraction, hard_negatives_per_query=hard_negatives_per_query,
                  fresh_fraction=fresh_fraction, authority_fraction=authority_fraction, start=start, end=end,
                  query_window=query_window, w_topic=w_topic, w_auth=w_auth, w_fresh=w_fresh,
                  auth_weight_other=auth_weight_other, fresh_half_life_days=fresh_half_life_days, noise=noise,
                  label_thresholds=tuple(label_thresholds))
    _check_params(params)
    rng = np.random.default_rng(seed)

    # Step 1: vocabularies (topic k owns word ids [k*V, (k+1)*V); background follows)
    taken: set[str] = set()
    vocab = np.array(_words(rng, n_topics * topic_vocab + background_vocab, taken), dtype=object)
    bg_offset = n_topics * topic_vocab
    p_topic_word = _zipf(topic_vocab, zipf_s)
    p_bg_word = _zipf(background_vocab, zipf_s)

    # Step 2: sites
    n_spam_sites = int(round(spam_site_fraction * n_sites)) if hard_negatives_per_query else 0
    n_spam_sites = max(n_spam_sites, 1 if hard_negatives_per_query else 0)
    site_is_spam = np.zeros(n_sites, dtype=bool)
    site_is_spam[rng.choice(n_sites, size=n_spam_sites, replace=False)] = True
    site_names = _site_hosts(rng, n_sites, site_is_spam, taken)
    site_authority = 1.0 + rng.pareto(authority_shape, size=n_sites)
    site_authority[site_is_spam] = rng.uniform(0.05, 0.3, size=n_spam_sites)
    n_site_topics = rng.integers(1, 4, size=n_sites)
    site_topics = [rng.choice(n_topics, size=k, replace=False) for k in n_site_topics]
    site_share = _zipf(n_sites, 0.7)[rng.permutation(n_sites)]
    site_share[site_is_spam] = 0.0
    site_share /= site_share.sum()
    dated_site = np.array([any(w in h for w in ("news", "blog", "daily", "times", "press", "post", "blogspot"))
                           for h in site_names])

    # Step 3: regular pages (hard negatives are appended in step 6)
    n_hard = hard_negatives_per_query * n_queries
    n_reg = n_docs - n_hard
    doc_site = rng.choice(n_sites, size=n_reg, p=site_share)
    doc_topic = np.array([site_topics[s][rng.integers(len(site_topics[s]))] for s in doc_site], dtype=np.int64)
    off_topic = rng.random(n_reg) < 0.3  # sites also publish outside their main topics
    doc_topic[off_topic] = rng.integers(0, n_topics, size=int(off_topic.sum()))
    t0, t1 = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC")
    span_ns = (t1 - t0).value
    doc_time_ns = t0.value + rng.integers(0, span_ns, size=n_reg, dtype=np.int64)
    doc_time_ns = doc_time_ns // 1_000_000_000 * 1_000_000_000  # whole seconds
    fitness = site_authority[doc_site] * (1.0 + rng.pareto(2.0, size=n_reg))

    body_len = np.maximum(10, rng.lognormal(np.log(mean_body_length) - 0.125, 0.5, size=n_reg).astype(int))
    title_len = rng.integers(3, 9, size=n_reg)
    bodies, body_ids = _texts(rng, doc_topic, body_len, topic_mix, vocab, topic_vocab, bg_offset, p_topic_word,
                              p_bg_word)
    titles, title_ids = _texts(rng, doc_topic, title_len, title_topic_mix, vocab, topic_vocab, bg_offset,
                               p_topic_word, p_bg_word)

    # Step 5: queries (before hard negatives, which copy their words)
    q_topic = rng.choice(np.unique(doc_topic), size=n_queries)
    q_intent = rng.choice(len(_INTENTS), size=n_queries,
                          p=[1 - fresh_fraction - authority_fraction, authority_fraction, fresh_fraction])
    q_len = rng.integers(2, 4, size=n_queries)
    head_skip = min(3, topic_vocab - 3)
    p_query_word = p_topic_word[head_skip:] / p_topic_word[head_skip:].sum()
    q_terms = [q_topic[i] * topic_vocab + head_skip +
               rng.choice(topic_vocab - head_skip, size=min(q_len[i], topic_vocab - head_skip), replace=False,
                          p=p_query_word) for i in range(n_queries)]
    q_time_ns = (t0.value + int((1 - query_window) * span_ns) +
                 rng.integers(0, max(1, int(query_window * span_ns)), size=n_queries, dtype=np.int64))
    q_time_ns = q_time_ns // 1_000_000_000 * 1_000_000_000

    # Step 6: hard negatives: spam pages off the query's topic, stuffed with its words
    spam_sites = np.flatnonzero(site_is_spam)
    hn_query = np.repeat(np.arange(n_queries), hard_negatives_per_query)
    hn_site = rng.choice(spam_sites, size=n_hard) if n_hard else np.zeros(0, dtype=np.int64)
    off = rng.integers(1, n_topics, size=n_hard) if n_topics > 1 else np.zeros(n_hard, dtype=np.int64)
    hn_topic = (q_topic[hn_query] + off) % n_topics
    hn_len = np.maximum(10, rng.lognormal(np.log(mean_body_length) - 0.125, 0.5, size=n_hard).astype(int))
    hn_bodies, hn_body_ids = _texts(rng, hn_topic, hn_len, topic_mix, vocab, topic_vocab, bg_offset, p_topic_word,
                                    p_bg_word)
    hn_titles, stuffed = [], []
    for j in range(n_hard):
        words = list(vocab[q_terms[hn_query[j]]])
        reps = rng.integers(3, 8)
        spam = [_SPAM_WORDS[i] for i in rng.integers(0, len(_SPAM_WORDS), size=2)]
        hn_titles.append(" ".join(words + spam))
        title_ids.append(np.asarray(q_terms[hn_query[j]]))  # the spam words are not in the vocabulary
        stuffing = " ".join(words * reps)
        stuffed.append(f"{stuffing} {hn_bodies[j]} {stuffing}")
        stuffing_ids = np.tile(q_terms[hn_query[j]], reps)
        body_ids.append(np.concatenate([stuffing_ids, hn_body_ids[j], stuffing_ids]))
    hn_time = t0.value + rng.integers(0, span_ns, size=n_hard, dtype=np.int64)
    hn_time = hn_time // 1_000_000_000 * 1_000_000_000
    hn_fitness = site_authority[hn_site] * (1.0 + rng.pareto(2.0, size=n_hard))

    all_site = np.concatenate([doc_site, hn_site]).astype(np.int64)
    all_topic = np.concatenate([doc_topic, hn_topic]).astype(np.int64)
    all_time = np.concatenate([doc_time_ns, hn_time])
    all_fitness = np.concatenate([fitness, hn_fitness])
    all_titles = titles + hn_titles
    all_bodies = bodies + stuffed
    is_spam = site_is_spam[all_site]
    hard_for = np.full(n_docs, -1, dtype=np.int64)
    hard_for[n_reg:] = hn_query
    # shuffle so that hard negatives are not the last pages
    order = rng.permutation(n_docs)
    all_site, all_topic, all_time, all_fitness, is_spam, hard_for = (
        a[order] for a in (all_site, all_topic, all_time, all_fitness, is_spam, hard_for))
    all_titles = [all_titles[i] for i in order]
    all_bodies = [all_bodies[i] for i in order]
    # c_t of the utility for every (page, word): 2 x title count + body count, from the word ids
    weighted_counts = (2 * _count_matrix([title_ids[i] for i in order], len(vocab))
                       + _count_matrix([body_ids[i] for i in order], len(vocab))).tocsr()
    docids = np.array([f"D{i:06d}" for i in range(n_docs)], dtype=object)
    urls = _urls(rng, all_site, all_topic, all_time, site_names, dated_site, vocab, topic_vocab)

    # Step 4: links (fitness model); spam pages form a link farm
    src, dst = _links(rng, all_site, all_topic, all_fitness, is_spam, mean_out_links)

    # Step 7: utility and labels
    authority = (pd.Series(all_fitness).rank(method="average").to_numpy() - 0.5) / n_docs
    judgments = _judge(rng, params, q_terms, q_topic, q_intent, q_time_ns, all_topic, all_time, is_spam,
                       authority, weighted_counts, hard_for, docids)

    # Assemble the frames
    ts = pd.to_datetime(all_time, utc=True)
    documents = pd.DataFrame({DOCID: docids, "title": all_titles, "body": all_bodies, URL: urls, TIMESTAMP: ts})
    qids = np.array([f"Q{i:04d}" for i in range(n_queries)], dtype=object)
    queries = pd.DataFrame({QID: qids, QUERY: [" ".join(vocab[t]) for t in q_terms],
                            QUERY_TIME: pd.to_datetime(q_time_ns, utc=True)})
    judgments[QID] = qids[judgments.pop("q")]
    judgments = judgments[[QID, DOCID, "topical", "authority", "freshness", "noise", "utility", LABEL]]
    qrels = judgments[[QID, DOCID, LABEL]].reset_index(drop=True)
    links = pd.DataFrame({LINK_SOURCE: docids[src], LINK_TARGET: docids[dst]})
    notes = [f"synthetic web generated by ltr.datasets.synthetic with {_params_text(params)}",
             ("labels from a hidden utility of topical match, authority and freshness (module docstring); "
              "qrels list every page with label > 0 and the judged hard negatives; all other pages are label 0"),
             "pages newer than the query time are label 0",
             f"reference_time = end of the time span ({t1.date()})"]
    collection = Collection(_collection_name(params), documents, queries, qrels, fields=("title", "body"),
                            links=links, reference_time=t1, complete_judgments=True, notes=notes)
    doc_truth = pd.DataFrame({DOCID: docids, "site": np.array(site_names, dtype=object)[all_site],
                              "topic": all_topic, "fitness": all_fitness, "authority": authority,
                              "is_spam": is_spam,
                              "hard_negative_for": pd.Series(np.where(hard_for >= 0, qids[np.maximum(hard_for, 0)],
                                                                      None), dtype=object)})
    query_truth = pd.DataFrame({QID: qids, "topic": q_topic, "intent": np.array(_INTENTS, dtype=object)[q_intent]})
    return SyntheticWeb(collection, doc_truth, query_truth, judgments.reset_index(drop=True), params)


def make_synthetic_web(**params) -> Collection:
    """The synthetic web's :class:`Collection` (what a ranker may see); parameters as in
    :func:`generate_synthetic_web`.

    Examples
    --------
    >>> web = make_synthetic_web(n_docs=2000, n_queries=20, seed=1)
    >>> len(web.documents), len(web.queries), web.complete_judgments
    (2000, 20, True)
    """
    return generate_synthetic_web(**params).collection


def _collection_name(params: dict) -> str:
    """``synthetic-web(seed=0)``, plus every parameter that differs from its default, in the registry's syntax."""
    import inspect

    defaults = {k: v.default for k, v in inspect.signature(generate_synthetic_web).parameters.items()}
    shown = {k: v for k, v in params.items() if k == "seed" or (k == "n_sites" and defaults[k] is None
                                                                and v != max(10, params["n_docs"] // 50))
             or (k != "n_sites" and v != defaults.get(k))}
    return format_spec("synthetic-web", shown)


def _params_text(params: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in params.items())


def _site_hosts(rng, n_sites, site_is_spam, taken) -> list[str]:
    """Unique host names on real public suffixes, e.g. 'www.kalomo-news.co.uk', 'vitano.github.io'."""
    names = _words(rng, n_sites, taken)
    suffixes = list(_SUFFIXES)
    p = np.array([_SUFFIXES[s] for s in suffixes], dtype=float)
    spam_suffixes = list(_SPAM_SUFFIXES)
    ps = np.array([_SPAM_SUFFIXES[s] for s in spam_suffixes], dtype=float)
    hosts = []
    for i in range(n_sites):
        if site_is_spam[i]:
            w = _SPAM_WORDS[rng.integers(len(_SPAM_WORDS))]
            hosts.append(f"{w}-{names[i]}-{_SPAM_WORDS[rng.integers(len(_SPAM_WORDS))]}."
                         f"{spam_suffixes[rng.choice(len(ps), p=ps / ps.sum())]}")
            continue
        suffix = suffixes[rng.choice(len(p), p=p / p.sum())]
        if suffix in _PRIVATE:
            hosts.append(f"{names[i]}.{suffix}")
            continue
        r = rng.random()
        base = names[i] if r < 0.5 else f"{names[i]}-{_SITE_WORDS[rng.integers(len(_SITE_WORDS))]}"
        sub = rng.random()
        prefix = "www." if sub < 0.45 else ("" if sub < 0.85 else
                                            ("news.", "blog.", "docs.", "en.")[rng.integers(4)])
        hosts.append(f"{prefix}{base}.{suffix}")
    return hosts


def _count_matrix(id_arrays: list[np.ndarray], n_words: int) -> sp.csr_array:
    """Page x word count matrix from per-page word-id arrays (duplicates summed)."""
    lengths = np.array([len(a) for a in id_arrays], dtype=np.int64)
    rows = np.repeat(np.arange(len(id_arrays)), lengths)
    cols = np.concatenate(id_arrays).astype(np.int64) if len(id_arrays) else np.zeros(0, dtype=np.int64)
    return sp.csr_array((np.ones(len(cols)), (rows, cols)), shape=(len(id_arrays), n_words))


def _texts(rng, topics, lengths, mix, vocab, topic_vocab, bg_offset, p_topic, p_bg) -> tuple[list[str], list]:
    """Texts whose words are topic words with probability ``mix``, else background words (Zipfian), and
    their word ids (one array per text)."""
    total = int(lengths.sum())
    if total == 0:
        return [""] * len(lengths), [np.zeros(0, dtype=np.int64) for _ in lengths]
    owner = np.repeat(np.arange(len(lengths)), lengths)
    is_topic = rng.random(total) < mix
    ids = bg_offset + rng.choice(len(p_bg), size=total, p=p_bg)
    ids[is_topic] = topics[owner[is_topic]] * topic_vocab + rng.choice(topic_vocab, size=int(is_topic.sum()),
                                                                       p=p_topic)
    words = vocab[ids]
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    texts = [" ".join(words[bounds[i]:bounds[i + 1]]) for i in range(len(lengths))]
    return texts, [ids[bounds[i]:bounds[i + 1]] for i in range(len(lengths))]


def _urls(rng, site, topic, time_ns, site_names, dated_site, vocab, topic_vocab) -> list[str]:
    n = len(site)
    depth = rng.choice(5, size=n, p=[0.1, 0.3, 0.3, 0.2, 0.1])
    https = rng.random(n) < 0.75
    has_query = rng.random(n) < 0.08
    seg_words = topic[:, None] * topic_vocab + rng.integers(0, min(50, topic_vocab), size=(n, 4))
    stamps = pd.to_datetime(time_ns, utc=True)
    urls = []
    for i in range(n):
        host = site_names[site[i]]
        segs: list[str] = []
        if dated_site[site[i]] and depth[i] >= 2:
            segs = [f"{stamps[i].year}", f"{stamps[i].month:02d}"]
        segs += [str(w) for w in vocab[seg_words[i, :max(0, depth[i] - len(segs))]]]
        path = "/" + "/".join(segs)
        if depth[i] and rng.random() < 0.4:
            path += ".html"
        url = f"{'https' if https[i] else 'http'}://{host}{path}"
        if has_query[i]:
            url += f"?id={int(rng.integers(1, 100_000))}"
        urls.append(url)
    return urls


def _links(rng, site, topic, fitness, is_spam, mean_out) -> tuple[np.ndarray, np.ndarray]:
    """Edges drawn by a fitness model: pool (same site / same topic / anywhere), then target ∝ fitness."""
    n = len(site)
    # geometric out-degree with mean `mean_out`; about 1/(mean_out+1) of the pages have none
    out_deg = rng.geometric(1.0 / (mean_out + 1.0), size=n) - 1
    src = np.repeat(np.arange(n), out_deg)
    kind = rng.random(len(src))
    pool_kind = np.where(kind < 0.25, 0, np.where(kind < 0.75, 1, 2))  # 0 site, 1 topic, 2 anywhere
    pool_kind[is_spam[src]] = 3  # link farm
    dst = np.empty(len(src), dtype=np.int64)
    keys = {0: site, 1: topic}
    for k in (0, 1):
        key = keys[k]
        sel = np.flatnonzero(pool_kind == k)
        if not len(sel):
            continue
        groups = pd.Series(np.arange(n)).groupby(key).indices  # key value -> page ids
        edge_key = key[src[sel]]
        for value in np.unique(edge_key):
            e = sel[edge_key == value]
            cand = groups[value]
            w = fitness[cand] * ~is_spam[cand]
            if w.sum() == 0:
                w = fitness[cand]
            dst[e] = cand[rng.choice(len(cand), size=len(e), p=w / w.sum())]
    for k, cand in ((2, np.flatnonzero(~is_spam)), (3, np.flatnonzero(is_spam))):
        e = np.flatnonzero(pool_kind == k)
        if len(e):
            if not len(cand):
                cand = np.arange(n)
            w = fitness[cand]
            dst[e] = cand[rng.choice(len(cand), size=len(e), p=w / w.sum())]
    return src, dst


def _judge(rng, params, q_terms, q_topic, q_intent, q_time_ns, doc_topic, doc_time_ns, is_spam, authority,
           weighted_counts, hard_for, docids) -> pd.DataFrame:
    """The utility's terms and the label of every (query, page) pair that is judged (label > 0 or hard)."""
    cols = ("q", "page", "topical", "authority", "freshness", "noise", "utility", LABEL)
    parts: dict[str, list[np.ndarray]] = {c: [np.zeros(0)] for c in cols}
    hard_by_query = pd.Series(np.arange(len(hard_for))).groupby(hard_for).indices
    by_topic = pd.Series(np.arange(len(doc_topic))).groupby(doc_topic).indices
    th = np.asarray(params["label_thresholds"], dtype=float)
    for q, terms in enumerate(q_terms):
        cand = by_topic.get(q_topic[q], np.zeros(0, dtype=np.int64))
        hard = hard_by_query.get(q, np.zeros(0, dtype=np.int64))
        pages = np.concatenate([cand, hard])
        counts = weighted_counts[pages][:, terms].toarray()
        topical = (counts / (counts + 1.0)).mean(axis=1) if len(terms) else np.zeros(len(pages))
        age_days = (q_time_ns[q] - doc_time_ns[pages]) / 86_400e9
        fresh = np.where(age_days >= 0, 0.5 ** (np.maximum(age_days, 0) / params["fresh_half_life_days"]), 0.0)
        auth = authority[pages]
        m_a = 1.0 if _INTENTS[q_intent[q]] == "authority" else params["auth_weight_other"]
        m_f = 1.0 if _INTENTS[q_intent[q]] == "fresh" else 0.0
        gate = ((doc_topic[pages] == q_topic[q]) & (counts.sum(axis=1) > 0) & ~is_spam[pages]
                & (age_days >= 0)).astype(np.float64)
        noise = params["noise"] * rng.standard_normal(len(pages))
        utility = gate * (params["w_topic"] * topical + params["w_auth"] * m_a * auth
                          + params["w_fresh"] * m_f * fresh) + noise
        label = np.searchsorted(th, utility, side="right").astype(np.float64)
        label[gate == 0] = 0.0  # pages outside the gate are not relevant, whatever the noise
        keep = (label > 0) | (hard_for[pages] == q)
        for c, v in zip(cols, (np.full(len(pages), q), pages, topical, auth, fresh, noise, utility, label)):
            parts[c].append(v[keep])
    out = {c: np.concatenate(v) for c, v in parts.items()}
    frame = pd.DataFrame({"q": out.pop("q").astype(np.int64), DOCID: docids[out.pop("page").astype(np.int64)]})
    for c, v in out.items():
        frame[c] = v
    return frame

