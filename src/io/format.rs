//! The numbers of the capture file formats, in one place for every reader
//! and writer of `io`: classic pcap (libpcap's savefile: magics, header
//! sizes, the link types libpcap rewrites) and pcapng (block types, the
//! byte-order magic, option codes, libpcap's limits), as libpcap 1.10 and
//! the pcapng specification (draft-ietf-opsawg-pcapng) give them; and a
//! classic file header made from them.

// Classic pcap.

/// The magic of a microsecond savefile, as read in the file's byte order.
pub const PCAP_MAGIC_USEC: u32 = 0xa1b2_c3d4;
/// The magic of a nanosecond savefile.
pub const PCAP_MAGIC_NSEC: u32 = 0xa1b2_3c4d;
/// The magic of Kuznetzov's patched savefiles (24-byte record headers).
pub const PCAP_MAGIC_KUZNETZOV: u32 = 0xa1b2_cd34;
/// The file header.
pub const PCAP_FILE_HEADER: usize = 24;
/// A record header (seconds, fraction, captured length, wire length).
pub const PCAP_RECORD_HEADER: usize = 16;
/// A record header of Kuznetzov's patched savefiles.
pub const PCAP_KUZNETZOV_RECORD_HEADER: usize = 24;
/// Link types whose pseudo-headers libpcap rewrites while reading
/// (USB_LINUX, USB_LINUX_MMAPPED, NFLOG): records libpcap hands out are not
/// the file's bytes.
pub const REWRITTEN_LINKTYPES: [u32; 3] = [189, 220, 239];
/// libpcap's largest snap length for most link types (`MAXIMUM_SNAPLEN`).
pub const MAXIMUM_SNAPLEN: u32 = 262_144;

/// The file header of a microsecond savefile (version 2.4) in this
/// machine's byte order, with the snap length and link type given.
pub fn pcap_file_header(snapshot: u32, linktype: u32) -> [u8; PCAP_FILE_HEADER] {
    let mut h = [0u8; PCAP_FILE_HEADER];
    h[..4].copy_from_slice(&PCAP_MAGIC_USEC.to_ne_bytes());
    h[4..6].copy_from_slice(&2u16.to_ne_bytes());
    h[6..8].copy_from_slice(&4u16.to_ne_bytes());
    h[16..20].copy_from_slice(&snapshot.to_ne_bytes());
    h[20..].copy_from_slice(&linktype.to_ne_bytes());
    h
}

// pcapng.

/// Section header block (the same bytes in either byte order).
pub const SHB: u32 = 0x0A0D_0D0A;
/// Interface description block.
pub const IDB: u32 = 0x0000_0001;
/// The obsolete packet block.
pub const OBSOLETE_PB: u32 = 0x0000_0002;
/// Simple packet block.
pub const SPB: u32 = 0x0000_0003;
/// Enhanced packet block.
pub const EPB: u32 = 0x0000_0006;
/// The blocks that hold a packet.
pub const PACKET_BLOCKS: [u32; 3] = [EPB, SPB, OBSOLETE_PB];
/// A section header's byte-order magic, as read in the section's order.
pub const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// libpcap's largest pcapng block (`INITIAL_MAX_BLOCKSIZE`).
pub const PCAPNG_MAX_BLOCK: u32 = 16 << 20;

/// Option codes: every block's, then a section header's, an interface
/// description's.
pub const OPT_ENDOFOPT: u16 = 0;
pub const OPT_COMMENT: u16 = 1;
pub const SHB_USERAPPL: u16 = 4;
pub const IF_NAME: u16 = 2;
pub const IF_TSRESOL: u16 = 9;
pub const IF_TSOFFSET: u16 = 14;
