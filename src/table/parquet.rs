//! Writing batches to a Parquet file with the `parquet` crate, streaming:
//! each batch is encoded into the current row group as it comes, and a row
//! group is flushed to the file every [`ROW_GROUP_ROWS`] rows, so memory
//! stays bounded whatever the size of the capture. A row group's columns
//! are encoded on two threads (the caller's and an encoder thread), split
//! between them by weight ([`split`]), with the `parquet` crate's column
//! writers (`ArrowColumnWriter`): the file is the one its `ArrowWriter`
//! writes.

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::arrow_writer::{compute_leaves, ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use std::fs::File;
use std::path::Path;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::JoinHandle;

/// Rows per row group (DuckDB, polars and pyarrow read row groups in
/// parallel; about a million rows is what they write themselves).
pub const ROW_GROUP_ROWS: usize = 1 << 20;

/// Why a Parquet file could not be written.
#[derive(Debug)]
pub enum Error {
    /// An unknown compression name (the message lists the known ones).
    Compression(String),
    Io(std::io::Error),
    Parquet(ParquetError),
    /// The encoder thread panicked (its message).
    Encoder(String),
    /// The encoder thread stopped taking batches (its error follows).
    Stopped,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Compression(m) => f.write_str(m),
            Error::Io(e) => write!(f, "{e}"),
            Error::Parquet(e) => write!(f, "{e}"),
            Error::Encoder(m) => write!(f, "the Parquet encoder thread failed: {m}"),
            Error::Stopped => f.write_str("the Parquet encoder thread stopped"),
        }
    }
}

impl Error {
    /// The operating system's error behind this one (a full disk, a
    /// closed pipe), if any.
    pub fn os_error(&self) -> Option<&std::io::Error> {
        match self {
            Error::Io(e) => Some(e),
            Error::Parquet(ParquetError::External(e)) => e.downcast_ref(),
            _ => None,
        }
    }
}

