//! Bytes in and out, below the capture classes and knowing nothing of them:
//! the record and its consumer (`record`), the fast reader of classic pcap
//! files (`savefile`) with its memory-mapped windows (`mapping`) and its
//! choice between mapping and reading them (`map_cost`), the stdio streams
//! libpcap reads and writes through (`stream`), the pcapng writer
//! (`pcapng`) and the pcapng blocks read beside libpcap (`pcapng_read`,
//! parsed by `pcapng_blocks`), capture files read in parts (`split`), and
//! the numbers of the file formats they all read and write (`format`).

pub mod format;
pub mod map_cost;
pub mod mapping;
pub mod pcapng;
pub mod pcapng_blocks;
pub mod pcapng_read;
pub mod record;
pub mod savefile;
pub mod sink;
pub mod split;
pub mod stream;
