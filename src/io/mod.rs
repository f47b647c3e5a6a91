//! Bytes in and out, below the capture classes and knowing nothing of them:
//! the record and its consumer (`record`), the fast reader of classic pcap
//! files (`savefile`) with its memory-mapped windows (`mapping`), and the
//! stdio streams libpcap reads and writes through (`stream`), and the
//! pcapng writer (`pcapng`).

pub mod mapping;
pub mod pcapng;
pub mod record;
pub mod savefile;
pub mod sink;
pub mod stream;
