//! Split points and part reads against the sequential read, on generated
//! files: random records, adversarial payloads, pcapng, both byte orders.

use super::*;

use crate::testing::Rng;

trait Below64 {
    fn below64(&mut self, n: u64) -> u64;
}

impl Below64 for Rng {
    fn below64(&mut self, n: u64) -> u64 {
        self.below(n as usize) as u64
    }
}

fn put32(v: &mut Vec<u8>, x: u32, big: bool) {
    v.extend_from_slice(&if big { x.to_be_bytes() } else { x.to_le_bytes() });
}

fn pcap_header(snaplen: u32, big: bool, nsec: bool) -> Vec<u8> {
    let mut v = Vec::new();
    put32(&mut v, if nsec { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }, big);
    v.extend_from_slice(&if big { [0, 2, 0, 4] } else { [2, 0, 4, 0] });
    put32(&mut v, 0, big);
    put32(&mut v, 0, big);
    put32(&mut v, snaplen, big);
    put32(&mut v, 1, big);
    v
}

fn pcap_record(v: &mut Vec<u8>, sec: u32, frac: u32, data: &[u8], wire: u32, big: bool) {
    put32(v, sec, big);
    put32(v, frac, big);
    put32(v, data.len() as u32, big);
    put32(v, wire, big);
    v.extend_from_slice(data);
}

/// What a record reads as: (sec, usec, len, data).
type Row = (i64, i64, u32, Vec<u8>);

/// The file's bytes from a slice, as a part fetches them; remembers the
/// most bytes one fetch asked for.
struct Slice<'f> {
    file: &'f [u8],
    most: usize,
}

impl Fetch for Slice<'_> {
    fn fetch(&mut self, off: u64, buf: &mut [u8]) -> Result<(), FetchError> {
        self.most = self.most.max(buf.len());
        buf.copy_from_slice(&self.file[off as usize..off as usize + buf.len()]);
        Ok(())
    }
}

/// The records from `start` to `end` as a part reads them: walking from
/// `from` with `section`, through a window refilled a chunk at a time.
fn read_range(
    fmt: &Format,
    file: &[u8],
    (from, section): (u64, Section),
    start: u64,
    end: u64,
    nano: bool,
) -> Result<(Vec<Row>, Records), String> {
    let size = file.len() as u64;
    let mut src = Slice { file, most: 0 };
    let mut win = Window::new(size, end);
    let mut r = Records::new(fmt.clone(), from, section, start, end, nano);
    let mut out = Vec::new();
    loop {
        let bytes = win.bytes();
        match r.next(&bytes) {
            None => break,
            Some(Ok(x)) => out.push((x.sec, x.frac, x.len, x.data.to_vec())),
            Some(Err(Miss::Bad(e))) => return Err(e),
            Some(Err(Miss::Need(at, n))) => {
                assert!(at >= from && at + n as u64 <= size, "{at} {n}");
                if win.fill(&mut src, at, n).is_err() {
                    return Err("fetch failed".into());
                }
            }
        }
    }
    assert!(src.most <= CHUNK.max(1 << 19), "one fetch of {} bytes", src.most);
    Ok((out, r))
}

fn read_all(fmt: &Format, file: &[u8], start: u64, end: u64) -> Result<Vec<Row>, String> {
    read_range(fmt, file, (start, Vec::new()), start, end, false).map(|(rows, _)| rows)
}

/// The split points of a grid of step `p`, resolved as the planner does:
/// an offset in doubt gives no split (its part is empty, the part before
/// reads on to the next grid point's split). Each split point is computed
/// from the window of bytes after it only (as a part fetching its range
/// does), not from the whole file.
fn grid_splits(fmt: &Format, file: &[u8], p: u64) -> Vec<u64> {
    let size = file.len() as u64;
    let mut out = Vec::new();
    let mut b = 0;
    while b < size {
        let w = (b + fmt.lookahead()).min(size);
        let bytes = Bytes { base: b, data: &file[b as usize..w as usize], size };
        if let Some(s) = split_point(fmt, &bytes, b) {
            out.push(s);
        }
        b += p;
    }
    out.push(size);
    out
}

