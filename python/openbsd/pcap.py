"""Packet capture: live interfaces, capture files, savefile writing, BPF filters.

The legacy PyOpenBSD/PacketPy ``pcap`` API (``Live``, ``Offline``, ``Dead``,
``Dumper``, ``BPFProgram``, ``PcapError``, ``DLT_*``) implemented in Rust over
libpcap. See docs/feeds.md for the full contract.
"""

import socket
from typing import FrozenSet, List, NamedTuple, Optional

from openbsd import _native

from openbsd._native import (  # noqa: F401  (re-exports)
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


__all__ = [
    "Address", "BPFProgram", "Dead", "Dumper", "Feed", "Interface", "Live", "Offline", "PcapError",
    "findalldevs", "interfaces", "isPCapFile", "lookupdev",
] + [name for name in dir(_native) if name.startswith("DLT_")]
