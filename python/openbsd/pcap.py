"""Packet capture: live interfaces, capture files, savefile writing, BPF filters.

The legacy PyOpenBSD/PacketPy ``pcap`` API (``Live``, ``Offline``, ``Dead``,
``Dumper``, ``BPFProgram``, ``PcapError``, ``DLT_*``) implemented in Rust over
libpcap. See docs/feeds.md for the full contract.
"""

import socket
from typing import FrozenSet, List, NamedTuple, Optional

from openbsd import _native
from openbsd._tstamp import Timestamp

from openbsd._native import (  # noqa: F401  (re-exports)
    BatchStream,
    BPFProgram,
    Dead,
    Dumper,
    Feed,
    Live,
    Offline,
    PcapError,
    findalldevs,
    isPCapFile,
    lookupdev,
)

DLT_NULL: int = _native.DLT_NULL
DLT_EN10MB: int = _native.DLT_EN10MB
DLT_EN3MB: int = _native.DLT_EN3MB
DLT_AX25: int = _native.DLT_AX25
DLT_PRONET: int = _native.DLT_PRONET
DLT_CHAOS: int = _native.DLT_CHAOS
DLT_IEEE802: int = _native.DLT_IEEE802
DLT_ARCNET: int = _native.DLT_ARCNET
DLT_SLIP: int = _native.DLT_SLIP
DLT_PPP: int = _native.DLT_PPP
DLT_FDDI: int = _native.DLT_FDDI
DLT_ATM_RFC1483: int = _native.DLT_ATM_RFC1483
DLT_RAW: int = _native.DLT_RAW
DLT_SLIP_BSDOS: int = _native.DLT_SLIP_BSDOS
DLT_PPP_BSDOS: int = _native.DLT_PPP_BSDOS
DLT_LOOP: int = _native.DLT_LOOP
DLT_ENC: int = _native.DLT_ENC
DLT_IEEE802_11: int = _native.DLT_IEEE802_11
DLT_PFSYNC: int = _native.DLT_PFSYNC
DLT_PFLOG: int = _native.DLT_PFLOG
DLT_LINUX_SLL: int = _native.DLT_LINUX_SLL
DLT_LINUX_SLL2: int = _native.DLT_LINUX_SLL2
DLT_IPV4: int = _native.DLT_IPV4
DLT_IPV6: int = _native.DLT_IPV6



class Address(NamedTuple):
    """One address of an interface (``interfaces()``)."""

    family: socket.AddressFamily  # AF_INET or AF_INET6
    address: str
    netmask: Optional[str]
    broadcast: Optional[str]


class Interface(NamedTuple):
    """An interface libpcap can capture on (``interfaces()``)."""

    name: str
    description: Optional[str]
    addresses: List[Address]
    flags: FrozenSet[str]  # among "up", "running", "loopback", "wireless"


def interfaces() -> List[Interface]:
    """The interfaces that can be opened, with their description, IPv4 and
    IPv6 addresses and flags (``findalldevs()`` gives just the names)."""
    return [
        Interface(name, desc, [Address(socket.AddressFamily(fam), *rest) for fam, *rest in addrs],
                  frozenset(flags))
        for name, desc, addrs, flags in _native._interfaces()
    ]


class _DLTLookup:
    """Link type <-> first protocol class, both ways (the legacy
    ``DLTLookup``): ``DLTLookup[1]`` is ``packet.Ethernet`` and
    ``DLTLookup[packet.Ethernet]`` is 1. A link type the decoder does not
    know, or a class no link type starts with, is a ``KeyError``. Read-only.
    """

    # The link types whose first protocol does not depend on the data. (12
    # is OpenBSD's DLT_LOOP in files recorded there, Linux's DLT_RAW; a feed
    # decides by the data, this table says Loopback as the legacy one did.)
    _FORWARD = {
        _native.DLT_NULL: "Loopback", _native.DLT_EN10MB: "Ethernet", 12: "Loopback",
        13: "Enc", 17: "PFOld", _native.DLT_LOOP: "Loopback", _native.DLT_ENC: "Enc",
        _native.DLT_LINUX_SLL: "SLL", _native.DLT_PFLOG: "PF", _native.DLT_LINUX_SLL2: "SLL2",
    }

    def __getitem__(self, key):
        if isinstance(key, type):
            try:
                return _native._linktype_of(key)
            except (TypeError, ValueError):
                raise KeyError(key) from None
        if isinstance(key, int) and key in self._FORWARD:
            return getattr(_native, self._FORWARD[key])
        raise KeyError(key)

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key):
        return self.get(key) is not None

    def has_key(self, key):
        return key in self

    def keys(self):
        return list(self._FORWARD)

    def __iter__(self):
        return iter(self._FORWARD)

    def __len__(self):
        return len(self._FORWARD)

    def __repr__(self):
        return "DLTLookup({%s})" % ", ".join("%d: %s" % (k, v) for k, v in self._FORWARD.items())


DLTLookup = _DLTLookup()


class Interpreter:
    """Interpreter(dlt, callback, pclass=None): a feed callback that decodes.

    Called as ``interpreter(packet_bytes, (sec, usec), length)``, it calls
    ``callback(Packet(pclass, packet_bytes), Timestamp(sec, usec), length)``:
    what ``loop(cnt, callback, 1, pclass)`` hands out, for code that wraps
    callbacks itself (the legacy library's helper). ``pclass`` defaults to
    ``DLTLookup[dlt]``; an unknown link type raises ``PcapError``.
    """

    def __init__(self, dlt, callback, pclass=None):
        if not pclass:
            try:
                pclass = DLTLookup[dlt]
            except KeyError:
                raise PcapError("Unknown link layer type: %s" % (dlt,)) from None
        self.pclass = pclass
        self.callback = callback

    def __call__(self, pkt, tstamp, length):
        from openbsd.packet import Packet
        return self.callback(Packet(self.pclass, pkt), Timestamp(*tstamp), length)


__all__ = [
    "Address", "BatchStream", "BPFProgram", "Dead", "Dumper", "Feed", "Interface", "Live", "Offline", "PcapError",
    "findalldevs", "interfaces", "isPCapFile", "lookupdev", "Timestamp", "Interpreter", "DLTLookup",
] + [name for name in dir(_native) if name.startswith("DLT_")]