impl From<ParquetError> for Error {
    fn from(e: ParquetError) -> Self {
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

/// The properties of the files written: the codec, row groups of
/// [`ROW_GROUP_ROWS`], `ts` without a Parquet dictionary.
fn properties(codec: Compression) -> WriterProperties {
    WriterProperties::builder()
        .set_compression(codec)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(format!("pyopenbsd {}", env!("CARGO_PKG_VERSION")))
        .set_column_dictionary_enabled(parquet::schema::types::ColumnPath::from("ts"), false)
        .build()
}

/// A Parquet file being written.
pub struct Writer {
    file: SerializedFileWriter<File>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    /// For each column of `schema`, whether the encoder thread encodes it.
    theirs: Vec<bool>,
    /// The row group being encoded.
    group: Option<Group>,
}

impl Writer {
    /// Creates (or truncates) `path` for batches of `schema`.
    pub fn create(path: &Path, schema: SchemaRef, codec: &str) -> Result<Writer, Error> {
        let props = properties(compression(codec)?);
        let file = File::create(path).map_err(Error::Io)?;
        Self::new(file, schema, props)
    }

    fn new(file: File, schema: SchemaRef, props: WriterProperties) -> Result<Writer, Error> {
        // `ArrowWriter` lays out the file's schema and metadata (the
        // Arrow schema among them) as for its own writes.
        let (file, factory) = ArrowWriter::try_new(file, schema.clone(), Some(props))?.into_serialized_writer()?;
        let theirs = split(&schema);
        Ok(Writer { file, factory, schema, theirs, group: None })
    }

    /// Encodes `batch`, cut where a row group ends: a row group is written
    /// to the file once it has [`ROW_GROUP_ROWS`] rows.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), Error> {
        let mut at = 0;
        while at < batch.num_rows() {
            let group = match &mut self.group {
                Some(group) => group,
                None => self.group.insert(self.start()?),
            };
            let n = (ROW_GROUP_ROWS - group.rows).min(batch.num_rows() - at);
            let part = if n == batch.num_rows() { batch.clone() } else { batch.slice(at, n) };
            if let Err(e) = group.write(part) {
                // The row group is given up (the file keeps the row groups
                // before it); the encoder thread's own error, if it
                // stopped, says more than the closed channel.
                let theirs = self.group.take().map(|g| g.helper.finish());
                return Err(match (e, theirs) {
                    (Error::Stopped, Some(Err(theirs))) => theirs,
                    (e, _) => e,
                });
            }
            at += n;
            if group.rows == ROW_GROUP_ROWS {
                self.flush()?;
            }
        }
        Ok(())
    }

    /// Flushes the last row group and writes the footer.
    pub fn close(mut self) -> Result<(), Error> {
        self.flush()?;
        self.file.close()?;
        Ok(())
    }

    /// The column writers of the next row group, the encoder thread's
    /// running.
    fn start(&self) -> Result<Group, Error> {
        let writers = self.factory.create_column_writers(self.file.flushed_row_groups().len())?;
        // One writer per leaf of the Parquet schema, in order.
        let descr = self.file.schema_descr();
        let mut columns: Vec<(usize, Vec<ArrowColumnWriter>)> =
            (0..self.schema.fields().len()).map(|i| (i, Vec::new())).collect();
        for (leaf, w) in writers.into_iter().enumerate() {
            match columns.get_mut(descr.get_column_root_idx(leaf)) {
                Some((_, ws)) => ws.push(w),
                None => return Err(ParquetError::General(format!("leaf {leaf} has no column")).into()),
            }
        }
        let (theirs, mine) = columns.into_iter().partition(|(i, _)| self.theirs[*i]);
        let helper = Helper::spawn(Encoder { schema: self.schema.clone(), columns: theirs })?;
        Ok(Group { rows: 0, mine: Encoder { schema: self.schema.clone(), columns: mine }, helper })
    }

    /// Writes the row group being encoded, if any, to the file: its
    /// columns' pages in the schema's order.
    fn flush(&mut self) -> Result<(), Error> {
        let Some(Group { mine, mut helper, .. }) = self.group.take() else { return Ok(()) };
        drop(helper.tx.take()); // the encoder thread closes its columns meanwhile
        let mine = mine.close();
        let theirs = helper.finish();
        let mut columns = mine?;
        columns.extend(theirs?);
        columns.sort_by_key(|(i, _)| *i);
        let mut row_group = self.file.next_row_group()?;
        for chunk in columns.into_iter().flat_map(|(_, chunks)| chunks) {
            chunk.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
        // The encoder thread ended, its columns are written: what its heap
        // held goes back, so memory stays flat however many row groups.
        crate::allocator::give_back();
        Ok(())
    }
}

/// Which columns the encoder thread encodes (`true`) and which the
/// caller's thread does: the heaviest first, each to the thread with the
/// lighter load so far (the encoder thread on a tie: the caller's thread
/// also appends the pages to the file).
fn split(schema: &Schema) -> Vec<bool> {
    let fields = schema.fields();
    let mut order: Vec<usize> = (0..fields.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(weight(&fields[i])));
    let (mut mine, mut theirs) = (0, 0);
    let mut out = vec![false; fields.len()];
    for i in order {
        if theirs <= mine {
            out[i] = true;
            theirs += weight(&fields[i]);
        } else {
            mine += weight(&fields[i]);
        }
    }
    out
}

/// The rough cost of encoding a column, from its type. Measured (CPU time
/// of a million rows, zstd): an address column (a string dictionary) about
/// 80 ms, `ts` (64 bits, no Parquet dictionary) 48 ms, a nullable small
/// int 40 ms, a plain `u32` 28 ms; bytes cost by their length.
fn weight(f: &Field) -> u32 {
    let base = match f.data_type() {
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => 16,
        DataType::Dictionary(..) | DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => 8,
        t if t.primitive_width().is_some_and(|w| w >= 8) => 5,
        _ => 3,
    };
    base + u32::from(f.is_nullable())
}

/// The encoded pages of some columns of a row group: each column's index
/// in the schema and its chunks (one per Parquet leaf).
type Chunks = Vec<(usize, Vec<ArrowColumnChunk>)>;

/// A row group being encoded.
struct Group {
    rows: usize,
    /// The columns this thread encodes.
    mine: Encoder,
    helper: Helper,
}

impl Group {
    fn write(&mut self, part: RecordBatch) -> Result<(), Error> {
        let rows = part.num_rows();
        let sent = self.helper.tx.as_ref().is_some_and(|tx| tx.send(part.clone()).is_ok());
        if !sent {
            return Err(Error::Stopped);
        }
        self.mine.write(&part)?;
        self.rows += rows;
        Ok(())
    }
}

/// Some columns of a row group and their writers.
struct Encoder {
    schema: SchemaRef,
    /// Each column's index in `schema` and its writers (one per Parquet
    /// leaf).
    columns: Vec<(usize, Vec<ArrowColumnWriter>)>,
}

impl Encoder {
    fn write(&mut self, batch: &RecordBatch) -> Result<(), Error> {
        for (i, writers) in &mut self.columns {
            let (field, array) = (&self.schema.fields()[*i], &batch.columns()[*i]);
            let leaves = compute_leaves(field, array)?;
            if leaves.len() != writers.len() {
                return Err(ParquetError::General(format!(
                    "column {}: {} leaves for {} writers",
                    field.name(),
                    leaves.len(),
                    writers.len()
                ))
                .into());
            }
            for (w, leaf) in writers.iter_mut().zip(&leaves) {
                w.write(leaf)?;
            }
        }
        Ok(())
    }

    /// The encoded pages of each column.
    fn close(self) -> Result<Chunks, Error> {
        let mut out = Vec::with_capacity(self.columns.len());
        for (i, writers) in self.columns {
            out.push((i, writers.into_iter().map(|w| w.close()).collect::<Result<_, _>>()?));
        }
        Ok(out)
    }
}

/// The encoder thread of a row group: it is handed each part of the row
/// group (one waits in the channel: memory stays bounded) and gives back
/// its columns' encoded pages once the channel is closed.
struct Helper {
    tx: Option<SyncSender<RecordBatch>>,
    thread: JoinHandle<Result<Chunks, Error>>,
}

impl Helper {
    fn spawn(mut encoder: Encoder) -> Result<Helper, Error> {
        let (tx, rx) = sync_channel::<RecordBatch>(1);
        let thread = std::thread::Builder::new()
            .name("parquet encoder".into())
            .spawn(move || {
                for batch in rx {
                    encoder.write(&batch)?; // drops `rx`: the next send fails
                }
                encoder.close()
            })
            .map_err(Error::Io)?;
        Ok(Helper { tx: Some(tx), thread })
    }

    /// Closes the channel and waits for the encoded pages; a panic of the
    /// thread is an error.
    fn finish(mut self) -> Result<Chunks, Error> {
        drop(self.tx.take());
        self.thread.join().unwrap_or_else(|panic| {
            let why = match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
                (Some(s), _) => s.to_string(),
                (_, Some(s)) => s.clone(),
                _ => "no message".into(),
            };
            Err(Error::Encoder(why))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Rng;
    use arrow_array::types::Int32Type;
    use arrow_array::{
        ArrayRef, DictionaryArray, LargeBinaryArray, TimestampNanosecondArray, UInt16Array, UInt32Array,
    };
    use arrow_schema::TimeUnit;
    use std::sync::Arc;

    fn schema() -> SchemaRef {
        let addr = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        Arc::new(Schema::new(vec![
            Field::new("ts", DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())), false),
            Field::new("len", DataType::UInt32, false),
            Field::new("ip_src", addr.clone(), true),
            Field::new("ip_dst", addr, true),
            Field::new("sport", DataType::UInt16, true),
            Field::new("raw", DataType::LargeBinary, false),
        ]))
    }

    /// A batch of `n` random rows, nulls among them.
    fn batch(rng: &mut Rng, n: usize) -> RecordBatch {
        let names = ["10.0.0.1", "10.0.0.2", "192.168.1.1", "::1", "fe80::1"];
        let mut addr = || -> ArrayRef {
            let keys: Vec<Option<i32>> =
                (0..n).map(|_| (rng.below(7) != 0).then(|| rng.below(names.len()) as i32)).collect();
            Arc::new(DictionaryArray::<Int32Type>::from_iter(keys.into_iter().map(|k| k.map(|k| names[k as usize]))))
        };
        let (src, dst) = (addr(), addr());
        let columns: Vec<ArrayRef> = vec![
            Arc::new(
                TimestampNanosecondArray::from_iter_values((0..n).map(|_| rng.next() as i64 >> 20))
                    .with_timezone("UTC"),
            ),
            Arc::new(UInt32Array::from_iter_values((0..n).map(|_| rng.below(1600) as u32))),
            src,
            dst,
            Arc::new(UInt16Array::from_iter((0..n).map(|_| (rng.below(3) != 0).then(|| rng.below(70_000) as u16)))),
            Arc::new(LargeBinaryArray::from_iter_values((0..n).map(|i| vec![i as u8; rng.below(40)]))),
        ];
        RecordBatch::try_new(schema(), columns).unwrap()
    }

    fn temp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("pyopenbsd-parquet-{}-{name}", std::process::id()))
    }

