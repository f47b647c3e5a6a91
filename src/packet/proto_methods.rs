//! The Python methods of `Protocol` (the struct and the Rust side of a
//! protocol object are in `proto`): lookups inward, `payload`, `offset`,
//! `packet`, `isType`, `len`, `repr`, the neighbours `_next`/`_prev`.

use super::layer::{Kind, Layer};
use super::names::{class_name, no_such_protocol};
use super::objects::object_at;
use super::proto::{Protocol, DETACHED};
use super::query::{layer_matches, Query};
use super::repr::repr_layer;
use super::stack::Packet;
use super::subtypes::{icmp, icmp6};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

/// Moving to the neighbours and lookups inward, for the Python methods.
impl Protocol {
    /// The object of the layer `step` places from this one, or None.
    fn neighbour(&self, py: Python<'_>, step: isize) -> PyResult<Option<Py<PyAny>>> {
        if self.idx == DETACHED {
            return Ok(None);
        }
        let pkt = self.pkt.bind(py);
        match (self.idx as usize).checked_add_signed(step) {
            Some(i) if i < pkt.get().layers(py).len() => object_at(pkt, i).map(Some),
            _ => Ok(None),
        }
    }

    /// Where inward lookups from this object start.
    fn inner_start(&self) -> Option<usize> {
        (self.idx != DETACHED).then_some(self.idx as usize + 1)
    }
}

#[pymethods]
impl Protocol {
    #[classattr]
    const TYPE: &'static str = "Protocol";

    fn __repr__(&self, py: Python<'_>) -> String {
        repr_layer(py, self.pkt.get(), &self.layer(py))
    }

    /// The first protocol *after* this one whose type (or base type) is
    /// `name`, case-insensitively.
    fn __getitem__(&self, py: Python<'_>, name: &Bound<'_, PyString>) -> PyResult<Py<PyAny>> {
        let q = Query::of(name)?;
        let pkt = self.pkt.bind(py);
        match self.inner_start().and_then(|s| pkt.get().find(py, &q, s)) {
            Some(i) => object_at(pkt, i),
            None => Err(no_such_protocol(name)),
        }
    }

    fn has_key(&self, py: Python<'_>, name: &Bound<'_, PyString>) -> PyResult<bool> {
        self.__contains__(py, name)
    }

    fn __contains__(&self, py: Python<'_>, name: &Bound<'_, PyString>) -> PyResult<bool> {
        let q = Query::of(name)?;
        Ok(self.inner_start().and_then(|s| self.pkt.get().find(py, &q, s)).is_some())
    }

    /// Two protocol objects are equal when they are the same layer of the
    /// same packet (each lookup makes a new object: `p["ip"] == p["ip"]`).
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<Protocol>() {
            Ok(o) => {
                let o = o.get();
                o.pkt.is(&self.pkt) && o.idx == self.idx && o.made == self.made
            }
            Err(_) => false,
        }
    }

    fn __hash__(&self) -> u64 {
        (self.pkt.as_ptr() as u64).rotate_left(8) ^ (self.made.hdr_start() as u64) ^ self.idx as u64
    }

    /// Number of protocols from this one to the innermost.
    fn __len__(&self, py: Python<'_>) -> usize {
        match self.inner_start() {
            Some(s) => self.pkt.get().layers(py).len().saturating_sub(s) + 1,
            None => 1,
        }
    }

    /// Whether this object's type (`TYPE`), or one of its base types, is
    /// `name`. It answers for the object's class: an ICMP object whose
    /// type field was changed since is still of the class it was made as
    /// (`p["icmp"]` gives one of the new class).
    #[pyo3(name = "isType")]
    fn is_type(slf: &Bound<'_, Self>, name: &str) -> PyResult<bool> {
        let kind = slf.get().made.kind;
        let own: String = slf.get_type().getattr("TYPE")?.extract()?;
        // The class's ICMP type number, as a one-byte header to match
        // against; the plain ICMP classes have none.
        let sub = match kind {
            Kind::Icmp => icmp::subtype_by_name(&own),
            Kind::Icmp6 => icmp6::subtype_by_name(&own),
            _ => None,
        };
        let data = sub.map(|t| vec![t]).unwrap_or_default();
        let layer = Layer { kind, off: 0, hlen: 0, end: 0 };
        Ok(layer_matches(&data, &layer, name))
    }

    /// Byte offset of this protocol's header in the packet.
    #[getter]
    fn offset(&self, py: Python<'_>) -> usize {
        self.layer(py).hdr_start()
    }

    /// The bytes after this protocol's header, bounded by what encloses it.
    #[getter]
    fn payload<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.payload_bytes(py))
    }

    /// Replaces the bytes after this protocol's header: the packet grows or
    /// shrinks, the enclosing length fields follow, and the protocols after
    /// this one are located again in the new bytes.
    #[setter]
    fn set_payload(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let name = format!("{}.payload", class_name(self.made.kind));
        let new = super::write::bytes_arg(&name, value)?;
        self.replace_payload(py, &name, &new)
    }

    #[getter]
    fn packet(&self, py: Python<'_>) -> Py<Packet> {
        self.pkt.clone_ref(py)
    }

    /// The protocol after this one in the stack, or None (the legacy
    /// library's link, which some scripts follow).
    #[getter]
    fn _next(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.neighbour(py, 1)
    }

    /// _getProtoList() -> list: every protocol object of the packet,
    /// outermost first (the legacy helper; `packet.getProtoList()`).
    #[pyo3(name = "_getProtoList")]
    fn get_proto_list(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(self.pkt.bind(py).call_method0("getProtoList")?.unbind())
    }

    /// The protocol before this one in the stack, or None.
    #[getter]
    fn _prev(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.neighbour(py, -1)
    }

    /// _fixChecksums() -> None
    ///
    /// Recomputes this protocol's own checksum (none for protocols without
    /// one), leaving every other byte as it is (the legacy library's
    /// helper).
    #[pyo3(name = "_fixChecksums")]
    fn fix_checksums(&self, py: Python<'_>) -> PyResult<()> {
        if self.idx == DETACHED {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "_fixChecksums: this header is not part of its packet's stack",
            ));
        }
        let i = self.idx as usize;
        self.pkt.get().modify(py, |d, layers| super::finalise::fix(d, layers.as_slice(), false, Some(i)));
        Ok(())
    }
}
