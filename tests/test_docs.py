"""Every ```python block of README.md and docs/*.md runs on its own, as a
reader pasting it would run it: each block in a fresh interpreter, in a
fresh scratch directory that looks like the repository root (`python/` and
`README.md` are linked into it, so examples name the bundled capture as
`python/openbsd/data/sample.pcap`; what a block writes stays in its own
directory, so no block can lean on a file another block left behind).

A block whose first line is the comment `# continues the previous block`
builds on the block before it in the same document: the test runs the
blocks it continues first, in the same interpreter (the reader has to paste
them too, and the comment tells them so).

A block right after a line `<!-- no-test: REASON -->` is not run (live
capture examples that need privileges and an interface); it must still
compile, and the reason is the skip message."""

import os
import re
import subprocess
import sys

import pytest

from pcaptools import REPO

DOCS = [REPO / "README.md"] + sorted((REPO / "docs").glob("*.md"))
BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
NO_TEST = re.compile(r"^<!-- no-test: (\S.*?) -->$")
CONTINUES = "# continues the previous block"


class Block:
    def __init__(self, doc, line, code, skip, previous):
        self.doc, self.line, self.code, self.skip = doc, line, code, skip
        self.continues = code.split("\n", 1)[0].strip() == CONTINUES
        self.previous = previous if self.continues else None

    @property
    def name(self):
        return f"{self.doc.relative_to(REPO)}:{self.line}"

    def chain(self):
        """This block and the blocks it continues, first block first."""
        return (self.previous.chain() if self.previous else []) + [self]

    def script(self):
        """The chain as one program whose line numbers point into the
        document: each block's first line lands on its line in the file."""
        out, at = [], 0
        for b in self.chain():
            out.append("\n" * (b.line - at) + b.code)
            at = b.line + b.code.count("\n")
        return "".join(out)


def parse(doc, text):
    """The ```python blocks of one document, in order."""
    found, previous = [], None
    for m in BLOCK.finditer(text):
        before = text[:m.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
        skip = NO_TEST.match(before)
        line = text.count("\n", 0, m.start(1))  # lines before the block's first
        previous = Block(doc, line, m.group(1), skip.group(1) if skip else None, previous)
        found.append(previous)
    return found


BLOCKS = [b for doc in DOCS for b in parse(doc, doc.read_text())]


def run_block(block, directory):
    """Runs `block` (after the blocks it continues) in a fresh interpreter in
    `directory`, made to look like the repository root; returns the
    finished process (stdout and stderr as text)."""
    directory.mkdir(exist_ok=True)
    for name in ("python", "README.md"):
        (directory / name).symlink_to(REPO / name)
    path = directory / "example.py"
    path.write_text(block.script())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, str(path)], cwd=directory, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("block", [
    pytest.param(b, id=b.name, marks=[pytest.mark.skip(reason=b.skip)] if b.skip else [])
    for b in BLOCKS])
def test_doc_example_runs_on_its_own(block, tmp_path):
    assert not any(b.skip for b in block.chain()[:-1]), f"{block.name} continues a block that is not run"
    r = run_block(block, tmp_path)
    assert r.returncode == 0, f"{block.name} failed on its own:\n{r.stderr}"


def test_skipped_blocks_compile_and_say_why():
    """The blocks not run are valid Python, and every `no-test` marker
    gives a reason (a bare marker would skip a block without one)."""
    skipped = [b for b in BLOCKS if b.skip]
    assert skipped
    for b in skipped:
        compile(b.script(), b.name, "exec")
    for doc in DOCS:
        bare = [line for line in doc.read_text().splitlines() if "no-test" in line and not NO_TEST.match(line)]
        assert bare == [], doc


def test_continuation_marks_follow_a_block():
    """`# continues the previous block` is never a document's first block,
    and it is the first line of the block, where the reader sees it."""
    for b in BLOCKS:
        if b.continues:
            assert b.previous is not None, b.name
        assert CONTINUES not in b.code.split("\n", 1)[-1], b.name


def test_continuation_runs_the_blocks_it_continues(tmp_path):
    """The mechanism itself, on a made-up document: a marked block gets the
    names of the blocks before it (through a chain), an unmarked one does
    not, and an error's line number is its line in the document."""
    text = ("# Doc\n\n```python\nx = 2\n```\n\ntext\n\n```python\n" + CONTINUES + "\ny = x * 3\n```\n\n"
            "```python\n" + CONTINUES + "\nassert (x, y) == (2, 6)\n```\n\n"
            "```python\nprint(x)\n```\n")
    doc = REPO / "docs" / "made-up.md"
    first, second, third, alone = parse(doc, text)
    assert [b.continues for b in (first, second, third, alone)] == [False, True, True, False]
    assert third.chain() == [first, second, third] and alone.chain() == [alone]
    for i, b in enumerate((first, second, third)):
        r = run_block(b, tmp_path / str(i))
        assert (r.returncode, r.stderr) == (0, "")
    r = run_block(alone, tmp_path / "alone")
    assert r.returncode == 1
    assert f'File "{tmp_path / "alone" / "example.py"}", line 20, in <module>' in r.stderr
    assert text.splitlines()[20 - 1] == "print(x)"
    assert r.stderr.endswith("NameError: name 'x' is not defined\n")


def test_feeds_manual_exists_and_has_examples():
    doc = REPO / "docs" / "feeds.md"
    assert doc.is_file()
    assert len(BLOCK.findall(doc.read_text())) >= 10