    #[test]
    fn the_file_is_the_one_arrow_writer_writes() {
        // Batches straddling row groups (and an empty one): the same
        // bytes as the crate's own `ArrowWriter`, three row groups.
        let mut rng = Rng(0x5eed_1234);
        let sizes = [65_536, 0, 900_000, 200_000, 1, 1_048_576, 70_000];
        let batches: Vec<RecordBatch> = sizes.iter().map(|&n| batch(&mut rng, n)).collect();
        for codec in [Compression::UNCOMPRESSED, Compression::ZSTD(ZstdLevel::default())] {
            let (ours, theirs) = (temp("ours.parquet"), temp("theirs.parquet"));
            let mut w = Writer::new(File::create(&ours).unwrap(), schema(), properties(codec)).unwrap();
            let mut a =
                ArrowWriter::try_new(File::create(&theirs).unwrap(), schema(), Some(properties(codec))).unwrap();
            for b in &batches {
                w.write(b).unwrap();
                a.write(b).unwrap();
            }
            w.close().unwrap();
            let meta = a.close().unwrap();
            let rows: Vec<i64> = meta.row_groups().iter().map(|g| g.num_rows()).collect();
            assert_eq!(rows, [1_048_576, 1_048_576, 186_961]);
            let (ours_bytes, theirs_bytes) = (std::fs::read(&ours).unwrap(), std::fs::read(&theirs).unwrap());
            std::fs::remove_file(ours).unwrap();
            std::fs::remove_file(theirs).unwrap();
            assert!(
                ours_bytes == theirs_bytes,
                "{codec:?}: {} bytes, ArrowWriter {}",
                ours_bytes.len(),
                theirs_bytes.len()
            );
        }
    }

