"""Reading capture files in parts: byte ranges of classic pcap and pcapng
files, each read on its own (by another process or machine), whose records
together are exactly those of reading the whole file in order.

A part is ``(path, byte_start, byte_end)``. Its records are those from the
*split point* of ``byte_start`` to the split point of ``byte_end``: the
record boundary found from the bytes after the offset alone (candidate
record headers whose chains of following headers agree), so the two parts
that meet at an offset find the same boundary. Where the bytes leave a
doubt (two chains that never meet, as in a capture of a capture-file
download), there is no split there: that part is empty and the part before
it reads on to the next offset of the plan. A part that does not land
exactly on its end split point raises :class:`PcapError` naming the file:
the answer is the sequential read, or an error, never a silent difference.

Paths are local paths or fsspec URLs (``file://``, ``memory://``,
``s3://`` ...; fsspec is needed only for URLs). A part reads its byte range,
plus what finding the split points needs (about three of the file's
largest records past each end), a few MiB at a time.

The plan's parts must be consecutive ranges of one size (the last one
shorter), as :func:`plan` makes them: the step is how a part whose end is in
doubt finds the next offset to try. See docs/distributed.md.
"""

from __future__ import annotations

import glob as _glob
import os
import re
from typing import Any, Callable, Iterable, List, NamedTuple, Optional, Tuple, Union

from openbsd import _native  # type: ignore[attr-defined]
from openbsd.pcap import PcapError

__all__ = ["Part", "PartBatches", "plan", "parse_size", "read_part", "read_part_records", "split_points",
           "DEFAULT_PARTITION_SIZE"]



class PartBatches:
    """The records of one part as Arrow record batches, made by
    :func:`read_part`. Implements the Arrow PyCapsule stream interface
    (``__arrow_c_stream__``): pass it to ``pyarrow.table()``,
    ``polars.DataFrame()`` or DuckDB. It can be consumed once."""

    __slots__ = ("_stream", "name", "rows", "columns")

    def __init__(self, name: str, stream: Any, rows: int, columns: List[str]):
        self._stream = stream
        self.name = name
        #: Rows in all batches.
        self.rows = rows
        #: The column names, in order.
        self.columns = columns

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """The batches as an ``arrow_array_stream`` PyCapsule, once (a second
        call raises ``PcapError``). ``requested_schema`` is ignored."""
        stream, self._stream = self._stream, None
        if stream is None:
            raise PcapError(f"{self.name}: these part batches were already consumed")
        return stream

    def __repr__(self) -> str:
        return f"<PartBatches of {self.name!r}: {self.rows} rows, {len(self.columns)} columns>"

