"""``load_collection("irds:<id>")``: collections through ir_datasets' own API, without any download.

Oracles: (1) files the test writes, registered with ir_datasets' registry (``TrecDocs``, ``TrecQueries``,
``TrecQrels`` over ``LocalDownload``), compared with the values written and with our own TREC readers on the
same files; (2) ir_datasets' built-in ``cranfield`` dataset, whose cache files are pointed at
``../shared/data/cranfield`` (so its own Cranfield parser reads them), compared with ``load_cranfield``.
Each runs in a child process with ``IR_DATASETS_HOME`` in the test's folder: importing ir_datasets creates
folders under its home, which must not be the user's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO, shared_path

pytest.importorskip("ir_datasets", reason="ir_datasets is the optional 'irds' extra (also in 'test')")


def _run(code: str, home, cwd) -> str:
    env = {**os.environ, "IR_DATASETS_HOME": str(home), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=cwd,
                         env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


DOCS = ("<DOC>\n<DOCNO>d1</DOCNO>\n<TEXT>\ngradient boosted trees\n</TEXT>\n</DOC>\n"
        "<DOC>\n<DOCNO>d2</DOCNO>\n<TEXT>\npasta recipes for\nthe week\n</TEXT>\n</DOC>\n")
TOPICS = ("<top>\n<num> Number: 1\n<title> boosted trees\n\n<desc> Description:\nAbout trees.\n\n<narr> Narrative:\n"
          "x\n</top>\n\n<top>\n<num> Number: 2\n<title> pasta\n\n<desc> Description:\nFood.\n\n<narr> Narrative:\ny\n"
          "</top>\n")
QRELS = "1 0 d1 2\n1 0 d2 0\n2 0 d2 1\n"


def test_a_locally_registered_dataset(tmp_path):
    """Oracle: the values written, and ltr.io's own TREC readers on the same files."""
    for name, text in (("docs.trec", DOCS), ("topics", TOPICS), ("qrels", QRELS)):
        (tmp_path / name).write_text(text)
    out = _run("""
        import ir_datasets
        from ir_datasets.datasets.base import Dataset
        from ir_datasets.formats import TrecDocs, TrecQrels, TrecQueries
        from ir_datasets.util import LocalDownload
        from ltr.datasets import load_collection
        from ltr.errors import UnknownNameError
        from ltr.io.trec import read_qrels
        from ltr.io.trec_docs import read_trec_docs, read_trec_topics

        ir_datasets.registry.register("ltr-test/tiny", Dataset(
            TrecDocs(LocalDownload("docs.trec"), parser="text", namespace="ltr-test"),
            TrecQueries(LocalDownload("topics"), namespace="ltr-test"),
            TrecQrels(LocalDownload("qrels"), {0: "no", 1: "some", 2: "yes"})))
        c = load_collection("irds:ltr-test/tiny")
        assert c.name == "ltr-test/tiny" and c.fields == ("body",), (c.name, c.fields)
        assert c.documents.docid.tolist() == ["d1", "d2"]
        assert [" ".join(b.split()) for b in c.documents.body] == ["gradient boosted trees", "pasta recipes for the week"]
        assert c.queries.values.tolist() == [["1", "boosted trees"], ["2", "pasta"]]
        assert c.qrels.values.tolist() == [["1", "d1", 2.0], ["1", "d2", 0.0], ["2", "d2", 1.0]]
        # our own readers of the same files agree
        ours = read_trec_docs("docs.trec", text_tags=("TEXT",))
        assert ours.docid.tolist() == c.documents.docid.tolist()
        assert [" ".join(b.split()) for b in ours.body] == [" ".join(b.split()) for b in c.documents.body]
        assert read_trec_topics("topics").values.tolist() == c.queries.values.tolist()
        assert read_qrels("qrels").equals(c.qrels)
        # a file ir_datasets' parser cannot read is one DataError, not its AssertionError
        open("topics2", "w").write("<top>\\n<num> Number: 1\\n<title> x\\n</top>\\n")
        ir_datasets.registry.register("ltr-test/broken", Dataset(
            TrecDocs(LocalDownload("docs.trec"), parser="text", namespace="ltr-test"),
            TrecQueries(LocalDownload("topics2"), namespace="ltr-test")))
        from ltr.errors import DataError
        try:
            load_collection("irds:ltr-test/broken")
        except DataError as err:
            assert "ir_datasets could not read the queries of 'ltr-test/broken': AssertionError" in str(err), err
        else:
            raise AssertionError("no error for unreadable queries")
        try:
            load_collection("irds:ltr-test/nope")
        except UnknownNameError as err:
            assert "ir_datasets has no dataset 'ltr-test/nope'; similar ids: ['ltr-test/broken', 'ltr-test/tiny']" in str(err), err
        else:
            raise AssertionError("no error for an unknown id")
        print("ok")
    """, tmp_path / "home", tmp_path)
    assert out.strip().endswith("ok")


