"""URL and domain features, with the Public Suffix List read offline.

The Public Suffix List (PSL) comes from the snapshot bundled with ``tldextract``
(``tldextract/.tld_set_snapshot``): we build ``tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(),
fallback_to_snapshot=True)``, which never touches the network nor a disk cache (the module-level
``tldextract.extract`` would fetch the list over HTTP on first use). The suffixes therefore change only
when the installed ``tldextract`` does, so features are reproducible for a given environment.

Private suffixes (the PSL's "PRIVATE DOMAINS" section: ``blogspot.com``, ``github.io``, ...) are
treated as public suffixes by default (``private_suffixes=True``): ``alice.github.io`` and
``bob.github.io`` are different sites run by different people, so they must not share a domain prior.
With ``private_suffixes=False`` both belong to the registered domain ``github.io``.

Hosts are normalised before the PSL lookup: lower-cased, trailing dots removed, and internationalised
names converted to their ASCII (punycode) form, so ``http://münchen.de/`` and
``http://xn--mnchen-3ya.de/`` have the same host and registered domain.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import NamedTuple
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from features.base import FeatureExtractor, register
from features.pagerank import link_indices, lookup_docs, pagerank
from ltr.collection import URL, Collection
from ltr.errors import ConfigError
from ltr.schema import DOCID

__all__ = ["DomainPriors", "UrlFeatures", "UrlParts", "site_of", "split_url"]


class UrlParts(NamedTuple):
    """A URL split into the parts that ranking features use.

    ``registered_domain`` is the domain directly under the public suffix (``bbc.co.uk``); it is ``""``
    for IP hosts and for hosts whose last label is not a known suffix (``localhost``).
    ``path_depth`` counts the non-empty path segments (``/a/b/`` -> 2). ``port`` is None when absent.
    """

    scheme: str
    host: str
    subdomain: str
    domain: str
    suffix: str
    registered_domain: str
    port: int | None
    path_depth: int
    is_ip: bool


@functools.lru_cache(maxsize=2)
def _extractor(private: bool):
    import tldextract  # deferred: building the PSL trie takes ~0.1 s

    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True,
                                 include_psl_private_domains=private)


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_OPAQUE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:(?!\d)")  # mailto:, javascript:, urn: (no host)
_LABEL = re.compile(r"^(?!-)[a-z0-9_\-]{1,63}(?<!-)$")  # ASCII label; "_" is tolerated (seen in the wild)


def _ascii_host(host: str) -> str | None:
    """Lower-case ASCII (punycode) form of a host name, or None when it is not a valid host name."""
    host = host.rstrip(".").lower()
    if not host or len(host) > 253:
        return None
    if not host.isascii():
        import idna  # a dependency of tldextract; IDNA 2008 with UTS #46 mapping, as browsers do

        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            return None
    labels = host.split(".")
    if not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        return None  # empty or invalid labels; an all-digit last label is neither a name nor an IPv4
    return host


@functools.lru_cache(maxsize=65536)
def _split_host(host: str, private: bool) -> tuple[str, str, str, str]:
    ext = _extractor(private)(host)
    registered = f"{ext.domain}.{ext.suffix}" if ext.domain and ext.suffix else ""
    return ext.subdomain, ext.domain, ext.suffix, registered


def split_url(url, *, private_suffixes: bool = True) -> UrlParts | None:
    """Split a URL into scheme, host, subdomain, domain, public suffix, registered domain, port, path depth.

    Parameters
    ----------
    url : str
        With or without a scheme (``"example.com/a"`` is read as ``http://example.com/a``).
    private_suffixes : bool, default=True
        Treat the PSL's private suffixes (``github.io``, ``blogspot.com``) as suffixes.

    Returns
    -------
    UrlParts, or None when ``url`` is missing (None, NaN, empty) or has no valid host (garbage, a bad
    port, a space or an empty label in the host name, an all-digit top-level label that is not an IPv4
    address, a URI without a host such as ``mailto:a@b.org``).

    Examples
    --------
    >>> split_url("https://forums.bbc.co.uk:8080/a/b?x=1")
    UrlParts(scheme='https', host='forums.bbc.co.uk', subdomain='forums', domain='bbc', suffix='co.uk', \
registered_domain='bbc.co.uk', port=8080, path_depth=2, is_ip=False)
    """
    if not isinstance(url, str):
        return None
    text = url.strip()
    if not text:
        return None
    if not _SCHEME.match(text):
        if _OPAQUE.match(text):
            return None
        text = "http://" + text.lstrip("/")
    try:
        parts = urlsplit(text)
        port = parts.port
        raw_host = parts.hostname  # lower-cased, brackets of IPv6 removed, userinfo and port removed
    except ValueError:  # bad port, unbalanced brackets
        return None
    if not raw_host:
        return None
    path_depth = sum(1 for seg in parts.path.split("/") if seg)
    scheme = parts.scheme.lower()
    try:
        ip = ipaddress.ip_address(raw_host)
    except ValueError:
        ip = None
    if ip is not None:
        return UrlParts(scheme, ip.compressed, "", "", "", "", port, path_depth, True)
    host = _ascii_host(raw_host)
    if host is None:
        return None
    subdomain, domain, suffix, registered = _split_host(host, bool(private_suffixes))
    return UrlParts(scheme, host, subdomain, domain, suffix, registered, port, path_depth, False)


def site_of(parts: UrlParts | None) -> str | None:
    """The site a URL belongs to: its registered domain, else its host (IP addresses, ``localhost``)."""
    if parts is None:
        return None
    return parts.registered_domain or parts.host


_URL_FEATURES = ("url_length", "https", "suffix_levels", "suffix_length", "is_ip", "subdomain_depth",
                 "path_depth", "digit_count", "token_count", "has_port", "has_query")
_TOKEN = re.compile(r"[^\W_]+")


def url_features(url, *, private_suffixes: bool = True) -> list[float]:
    """The :class:`UrlFeatures` values of one URL (all NaN when :func:`split_url` gives None)."""
    parts = split_url(url, private_suffixes=private_suffixes)
    if parts is None:
        return [np.nan] * len(_URL_FEATURES)
    text = url.strip()
    rest = _SCHEME.sub("", text)  # tokens and digits of what follows the scheme
    return [
        float(len(text)),
        float(parts.scheme == "https"),
        float(len(parts.suffix.split("."))) if parts.suffix else 0.0,
        float(len(parts.suffix)),
        float(parts.is_ip),
        float(len(parts.subdomain.split("."))) if parts.subdomain else 0.0,
        float(parts.path_depth),
        float(sum(ch.isdigit() for ch in rest)),
        float(len(_TOKEN.findall(rest))),
        float(parts.port is not None),
        float(bool(urlsplit(text if _SCHEME.match(text) else "http://" + text).query)),
    ]


def _require_urls(collection: Collection, owner: str) -> None:
    if not collection.has_urls:
        raise ConfigError(f"Collection {collection.name!r} has no 'url' column, so {owner} features are "
                          f"undefined; drop the extractor for it")


@register
class UrlFeatures(FeatureExtractor):
    """Features of the document's URL string.

    Features (``url__<feature>``); all NaN for a document without a URL or with an unparseable one:

    - ``url_length``: characters of the URL (surrounding white space stripped);
    - ``https``: 1 for the ``https`` scheme (a URL without a scheme is read as ``http``);
    - ``suffix_levels``, ``suffix_length``: labels and characters of the public suffix (``co.uk``: 2, 5;
      0, 0 for IP hosts and unknown suffixes);
    - ``is_ip``: 1 when the host is an IPv4 or IPv6 address;
    - ``subdomain_depth``: labels left of the registered domain (``a.b.example.com``: 2; ``www`` counts);
    - ``path_depth``: non-empty path segments;
    - ``digit_count``, ``token_count``: digits and maximal alphanumeric runs after the scheme;
    - ``has_port``, ``has_query``: an explicit port, a non-empty query string.

    Parameters
    ----------
    private_suffixes : bool, default=True
        See the module docstring.
    """

    name = "url"
    requires = (DOCID,)

    def __init__(self, *, private_suffixes: bool = True):
        self.private_suffixes = private_suffixes

    def fit(self, collection: Collection) -> UrlFeatures:
        _require_urls(collection, "URL")
        urls = collection.documents[URL].to_numpy(dtype=object)
        values = np.array([url_features(u, private_suffixes=self.private_suffixes) for u in urls],
                          dtype=np.float64).reshape(len(urls), len(_URL_FEATURES))
        self.table_ = pd.DataFrame(values, columns=list(_URL_FEATURES),
                                   index=pd.Index(collection.documents[DOCID].to_numpy(), name=DOCID))
        return self

    def feature_names_out(self) -> list[str]:
        return [f"{self.name}__{f}" for f in _URL_FEATURES]

    def transform(self, pairs: pd.DataFrame) -> pd.DataFrame:
        self._check_fitted("table_")
        self._check_pairs(pairs)
        pos = lookup_docs(self.table_, pairs[DOCID].to_numpy(), owner="UrlFeatures.transform")
        return self._frame(dict(zip(self.feature_names_out(), self.table_.to_numpy()[pos].T)), pairs)


@register
class DomainPriors(FeatureExtractor):
    """Priors of the document's site (registered domain, else host), computed from the collection alone.

    Never uses labels. Features (``domain_prior__<feature>``):

    - ``doc_count``: documents of the collection on the same site;
    - ``pagerank_mass``: sum of the PageRank (:func:`features.pagerank.pagerank` over the document graph)
      of the site's documents;
    - ``inlinks``: links into the site's documents from documents of *other* sites (copies counted);
    - ``linking_sites``: number of distinct other sites linking into the site.

    The link-based features are NaN when the collection has no links; every feature is NaN for a document
    without a (valid) URL.

    Parameters
    ----------
    private_suffixes : bool, default=True
        See the module docstring.
    damping : float, default=0.85
        PageRank damping.
    """

    name = "domain_prior"
    requires = (DOCID,)

    def __init__(self, *, private_suffixes: bool = True, damping: float = 0.85):
        self.private_suffixes, self.damping = private_suffixes, damping

    def fit(self, collection: Collection) -> DomainPriors:
        _require_urls(collection, "domain prior")
        docids = collection.documents[DOCID].to_numpy()
        n = len(docids)
        sites = np.array([site_of(split_url(u, private_suffixes=self.private_suffixes))
                          for u in collection.documents[URL].to_numpy(dtype=object)], dtype=object)
        known = np.array([s is not None for s in sites], dtype=bool)
        codes, uniques = pd.factorize(pd.Series(sites, dtype=object))  # None -> code -1
        n_sites = len(uniques)
        doc_count = np.bincount(codes[known], minlength=n_sites).astype(np.float64)
        values = {"doc_count": np.full(n, np.nan), "pagerank_mass": np.full(n, np.nan),
                  "inlinks": np.full(n, np.nan), "linking_sites": np.full(n, np.nan)}
        values["doc_count"][known] = doc_count[codes[known]]
        if collection.has_links and n:
            src, dst, _ = link_indices(collection)
            pr = pagerank(src, dst, n_nodes=n, damping=self.damping)
            mass = np.bincount(codes[known], weights=pr[known], minlength=n_sites)
            s_site, d_site = codes[src], codes[dst]
            cross = (s_site >= 0) & (d_site >= 0) & (s_site != d_site)
            inl = np.bincount(d_site[cross], minlength=n_sites).astype(np.float64)
            distinct = pd.DataFrame({"s": s_site[cross], "d": d_site[cross]}).drop_duplicates()
            linking = np.bincount(distinct["d"].to_numpy(dtype=np.int64), minlength=n_sites).astype(np.float64)
            for key, per_site in (("pagerank_mass", mass), ("inlinks", inl), ("linking_sites", linking)):
                values[key][known] = per_site[codes[known]]
        self.table_ = pd.DataFrame(values, index=pd.Index(docids, name=DOCID))
        self.sites_ = pd.Series(sites, index=self.table_.index, name="site")
        return self

    def feature_names_out(self) -> list[str]:
        return [f"{self.name}__{f}" for f in ("doc_count", "pagerank_mass", "inlinks", "linking_sites")]

    def transform(self, pairs: pd.DataFrame) -> pd.DataFrame:
        self._check_fitted("table_")
        self._check_pairs(pairs)
        pos = lookup_docs(self.table_, pairs[DOCID].to_numpy(), owner="DomainPriors.transform")
        return self._frame(dict(zip(self.feature_names_out(), self.table_.to_numpy()[pos].T)), pairs)
