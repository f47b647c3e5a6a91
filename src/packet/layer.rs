//! Locating the layers of a packet: one pass over the bytes that records, for
//! every protocol of the stack, its kind, where its header starts, how long
//! the header is and where its payload ends. No field is decoded here beyond
//! what is needed to find the next layer.
//!
//! Rules (the contract's "Pinned details"): a header that does not fit in the
//! bytes its parent gives it ends the stack; lengths pointing past the data
//! are clamped; IP-carried payloads are bounded by the IP length fields.

use etherparse::{
    ArpPacketSlice, Ethernet2HeaderSlice, IpAuthHeaderSlice, Ipv4HeaderSlice, Ipv6FragmentHeaderSlice, Ipv6HeaderSlice,
    Ipv6RawExtHeaderSlice, SingleVlanHeaderSlice, TcpHeaderSlice, UdpHeaderSlice,
};

/// Every protocol the decoder knows. ICMP and ICMP6 subtypes share one kind:
/// the subtype is read from the type byte when it matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum Kind {
    #[default]
    Raw,
    Ethernet,
    Vlan,
    Loopback,
    Sll,
    Sll2,
    Pf,
    PfOld,
    Enc,
    Ip,
    Ipv6,
    Ipv6HopByHop,
    Ipv6Routing,
    Ipv6Fragment,
    Ipv6DestOpts,
    Icmp,
    Icmp6,
    Tcp,
    Udp,
    Dhcp,
    Arp,
    Ah,
    Esp,
    Igmp,
}

/// One located protocol: header at `off..off + hlen`, payload at
/// `off + hlen..end`. Always `off + hlen <= end <= data.len()`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Layer {
    pub kind: Kind,
    pub off: u32,
    pub hlen: u32,
    pub end: u32,
}

impl Layer {
    pub fn hdr_start(&self) -> usize {
        self.off as usize
    }
    pub fn payload_start(&self) -> usize {
        self.off as usize + self.hlen as usize
    }
    pub fn end(&self) -> usize {
        self.end as usize
    }
}

/// The most layers one packet records; deeper stacks (long chains of IPv6
/// extension headers, tunnels in tunnels) stop there.
pub const MAX_LAYERS: usize = 12;

/// The located stack: a fixed array, no allocation.
#[derive(Clone, Copy, Debug, Default)]
pub struct Layers {
    items: [Layer; MAX_LAYERS],
    len: u8,
}

impl Layers {
    pub fn as_slice(&self) -> &[Layer] {
        &self.items[..self.len as usize]
    }
    pub fn len(&self) -> usize {
        self.len as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn get(&self, i: usize) -> Option<&Layer> {
        self.as_slice().get(i)
    }
    fn push(&mut self, l: Layer) -> bool {
        match self.items.get_mut(self.len as usize) {
            Some(slot) => {
                *slot = l;
                self.len += 1;
                true
            }
            None => false,
        }
    }
    pub fn kinds(&self) -> impl Iterator<Item = Kind> + '_ {
        self.as_slice().iter().map(|l| l.kind)
    }
}

// DLT numbers (as this platform or the capturing platform reports them).
const DLT_NULL: i32 = 0;
const DLT_EN10MB: i32 = 1;
const DLT_RAW_12: i32 = 12; // Linux DLT_RAW, OpenBSD DLT_LOOP
const DLT_13: i32 = 13; // OpenBSD DLT_ENC
const DLT_RAW_14: i32 = 14; // OpenBSD DLT_RAW
const DLT_OLD_PFLOG: i32 = 17;
const DLT_RAW_101: i32 = 101;
const DLT_LOOP: i32 = 108;
const DLT_ENC: i32 = 109;
const DLT_LINUX_SLL: i32 = 113;
const DLT_PFLOG: i32 = 117;
const DLT_IPV4: i32 = 228;
const DLT_IPV6: i32 = 229;
const DLT_LINUX_SLL2: i32 = 276;

