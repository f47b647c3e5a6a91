//! Handing tables to other Arrow libraries through the Arrow PyCapsule
//! interface: a stream of record batches (`arrow_array_stream`) and a
//! schema (`arrow_schema`), each a `PyCapsule` holding the Arrow C data
//! interface struct. pyarrow, polars and DuckDB import these without
//! copying the buffers, and nothing here imports pyarrow.
//!
//! Written by hand over arrow-rs's own `ffi_stream` (about forty lines)
//! rather than with `pyo3-arrow`: that crate supports this PyO3, but pulls
//! in `numpy`, `arrow-cast`, `chrono-tz` and more, adding compile time to
//! every build for two capsules.

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::ffi::FFI_ArrowSchema;
use arrow_schema::{ArrowError, SchemaRef};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

/// A capsule named `name` holding `value`; dropping the capsule drops the
/// value (which releases the C struct unless a consumer moved it out and
/// cleared its `release`).
fn capsule<'py, T: 'static + Send>(py: Python<'py>, value: T, name: &str) -> PyResult<Bound<'py, PyCapsule>> {
    let name = std::ffi::CString::new(name).map_err(|e| PyValueError::new_err(e.to_string()))?;
    #[allow(deprecated)]
    PyCapsule::new_with_destructor(py, value, Some(name), |v, _| drop(v))
}

/// `__arrow_c_schema__`: the schema as an `arrow_schema` capsule.
pub fn schema_capsule<'py>(py: Python<'py>, schema: &SchemaRef) -> PyResult<Bound<'py, PyCapsule>> {
    let ffi = FFI_ArrowSchema::try_from(schema.as_ref()).map_err(|e| PyValueError::new_err(e.to_string()))?;
    capsule(py, ffi, "arrow_schema")
}

/// Batches pulled one at a time by whoever consumes the stream (possibly
/// from another thread, with or without the GIL).
pub trait BatchSource: Send + 'static {
    /// The next batch, `None` at the end. An error ends the stream; its
    /// text is what the consumer reports.
    fn next_batch(&mut self) -> Option<Result<RecordBatch, ArrowError>>;
}

struct Reader<S> {
    schema: SchemaRef,
    source: S,
}

impl<S: BatchSource> Iterator for Reader<S> {
    type Item = Result<RecordBatch, ArrowError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.source.next_batch()
    }
}

impl<S: BatchSource> RecordBatchReader for Reader<S> {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

/// `__arrow_c_stream__`: `source`'s batches as an `arrow_array_stream`
/// capsule.
pub fn stream_capsule<'py, S: BatchSource>(
    py: Python<'py>,
    schema: SchemaRef,
    source: S,
) -> PyResult<Bound<'py, PyCapsule>> {
    let stream = FFI_ArrowArrayStream::new(Box::new(Reader { schema, source }));
    capsule(py, stream, "arrow_array_stream")
}