/// Reads the file in parts of `p` bytes and checks the union against the
/// sequential read; returns how many parts hold records.
fn check_parts(file: &[u8], p: u64) -> usize {
    let size = file.len() as u64;
    let fmt = match Format::parse(file, size) {
        Ok(f) => f,
        Err(e) => panic!("{e:?}"),
    };
    let whole = read_all(&fmt, file, fmt.first_record(), size).expect("sequential read");
    let splits = grid_splits(&fmt, file, p);
    let mut union = Vec::new();
    for w in splits.windows(2) {
        assert!(w[0] <= w[1], "split points go back: {w:?} (part size {p})");
        // Classic pcap: each part reads its own range only; pcapng: walks
        // from the file's start to its own.
        let (rows, _) = read_range(&fmt, file, (0, Vec::new()), w[0], w[1], false)
            .unwrap_or_else(|e| panic!("part {w:?} of size {p}: {e}"));
        union.extend(rows);
    }
    assert_eq!(union.len(), whole.len(), "part size {p}");
    assert!(union == whole, "part size {p}: records differ");
    splits.windows(2).filter(|w| w[0] < w[1]).count()
}

fn random_pcap(rng: &mut Rng, n: usize, snaplen: u32, big: bool, nsec: bool) -> Vec<u8> {
    let mut f = pcap_header(snaplen, big, nsec);
    for i in 0..n {
        let caplen = match rng.below64(10) {
            0 => snaplen,
            1 => 0,
            2..=5 => 40 + rng.below64(100) as u32,
            _ => rng.below64(snaplen as u64 + 1) as u32,
        };
        let data: Vec<u8> = (0..caplen).map(|_| rng.next() as u8).collect();
        let frac = rng.below64(if nsec { 1_000_000_000u64 } else { 1_000_000 }) as u32;
        pcap_record(&mut f, 1_000_000 + i as u32, frac, &data, caplen + rng.below64(50) as u32 + 1, big);
    }
    f
}

const SIZES: [u64; 9] = [1, 7, 16, 100, 1000, 4096, 65_536, 300_000, 1 << 20];

#[test]
fn random_files_parts_equal_sequential() {
    for seed in 1..=6u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let big = seed % 2 == 0;
        let nsec = seed % 3 == 0;
        let snap = [65_535, 1500, 262_144, 96][seed as usize % 4];
        let n = if seed < 3 { 200 } else { 40 };
        let f = random_pcap(&mut rng, n, snap, big, nsec);
        for p in SIZES {
            if (f.len() as u64) / p > 300 {
                continue; // tiny parts of a large file: covered by smaller files
            }
            check_parts(&f, p);
        }
        // Random part sizes too.
        for _ in 0..4 {
            let p = 1 + rng.below64(f.len() as u64 / 3);
            if (f.len() as u64) / p <= 300 {
                check_parts(&f, p);
            }
        }
    }
}

#[test]
fn parts_smaller_than_one_record() {
    for seed in 1..=8u64 {
        let mut rng = Rng(seed);
        let f = random_pcap(&mut rng, 12, 256, seed % 2 == 0, false);
        for p in [1u64, 5, 16, 17, 50, 255] {
            check_parts(&f, p);
        }
        let mut rng = Rng(seed);
        let g = random_pcapng(&mut rng, 8, seed % 2 == 0, None);
        for p in [1u64, 4, 30, 333] {
            check_parts(&g, p);
        }
    }
}

