"""Tests of ltr.datasets.loaders: the named collections, the registry and load_collection.

Oracles: the counts in each ../shared/data/<collection>/SOURCE.md (verified there by an independent parse);
the loaders called directly. The file formats are tested in tests/io/ (test_smart, test_trec_docs,
test_jsonl, test_tsv).
"""

from __future__ import annotations

import pandas as pd
import pytest

from ltr.datasets.loaders import (CRANFIELD_GRADES, available_collections, data_root, load_cacm, load_collection,
                                  load_cranfield, load_vaswani)
from ltr.errors import ConfigError, UnknownNameError
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def cacm():
    return load_cacm(shared_path("cacm"))


def test_cacm_counts(cacm):
    """Oracle: cacm/SOURCE.md (3,204 docs, 1,587 with .W, 64 queries, 796 qrels over 52 queries, 555
    distinct documents, 2,720 undirected type-5 pairs, years 1958-1979)."""
    assert len(cacm.documents) == 3204
    assert (cacm.documents.body != "").sum() == 1587
    assert len(cacm.queries) == 64
    assert len(cacm.qrels) == 796 and cacm.qrels.qid.nunique() == 52 and cacm.qrels.docid.nunique() == 555
    assert set(cacm.qrels.label) == {1.0}
    assert len(cacm.links) == 2720
    ts = cacm.documents.timestamp
    assert ts.notna().all() and ts.min().year == 1958 and ts.max().year == 1979
    assert cacm.documents.loc[0, "timestamp"] == pd.Timestamp("1958-12-01", tz="UTC")
    assert cacm.reference_time > ts.max()
    assert set(cacm.qrels.qid) <= set(cacm.queries.qid)
    assert set(cacm.qrels.docid) <= set(cacm.documents.docid)
    assert cacm.queries.qid.iloc[0] == "1" and cacm.documents.docid.iloc[-1] == "3204"


def test_cacm_links_are_oriented_newer_to_older(cacm):
    """Oracle: the documented orientation rule, checked on the frames themselves."""
    date = dict(zip(cacm.documents.docid, cacm.documents.timestamp))
    src = cacm.links.source.map(date)
    dst = cacm.links.target.map(date)
    assert (src >= dst).all()
    same = src == dst
    assert (cacm.links.source[same].astype(int) > cacm.links.target[same].astype(int)).all()
    assert not (cacm.links.source == cacm.links.target).any()
    assert not cacm.links.duplicated().any()
    undirected = {frozenset(p) for p in zip(cacm.links.source, cacm.links.target)}
    assert len(undirected) == 2720
    assert any("oriented" in n for n in cacm.notes)


def test_cranfield_counts_and_grades():
    """Oracle: cranfield/SOURCE.md (1,400 docs, 225 queries, 1,837 qrels with codes {1: 128, 2: 387,
    3: 734, 4: 363, -1: 225}, 1,199 docs with a year 1922-1963) and REFERENCE.md's numbering trap."""
    c = load_cranfield(shared_path("cranfield"))
    assert (len(c.documents), len(c.queries), len(c.qrels)) == (1400, 225, 1837)
    counts = c.qrels.label.value_counts().to_dict()
    assert counts == {CRANFIELD_GRADES[1]: 128, CRANFIELD_GRADES[2]: 387, CRANFIELD_GRADES[3]: 734,
                      CRANFIELD_GRADES[4]: 363, 0.0: 225}
    assert counts == {4.0: 128, 3.0: 387, 2.0: 734, 1.0: 363, 0.0: 225}
    assert c.links is None
    ts = c.documents.timestamp
    assert ts.notna().sum() == 1199 and ts.min().year == 1922 and ts.max().year == 1963
    # queries by position: the 3rd query has .I 004 (.I numbers skip values)
    assert c.queries.qid.tolist()[:3] == ["1", "2", "3"] and c.queries.smart_id.iloc[2] == "004"
    assert c.qrels.qid.nunique() == 225


def test_vaswani_counts():
    """Oracle: vaswani-npl/SOURCE.md (11,429 documents, 93 topics, 2,083 binary qrels)."""
    c = load_vaswani(shared_path("vaswani-npl"))
    assert (len(c.documents), len(c.queries), len(c.qrels)) == (11429, 93, 2083)
    assert c.fields == ("body",) and set(c.qrels.label) == {1.0} and c.qrels.qid.nunique() == 93
    assert c.documents.body.iloc[0].startswith("compact memories")


def test_load_collection_by_name_and_folder(monkeypatch):
    """Oracle: the same loader called directly."""
    shared = shared_path("cacm").parent
    monkeypatch.setenv("LTR_DATA", str(shared))
    assert data_root() == shared
    by_name = load_collection("cranfield")
    by_folder = load_collection(shared / "cranfield")
    assert by_name.documents.equals(by_folder.documents) and by_name.qrels.equals(by_folder.qrels)
    assert {"cacm", "cranfield", "vaswani", "synthetic-web"} <= set(available_collections())
    with pytest.raises(UnknownNameError, match=r"Unknown collection 'cacn'. Choose from \[.*\]\. Did you mean 'cacm'"):
        load_collection("cacn")
    with pytest.raises(ConfigError, match="no such folder: .*nope; give an existing folder or one of"):
        load_collection(str(shared / "nope"))
    monkeypatch.setenv("LTR_DATA", str(shared / "nope"))
    with pytest.raises(ConfigError, match="LTR_DATA=.* is not a directory"):
        load_collection("cacm")


def test_load_collection_generator_with_parameters():
    """Oracle: ltr.datasets.synthetic.make_synthetic_web called directly with the same parameters."""
    from ltr.datasets.synthetic import make_synthetic_web

    web = load_collection("synthetic-web(n_docs=400, n_queries=5, n_topics=4, seed=3)")
    direct = make_synthetic_web(n_docs=400, n_queries=5, n_topics=4, seed=3)
    assert web.documents.equals(direct.documents) and web.queries.equals(direct.queries)
    with pytest.raises(ConfigError, match="collection 'cacm' takes no parameters"):
        load_collection("cacm(seed=1)")


def test_format_readers_are_still_importable_from_their_old_places():
    """Oracle: the ltr.io modules they moved to (the same objects, so old code keeps working)."""
    import ltr.datasets as D
    import ltr.datasets.loaders as L
    from ltr.io import jsonl, smart, trec, trec_docs, tsv

    assert L.load_jsonl is jsonl.load_jsonl is D.load_jsonl and L.write_jsonl is jsonl.write_jsonl
    assert L.load_tsv is tsv.load_tsv and L.load_smart is smart.load_smart is D.load_smart
    assert L.read_smart is smart.read_smart and L.SmartRecord is smart.SmartRecord
    assert L.load_trec is trec_docs.load_trec and L.read_trec_docs is trec_docs.read_trec_docs
    assert L.read_trec_topics is trec_docs.read_trec_topics
    assert L.read_trec_qrels is trec.read_qrels           # one qrels reader


def test_io_does_not_import_datasets():
    """Oracle: the floors (ltr.io is floor 2, ltr.datasets floor 3), checked in a fresh interpreter."""
    import subprocess
    import sys
    code = ("import sys, ltr.io, ltr.io.jsonl, ltr.io.tsv, ltr.io.smart, ltr.io.trec_docs; "
            "print(sorted(m for m in sys.modules if m.startswith('ltr.datasets')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr

