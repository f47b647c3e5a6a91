//! Layer location on the real OpenBSD captures (`../shared/captures`), a
//! randomised robustness run, and the regression corpus (`tests/corpus`).

use super::layer::{first_kind, locate, Kind};
use super::{exercise, repr_packet};
use std::path::PathBuf;

/// One record of a classic pcap file: (link type, swapped, data).
type Record = (i32, bool, Vec<u8>);

/// A minimal classic-pcap reader (no libpcap needed for these tests).
fn read_pcap(path: &PathBuf) -> Vec<Record> {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let magic = u32::from_le_bytes(raw[0..4].try_into().unwrap());
    let le = match magic {
        0xa1b2c3d4 | 0xa1b23c4d => true,
        0xd4c3b2a1 | 0x4d3cb2a1 => false,
        _ => panic!("{}: not a pcap file", path.display()),
    };
    let rd = |b: &[u8]| {
        let a: [u8; 4] = b.try_into().unwrap();
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let linktype = (rd(&raw[20..24]) & 0x0fff_ffff) as i32;
    let swapped = le != cfg!(target_endian = "little");
    let mut out = Vec::new();
    let mut i = 24;
    while i + 16 <= raw.len() {
        let caplen = rd(&raw[i + 8..i + 12]) as usize;
        let data = raw[i + 16..(i + 16 + caplen).min(raw.len())].to_vec();
        out.push((linktype, swapped, data));
        i += 16 + caplen;
    }
    out
}

fn captures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/captures/openbsd")
}

fn stack(rec: &Record) -> Vec<Kind> {
    locate(&rec.2, first_kind(rec.0, &rec.2)).kinds().collect()
}

fn first_repr(name: &str) -> String {
    let recs = read_pcap(&captures().join(name));
    let r = &recs[0];
    repr_packet(&r.2, r.0, r.1)
}

use Kind::*;

#[test]
fn whole_captures_decode_to_their_stacks() {
    let cases: &[(&str, &[Kind])] = &[
        ("ethernet", &[Ethernet, Ip, Tcp]),
        ("tdump", &[Ethernet, Ip, Tcp]),
        ("loop", &[Loopback, Ip, Icmp]),
        ("pf", &[Pf, Ip, Icmp]),
        ("pf.old", &[PfOld, Ip, Tcp]),
    ];
    for (name, want) in cases {
        let recs = read_pcap(&captures().join(name));
        assert!(!recs.is_empty(), "{name}");
        for (i, r) in recs.iter().enumerate() {
            assert_eq!(stack(r), *want, "{name} packet {i}");
        }
    }
}

#[test]
fn single_packet_captures_decode_to_their_stacks() {
    let cases: &[(&str, &[Kind])] = &[
        ("arprequest", &[Ethernet, Arp]),
        ("dhcp_request", &[Ethernet, Ip, Udp, Dhcp]),
        ("dhcp_response", &[Ethernet, Ip, Udp, Dhcp]),
        ("enc", &[Enc, Ip, Icmp]),
        ("icmp6_echoreply", &[Ethernet, Ipv6, Icmp6]),
        ("icmp6_echorequest", &[Ethernet, Ipv6, Icmp6]),
        ("icmp6_neighbor_advertisement", &[Ethernet, Ipv6, Icmp6]),
        ("icmp6_neighbor_sol", &[Ethernet, Ipv6, Icmp6]),
        ("icmp6_parameter_problem", &[Loopback, Ipv6, Icmp6]),
        ("icmp_address_mask_reply", &[Ethernet, Ip, Icmp]),
        ("icmp_address_mask_request", &[Ethernet, Ip, Icmp]),
        ("icmp_echo_reply", &[Ethernet, Ip, Icmp]),
        ("icmp_echo_request", &[Ethernet, Ip, Icmp]),
        ("icmp_port_unreachable", &[Ethernet, Ip, Icmp]),
        ("icmp_time_exceeded", &[Ethernet, Ip, Icmp]),
        ("icmp_timestamp_reply", &[Ethernet, Ip, Icmp]),
        ("icmp_timestamp_request", &[Ethernet, Ip, Icmp]),
        ("icmp_unreachable", &[Ethernet, Ip, Icmp]),
        ("ip6_fragments", &[Ethernet, Ipv6, Ipv6Fragment, Icmp6]),
        ("ip_ah", &[Ethernet, Ip, Ah, Icmp]),
        ("ip_esp", &[Ethernet, Ip, Esp]),
        ("ip_recordroute", &[Loopback, Ip, Icmp]),
        ("pf", &[Pf, Ip, Icmp]),
        ("pf.old", &[PfOld, Ip, Tcp]),
        ("tcp", &[Ethernet, Ip, Tcp]),
        ("udp", &[Ethernet, Ip, Udp]),
    ];
    for (name, want) in cases {
        let recs = read_pcap(&captures().join("packets").join(name));
        assert!(!recs.is_empty(), "{name}");
        for r in &recs {
            assert_eq!(stack(r), *want, "{name}");
        }
    }
}