#[test]
fn split_points_are_record_boundaries_of_the_chain() {
    let mut rng = Rng(42);
    let f = random_pcap(&mut rng, 400, 1500, false, false);
    let size = f.len() as u64;
    let fmt = Format::parse(&f, size).unwrap();
    let mut boundaries = std::collections::BTreeSet::new();
    let mut off = 24u64;
    while off < size {
        boundaries.insert(off);
        let caplen = u32::from_le_bytes(f[off as usize + 8..off as usize + 12].try_into().unwrap());
        off += 16 + caplen as u64;
    }
    let bytes = Bytes { base: 0, data: &f, size };
    for b in (0..size).step_by(1237) {
        let s = split_point(&fmt, &bytes, b).expect("no doubt in random data");
        assert!(s == size || boundaries.contains(&s), "split {s} of {b} is no boundary");
        assert!(s >= b.min(24));
        // In random data no false chain lives long: the chains meet at the
        // last boundary before b + unit (every boundary in [b, b + unit) is
        // a candidate), or at the end of the file when it is that close.
        let expect = if b <= 24 {
            24
        } else if b + fmt.unit() > size {
            size
        } else {
            *boundaries.range(b..b + fmt.unit()).next_back().unwrap()
        };
        assert_eq!(s, expect, "offset {b}");
    }
}

/// Records whose payloads hold plausible record headers and whole pcap
/// record chains (a capture of a capture-file download), zero-filled
/// payloads, records exactly at part edges.
fn adversarial_pcap(rng: &mut Rng, n: usize) -> Vec<u8> {
    let snap = 4096;
    let mut f = pcap_header(snap, false, false);
    for i in 0..n {
        let mut payload = Vec::new();
        match i % 5 {
            0 => payload.resize(64 + rng.below64(1400) as usize, 0),
            1 => {
                // An embedded chain of small records.
                for k in 0..(1 + rng.below64(40)) {
                    let d: Vec<u8> = (0..rng.below64(30)).map(|_| rng.next() as u8).collect();
                    pcap_record(&mut payload, 7 + k as u32, 5, &d, d.len() as u32 + 3, false);
                }
            }
            2 => {
                // Plausible headers at many offsets, with lengths that jump
                // into the next records.
                for _ in 0..(1 + rng.below64(30)) {
                    pcap_record(&mut payload, 1, 1, &[], 0, false);
                    let c = rng.below64(snap as u64) as u32;
                    payload.truncate(payload.len() - 16);
                    put32(&mut payload, 1, false);
                    put32(&mut payload, 2, false);
                    put32(&mut payload, c, false);
                    put32(&mut payload, c + 1, false);
                }
            }
            3 => {
                // A whole small pcap file.
                let inner = random_pcap(rng, 5, 256, false, false);
                payload.extend_from_slice(&inner);
            }
            _ => payload.extend((0..rng.below64(snap as u64)).map(|_| rng.next() as u8)),
        }
        payload.truncate(snap as usize);
        pcap_record(&mut f, 100 + i as u32, i as u32, &payload, payload.len() as u32 + 4, false);
    }
    f
}

#[test]
fn adversarial_payloads_parts_equal_sequential() {
    for seed in [3u64, 17, 99] {
        let mut rng = Rng(seed);
        let f = adversarial_pcap(&mut rng, 200);
        for p in [1u64, 13, 512, 4112, 20_000, 100_000, 1 << 20] {
            if (f.len() as u64) / p <= 300 {
                check_parts(&f, p);
            }
        }
    }
}

#[test]
fn records_exactly_at_part_edges() {
    // Records of 1000 bytes (16 + 984) after the 24-byte header: parts of
    // 1000 bytes have every edge 24 bytes before a record; shifted grids
    // put edges exactly on records.
    let mut f = pcap_header(65_535, false, false);
    for i in 0..300u32 {
        pcap_record(&mut f, i, 0, &[i as u8; 984], 984, false);
    }
    let size = f.len() as u64;
    let fmt = Format::parse(&f, size).unwrap();
    let bytes = Bytes { base: 0, data: &f, size };
    // The chains from every boundary in [b, b + unit) meet at the last of
    // them: split points on record edges, one before and one after.
    let unit = fmt.unit();
    for k in (1..230u64).step_by(7) {
        let edge = 24 + 1000 * k;
        let last = |b: u64| 24 + (b + unit - 1 - 24) / 1000 * 1000;
        assert_eq!(split_point(&fmt, &bytes, edge), Some(last(edge)));
        assert_eq!(split_point(&fmt, &bytes, edge - 1), Some(last(edge - 1)));
        assert_eq!(split_point(&fmt, &bytes, edge + 1), Some(last(edge + 1)));
    }
    for p in [1000u64, 999, 1001, 2000] {
        check_parts(&f, p);
    }
}

