"""docs/packet.md: its printed output is what its example prints, and it
documents every class and field of `openbsd.packet`. (Its examples run, each
on its own, in tests/test_docs.py.)"""

import re
import types

from packet_helpers import REPO
from test_docs import BLOCKS, run_block

DOC = REPO / "docs" / "packet.md"


def test_docs_printed_output_matches(tmp_path):
    """The ```text block after the first example is what that example prints."""
    text = DOC.read_text()
    at = text.index("### From a feed")
    printed = re.search(r"```text\n(.*?)```", text[at:], re.S).group(1)
    first = next(b for b in BLOCKS if b.doc == DOC and b.line > text.count("\n", 0, at))
    assert run_block(first, tmp_path).stdout == printed


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
        if not isinstance(cls, type) or n.startswith("_") or issubclass(cls, BaseException):
            continue
        for klass in cls.__mro__:
            for attr, value in vars(klass).items():
                if attr.startswith("_") or callable(value):
                    continue
                if type(value).__name__ not in ("getset_descriptor", "member_descriptor",
                                                "property", "_OptionField") and not isinstance(value, packet.Options):
                    continue
                if not re.search(r"`[^`\n]*\b" + re.escape(attr) + r"\b[^`\n]*`", text):
                    missing.append(f"{n}.{attr}")
    assert sorted(set(missing)) == []