#[test]
fn reprs_of_real_captures() {
    assert_eq!(
        first_repr("ethernet"),
        "[Eth: 00:09:6b:e0:ca:ce->00:02:b3:41:aa:c3] [IP: 192.168.0.9->192.168.0.1] [TCP: 8012->22]"
    );
    assert_eq!(first_repr("loop"), "[IP: 127.0.0.1->127.0.0.1] [ICMP Echo Reply]");
    assert_eq!(
        first_repr("pf"),
        "[PF rule 1/0 (match) drop out on lo0] [IP: 127.0.0.1->127.0.0.1] [ICMP Echo Request]"
    );
    assert_eq!(
        first_repr("pf.old"),
        "[Old PF rule 0 (match) drop in on tun0] [IP: 68.18.67.181->203.33.166.194] [TCP: 3225->4662]"
    );
    assert_eq!(first_repr("packets/enc"), "[Enc (AUTH,AUTH_AH)] [IP: 192.168.2.3->192.168.2.2] [ICMP Echo Request]");
    assert_eq!(first_repr("packets/icmp6_parameter_problem"), "[IPv6: ::1->::1] [ICMPv6 Parameter Problem]");
}

#[test]
fn layer_geometry_of_real_captures() {
    // Record route: a 60-byte IPv4 header on loop.
    let r = &read_pcap(&captures().join("packets/ip_recordroute"))[0];
    let l = locate(&r.2, first_kind(r.0, &r.2));
    let ip = l.as_slice()[1];
    assert_eq!((ip.off, ip.hlen), (4, 60));
    // AH: 24-byte header after the 20-byte IP header; ICMP follows.
    let r = &read_pcap(&captures().join("packets/ip_ah"))[0];
    let l = locate(&r.2, first_kind(r.0, &r.2));
    assert_eq!(l.as_slice()[2].off, 34);
    assert_eq!(l.as_slice()[2].hlen, 24);
    assert_eq!(l.as_slice()[3].off, 58);
    // pflog: 48-byte header.
    let r = &read_pcap(&captures().join("pf"))[0];
    let l = locate(&r.2, first_kind(r.0, &r.2));
    assert_eq!(l.as_slice()[0].hlen, 48);
    // Old pflog: 28 bytes; enc: 12.
    let r = &read_pcap(&captures().join("pf.old"))[0];
    assert_eq!(locate(&r.2, first_kind(r.0, &r.2)).as_slice()[0].hlen, 28);
    let r = &read_pcap(&captures().join("packets/enc"))[0];
    assert_eq!(locate(&r.2, first_kind(r.0, &r.2)).as_slice()[0].hlen, 12);
}

#[test]
fn every_prefix_of_every_real_packet_decodes() {
    let mut files = vec![];
    for name in ["ethernet", "tdump", "loop", "pf", "pf.old"] {
        files.push(captures().join(name));
    }
    for e in std::fs::read_dir(captures().join("packets")).unwrap() {
        files.push(e.unwrap().path());
    }
    for f in files {
        for r in read_pcap(&f) {
            for n in 0..=r.2.len() {
                let cut = &r.2[..n];
                exercise(cut);
                // A truncated packet's stack is a prefix of the whole one.
                let whole = stack(&r);
                let part: Vec<Kind> = locate(cut, first_kind(r.0, cut)).kinds().collect();
                if first_kind(r.0, cut) == first_kind(r.0, &r.2) {
                    assert!(whole.starts_with(&part), "{}: {n} bytes", f.display());
                }
            }
        }
    }
}

use crate::testing::Rng;

#[test]
fn random_and_mutated_inputs_never_panic() {
    let mut seeds = vec![];
    for e in std::fs::read_dir(captures().join("packets")).unwrap() {
        for r in read_pcap(&e.unwrap().path()) {
            seeds.push(r.2);
        }
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let cases = 100_000;
    for case in 0..cases {
        let mut data: Vec<u8> = if case % 4 == 0 || seeds.is_empty() {
            let n = rng.below(160);
            (0..n).map(|_| rng.next() as u8).collect()
        } else {
            let mut d = seeds[rng.below(seeds.len())].clone();
            for _ in 0..=rng.below(8) {
                let i = rng.below(d.len());
                if let Some(b) = d.get_mut(i) {
                    *b = match rng.below(4) {
                        0 => 0,
                        1 => 0xff,
                        _ => rng.next() as u8,
                    };
                }
            }
            let cut = rng.below(d.len() + 1);
            if rng.below(3) == 0 {
                d.truncate(cut);
            }
            d
        };
        if rng.below(10) == 0 {
            data.extend(std::iter::repeat_n(0u8, rng.below(64)));
        }
        exercise(&data);
    }
}

#[test]
fn regression_corpus_decodes() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        exercise(&data);
        n += 1;
    }
    assert!(n > 0, "empty corpus at {}", dir.display());
}