DEFAULT_PARTITION_SIZE = 256 * 2**20
_HEAD = 64 * 1024

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
          "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def parse_size(size: Union[int, str]) -> int:
    """Bytes in ``size``: an int, or a string such as ``"256MiB"``,
    ``"1GB"``, ``"64k"`` (k, m, g, t are powers of 1024)."""
    if isinstance(size, bool):
        raise TypeError("partition size must be an int or a string like '256MiB', not bool")
    if isinstance(size, int):
        n = size
    elif isinstance(size, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", size)
        if not m or m.group(2).lower() not in _UNITS:
            raise ValueError(f"bad size {size!r}: use bytes or a number with KiB, MiB, GiB, KB, MB, GB")
        n = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    else:
        raise TypeError(f"partition size must be an int or a string like '256MiB', not {type(size).__name__}")
    if n <= 0:
        raise ValueError(f"partition size must be positive, not {size!r}")
    return n


def _is_url(path: str) -> bool:
    return "://" in path


class _File:
    """A file's size and byte ranges: a local file read with ``pread``, or an
    fsspec object read with ``cat_file``."""

    def __init__(self, path: Union[str, "os.PathLike[str]"]):
        path = os.fspath(path)
        self.name = path
        if _is_url(path):
            import fsspec  # type: ignore[import-untyped,unused-ignore]  # only URLs need it

            self._fs, self._path = fsspec.core.url_to_fs(path)
            try:
                info = self._fs.info(self._path)
            except FileNotFoundError as e:
                raise PcapError(f"{path}: No such file or directory") from e
            self.size = int(info["size"])
            self.token = str(info.get("ETag") or info.get("etag") or info.get("mtime") or info.get("created") or "")
            self._fd = None
        else:
            try:
                self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            except OSError as e:
                raise PcapError(e.errno, f"{path}: {e.strerror}") from e
            st = os.fstat(self._fd)
            self.size = st.st_size
            self.token = f"{st.st_dev}:{st.st_ino}:{st.st_mtime_ns}"

    def source(self) -> Any:
        """What the native reader reads the part from: the local path
        (read there in chunks), or this file's ``read``."""
        return self.name if self._fd is not None else self.read

    def read(self, start: int, end: int) -> bytes:
        end = min(end, self.size)
        if end <= start:
            return b""
        if self._fd is None:
            data = self._fs.cat_file(self._path, start=start, end=end)
        else:
            chunks = []
            off = start
            while off < end:
                b = os.pread(self._fd, end - off, off)
                if not b:
                    break
                chunks.append(b)
                off += len(b)
            data = b"".join(chunks)
        if len(data) != end - start:
            raise PcapError(f"{self.name}: read {len(data)} bytes at offset {start}, expected {end - start} "
                            "(the file changed while it was read?)")
        return bytes(data)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "_File":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class _Format(NamedTuple):
    head: bytes
    kind: str
    header_end: int
    lookahead: int
    linktype: int
    snapshot: int


def _format(f: _File) -> _Format:
    head = f.read(0, _HEAD)
    while True:
        r = _native._part_format(f.name, head, f.size)
        if isinstance(r, int):
            if r <= len(head):
                raise PcapError(f"{f.name}: cannot read the file's header region")
            head = f.read(0, max(r, 2 * len(head)))
            continue
        return _Format(head, *r)


def _split(f: _File, fmt: _Format, offset: int) -> Optional[int]:
    """The split point of ``offset``, from the bytes after it alone."""
    data = f.read(offset, offset + fmt.lookahead)
    got: Optional[int] = _native._split_point(f.name, fmt.head, data, offset, offset, f.size)
    return got


def _bounds(f: _File, fmt: _Format, start: int, end: int) -> Optional[Tuple[int, int]]:
    """The split points ``(s, e)`` of the part ``start..end``, or ``None``:
    the part is empty (its start in doubt)."""
    size = f.size
    end = min(end, size)
    if not 0 <= start <= end:
        raise ValueError(f"bad part {start}..{end} of {f.name} ({size} bytes)")
    step = end - start
    s = _split(f, fmt, start)
    if s is None:
        return None
    b = end
    while b < size:
        e = _split(f, fmt, b)
        if e is not None:
            return s, e
        if step <= 0:
            break
        b += step  # in doubt: the next offset of the plan
    return s, size


def split_points(path: Union[str, "os.PathLike[str]"], byte_start: int, byte_end: int) -> Optional[Tuple[int, int]]:
    """The record offsets ``(first, end)`` the part ``byte_start..byte_end``
    of ``path`` reads between, or ``None`` when the part is empty (its start
    in doubt: the part before reads on)."""
    with _File(path) as f:
        return _bounds(f, _format(f), byte_start, byte_end)


def read_part_records(
    path: Union[str, "os.PathLike[str]"],
    byte_start: int,
    byte_end: int,
    callback: Callable[[bytes, Tuple[int, int], int], Any],
    filter: Optional[str] = None,
    precision: str = "micro",
) -> int:
    """Calls ``callback(packet, (sec, usec), length)``, as ``Offline.loop``
    does, for each record of the part ``byte_start..byte_end`` of ``path``
    that passes the BPF ``filter``; returns how many were delivered.
    ``precision="nano"``: time stamps ``(sec, nsec)``, as
    ``Offline(path, precision="nano")`` gives them."""
    with _File(path) as f:
        fmt = _format(f)
        b = _bounds(f, fmt, byte_start, byte_end)
        if b is None:
            return 0
        s, e = b
        count: int = _native._read_part(f.name, fmt.head, f.source(), 0, s, e, f.size, callback, filter,
                                        precision=precision, token=f.token)
        return count


def read_part(
    path: Union[str, "os.PathLike[str]"],
    byte_start: int,
    byte_end: int,
    columns: Optional[List[str]] = None,
    filter: Optional[str] = None,
    batch_size: int = 65536,
    precision: str = "micro",
) -> "PartBatches":
    """The records of the part ``byte_start..byte_end`` of ``path`` that pass
    the BPF ``filter``, decoded into the table ``columns`` (those of
    ``feed.batches()``, docs/tables.md; ``None``: the default set for the
    file's link type), as Arrow record batches of ``batch_size`` rows.

    The result implements the Arrow PyCapsule stream interface
    (``pyarrow.table(x)``, ``polars.DataFrame(x)``, DuckDB) and can be
    consumed once. The function and its arguments pickle, so any engine
    can run it on a worker: this is the entry point of
    :func:`openbsd.dask.read_pcap`, and of Ray Data or Spark readers
    (docs/distributed.md).

    ``precision="nano"``: the ``ts`` column in nanoseconds as
    ``Offline(path, precision="nano")`` reads them (else microseconds,
    shown as ``timestamp[ns]`` all the same). The part holds a few MiB of
    the file at a time (a 4 MiB chunk, or one record when longer), not its
    whole byte range."""
    with _File(path) as f:
        fmt = _format(f)
        b = _bounds(f, fmt, byte_start, byte_end)
        s, e = b if b is not None else (byte_start, byte_start)
        stream, rows, names = _native._read_part(f.name, fmt.head, f.source(), 0, s, e, f.size,
                                                 None, filter, columns, batch_size, precision, f.token)
        return PartBatches(f.name, stream, rows, names)


class Part(NamedTuple):
    """One part of one capture file: the records between the split points
    of ``start`` and ``end``."""

    path: str
    start: int
    end: int


def _expand(paths: Union[str, "os.PathLike[str]", Iterable[Union[str, "os.PathLike[str]"]]]) -> List[str]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: List[str] = []
    for p in paths:
        p = os.fspath(p)
        if not any(c in p for c in "*?["):
            out.append(p)
            continue
        if _is_url(p):
            import fsspec  # type: ignore[import-untyped,unused-ignore]

            fs, pattern = fsspec.core.url_to_fs(p)
            proto = p.split("://", 1)[0]
            found = [f"{proto}://{m}" if not m.startswith(proto) else m for m in sorted(fs.glob(pattern))]
        else:
            found = sorted(_glob.glob(p))
        if not found:
            raise PcapError(f"{p}: no file matches")
        out.extend(found)
    if not out:
        raise ValueError("no capture files given")
    return out


def _size(path: str) -> int:
    if _is_url(path):
        import fsspec

        fs, p = fsspec.core.url_to_fs(path)
        try:
            return int(fs.size(p))
        except FileNotFoundError as e:
            raise PcapError(f"{path}: No such file or directory") from e
    try:
        return os.stat(path).st_size
    except OSError as e:
        raise PcapError(e.errno, f"{path}: {e.strerror}") from e


def plan(
    paths: Union[str, "os.PathLike[str]", Iterable[Union[str, "os.PathLike[str]"]]],
    partition_size: Union[int, str, None] = DEFAULT_PARTITION_SIZE,
) -> List[Part]:
    """The parts of the files ``paths`` (paths, fsspec URLs or glob
    patterns of them): each file cut into consecutive ranges of
    ``partition_size`` bytes (``None``: one part per file). Only file sizes
    are read here; the split points are found by the parts."""
    step = None if partition_size is None else parse_size(partition_size)
    parts: List[Part] = []
    for p in _expand(paths):
        size = _size(p)
        if step is None or size <= step:
            parts.append(Part(p, 0, size))
            continue
        parts.extend(Part(p, a, min(a + step, size)) for a in range(0, size, step))
    return parts