/// Two chains that never meet: every payload holds, at the same place, a
/// header whose length jumps to the same place in the next payload.
fn parallel_chains() -> Vec<u8> {
    let mut f = pcap_header(65_535, false, false);
    for i in 0..6000u32 {
        let mut payload = vec![0xAB; 8];
        pcap_record(&mut payload, 5, 5, &[], 0, false);
        payload.truncate(8);
        put32(&mut payload, 9, false);
        put32(&mut payload, 9, false);
        put32(&mut payload, 100, false); // 8 + 16 + 76 = the same offset in the next payload
        put32(&mut payload, 100, false);
        payload.resize(100, 0xCD);
        pcap_record(&mut f, i, 0, &payload, 100, false);
    }
    f
}

#[test]
fn parallel_chains_are_in_doubt_and_read_whole() {
    let f = parallel_chains();
    let size = f.len() as u64;
    let fmt = Format::parse(&f, size).unwrap();
    let bytes = Bytes { base: 0, data: &f, size };
    for b in [1000u64, 50_000, 150_000] {
        assert_eq!(split_point(&fmt, &bytes, b), None, "offset {b}");
    }
    // Near the end both chains end with the file: they meet there.
    assert_eq!(split_point(&fmt, &bytes, size - 10), Some(size));
    // The planner's rule: doubt everywhere means one part (the chains
    // "meet" only at the end of the file).
    assert_eq!(check_parts(&f, 40_960), 1);
    assert_eq!(check_parts(&f, 100_000), 1);
}

#[test]
fn a_part_ending_off_the_chain_says_so() {
    let mut rng = Rng(7);
    let f = random_pcap(&mut rng, 50, 1500, false, false);
    let size = f.len() as u64;
    let fmt = Format::parse(&f, size).unwrap();
    let bytes = Bytes { base: 0, data: &f, size };
    let s = split_point(&fmt, &bytes, size / 2).unwrap();
    let err = read_all(&fmt, &f, 24, s + 1).unwrap_err();
    assert!(err.starts_with(&format!("split point {} is not a record boundary", s + 1)), "{err}");
    let err = read_all(&fmt, &f, s, 24).unwrap_err();
    assert!(err.starts_with("split point 24 is not a record boundary"), "{err}");
}

#[test]
fn truncated_and_bad_records_give_libpcaps_errors() {
    let mut f = pcap_header(65_535, false, false);
    pcap_record(&mut f, 1, 2, &[1; 60], 60, false);
    let whole = f.len() as u64;
    let fmt = Format::parse(&f, whole).unwrap();
    pcap_record(&mut f, 1, 2, &[1; 60], 60, false);
    let cut = &f[..f.len() - 10];
    let err = read_all(&fmt, cut, 24, cut.len() as u64).unwrap_err();
    assert_eq!(err, "truncated dump file; tried to read 60 captured bytes, only got 50");
    let cut = &f[..whole as usize + 5];
    let err = read_all(&fmt, cut, 24, cut.len() as u64).unwrap_err();
    assert_eq!(err, "truncated dump file; tried to read 16 header bytes, only got 5");
    let mut g = pcap_header(65_535, false, false);
    put32(&mut g, 1, false);
    put32(&mut g, 1, false);
    put32(&mut g, 300_000, false);
    put32(&mut g, 300_000, false);
    let err = read_all(&fmt, &g, 24, g.len() as u64).unwrap_err();
    assert_eq!(err, "invalid packet capture length 300000, bigger than maximum of 262144");
}

