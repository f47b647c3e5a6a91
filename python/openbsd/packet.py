"""Decoded packets: a stack of protocol objects looked up by name.

``Packet`` and every protocol class are implemented in Rust
(``openbsd._native``); this module re-exports them under the legacy names.
See docs/packet.md and the type stubs (``packet.pyi``).
"""

from openbsd import _native

_CLASSES = [
    "Packet", "Protocol",
    "Raw", "Ethernet", "VLAN", "Loopback", "SLL", "SLL2",
    "PF", "PFOld", "Enc",
    "IP", "IPv6", "IPv6HopByHopHeader", "IPv6RoutingHeader", "IPv6FragmentHeader",
    "IPv6DestinationOptionsHeader",
    "IPOptionEndOfList", "IPOptionNOP", "IPOptionSecurity", "IPOptionLooseSourceRouting",
    "IPOptionStrictSourceRouting", "IPOptionRecordRoute", "IPOptionStreamID",
    "IPOptionInternetTimestamp", "IPOption",
    "ICMP", "ICMPEchoReply", "ICMPDestinationUnreachable", "ICMPSourceQuench", "ICMPRedirect",
    "ICMPEchoRequest", "ICMPRouterAdvertisement", "ICMPRouterSolicitation", "ICMPTimeExceeded",
    "ICMPParameterProblem", "ICMPTimestampRequest", "ICMPTimestampReply",
    "ICMPInformationRequest", "ICMPInformationReply", "ICMPAddressMaskRequest",
    "ICMPAddressMaskReply",
    "ICMP6", "ICMP6DestinationUnreachable", "ICMP6PacketTooBig", "ICMP6TimeExceeded",
    "ICMP6ParameterProblem", "ICMP6EchoRequest", "ICMP6EchoReply",
    "ICMP6NeighbourSolicitation", "ICMP6NeighbourAdvertisement",
    "TCP", "UDP", "DHCP", "ARP", "AH", "ESP", "IGMP",
]

import collections.abc as _abc

from openbsd._optionlist import IPOptionList

class PacketPyError(Exception):
    """The legacy library's error class; kept for ``except`` clauses that
    name it. Nothing raises it (the legacy library did not either)."""


class DataBoundsError(Exception):
    """The legacy library's error class; kept for ``except`` clauses that
    name it. Nothing raises it."""


ProtocolOptions = _native.ProtocolOptions
createPacket = _native.createPacket
Options = _native.Options
# Option tables read like the legacy dicts: a Mapping (case-insensitive).
_abc.Mapping.register(Options)

__all__ = [name for name in _CLASSES if hasattr(_native, name)] + [
    "ProtocolOptions", "createPacket", "Options", "IPOptionList", "PacketPyError", "DataBoundsError"]

# The intermediate classes (shared fields of several subclasses).
_BASES = [
    "_PFBase", "_IPOptionRouting", "_ICMPIDSeqBase", "_ICMPTimestampBase", "_ICMPWithIPHdr",
    "_ICMP6Error", "_ICMP6EchoBase", "_ICMP6NeighbourBase",
]

globals().update({name: getattr(_native, name) for name in __all__ + _BASES if hasattr(_native, name)})
