"""The documentation hangs together: README.md and docs/index.md link every
document in docs/, and every relative link in README.md and docs/*.md points
at a file that exists (and, with a #fragment, at a heading of that file)."""

import re

import pytest

from pcaptools import REPO

DOCS = sorted((REPO / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped,
    spaces to hyphens."""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(path):
    text = FENCE.sub("", path.read_text())
    return {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", text, re.M)}


def links(path):
    text = FENCE.sub("", path.read_text())
    return [m.group(1) for m in LINK.finditer(text) if not re.match(r"[a-z]+:", m.group(1))]


def test_slug():
    assert slug("`Dumper(feed, filename)`") == "dumperfeed-filename"
    assert slug("Link types and the first protocol") == "link-types-and-the-first-protocol"


@pytest.mark.parametrize("index", ["README.md", "docs/index.md"])
def test_every_document_is_linked(index):
    base = (REPO / index).parent
    linked = {(base / target.split("#")[0]).resolve() for target in links(REPO / index)}
    missing = [d.name for d in DOCS if d.resolve() not in linked and d != REPO / index]
    assert missing == []


@pytest.mark.parametrize("doc", [REPO / "README.md"] + DOCS, ids=lambda p: p.name)
def test_relative_links_resolve(doc):
    broken = []
    for target in links(doc):
        path, _, fragment = target.partition("#")
        dest = (doc.parent / path).resolve() if path else doc
        if not dest.exists():
            broken.append(target)
        elif fragment and dest.suffix == ".md" and fragment not in anchors(dest):
            broken.append(target)
    assert broken == []
