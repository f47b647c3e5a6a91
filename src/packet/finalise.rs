//! `finalise()`: every length field and every checksum of a packet
//! recomputed from its bytes and located layers, innermost layer first.
//!
//! Lengths: IPv4 total length, IPv6 payload length, UDP length (each set to
//! what the layer spans), the pflog header length (kept consistent with the
//! header's size). Checksums: IPv4 header, TCP and UDP (IPv4 or IPv6
//! pseudo-header), ICMP, ICMPv6 (IPv6 pseudo-header), IGMP.
//!
//! A layer whose length field announces more than was captured (a packet cut
//! by the snap length) keeps its length, and the checksums of what it
//! carries are left alone: they cannot be computed from part of the data.
//! Likewise the checksums inside a fragment (they cover the reassembled
//! datagram).

use super::layer::{pf_header_len, Kind, Layer};

/// The ones' complement sum of `data` (big-endian 16-bit words, an odd last
/// byte padded with zero), added to `acc`, not folded.
pub fn sum(data: &[u8], mut acc: u64) -> u64 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u16::from_be_bytes([c[0], c[1]]) as u64;
    }
    if let [last] = chunks.remainder() {
        acc += (*last as u64) << 8;
    }
    acc
}

/// The Internet checksum of a sum: folded to 16 bits and complemented.
pub fn fold(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]))
}