/// The first protocol of a packet read with link type `dlt`, looking at the
/// data where the number is ambiguous (12 is raw IP on Linux, loop on
/// OpenBSD).
pub fn first_kind(dlt: i32, data: &[u8]) -> Kind {
    match dlt {
        DLT_EN10MB => Kind::Ethernet,
        DLT_NULL | DLT_LOOP => Kind::Loopback,
        DLT_RAW_12 => match ip_version(data) {
            Some(k) => k,
            None => Kind::Loopback,
        },
        DLT_RAW_14 | DLT_RAW_101 | DLT_IPV4 | DLT_IPV6 => ip_version(data).unwrap_or(Kind::Raw),
        DLT_13 | DLT_ENC => Kind::Enc,
        DLT_OLD_PFLOG => Kind::PfOld,
        DLT_PFLOG => Kind::Pf,
        DLT_LINUX_SLL => Kind::Sll,
        DLT_LINUX_SLL2 => Kind::Sll2,
        _ => Kind::Raw,
    }
}

fn ip_version(data: &[u8]) -> Option<Kind> {
    match data.first().map(|b| b >> 4) {
        Some(4) => Some(Kind::Ip),
        Some(6) => Some(Kind::Ipv6),
        _ => None,
    }
}

/// Locates every layer of `data`, starting with protocol `first`.
pub fn locate(data: &[u8], first: Kind) -> Layers {
    let mut layers = Layers::default();
    locate_into(&mut layers, data, first);
    layers
}

/// [`locate`] into an existing `Layers` (of a packet decoded into again),
/// without building and copying a new one.
#[inline]
pub fn locate_into(layers: &mut Layers, data: &[u8], first: Kind) {
    layers.len = 0;
    locate_each(data, first, |layer| layers.push(layer));
}

/// Locates the layers of `data` as [`locate_into`] does, handing each to
/// `found` in order, outermost first, until `found` returns false (the
/// table builder reads them as they come, without a stack).
#[inline(always)]
pub fn locate_each(data: &[u8], first: Kind, mut found: impl FnMut(Layer) -> bool) {
    let mut next = Some(first);
    let mut off = 0usize;
    let mut bound = data.len();
    let mut n = 0;
    while let Some(kind) = next {
        let Some(s) = data.get(off..bound) else { break };
        let Some(step) = step(kind, s) else { break };
        // `step` guarantees hlen <= end <= s.len().
        let layer = Layer { kind, off: off as u32, hlen: step.hlen as u32, end: (off + step.end) as u32 };
        if n == MAX_LAYERS || !found(layer) {
            break;
        }
        n += 1;
        // The next layer lives in this one's payload.
        bound = off + step.end;
        off += step.hlen;
        next = step.next;
    }
}

/// What one layer occupies of the bytes its parent gave it.
struct Step {
    hlen: usize,
    /// End of this layer's payload, relative to its start.
    end: usize,
    next: Option<Kind>,
}

fn be16(s: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*s.get(i)?, *s.get(i + 1)?]))
}

fn be32(s: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_be_bytes([*s.get(i)?, *s.get(i + 1)?, *s.get(i + 2)?, *s.get(i + 3)?]))
}

/// The protocol an EtherType announces.
pub fn by_ethertype(t: u16) -> Option<Kind> {
    match t {
        0x0800 => Some(Kind::Ip),
        0x86DD => Some(Kind::Ipv6),
        0x0806 | 0x8035 => Some(Kind::Arp),
        0x8100 | 0x88A8 | 0x9100 => Some(Kind::Vlan),
        _ => None,
    }
}