#[test]
fn caplen_above_snaplen_is_cut_to_it_as_libpcap_does() {
    let mut f = pcap_header(64, false, false);
    pcap_record(&mut f, 1, 2, &[7; 100], 100, false);
    let fmt = Format::parse(&f, f.len() as u64).unwrap();
    let rows = read_all(&fmt, &f, 24, f.len() as u64).unwrap();
    assert_eq!(rows, vec![(1, 2, 100, vec![7; 64])]);
}

#[test]
fn headers_refused_with_reasons() {
    assert_eq!(Format::parse(b"abc", 3).unwrap_err(), HeadError::Bad("file too short to be a capture".into()));
    assert_eq!(Format::parse(&pcap_header(10, false, false)[..10], 100).unwrap_err(), HeadError::NeedMore(24));
    let mut h = pcap_header(10, false, false);
    h[4] = 1;
    assert_eq!(
        Format::parse(&h, 24).unwrap_err(),
        HeadError::Bad("pcap format version 1.4 cannot be read in parts (only 2.4)".into())
    );
    assert!(matches!(Format::parse(b"\0\0\0\0xxxxxxxxxxxxxxxxxxxxxxx", 100), Err(HeadError::Bad(_))));
}

// pcapng

fn block(v: &mut Vec<u8>, btype: u32, body: &[u8], big: bool) {
    let len = 12 + body.len().div_ceil(4) * 4;
    put32(v, btype, big);
    put32(v, len as u32, big);
    v.extend_from_slice(body);
    v.resize(v.len() + (4 - body.len() % 4) % 4, 0);
    put32(v, len as u32, big);
}

fn shb(v: &mut Vec<u8>, big: bool) {
    let mut b = Vec::new();
    put32(&mut b, BYTE_ORDER_MAGIC, big);
    b.extend_from_slice(&if big { [0, 1, 0, 0] } else { [1, 0, 0, 0] });
    b.extend_from_slice(&[0xff; 8]); // section length: unknown
    block(v, SHB, &b, big);
}

fn idb(v: &mut Vec<u8>, snaplen: u32, tsresol: Option<u8>, big: bool) {
    let mut b = Vec::new();
    b.extend_from_slice(&if big { [0, 1, 0, 0] } else { [1, 0, 0, 0] });
    put32(&mut b, snaplen, big);
    if let Some(r) = tsresol {
        b.extend_from_slice(&if big { [0, 9, 0, 1] } else { [9, 0, 1, 0] });
        b.extend_from_slice(&[r, 0, 0, 0]);
        b.extend_from_slice(&[0; 4]);
    }
    block(v, IDB, &b, big);
}

fn epb(v: &mut Vec<u8>, ifid: u32, t: u64, data: &[u8], wire: u32, big: bool) {
    let mut b = Vec::new();
    put32(&mut b, ifid, big);
    put32(&mut b, (t >> 32) as u32, big);
    put32(&mut b, t as u32, big);
    put32(&mut b, data.len() as u32, big);
    put32(&mut b, wire, big);
    b.extend_from_slice(data);
    b.resize(b.len().div_ceil(4) * 4, 0);
    block(v, EPB, &b, big);
}

fn random_pcapng(rng: &mut Rng, n: usize, big: bool, tsresol: Option<u8>) -> Vec<u8> {
    let mut f = Vec::new();
    shb(&mut f, big);
    idb(&mut f, 2000, tsresol, big);
    idb(&mut f, 2000, None, big);
    for i in 0..n {
        let data: Vec<u8> = match i % 4 {
            0 => vec![0; rng.below64(300) as usize],
            1 => {
                // An embedded block chain in the payload.
                let mut d = Vec::new();
                for _ in 0..rng.below64(5) {
                    epb(&mut d, 0, 3, &[1, 2, 3], 3, big);
                }
                d
            }
            _ => (0..rng.below64(2000)).map(|_| rng.next() as u8).collect(),
        };
        if i % 17 == 5 {
            block(&mut f, 5, &[0; 12], big); // an interface statistics block
        }
        let t = 1_700_000_000_123_456_789u64 / 1000 + rng.below64(1 << 40);
        epb(&mut f, (i % 2) as u32, t, &data, data.len() as u32 + 2, big);
    }
    f
}

