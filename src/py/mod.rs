//! Python glue shared by every part: reading arguments (`args`), the
//! `PcapError` exception and error texts (`error`), small-int and `bytes`
//! object reuse (`ints`, `recycle`), and delivery of records to Python
//! callbacks and `next()` results (`deliver`).

pub mod args;
pub mod deliver;
pub mod error;
pub mod ints;
pub mod recycle;