/// The protocol an IP protocol / IPv6 next-header number announces.
pub fn by_ip_proto(p: u8, v6: bool) -> Option<Kind> {
    match p {
        0 if v6 => Some(Kind::Ipv6HopByHop),
        1 => Some(Kind::Icmp),
        2 => Some(Kind::Igmp),
        4 => Some(Kind::Ip),
        6 => Some(Kind::Tcp),
        17 => Some(Kind::Udp),
        41 => Some(Kind::Ipv6),
        43 if v6 => Some(Kind::Ipv6Routing),
        44 if v6 => Some(Kind::Ipv6Fragment),
        50 => Some(Kind::Esp),
        51 => Some(Kind::Ah),
        58 => Some(Kind::Icmp6),
        60 if v6 => Some(Kind::Ipv6DestOpts),
        _ => None,
    }
}

/// The protocol a BSD address family announces (loop, pflog).
pub fn by_address_family(af: u32) -> Option<Kind> {
    match af {
        2 => Some(Kind::Ip),
        // AF_INET6 is 24 on OpenBSD/NetBSD, 28 on FreeBSD, 30 on macOS.
        24 | 28 | 30 => Some(Kind::Ipv6),
        _ => None,
    }
}

/// A loop/null header's address family, stored in either byte order: the
/// smaller reading is the real one (families are small numbers).
pub fn loop_family(s: &[u8]) -> u32 {
    match s.get(..4) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]).min(u32::from_le_bytes([a, b, c, d])),
        _ => 0,
    }
}

/// Header length of an ICMP message of type `t` (the fixed part the
/// contract's fields cover).
pub fn icmp_header_len(t: u8) -> usize {
    match t {
        13 | 14 => 20,
        17 | 18 => 12,
        _ => 8,
    }
}

/// Header length of an ICMPv6 message of type `t`.
pub fn icmp6_header_len(t: u8) -> usize {
    match t {
        135 | 136 => 24,
        _ => 8,
    }
}

/// Header length of an OpenBSD pflog header whose length byte is `l`
/// (`BPF_WORDALIGN(length)`); the header is at least the 48 bytes of the
/// classic layout.
pub fn pf_header_len(l: u8) -> usize {
    ((l as usize) + 3) & !3
}

pub const PF_MIN_LEN: usize = 48;
pub const PFOLD_LEN: usize = 28;
pub const ENC_LEN: usize = 12;
pub const DHCP_LEN: usize = 240;