#[test]
fn pcapng_parts_equal_sequential() {
    for (seed, big, res) in [(1u64, false, None), (2, true, Some(9u8)), (3, false, Some(0x80 | 20))] {
        let mut rng = Rng(seed);
        let f = random_pcapng(&mut rng, 400, big, res);
        let fmt = Format::parse(&f, f.len() as u64).unwrap();
        assert!(matches!(&fmt, Format::Pcapng { interfaces, .. } if interfaces.len() == 2));
        for p in [1u64, 64, 1000, 8192, 100_000, 1 << 20] {
            if (f.len() as u64) / p <= 300 {
                check_parts(&f, p);
            }
        }
    }
}

#[test]
fn pcapng_time_stamps_scale_as_libpcap() {
    let i = |tsresol, binary| Interface { linktype: 1, snaplen: 0, raw_snaplen: 0, tsresol, binary, tsoffset: 10 };
    assert_eq!(iface_time(&i(1_000_000, false), 5_000_123, false), (15, 123));
    assert_eq!(iface_time(&i(1_000_000_000, false), 5_000_123_999, false), (15, 123));
    assert_eq!(iface_time(&i(1000, false), 5_007, false), (15, 7000));
    assert_eq!(iface_time(&i(1 << 20, true), (5 << 20) + (1 << 19), false), (15, 500_000));
    // Nanoseconds: passed through, scaled up, or multiplied then divided.
    assert_eq!(iface_time(&i(1_000_000_000, false), 5_000_123_999, true), (15, 123_999));
    assert_eq!(iface_time(&i(1_000_000, false), 5_000_123, true), (15, 123_000));
    assert_eq!(iface_time(&i(1 << 20, true), (5 << 20) + (1 << 19), true), (15, 500_000_000));
    // libpcap multiplies in 64 bits: 2^-60 units overflow as they do there.
    let f = (1u64 << 60) - 1;
    assert_eq!(iface_time(&i(1 << 60, true), f, true).1, (f.wrapping_mul(1_000_000_000) / (1 << 60)) as i64);
}

/// A pcapng file of several sections (the same byte order, as libpcap
/// requires), interfaces described late (after packets, so parts need the
/// descriptions before their start), and interfaces of other time stamp
/// resolutions in later sections.
fn multi_section_pcapng(rng: &mut Rng, big: bool) -> Vec<u8> {
    let mut f = Vec::new();
    for sec in 0..4u64 {
        shb(&mut f, big);
        // Section 1 describes its first interface only after packets? No:
        // a packet needs its interface before it; later ones come late.
        idb(&mut f, 2000, if sec % 2 == 1 { Some(9) } else { None }, big);
        let n = 30 + rng.below64(60);
        for i in 0..n {
            if i == n / 2 {
                // A late interface, with another resolution.
                idb(&mut f, 2000, Some(if sec == 2 { 0x80 | 20 } else { 3 }), big);
            }
            let ifid = if i > n / 2 && i % 3 == 0 { 1 } else { 0 };
            let len = rng.below64(1500) as usize;
            let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let t = (1_700_000_000 + sec * 1000 + i) * 1_000_000_000 + rng.below64(1 << 30);
            epb(&mut f, ifid as u32, t, &data, len as u32 + 4, big);
        }
    }
    f
}

#[test]
fn pcapng_sections_and_late_interfaces_split() {
    for (seed, big) in [(11u64, false), (12, true)] {
        let mut rng = Rng(seed);
        let f = multi_section_pcapng(&mut rng, big);
        let size = f.len() as u64;
        let fmt = Format::parse(&f, size).unwrap();
        let whole = read_all(&fmt, &f, 0, size).unwrap();
        assert!(whole.len() > 100, "{}", whole.len());
        for p in [1u64, 300, 1000, 4096, 20_000, 100_000] {
            if size / p <= 600 {
                check_parts(&f, p);
            }
        }
    }
}

