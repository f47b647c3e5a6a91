"""Every ```python block of every docs/*.md runs, from the repository root.

A block right after a line `<!-- no-test -->` is skipped (live capture
examples that need privileges)."""

import contextlib
import io
import re

import pytest

from pcaptools import REPO

# docs/packet.md is one session (later blocks use earlier names): it is run
# in order by test_docs_packet.py.
SESSION_DOCS = {"packet.md"}
DOCS = sorted(p for p in (REPO / "docs").glob("*.md") if p.name not in SESSION_DOCS)
BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


def blocks():
    params = []
    for doc in DOCS:
        text = doc.read_text()
        for m in BLOCK.finditer(text):
            before = text[:m.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
            line = text.count("\n", 0, m.start()) + 1
            marks = [pytest.mark.skip(reason="marked <!-- no-test -->")] if before == "<!-- no-test -->" else []
            params.append(pytest.param(doc, line, m.group(1), id=f"{doc.name}:{line}", marks=marks))
    return params or [pytest.param(None, 0, "", marks=pytest.mark.skip(reason="no docs"))]


@pytest.mark.parametrize("doc,line,code", blocks())
def test_doc_example_runs(doc, line, code, monkeypatch):
    monkeypatch.chdir(REPO)
    compiled = compile("\n" * (line) + code, str(doc), "exec")
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compiled, {"__name__": "__doc_example__"})


def test_feeds_manual_exists_and_has_examples():
    doc = REPO / "docs" / "feeds.md"
    assert doc.is_file()
    assert len(BLOCK.findall(doc.read_text())) >= 10
