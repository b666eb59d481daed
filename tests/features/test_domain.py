"""URL splitting against a table of tricky URLs, the ``url`` and ``domain_prior`` extractors, and no network."""

from __future__ import annotations

import socket

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from features.base import check_extractor, get_extractor
from features.domain import DomainPriors, UrlFeatures, UrlParts, split_url
from ltr.collection import Collection
from ltr.errors import ConfigError

# Oracle: the Public Suffix List rules (publicsuffix.org/list) applied by hand, and RFC 3986 / RFC 3492
# (punycode of "münchen" is "xn--mnchen-3ya").
# url -> (scheme, host, subdomain, domain, suffix, registered_domain, port, path_depth, is_ip)
TRICKY = [
    ("https://www.bbc.co.uk/news/", ("https", "www.bbc.co.uk", "www", "bbc", "co.uk", "bbc.co.uk", None, 1, False)),
    ("http://forums.news.cnn.com/a/b/c.html",
     ("http", "forums.news.cnn.com", "forums.news", "cnn", "com", "cnn.com", None, 3, False)),
    ("http://www.city.kawasaki.jp/", ("http", "www.city.kawasaki.jp", "www", "city", "kawasaki.jp",
                                      "city.kawasaki.jp", None, 0, False)),
    ("http://münchen.de/", ("http", "xn--mnchen-3ya.de", "", "xn--mnchen-3ya", "de", "xn--mnchen-3ya.de", None, 0,
                            False)),
    ("http://XN--MNCHEN-3YA.DE/x", ("http", "xn--mnchen-3ya.de", "", "xn--mnchen-3ya", "de", "xn--mnchen-3ya.de",
                                    None, 1, False)),
    ("http://192.168.0.1:8080/bm25", ("http", "192.168.0.1", "", "", "", "", 8080, 1, True)),
    ("http://[2001:DB8::1]:8443/a", ("http", "2001:db8::1", "", "", "", "", 8443, 1, True)),
    ("https://alice.github.io/blog/", ("https", "alice.github.io", "", "alice", "github.io", "alice.github.io",
                                       None, 1, False)),
    ("foo.blogspot.com", ("http", "foo.blogspot.com", "", "foo", "blogspot.com", "foo.blogspot.com", None, 0, False)),
    ("example.com/a", ("http", "example.com", "", "example", "com", "example.com", None, 1, False)),
    ("//example.com/a/", ("http", "example.com", "", "example", "com", "example.com", None, 1, False)),
    ("HTTP://WWW.EXAMPLE.COM./A/", ("http", "www.example.com", "www", "example", "com", "example.com", None, 1,
                                    False)),
    ("ftp://user:pw@files.example.org:21/x", ("ftp", "files.example.org", "files", "example", "org", "example.org",
                                              21, 1, False)),
    ("localhost:8080/x", ("http", "localhost", "", "localhost", "", "", 8080, 1, False)),
    ("  https://news.example.com.au/a/b?id=7#top  ", ("https", "news.example.com.au", "news", "example", "com.au",
                                                     "example.com.au", None, 2, False)),
]
GARBAGE = [None, np.nan, "", "   ", "not a url", "http://", "http://exa mple.com", "http://a..b.com/",
           "http://localhost:99999/", "mailto:someone@example.com", "http://256.1.1.1/", "http://-bad-.com/",
           "javascript:void(0)", 42]


@pytest.mark.parametrize("url,expected", TRICKY, ids=[u for u, _ in TRICKY])
def test_split_url_table(url, expected):
    """Oracle: the PSL rules and RFC 3986/3492 by hand (table above)."""
    assert split_url(url) == UrlParts(*expected)


@pytest.mark.parametrize("url", GARBAGE, ids=repr)
def test_split_url_garbage_is_none(url):
    """Rule: missing or hostless URLs give None (and NaN features), never a guess."""
    assert split_url(url) is None


def test_private_suffix_switch():
    """Oracle: PSL private section; with private_suffixes=False, github.io users share 'github.io'."""
    parts = split_url("https://alice.github.io/x", private_suffixes=False)
    assert (parts.subdomain, parts.domain, parts.suffix, parts.registered_domain) == ("alice", "github", "io",
                                                                                     "github.io")
    assert split_url("http://bbc.co.uk", private_suffixes=False).registered_domain == "bbc.co.uk"