fn step(kind: Kind, s: &[u8]) -> Option<Step> {
    let all = s.len();
    let fixed =
        |hlen: usize, next: Option<Kind>| -> Option<Step> { (all >= hlen).then_some(Step { hlen, end: all, next }) };
    match kind {
        Kind::Raw => Some(Step { hlen: 0, end: all, next: None }),
        Kind::Ethernet => {
            let h = Ethernet2HeaderSlice::from_slice(s).ok()?;
            Some(Step { hlen: h.slice().len(), end: all, next: by_ethertype(h.ether_type().0) })
        }
        Kind::Vlan => {
            let h = SingleVlanHeaderSlice::from_slice(s).ok()?;
            Some(Step { hlen: h.slice().len(), end: all, next: by_ethertype(h.ether_type().0) })
        }
        Kind::Loopback => fixed(4, by_address_family(loop_family(s))),
        // Our own reading of the cooked headers: etherparse's rejects
        // hardware types it does not know (PPP, for one), which real
        // `tcpdump -i any` captures carry.
        Kind::Sll => fixed(16, be16(s, 14).and_then(by_ethertype)),
        Kind::Sll2 => fixed(20, be16(s, 0).and_then(by_ethertype)),
        Kind::Pf => {
            let hlen = pf_header_len(*s.first()?);
            if hlen < PF_MIN_LEN {
                return None;
            }
            fixed(hlen, s.get(1).and_then(|&af| by_address_family(af as u32)))
        }
        Kind::PfOld => fixed(PFOLD_LEN, be32(s, 0).and_then(by_address_family)),
        Kind::Enc => fixed(ENC_LEN, s.get(ENC_LEN..).and_then(ip_version)),
        Kind::Ip => {
            let h = Ipv4HeaderSlice::from_slice(s).ok()?;
            let hlen = h.slice().len();
            let total = h.total_len() as usize;
            // A zero total length is what TSO-offloaded captures carry: the
            // captured data is all there is.
            let end = if total == 0 { all } else { total.clamp(hlen, all) };
            let next = if h.fragments_offset().value() == 0 { by_ip_proto(h.protocol().0, false) } else { None };
            Some(Step { hlen, end, next })
        }
        Kind::Ipv6 => {
            let h = Ipv6HeaderSlice::from_slice(s).ok()?;
            let plen = h.payload_length() as usize;
            let end = if plen == 0 { all } else { (40 + plen).min(all) };
            Some(Step { hlen: 40, end, next: by_ip_proto(h.next_header().0, true) })
        }
        Kind::Ipv6HopByHop | Kind::Ipv6Routing | Kind::Ipv6DestOpts => {
            let h = Ipv6RawExtHeaderSlice::from_slice(s).ok()?;
            Some(Step { hlen: h.slice().len(), end: all, next: by_ip_proto(h.next_header().0, true) })
        }
        Kind::Ipv6Fragment => {
            let h = Ipv6FragmentHeaderSlice::from_slice(s).ok()?;
            let next = if h.fragment_offset().value() == 0 { by_ip_proto(h.next_header().0, true) } else { None };
            Some(Step { hlen: h.slice().len(), end: all, next })
        }
        Kind::Ah => {
            let h = IpAuthHeaderSlice::from_slice(s).ok()?;
            Some(Step { hlen: h.slice().len(), end: all, next: by_ip_proto(h.next_header().0, true) })
        }
        Kind::Esp => fixed(8, None),
        Kind::Tcp => {
            let h = TcpHeaderSlice::from_slice(s).ok()?;
            Some(Step { hlen: h.slice().len(), end: all, next: None })
        }
        Kind::Udp => {
            let h = UdpHeaderSlice::from_slice(s).ok()?;
            let ulen = h.length() as usize;
            let end = if ulen >= 8 { ulen.min(all) } else { all };
            let (sp, dp) = (h.source_port(), h.destination_port());
            let dhcp = matches!(sp, 67 | 68) || matches!(dp, 67 | 68);
            let next = (dhcp && end >= 8 + DHCP_LEN).then_some(Kind::Dhcp);
            Some(Step { hlen: 8, end, next })
        }
        Kind::Dhcp => fixed(DHCP_LEN, None),
        Kind::Icmp => fixed(icmp_header_len(*s.first()?), None),
        Kind::Icmp6 => fixed(icmp6_header_len(*s.first()?), None),
        Kind::Arp => {
            let h = ArpPacketSlice::from_slice(s).ok()?;
            fixed(h.slice().len(), None)
        }
        Kind::Igmp => fixed(8, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_tiny_inputs_end_the_stack() {
        for first in [Kind::Ethernet, Kind::Ip, Kind::Ipv6, Kind::Pf, Kind::PfOld, Kind::Enc] {
            assert!(locate(&[], first).is_empty());
            assert!(locate(&[0x45], first).is_empty());
        }
        assert_eq!(locate(&[], Kind::Raw).len(), 1);
    }

    #[test]
    fn ip_total_length_bounds_the_payload() {
        // IPv4 header, total length 28, then UDP (8) + 4 bytes of trailer.
        let mut p = vec![0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];
        p.extend_from_slice(&[0, 53, 0, 53, 0, 8, 0, 0]);
        p.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        let l = locate(&p, Kind::Ip);
        assert_eq!(l.kinds().collect::<Vec<_>>(), vec![Kind::Ip, Kind::Udp]);
        assert_eq!(l.as_slice()[0].end, 28);
        assert_eq!(l.as_slice()[1].end, 28);
    }

    #[test]
    fn loop_family_either_order() {
        assert_eq!(loop_family(&[0, 0, 0, 2]), 2);
        assert_eq!(loop_family(&[2, 0, 0, 0]), 2);
        assert_eq!(loop_family(&[0x18, 0, 0, 0]), 24);
    }
}
