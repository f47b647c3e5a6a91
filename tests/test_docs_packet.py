"""Every ```python block of docs/packet.md runs, in order, in one namespace
(later blocks use names the earlier ones define), in a scratch directory.
The examples assert their own results, so a wrong statement in the docs
fails here. A block right after a line `<!-- no-test -->` is not run (it
sends packets: it needs root and a network), as in tests/test_docs.py."""

import types
import os
import re

import pytest

from packet_helpers import REPO

DOC = REPO / "docs" / "packet.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)
NO_TEST = "<!-- no-test -->"


def blocks(skip_marked=True):
    text = DOC.read_text()
    out = []
    for m in BLOCK.finditer(text):
        before = text[:m.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
        if skip_marked and before == NO_TEST:
            continue
        out.append(m.group(1))
    return out


def test_marked_blocks_still_compile():
    """The blocks that are not run are at least valid Python."""
    marked = [b for b in blocks(skip_marked=False) if b not in blocks()]
    assert marked
    for code in marked:
        compile(code, str(DOC), "exec")


def test_docs_have_examples():
    assert len(blocks()) >= 10


def test_docs_examples_run(tmp_path, capsys):
    namespace = {"__name__": "__docs__"}
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        for i, code in enumerate(blocks()):
            line = DOC.read_text().count("\n", 0, DOC.read_text().index(code)) + 1
            try:
                exec(compile(code, f"{DOC}:{line}", "exec"), namespace)
            except Exception as e:  # noqa: BLE001 - reported with the block
                pytest.fail(f"docs/packet.md block {i} (line {line}) raised "
                            f"{type(e).__name__}: {e}\n{code}")
    finally:
        os.chdir(old)


def test_docs_printed_output_matches():
    """The ```text block after the first example is what that example prints."""
    text = DOC.read_text()
    first = BLOCK.search(text, text.index("### From a feed"))
    printed = re.search(r"```text\n(.*?)```", text[first.end():], re.S).group(1)
    import io
    import contextlib
    namespace = {}
    exec(blocks()[0], namespace)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(first.group(1), namespace)
    assert out.getvalue() == printed


def test_every_class_is_documented():
    from openbsd import packet

    text = DOC.read_text()
    names = [n for n in dir(packet) if isinstance(getattr(packet, n), type)
             and not n.startswith("_") and n not in ("Packet", "Protocol")]
    missing = [n for n in names if f"`{n}`" not in text]
    assert not missing


def test_every_field_is_documented():
    """Every public field of every protocol class appears in docs/packet.md."""
    from openbsd import packet

    text = DOC.read_text()
    missing = []
    for n in dir(packet):
        cls = getattr(packet, n)
        if not isinstance(cls, type) or n.startswith("_"):
            continue
        for klass in cls.__mro__:
            for attr, value in vars(klass).items():
                if attr.startswith("_") or callable(value):
                    continue
                if type(value).__name__ not in ("getset_descriptor", "member_descriptor",
                                                "property") and not isinstance(value, types.MappingProxyType):
                    continue
                if not re.search(r"`[^`\n]*\b" + re.escape(attr) + r"\b[^`\n]*`", text):
                    missing.append(f"{n}.{attr}")
    assert sorted(set(missing)) == []
