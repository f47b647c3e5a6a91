//! The ICMP and ICMPv6 message types that have a class of their own
//! (`ICMPEchoRequest`, `ICMP6EchoReply`...): class names to type numbers and
//! back, for lookups by name, `isType`, the class names of layers and
//! `createPacket`. Below every protocol module (`icmp` and `icmp6` read the
//! tables from here).

/// ICMP for IPv4.
pub mod icmp {
    /// `ICMP.itype` options: the subclass names and their type numbers.
    pub const TYPES: &[(&str, u32)] = &[
        ("ICMPEchoReply", 0),
        ("ICMPDestinationUnreachable", 3),
        ("ICMPSourceQuench", 4),
        ("ICMPRedirect", 5),
        ("ICMPEchoRequest", 8),
        ("ICMPRouterAdvertisement", 9),
        ("ICMPRouterSolicitation", 10),
        ("ICMPTimeExceeded", 11),
        ("ICMPParameterProblem", 12),
        ("ICMPTimestampRequest", 13),
        ("ICMPTimestampReply", 14),
        ("ICMPInformationRequest", 15),
        ("ICMPInformationReply", 16),
        ("ICMPAddressMaskRequest", 17),
        ("ICMPAddressMaskReply", 18),
    ];

    pub fn subtype_name(t: u8) -> Option<&'static str> {
        TYPES.iter().find(|(_, v)| *v == t as u32).map(|(n, _)| *n)
    }

    pub fn is_subtype_name(n: &str) -> bool {
        TYPES.iter().any(|(k, _)| *k == n)
    }

    /// The message type of a subclass name, ASCII case-insensitively.
    pub fn subtype_by_name(n: &str) -> Option<u8> {
        TYPES.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).and_then(|(_, v)| u8::try_from(*v).ok())
    }
}

/// ICMPv6.
pub mod icmp6 {
    /// The message types with a class: class name, type, repr.
    pub(crate) const SUBTYPES: &[(&str, u8, &str)] = &[
        ("ICMP6DestinationUnreachable", 1, "ICMPv6 Destination Unreachable"),
        ("ICMP6PacketTooBig", 2, "ICMPv6 Packet Too Big"),
        ("ICMP6TimeExceeded", 3, "ICMPv6 Time Exceeded"),
        ("ICMP6ParameterProblem", 4, "ICMPv6 Parameter Problem"),
        ("ICMP6EchoRequest", 128, "ICMPv6 Echo Request"),
        ("ICMP6EchoReply", 129, "ICMPv6 Echo Reply"),
        ("ICMP6NeighbourSolicitation", 135, "ICMPv6 Neighbour Solicitation"),
        ("ICMP6NeighbourAdvertisement", 136, "ICMPv6 Neighbour Advertisement"),
    ];

    pub fn subtype_name(t: u8) -> Option<&'static str> {
        SUBTYPES.iter().find(|s| s.1 == t).map(|s| s.0)
    }

    pub fn is_subtype_name(n: &str) -> bool {
        SUBTYPES.iter().any(|s| s.0 == n)
    }

    /// The message type of a subclass name, ASCII case-insensitively.
    pub fn subtype_by_name(n: &str) -> Option<u8> {
        SUBTYPES.iter().find(|s| s.0.eq_ignore_ascii_case(n)).map(|s| s.1)
    }
}
