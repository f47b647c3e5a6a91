"""Every ```python block of every docs/*.md runs.

The blocks of one document run in order in one namespace (a later block may
use names an earlier one defined), in a scratch directory that looks like
the repository root (`python/` and `README.md` are linked into it), so
examples name the bundled capture as `python/openbsd/data/sample.pcap` and
the files they write do not land in the repository.

A block right after a line `<!-- no-test -->` is skipped (live capture
examples that need privileges)."""

import contextlib
import io
import re

import pytest

from pcaptools import REPO

DOCS = sorted((REPO / "docs").glob("*.md"))
BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
NO_TEST = "<!-- no-test -->"


def blocks():
    params = []
    for doc in DOCS:
        text = doc.read_text()
        for m in BLOCK.finditer(text):
            before = text[:m.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
            line = text.count("\n", 0, m.start()) + 1
            marks = [pytest.mark.skip(reason=f"marked {NO_TEST}")] if before == NO_TEST else []
            params.append(pytest.param(doc, line, m.group(1), id=f"{doc.name}:{line}", marks=marks))
    return params or [pytest.param(None, 0, "", marks=pytest.mark.skip(reason="no docs"))]


@pytest.fixture(scope="module")
def namespaces():
    return {}


@pytest.fixture(scope="module")
def root_like(tmp_path_factory):
    d = tmp_path_factory.mktemp("docs-cwd")
    for name in ("python", "README.md"):
        if (REPO / name).exists():
            (d / name).symlink_to(REPO / name)
    return d


@pytest.mark.parametrize("doc,line,code", blocks())
def test_doc_example_runs(doc, line, code, namespaces, root_like, monkeypatch):
    monkeypatch.chdir(root_like)
    ns = namespaces.setdefault(doc, {"__name__": "__doc_example__"})
    compiled = compile("\n" * line + code, str(doc), "exec")
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compiled, ns)


def test_feeds_manual_exists_and_has_examples():
    doc = REPO / "docs" / "feeds.md"
    assert doc.is_file()
    assert len(BLOCK.findall(doc.read_text())) >= 10
