//! Capture: the feeds (`Live`, `Offline`, `Dead`), their sources of records,
//! the reads that drive a source into a consumer, `Dumper` and `BPFProgram`.
//!
//! - `source/`: where records come from (a file, an interface, nothing),
//!   behind one type, `source::Source`; no source knows the feed;
//! - `feed`: the `Feed` object and its lock; `feed_methods`: its Python
//!   methods; `read`: the reads (`loop`, `dispatch`, `next`); `batches`:
//!   the columnar reads (`batches()`, Parquet);
//! - `offline`, `live`, `dead`: the feed classes (opening a source);
//! - `dumper`: writing savefiles (pcapng through `crate::io::pcapng`);
//!   `filter`: `BPFProgram`; `dlt`: link-type constants.

pub mod batches;
pub mod dead;
pub mod dlt;
pub mod dumper;
pub mod feed;
mod feed_methods;
pub mod filter;
pub mod live;
pub mod offline;
pub mod part;
mod read;
pub mod source;
pub mod spans;
