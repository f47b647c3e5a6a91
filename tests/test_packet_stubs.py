"""The type stubs (python/openbsd/packet.pyi) against the runtime: the
contract says every field's type and option names are listed there, so
every stubbed property must exist on the class and return a value of the
stubbed type for every protocol object decoded from the test corpus (the
crafted packets of test_packet_oracle and the OpenBSD captures), and every
stubbed option table must be a dict of str -> int on the class."""

import types
import ast

import pytest

from openbsd import packet
from packet_helpers import CAPTURES, REPO, read_feed
from test_packet_oracle import CASES

STUB = REPO / "python" / "openbsd" / "packet.pyi"


def _stub_classes():
    tree = ast.parse(STUB.read_text())
    classes = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        props, tables = {}, []
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and any(
                    isinstance(d, ast.Name) and d.id == "property" for d in item.decorator_list):
                props[item.name] = item.returns
            elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                if "_Options" in ast.unparse(item.annotation):
                    tables.append(item.target.id)
        classes[node.name] = ([b.id for b in node.bases if isinstance(b, ast.Name)], props, tables)
    return classes


STUBS = _stub_classes()


def _all_props(name):
    bases, props, _ = STUBS.get(name, ([], {}, []))
    out = {}
    for b in bases:
        out.update(_all_props(b))
    out.update(props)
    return out


def _matches(value, ann):
    """isinstance against a stub annotation (int, str, bytes, Optional[X],
    List[X], Tuple[int, bytes], a protocol class name)."""
    src = ast.unparse(ann)
    if src.startswith("Optional["):
        return value is None or _matches(value, ann.slice)
    if src.startswith("List["):
        return isinstance(value, list) and all(_matches(v, ann.slice) for v in value)
    if src.startswith("Tuple["):
        elts = ann.slice.elts
        return (isinstance(value, tuple) and len(value) == len(elts)
                and all(_matches(v, e) for v, e in zip(value, elts)))
    simple = {"int": int, "str": str, "bytes": bytes, "bool": bool}
    if src in simple:
        if src == "int":
            return type(value) is int
        return isinstance(value, simple[src])
    cls = getattr(packet, src, None)
    if isinstance(cls, type):
        return isinstance(value, cls)
    raise AssertionError(f"unhandled annotation {src}")


def test_stub_lists_every_public_class():
    public = {n for n in dir(packet) if isinstance(getattr(packet, n), type) and not n.startswith("_")}
    assert public <= set(STUBS), sorted(public - set(STUBS))


@pytest.mark.parametrize("name", sorted(n for n in STUBS if not n.startswith("_")))
def test_stubbed_members_exist(name):
    cls = getattr(packet, name)
    for prop in _all_props(name):
        assert hasattr(cls, prop), f"{name}.{prop}"
    for base_name in [name] + STUBS[name][0]:
        for table in STUBS.get(base_name, ([], {}, []))[2]:
            t = getattr(cls, table)
            assert isinstance(t, packet.Options) and t
            assert all(isinstance(k, str) and type(v) is int for k, v in t.items()), table


def _corpus():
    for case in CASES:
        if case.klass:
            yield case.name, packet.Packet(getattr(packet, case.klass), case.data)
    d = CAPTURES / "openbsd"
    if d.is_dir():
        for f in sorted(d.rglob("*")):
            if f.is_file() and f.name != "README.md":
                for i, p in enumerate(read_feed(f)):
                    yield f"{f.name}#{i}", p


def test_field_values_have_the_stubbed_types():
    bad, checked = [], 0
    for label, p in _corpus():
        for proto in p.getProtoList():
            cls_name = type(proto).__name__
            for prop, ann in _all_props(cls_name).items():
                value = getattr(proto, prop)
                checked += 1
                if not _matches(value, ann):
                    bad.append(f"{label}: {cls_name}.{prop} = {value!r} is not {ast.unparse(ann)}")
            for opt in getattr(proto, "options", None) or []:
                if isinstance(opt, tuple):
                    continue
                for prop, ann in _all_props(type(opt).__name__).items():
                    value = getattr(opt, prop)
                    checked += 1
                    if not _matches(value, ann):
                        bad.append(f"{label}: {type(opt).__name__}.{prop} = {value!r}")
    assert checked > 2000
    assert bad == []


def test_module_protocol_options():
    assert packet.ProtocolOptions == packet.IP.ProtocolOptions == packet.IPv6.ProtocolOptions
    assert packet.ProtocolOptions["TCP"] == 6 and packet.ProtocolOptions["ICMP6"] == 58


def _stub_setters():
    """{class: {property: has a setter in the stub}} from packet.pyi."""
    tree = ast.parse(STUB.read_text())
    out = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        props = {}
        for item in node.body:
            if not isinstance(item, ast.FunctionDef):
                continue
            for d in item.decorator_list:
                if isinstance(d, ast.Name) and d.id == "property":
                    props.setdefault(item.name, False)
                elif isinstance(d, ast.Attribute) and d.attr == "setter":
                    props[item.name] = True
        out[node.name] = props
    return out


SETTERS = _stub_setters()


def _all_setters(name):
    bases = STUBS.get(name, ([], {}, []))[0]
    out = {}
    for b in bases:
        out.update(_all_setters(b))
    out.update(SETTERS.get(name, {}))
    return out


def test_stubbed_setters_match_the_runtime():
    """A property the stub gives a setter is settable at runtime (setting a
    field to the value it has leaves the packet's bytes as they are); one
    it gives none is read-only at runtime."""
    seen, bad = set(), []
    for label, p in _corpus():
        raw = p.getRaw()
        for proto in p.getProtoList():
            cls_name = type(proto).__name__
            if cls_name in seen:
                continue
            seen.add(cls_name)
            for prop, settable in _all_setters(cls_name).items():
                value = getattr(proto, prop)
                try:
                    setattr(proto, prop, value)
                except AttributeError:
                    if settable:
                        bad.append(f"{cls_name}.{prop}: stub has a setter, runtime has none")
                    continue
                except (ValueError, TypeError) as e:
                    bad.append(f"{label}: {cls_name}.{prop} = {value!r}: {e}")
                    continue
                if not settable:
                    bad.append(f"{cls_name}.{prop}: settable at runtime, not in the stub")
        if bytes(p) != raw and not bad:
            # Setting values read back may only normalise padding of option
            # lists; the fixed fields must come back identical.
            q = packet.Packet(type(p.getProtoList()[0]), bytes(p))
            assert [x.TYPE for x in q.getProtoList()] == [x.TYPE for x in p.getProtoList()], label
    assert len(seen) > 30
    assert bad == []