def test_cranfield_through_ir_datasets_parser_equals_load_cranfield(tmp_path):
    """Oracle: ir_datasets' own Cranfield parser (its cache files point at ../shared/data/cranfield, so nothing
    is downloaded) against load_cranfield: the same 1,400 documents (text equal up to whitespace), 225 queries,
    and 1,837 qrels whose raw codes map to our grades by CRANFIELD_GRADES."""
    src = shared_path("cranfield")
    cache = tmp_path / "home" / "cranfield"
    cache.mkdir(parents=True)
    for ours, theirs in (("cran.all.1400", "docs.txt"), ("cran.qry", "queries.txt"), ("cranqrel", "qrels.txt")):
        (cache / theirs).symlink_to(src / ours)
    out = _run(f"""
        from ltr.datasets import load_collection
        from ltr.datasets.loaders import CRANFIELD_GRADES, load_cranfield
        c = load_collection("irds:cranfield")
        r = load_cranfield({str(src)!r})
        norm = lambda col: [" ".join(t.split()) for t in col]
        assert (len(c.documents), len(c.queries), len(c.qrels)) == (1400, 225, 1837)
        assert c.fields == ("title", "body", "author", "bib"), c.fields
        assert c.documents.docid.tolist() == r.documents.docid.tolist()
        assert norm(c.documents.title) == norm(r.documents.title) and norm(c.documents.body) == norm(r.documents.body)
        assert c.queries.values.tolist() == r.queries[["qid", "query"]].values.tolist()
        m = c.qrels.merge(r.qrels, on=["qid", "docid"], suffixes=("_irds", "_ours"))
        assert len(m) == 1837 and (m.label_irds.map(lambda v: CRANFIELD_GRADES[int(v)]) == m.label_ours).all()
        print("ok")
    """, tmp_path / "home", tmp_path)
    assert out.strip().endswith("ok")


def test_without_ir_datasets_the_message_says_how_to_install(tmp_path):
    """Oracle: the rule (an optional extra is named, never an ImportError traceback)."""
    out = _run("""
        import sys
        sys.modules["ir_datasets"] = None            # as if not installed
        from ltr.datasets import load_collection
        from ltr.errors import ConfigError
        try:
            load_collection("irds:cranfield")
        except ConfigError as err:
            print(err)
    """, tmp_path / "home", tmp_path)
    assert "pip install 'ltr[irds]'" in out


def test_the_readme_snippet_runs_as_written(tmp_path):
    """Oracle: the output the README prints under its ir_datasets snippet."""
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### ir_datasets collections"):]
    code = section[section.index("```python\n") + 10:section.index("\n```", section.index("```python"))]
    expected = [ln[2:] for ln in code.splitlines() if ln.startswith("# ")][-1]
    out = _run(code, tmp_path / "home", tmp_path)
    assert out.strip() == expected