fn put16(d: &mut [u8], at: usize, v: u16) {
    if let Some(s) = d.get_mut(at..at + 2) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

/// Whether layer `l` carries only part of what its checksums would cover: a
/// fragment (IPv4 more-fragments flag, IPv6 fragment header with M set; the
/// checksums inside cover the reassembled datagram).
fn fragment(d: &[u8], l: &Layer) -> bool {
    match l.kind {
        Kind::Ip => d.get(l.hdr_start() + 6).is_some_and(|b| b & 0x20 != 0),
        Kind::Ipv6Fragment => be16(d, l.hdr_start() + 2).is_some_and(|v| v & 1 != 0),
        _ => false,
    }
}

/// Whether layer `l` announces more bytes than it spans (cut by the snap
/// length). Zero lengths (TSO captures, jumbograms) announce nothing.
fn cut(d: &[u8], l: &Layer) -> bool {
    let span = l.end().saturating_sub(l.hdr_start());
    let declared = match l.kind {
        Kind::Ip => be16(d, l.hdr_start() + 2).map(|v| v as usize),
        Kind::Ipv6 => be16(d, l.hdr_start() + 4).map(|v| v as usize + 40),
        Kind::Udp => be16(d, l.hdr_start() + 4).map(|v| v as usize),
        _ => None,
    };
    matches!(declared, Some(n) if n > span && n != 0 && !(l.kind == Kind::Ipv6 && n == 40))
}

/// The pseudo-header sum of the IP layer enclosing layer `j` (the nearest
/// IPv4 or IPv6 before it), for an upper-layer message of `len` bytes and
/// protocol `proto`; `None` without one. The destination is the final one
/// (RFC 791/8200): the last address of an IPv4 source route option, or of
/// an IPv6 routing header with segments left (the first, for segment
/// routing), as tshark and scapy compute it.
fn pseudo(d: &[u8], layers: &[Layer], j: usize, len: usize, proto: u8) -> Option<u64> {
    let before = layers.get(..j)?;
    let at = before.iter().rposition(|l| matches!(l.kind, Kind::Ip | Kind::Ipv6))?;
    let ip = before.get(at)?;
    let o = ip.hdr_start();
    match ip.kind {
        Kind::Ip => {
            let src = d.get(o + 12..o + 16)?;
            let dst =
                source_route_dst(d.get(o + 20..ip.payload_start()).unwrap_or(&[])).or_else(|| d.get(o + 16..o + 20))?;
            Some(sum(dst, sum(src, proto as u64 + len as u64)))
        }
        _ => {
            let src = d.get(o + 8..o + 24)?;
            let routed = before.get(at + 1..).unwrap_or(&[]).iter().find_map(|l| {
                if l.kind != Kind::Ipv6Routing {
                    return None;
                }
                let (h, end) = (l.hdr_start(), l.payload_start());
                if d.get(h + 3).copied().unwrap_or(0) == 0 || end < h + 24 {
                    return None;
                }
                if d.get(h + 2) == Some(&4) {
                    d.get(h + 8..h + 24)
                } else {
                    d.get(end - 16..end)
                }
            });
            let dst = routed.or_else(|| d.get(o + 24..o + 40))?;
            Some(sum(dst, sum(src, proto as u64 + len as u64)))
        }
    }
}

/// The final destination of the one loose or strict source route option
/// among IPv4 options `opts` (none when there are several).
fn source_route_dst(opts: &[u8]) -> Option<&[u8]> {
    let routes: Vec<&[u8]> = super::ip::split_options(opts)
        .into_iter()
        .filter(|(t, _)| *t == 131 || *t == 137)
        .map(|(_, whole)| whole)
        .collect();
    match routes.as_slice() {
        [one] => {
            let addrs = one.get(3..)?;
            let n = addrs.len() / 4;
            addrs.get(n.checked_sub(1)? * 4..n * 4)
        }
        _ => None,
    }
}

/// Recomputes every length and checksum of `d`, whose layers are `layers`.
pub fn finalise(d: &mut [u8], layers: &[Layer]) {
    fix(d, layers, true, None)
}

/// Recomputes the checksums of `d` (of layer `only`, or of every layer)
/// and, with `lengths`, the length fields.
pub fn fix(d: &mut [u8], layers: &[Layer], lengths: bool, only: Option<usize>) {
    // Whether a layer or one enclosing it was cut short or is a fragment.
    let mut cut_below = [false; super::layer::MAX_LAYERS];
    let mut any = false;
    for (j, l) in layers.iter().enumerate() {
        any = any || cut(d, l) || fragment(d, l);
        if let Some(c) = cut_below.get_mut(j) {
            *c = any;
        }
    }
    for (j, l) in layers.iter().enumerate().rev() {
        if only.is_some_and(|i| i != j) {
            continue;
        }
        let (o, hl, end) = (l.hdr_start(), l.payload_start(), l.end());
        let span = end.saturating_sub(o);
        let is_cut = cut_below.get(j).copied().unwrap_or(true);
        match l.kind {
            Kind::Ip => {
                if lengths && !cut(d, l) {
                    put16(d, o + 2, span.min(65535) as u16);
                }
                put16(d, o + 10, 0);
                let c = fold(sum(d.get(o..hl).unwrap_or(&[]), 0));
                put16(d, o + 10, c);
            }
            Kind::Ipv6 if lengths && !cut(d, l) => {
                put16(d, o + 4, span.saturating_sub(40).min(65535) as u16);
            }
            Kind::Pf if lengths => {
                let len = d.get(o).copied().unwrap_or(0);
                if pf_header_len(len) != l.hlen as usize {
                    if let Some(b) = d.get_mut(o) {
                        *b = (l.hlen as usize).saturating_sub(3).min(255) as u8;
                    }
                }
            }
            Kind::Udp | Kind::Tcp | Kind::Icmp6 if !is_cut => {
                if lengths && l.kind == Kind::Udp {
                    put16(d, o + 4, span.min(65535) as u16);
                }
                let (at, proto) = match l.kind {
                    Kind::Udp => (o + 6, 17),
                    Kind::Tcp => (o + 16, 6),
                    _ => (o + 2, 58),
                };
                let Some(ps) = pseudo(d, layers, j, span, proto) else { continue };
                put16(d, at, 0);
                let mut c = fold(sum(d.get(o..end).unwrap_or(&[]), ps));
                if l.kind == Kind::Udp && c == 0 {
                    c = 0xffff;
                }
                put16(d, at, c);
            }
            Kind::Icmp | Kind::Igmp if !is_cut => {
                put16(d, o + 2, 0);
                let c = fold(sum(d.get(o..end).unwrap_or(&[]), 0));
                put16(d, o + 2, c);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::layer::locate;

    #[test]
    fn rfc1071_example() {
        // RFC 1071's example words: sum 0xddf2, checksum 0x220d.
        let d = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&d, 0)), 0x220d);
    }

    #[test]
    fn ipv4_udp_lengths_and_checksums() {
        let mut p = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        p.extend_from_slice(&[0, 53, 0, 53, 0, 0, 0, 0, 1, 2, 3]);
        let layers = locate(&p, Kind::Ip);
        finalise(&mut p, layers.as_slice());
        assert_eq!(be16(&p, 2), Some(31));
        assert_eq!(be16(&p, 24), Some(11));
        // A correct header sums to 0xffff (checksum of it is 0).
        assert_eq!(fold(sum(&p[..20], 0)), 0);
        let ps = sum(&p[12..20], 17 + 11);
        assert_eq!(fold(sum(&p[20..], ps)), 0);
    }

    #[test]
    fn checksums_only() {
        let mut p = vec![0x45, 0, 0, 31, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        p.extend_from_slice(&[0, 53, 0, 53, 0, 11, 0, 0, 1, 2, 3]);
        let layers = locate(&p, Kind::Ip);
        // The UDP layer only: the IP header checksum stays 0.
        fix(&mut p, layers.as_slice(), false, Some(1));
        assert_eq!(be16(&p, 10), Some(0));
        let ps = sum(&p[12..20], 17 + 11);
        assert_eq!(fold(sum(&p[20..], ps)), 0);
        // A total length past the data: left as it is (finalise() would set
        // 31), the header checksum fixed, the UDP checksum of a datagram
        // cut short left alone.
        p[3] = 99;
        p[26] = 0xAB;
        let layers = locate(&p, Kind::Ip);
        fix(&mut p, layers.as_slice(), false, None);
        assert_eq!(be16(&p, 2), Some(99));
        assert_eq!(fold(sum(&p[..20], 0)), 0);
        assert_eq!(p[26], 0xAB);
    }

    #[test]
    fn cut_packets_keep_their_lengths() {
        let mut p = vec![0x45, 0, 0, 100, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        p.extend_from_slice(&[0; 20]);
        p[32] = 0x50;
        let layers = locate(&p, Kind::Ip);
        finalise(&mut p, layers.as_slice());
        assert_eq!(be16(&p, 2), Some(100));
        assert_eq!(be16(&p, 36), Some(0), "TCP checksum untouched");
        assert_eq!(fold(sum(&p[..20], 0)), 0, "IP header checksum still fixed");
    }
}
