//! Capture tables: packets as Arrow columns, built in Rust.
//!
//! - `columns`: the columns (names, Arrow types) and the builder that
//!   decodes records into them with the packet decoder's own code;
//! - `export`: the Arrow PyCapsule interface (a stream of batches, a
//!   schema) that hands tables to pyarrow, polars and DuckDB;
//! - `stage`: records copied out for decoding on several threads;
//! - `parquet`: writing batches to a Parquet file.
//!
//! The reads that fill a builder from a feed are in
//! `crate::capture::batches`.

pub mod columns;
pub mod export;
pub mod parquet;
pub mod stage;