def test_no_network(monkeypatch):
    """Rule: the PSL comes from the bundled snapshot; a fresh extractor never opens a socket."""
    from features import domain

    def refuse(*args, **kwargs):
        raise AssertionError("features.domain tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    domain._extractor.cache_clear()
    domain._split_host.cache_clear()
    assert split_url("http://www.bbc.co.uk").registered_domain == "bbc.co.uk"
    assert split_url("http://x.github.io", private_suffixes=False).registered_domain == "github.io"


def test_contract(tiny_collection, tiny_pairs):
    """Contract: features.base.check_extractor for both extractors."""
    check_extractor(UrlFeatures(), tiny_collection, tiny_pairs)
    check_extractor(DomainPriors(), tiny_collection, tiny_pairs)
    check_extractor(get_extractor("url(private_suffixes=False)"), tiny_collection, tiny_pairs)
    check_extractor(get_extractor("domain_prior(damping=0.5)"), tiny_collection, tiny_pairs)


def test_url_feature_values(tiny_collection):
    """Oracle: counts by hand for https://news.example.com/a/b/c/ranking?id=7 (d4) and the IP URL (d5)."""
    table = UrlFeatures().fit(tiny_collection).table_
    d4 = table.loc["d4"]
    expected = dict(url_length=43, https=1, suffix_levels=1, suffix_length=3, is_ip=0, subdomain_depth=1,
                    path_depth=4, digit_count=1, token_count=9, has_port=0, has_query=1)
    assert d4.to_dict() == expected
    d5 = table.loc["d5"]  # http://192.168.0.1:8080/bm25
    assert (d5.is_ip, d5.has_port, d5.suffix_levels, d5.digit_count, d5.token_count) == (1, 1, 0, 14, 6)
    d1 = table.loc["d1"]  # https://www.example.co.uk/ml/ranking.html
    assert (d1.suffix_levels, d1.suffix_length, d1.subdomain_depth, d1.path_depth) == (2, 5, 1, 2)
    assert table.loc["d6"].isna().all()  # no URL -> NaN, never 0


def test_domain_priors_against_networkx(tiny_collection, tiny_pairs):
    """Oracle: networkx.pagerank summed per site; cross-site in-links and linking sites by hand."""
    out = DomainPriors().fit(tiny_collection).transform(tiny_pairs)
    g = nx.MultiDiGraph()
    g.add_nodes_from(tiny_collection.docids)
    g.add_edges_from(tiny_collection.links.itertuples(index=False, name=None))
    pr = nx.pagerank(g, tol=1e-16, max_iter=10_000)
    # sites: d1 example.co.uk, d2 and d4 example.com, d3 example.org, d5 192.168.0.1, d6 no URL
    mass = {"d1": pr["d1"], "d2": pr["d2"] + pr["d4"], "d3": pr["d3"], "d4": pr["d2"] + pr["d4"], "d5": pr["d5"]}
    docs = tiny_pairs["docid"]
    known = docs != "d6"
    np.testing.assert_allclose(out.loc[known, "domain_prior__pagerank_mass"],
                               docs[known].map(mass).astype(np.float32), rtol=1e-6)
    first = out.groupby(docs.to_numpy()).first()
    assert first["domain_prior__doc_count"].drop("d6").to_dict() == {"d1": 1, "d2": 2, "d3": 1, "d4": 2, "d5": 1}
    # links: d1->d2, d2->d1, d3->d1, d4->d1 x2, d5->d5 (same site), d1->d4
    assert first.loc["d1", "domain_prior__inlinks"] == 4 and first.loc["d1", "domain_prior__linking_sites"] == 2
    assert first.loc["d2", "domain_prior__inlinks"] == 2 and first.loc["d4", "domain_prior__linking_sites"] == 1
    assert first.loc["d5", "domain_prior__inlinks"] == 0  # a self-link is not a link from another site
    assert out[docs == "d6"].isna().all().all()


def test_domain_priors_without_links(tiny_collection, tiny_pairs):
    """Rule: without links, the link features are NaN and the document counts remain."""
    c = tiny_collection
    bare = Collection("nolinks", c.documents, c.queries, c.qrels, c.fields)
    out = DomainPriors().fit(bare).transform(tiny_pairs)
    assert out[["domain_prior__pagerank_mass", "domain_prior__inlinks", "domain_prior__linking_sites"]].isna().all().all()
    assert out["domain_prior__doc_count"].notna().sum() == (tiny_pairs["docid"] != "d6").sum()


def test_collection_without_urls_is_refused(tiny_collection):
    """Message: a collection without URLs names itself."""
    c = tiny_collection
    bare = Collection("nourls", c.documents.drop(columns="url"), c.queries, c.qrels, c.fields)
    with pytest.raises(ConfigError, match=r"Collection 'nourls' has no 'url' column"):
        UrlFeatures().fit(bare)
    with pytest.raises(ConfigError, match=r"Collection 'nourls' has no 'url' column"):
        DomainPriors().fit(bare)


def test_features_never_read_labels(tiny_collection, tiny_pairs):
    """Rule: domain priors come from the collection alone: changing the qrels changes nothing."""
    c = tiny_collection
    other = Collection("tiny", c.documents, c.queries, c.qrels.assign(label=0.0).iloc[:1], c.fields, c.links,
                       c.reference_time)
    pd.testing.assert_frame_equal(DomainPriors().fit(c).transform(tiny_pairs),
                                  DomainPriors().fit(other).transform(tiny_pairs))
