//! Writing batches to a Parquet file with the `parquet` crate, streaming:
//! each batch is encoded into the current row group as it comes, and a row
//! group is flushed to the file every [`ROW_GROUP_ROWS`] rows, so memory
//! stays bounded whatever the size of the capture.

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::path::Path;

/// Rows per row group (DuckDB, polars and pyarrow read row groups in
/// parallel; about a million rows is what they write themselves).
pub const ROW_GROUP_ROWS: usize = 1 << 20;

/// Why a Parquet file could not be written.
#[derive(Debug)]
pub enum Error {
    /// An unknown compression name (the message lists the known ones).
    Compression(String),
    Io(std::io::Error),
    Parquet(parquet::errors::ParquetError),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Compression(m) => f.write_str(m),
            Error::Io(e) => write!(f, "{e}"),
            Error::Parquet(e) => write!(f, "{e}"),
        }
    }
}

impl Error {
    /// The operating system's error behind this one (a full disk, a
    /// closed pipe), if any.
    pub fn os_error(&self) -> Option<&std::io::Error> {
        match self {
            Error::Io(e) => Some(e),
            Error::Parquet(parquet::errors::ParquetError::External(e)) => e.downcast_ref(),
            _ => None,
        }
    }
}

impl From<parquet::errors::ParquetError> for Error {
    fn from(e: parquet::errors::ParquetError) -> Self {
        Error::Parquet(e)
    }
}

/// The codec called `name`: `"zstd"` (level 3, the default) or `"none"`.
pub fn compression(name: &str) -> Result<Compression, Error> {
    match name.to_ascii_lowercase().as_str() {
        "zstd" => Ok(Compression::ZSTD(ZstdLevel::default())),
        "none" | "uncompressed" => Ok(Compression::UNCOMPRESSED),
        _ => Err(Error::Compression(format!("unknown compression {name:?}: use \"zstd\" or \"none\""))),
    }
}

/// A Parquet file being written.
pub struct Writer(ArrowWriter<File>);

impl Writer {
    /// Creates (or truncates) `path` for batches of `schema`.
    pub fn create(path: &Path, schema: SchemaRef, codec: &str) -> Result<Writer, Error> {
        let codec = compression(codec)?;
        let props = WriterProperties::builder()
            .set_compression(codec)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_created_by(format!("pyopenbsd {}", env!("CARGO_PKG_VERSION")))
            .set_column_dictionary_enabled(parquet::schema::types::ColumnPath::from("ts"), false)
            .build();
        let file = File::create(path).map_err(Error::Io)?;
        Ok(Writer(ArrowWriter::try_new(file, schema, Some(props))?))
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), Error> {
        Ok(self.0.write(batch)?)
    }

    /// Flushes the last row group and writes the footer.
    pub fn close(self) -> Result<(), Error> {
        self.0.close()?;
        Ok(())
    }
}