    #[test]
    fn address_columns_go_to_different_threads() {
        let theirs = split(&schema());
        // ts len ip_src ip_dst sport raw: raw outweighs both addresses
        assert_eq!(theirs, [true, true, false, false, false, true]);
        let bench = Schema::new(
            ["ts", "caplen", "len", "ip_src", "ip_dst", "ip_proto", "sport", "dport"]
                .iter()
                .map(|&n| {
                    let ty = match n {
                        "ts" => DataType::Int64,
                        "caplen" | "len" => DataType::UInt32,
                        "ip_src" | "ip_dst" => {
                            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
                        }
                        "ip_proto" => DataType::UInt8,
                        _ => DataType::UInt16,
                    };
                    Field::new(n, ty, !matches!(n, "ts" | "caplen" | "len"))
                })
                .collect::<Vec<_>>(),
        );
        let theirs = split(&bench);
        assert_ne!(theirs[3], theirs[4]);
        let load = |side: bool| -> u32 {
            bench.fields().iter().zip(&theirs).filter(|(_, &t)| t == side).map(|(f, _)| weight(f)).sum()
        };
        assert_eq!((load(true), load(false)), (21, 20));
    }

    #[test]
    fn a_panicking_encoder_thread_is_an_error() {
        let path = temp("panic.parquet");
        let mut w = Writer::new(File::create(&path).unwrap(), schema(), properties(Compression::UNCOMPRESSED)).unwrap();
        let mut rng = Rng(7);
        let b = batch(&mut rng, 1000);
        w.write(&b).unwrap();
        w.flush().unwrap();
        // An encoder thread given a column the schema does not have
        // panics on its first batch.
        let mut group = w.start().unwrap();
        group.helper = Helper::spawn(Encoder { schema: schema(), columns: vec![(99, Vec::new())] }).unwrap();
        w.group = Some(group);
        let mut err = None;
        for _ in 0..10 {
            if let Err(e) = w.write(&b) {
                err = Some(e);
                break;
            }
        }
        let err = match err {
            Some(e) => e,
            None => w.flush().unwrap_err(),
        };
        assert!(err.to_string().starts_with("the Parquet encoder thread failed: index out of bounds"), "{err}");
        // The file is closed with the row group written before.
        w.close().unwrap();
        let reader = parquet::file::reader::SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        std::fs::remove_file(&path).unwrap();
        use parquet::file::reader::FileReader;
        assert_eq!(reader.metadata().row_groups().iter().map(|g| g.num_rows()).collect::<Vec<_>>(), [1000]);
    }
}