#[test]
fn pcapng_part_walks_from_a_checkpoint() {
    let mut rng = Rng(13);
    let f = multi_section_pcapng(&mut rng, false);
    let size = f.len() as u64;
    let fmt = Format::parse(&f, size).unwrap();
    let whole = read_all(&fmt, &f, 0, size).unwrap();
    let splits = grid_splits(&fmt, &f, 30_000);
    assert!(splits.len() > 4);
    // Each part walks from where the one before ended, with its section.
    let mut at = (0, Vec::new());
    let mut union = Vec::new();
    for w in splits.windows(2) {
        let (rows, r) = read_range(&fmt, &f, at, w[0], w[1], false).unwrap();
        union.extend(rows);
        at = (r.pos(), r.section().to_vec());
    }
    assert!(union == whole);
}

#[test]
fn pcapng_sections_of_another_byte_order_fail_as_libpcap() {
    let mut rng = Rng(5);
    let mut f = random_pcapng(&mut rng, 20, false, None);
    let g = random_pcapng(&mut rng, 20, true, None);
    f.extend_from_slice(&g);
    let size = f.len() as u64;
    let fmt = Format::parse(&f, size).unwrap();
    let err = read_all(&fmt, &f, 0, size).unwrap_err();
    // The section header's length, read in the first section's order.
    assert_eq!(err, "pcapng block size 469762048 > maximum 16777216");
    // A length that reads the same both ways: the byte-order magic says.
    let mut h = f.clone();
    let second = random_pcapng(&mut Rng(5), 20, false, None).len();
    h.truncate(second);
    let mut b = Vec::new();
    put32(&mut b, BYTE_ORDER_MAGIC, true);
    b.extend_from_slice(&[0, 1, 0, 0]);
    b.resize(0x1c1c - 12, 0);
    let mut shb_be = Vec::new();
    shb_be.extend_from_slice(&SHB.to_le_bytes());
    shb_be.extend_from_slice(&0x1c1c_u32.to_le_bytes());
    shb_be.extend_from_slice(&b);
    shb_be.extend_from_slice(&0x1c1c_u32.to_le_bytes());
    h.extend_from_slice(&shb_be);
    let err = read_all(&fmt, &h, 0, h.len() as u64).unwrap_err();
    assert_eq!(err, "the file has sections with different byte orders");
}

#[test]
fn pcapng_late_interface_of_another_snap_length_fails_as_libpcap() {
    let mut f = Vec::new();
    shb(&mut f, false);
    idb(&mut f, 2000, None, false);
    epb(&mut f, 0, 1, &[1; 10], 10, false);
    idb(&mut f, 1000, None, false);
    let size = f.len() as u64;
    let fmt = Format::parse(&f, size).unwrap();
    let err = read_all(&fmt, &f, 0, size).unwrap_err();
    assert_eq!(
        err,
        "an interface has a snapshot length 1000 different from the snapshot length of the first interface"
    );
}

#[test]
fn nanosecond_fractions() {
    let mut rng = Rng(21);
    let f = random_pcapng(&mut rng, 50, false, Some(9));
    let size = f.len() as u64;
    let fmt = Format::parse(&f, size).unwrap();
    let micro = read_all(&fmt, &f, 0, size).unwrap();
    let (nano, _) = read_range(&fmt, &f, (0, Vec::new()), 0, size, true).unwrap();
    assert_eq!(micro.len(), nano.len());
    // Interface 0 is in nanoseconds (passed through), 1 in microseconds.
    assert!(nano.iter().zip(&micro).all(|(n, m)| n.1 / 1000 == m.1 && n.0 == m.0));
    assert!(nano.iter().step_by(2).any(|n| n.1 % 1000 != 0));
    assert!(nano.iter().skip(1).step_by(2).all(|n| n.1 % 1000 == 0));
}
