"""Type stubs for openbsd.pcap."""

import os
import socket
from types import TracebackType
from typing import AsyncIterator, Callable, FrozenSet, Iterator, List, Literal, NamedTuple, Optional, Tuple, TypeVar, Union, overload

from openbsd.packet import Packet

_Path = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
_Bytes = Union[bytes, bytearray, memoryview, Packet]
_TStamp = Tuple[int, int]

# What `interpret=` says about the packet a read hands out. Omitted, 0, False
# or None: the raw frame as `bytes`; 1 or True: a decoded `Packet`; a `bool`
# only known when the code runs: either, so the callback must take both.
# (An `int` variable is refused: write bool(n). Accepting `int` there would
# make mypy answer a bytes callback given with interpret=1 by asking for a
# callback of `bytes | Packet` rather than listing the three forms.)
# The overloads are written in this order (raw, decoded, unknown) with one
# alias per case; a new keyword that changes the decoded type (a packet
# class, say) adds a parameter to the decoded and unknown overloads and a
# TypeVar to their aliases.
_Raw = Literal[0, False, None]
_Decoded = Literal[1, True]
_RawTStamp = _TStamp
_DecodedTStamp = _TStamp
_RawCallback = Callable[[bytes, _RawTStamp, int], object]
_DecodedCallback = Callable[[Packet, _DecodedTStamp, int], object]
_AnyCallback = Callable[[Union[bytes, Packet], _TStamp, int], object]
_RawRecord = Tuple[bytes, _RawTStamp, int]
_DecodedRecord = Tuple[Packet, _DecodedTStamp, int]
_AnyRecord = Union[_RawRecord, _DecodedRecord]
_F = TypeVar("_F", bound="Feed")

class PcapError(OSError): ...

class Feed:
    @property
    def closed(self) -> bool: ...
    @overload
    def dispatch(self, cnt: int, callback: _RawCallback, interpret: _Raw = ...) -> int: ...
    @overload
    def dispatch(self, cnt: int, callback: _DecodedCallback, interpret: _Decoded) -> int: ...
    @overload
    def dispatch(self, cnt: int, callback: _AnyCallback, interpret: bool) -> int: ...
    @overload
    def loop(self, cnt: int, callback: _RawCallback, interpret: _Raw = ...) -> int: ...
    @overload
    def loop(self, cnt: int, callback: _DecodedCallback, interpret: _Decoded) -> int: ...
    @overload
    def loop(self, cnt: int, callback: _AnyCallback, interpret: bool) -> int: ...
    @overload
    def next(self, interpret: _Raw = ...) -> Optional[_RawRecord]: ...
    @overload
    def next(self, interpret: _Decoded) -> Optional[_DecodedRecord]: ...
    @overload
    def next(self, interpret: bool) -> Optional[_AnyRecord]: ...
    def __iter__(self) -> Iterator[_RawRecord]: ...
    def __next__(self) -> _RawRecord: ...
    def inject(self, packet: _Bytes) -> int: ...
    def datalink(self) -> int: ...
    def snapshot(self) -> int: ...
    def filter(self, filterstr: Union[str, "BPFProgram"]) -> None: ...
    def stats(self) -> dict[str, int]: ...
    def breakloop(self) -> None: ...
    def close(self) -> None: ...
    def __enter__(self: "_F") -> "_F": ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> Literal[False]: ...

class Live(Feed):
    interface: str
    snaplen: int
    promisc: int
    timeout: int
    def __init__(
        self,
        interface: Optional[str] = None,
        snaplen: int = 96,
        promisc: int = 1,
        timeout: int = 1000,
        *,
        immediate: bool = False,
        buffer_size: Optional[int] = None,
        precision: Literal["micro", "nano"] = "micro",
        tstamp_type: Optional[str] = None,
        rfmon: bool = False,
    ) -> None: ...
    def lookupnet(self) -> Tuple[int, int]: ...
    def setdirection(self, direction: Literal["in", "out", "inout"]) -> None: ...
    def setnonblock(self, nonblock: bool) -> None: ...
    def getnonblock(self) -> bool: ...
    def fileno(self) -> int: ...
    @property
    def precision(self) -> Literal["micro", "nano"]: ...
    @overload
    def aiter(self, interpret: _Raw = ...) -> AsyncIterator[_RawRecord]: ...
    @overload
    def aiter(self, interpret: _Decoded) -> AsyncIterator[_DecodedRecord]: ...
    @overload
    def aiter(self, interpret: bool) -> AsyncIterator[_AnyRecord]: ...

class Offline(Feed):
    filename: _Path
    def __init__(self, filename: _Path, *, precision: Literal["micro", "nano"] = "micro") -> None: ...
    @property
    def precision(self) -> Literal["micro", "nano"]: ...
    def lookupnet(self) -> Tuple[int, int]: ...
    def is_swapped(self) -> bool: ...
    def version(self) -> Tuple[int, int]: ...
    def fileno(self) -> int: ...
    def __int__(self) -> int: ...
    def ftell(self) -> int: ...

class Dead(Feed):
    def __init__(
        self, linktype: int, snaplen: int = 1500, *, precision: Literal["micro", "nano"] = "micro"
    ) -> None: ...

class Dumper:
    filename: _Path
    @property
    def closed(self) -> bool: ...
    def __init__(self, feed: Feed, filename: _Path, *, format: Literal["pcap", "pcapng"] = "pcap") -> None: ...
    def __call__(
        self, packet: _Bytes, tstamp: _TStamp, length: int, comment: Optional[str] = None
    ) -> None: ...
    def ftell(self) -> int: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> "Dumper": ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> Literal[False]: ...

class BPFProgram:
    @property
    def filterstr(self) -> str: ...
    @property
    def linktype(self) -> int: ...
    def __init__(self, feed: Feed, filterstr: str, optimise: int = 1) -> None: ...
    def instructions(self) -> list[Tuple[int, int, int, int]]: ...
    def matches(self, packet: _Bytes, length: Optional[int] = None) -> bool: ...
    def __len__(self) -> int: ...

def isPCapFile(path: _Path) -> bool:
    """True when `path` is a regular file that opens as a capture file (pcap
    or pcapng); False otherwise, without raising. FIFOs and devices are not
    read and give False."""
    ...
def lookupdev() -> str: ...
def findalldevs() -> list[str]: ...

class Address(NamedTuple):
    family: socket.AddressFamily
    address: str
    netmask: Optional[str]
    broadcast: Optional[str]

class Interface(NamedTuple):
    name: str
    description: Optional[str]
    addresses: List[Address]
    flags: FrozenSet[str]

def interfaces() -> List[Interface]: ...

DLT_NULL: int
DLT_EN10MB: int
DLT_EN3MB: int
DLT_AX25: int
DLT_PRONET: int
DLT_CHAOS: int
DLT_IEEE802: int
DLT_ARCNET: int
DLT_SLIP: int
DLT_PPP: int
DLT_FDDI: int
DLT_ATM_RFC1483: int
DLT_RAW: int
DLT_SLIP_BSDOS: int
DLT_PPP_BSDOS: int
DLT_LOOP: int
DLT_ENC: int
DLT_IEEE802_11: int
DLT_PFSYNC: int
DLT_PFLOG: int
DLT_LINUX_SLL: int
DLT_LINUX_SLL2: int
DLT_IPV4: int
DLT_IPV6: int
