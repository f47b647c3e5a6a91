"""The layout of src/ stays what docs/architecture.md says it is.

The Rust module graph is read from the sources (a module depends on another
when it names an item of it: `use crate::x::..`, `super::y::..`, a path
through a child it declares) and must have no cycle: a newcomer follows a
packet from the file to the callback one way. Each src folder and module is
named in docs/architecture.md, so the page cannot fall behind the code.
"""

import re

import pytest

from pcaptools import REPO

SRC = REPO / "src"
ARCH = REPO / "docs" / "architecture.md"

# Module cycles kept on purpose, each with its reason (see
# docs/architecture.md, "Cycles"): none.
KEPT_CYCLES = []


def module_name(path):
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    return "::".join(parts)


def modules():
    return {module_name(p): p for p in SRC.rglob("*.rs")}


def code_of(path):
    """The module's code without comments and without its tests."""
    text = path.read_text()
    cut = text.find("#[cfg(test)]")
    if cut >= 0:
        text = text[:cut]
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//.*", "", text)


def expand(prefix, s):
    """The paths named by a `use` tree such as `a::{b, c::{d, e}}`."""
    s = s.strip()
    if not s:
        return
    if s.startswith("{"):
        depth, start = 0, 1
        for i, ch in enumerate(s):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            if (ch == "," and depth == 1) or (ch == "}" and depth == 0):
                yield from expand(prefix, s[start:i])
                start = i + 1
        return
    head, sep, tail = s.partition("::")
    head = head.split(" as ")[0].strip()
    if sep:
        yield from expand(prefix + [head], tail)
    else:
        yield prefix + [head]


USE = re.compile(r"\buse\s+(crate|super|self)::([^;]*);")
PATH = re.compile(r"\b(crate|super|self)((?:::\w+)+)")


def dependencies(mods):
    edges = {}
    for name, path in mods.items():
        here = name.split("::") if name else []
        code = code_of(path)
        children = re.findall(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", code, re.M)
        body = re.sub(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*;", "", code, flags=re.M)
        deps = set()
        named = [(m.group(1), m.group(2)) for m in USE.finditer(body)]
        named += [(m.group(1), m.group(2)[2:]) for m in PATH.finditer(USE.sub("", body))]
        for start, tree in named:
            root = {"crate": [], "super": here[:-1], "self": here}[start]
            for p in expand(root, tree):
                for k in range(len(p), 0, -1):
                    cand = "::".join(p[:k])
                    if cand in mods:
                        deps.add(cand)
                        break
        for child in children:
            full = "::".join(here + [child])
            if full in mods and re.search(r"(?<![:\w])" + child + r"::", body):
                deps.add(full)
        deps.discard(name)
        edges[name] = deps
    return edges


def cycles(edges):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(out)


def test_the_graph_reader_sees_cycles(tmp_path, monkeypatch):
    """The checker itself: a cycle through `use super::..` and one through a
    parent using its child's items are found."""
    src = tmp_path / "src"
    (src / "a").mkdir(parents=True)
    (src / "lib.rs").write_text("mod a;\nmod b;\n")
    (src / "a" / "mod.rs").write_text("mod x;\npub fn f() { x::g() }\n")
    (src / "a" / "x.rs").write_text("use super::f;\npub fn g() {}\n")
    (src / "b.rs").write_text("use crate::a::{self, x::{g as h}};\n")
    monkeypatch.setattr(__import__(__name__), "SRC", src)
    mods = modules()
    edges = dependencies(mods)
    assert edges["b"] == {"a", "a::x"}
    assert cycles(edges) == [["a", "a::x"]]


def test_no_module_cycle():
    found = cycles(dependencies(modules()))
    assert found == KEPT_CYCLES


def test_sources_know_no_feed():
    """Record sources are below the feed: none names the feed, Python
    delivery or the feed classes."""
    edges = dependencies(modules())
    for name, deps in edges.items():
        if name.startswith("capture::source"):
            above = {d for d in deps if d.startswith(("capture::", "py::deliver")) and not d.startswith("capture::source")}
            assert not above, f"{name} depends on {sorted(above)}"


def test_io_is_below_capture_and_packet():
    edges = dependencies(modules())
    for name, deps in edges.items():
        if name == "io" or name.startswith("io::"):
            bad = {d for d in deps if d.startswith(("capture", "packet", "py::deliver"))}
            assert not bad, f"{name} depends on {sorted(bad)}"


@pytest.mark.parametrize("name", sorted(n for n in modules() if n))
def test_architecture_page_names_every_module(name):
    """docs/architecture.md names every module: its file, or for a folder's
    `mod.rs` the folder."""
    file = modules()[name]
    path = file.relative_to(REPO).as_posix()
    if file.name == "mod.rs":
        path = file.parent.relative_to(REPO).as_posix() + "/"
    assert path in ARCH.read_text(), f"docs/architecture.md does not mention {path}"
