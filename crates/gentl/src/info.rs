//! Typed answers of the `*GetInfo` calls and how they are written into the
//! caller's `(piType, pBuffer, piSize)` triple.

use std::ffi::c_void;

use crate::abi::*;
use crate::error::{GcError, GcResult};

/// One answer of an info command.
#[derive(Debug, Clone, PartialEq)]
pub enum InfoValue {
    /// `INFO_DATATYPE_STRING`: written with its NUL terminator.
    String(String),
    /// `INFO_DATATYPE_INT32`.
    I32(i32),
    /// `INFO_DATATYPE_UINT32`.
    U32(u32),
    /// `INFO_DATATYPE_UINT64`.
    U64(u64),
    /// `INFO_DATATYPE_SIZET`.
    SizeT(usize),
    /// `INFO_DATATYPE_BOOL8`.
    Bool(bool),
    /// `INFO_DATATYPE_PTR`.
    Ptr(usize),
    /// `INFO_DATATYPE_BUFFER`: bytes, no terminator.
    Buffer(Vec<u8>),
}

impl InfoValue {
    /// The `INFO_DATATYPE` code.
    pub fn data_type(&self) -> i32 {
        match self {
            InfoValue::String(_) => INFO_DATATYPE_STRING,
            InfoValue::I32(_) => INFO_DATATYPE_INT32,
            InfoValue::U32(_) => INFO_DATATYPE_UINT32,
            InfoValue::U64(_) => INFO_DATATYPE_UINT64,
            InfoValue::SizeT(_) => INFO_DATATYPE_SIZET,
            InfoValue::Bool(_) => INFO_DATATYPE_BOOL8,
            InfoValue::Ptr(_) => INFO_DATATYPE_PTR,
            InfoValue::Buffer(_) => INFO_DATATYPE_BUFFER,
        }
    }

    /// The bytes written to the caller's buffer (native byte order).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            InfoValue::String(s) => {
                let mut b: Vec<u8> = s.bytes().filter(|&c| c != 0).collect();
                b.push(0);
                b
            }
            InfoValue::I32(v) => v.to_ne_bytes().to_vec(),
            InfoValue::U32(v) => v.to_ne_bytes().to_vec(),
            InfoValue::U64(v) => v.to_ne_bytes().to_vec(),
            InfoValue::SizeT(v) | InfoValue::Ptr(v) => v.to_ne_bytes().to_vec(),
            InfoValue::Bool(v) => vec![u8::from(*v)],
            InfoValue::Buffer(b) => b.clone(),
        }
    }
}

/// Writes `bytes` the GenTL way: `size` NULL is an error; `buffer` NULL
/// asks for the size; a `*size` smaller than needed gets
/// [`GcError::BufferTooSmall`] with the needed size written back.
///
/// # Safety
/// `buffer`, when not NULL, must be writable for `*size` bytes; `size`,
/// when not NULL, must point to a `size_t`.
pub(crate) unsafe fn write_bytes(
    bytes: &[u8],
    buffer: *mut c_void,
    size: *mut usize,
) -> GcResult<()> {
    if size.is_null() {
        return Err(GcError::null("piSize"));
    }
    // SAFETY: `size` is not NULL and points to a size_t (caller's contract).
    let capacity = unsafe { size.read_unaligned() };
    // SAFETY: as above.
    unsafe { size.write_unaligned(bytes.len()) };
    if buffer.is_null() {
        return Ok(());
    }
    if capacity < bytes.len() {
        return Err(GcError::BufferTooSmall {
            needed: bytes.len(),
        });
    }
    // SAFETY: `buffer` holds at least `capacity >= bytes.len()` writable
    // bytes (caller's contract) and cannot overlap our own vector.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), buffer.cast::<u8>(), bytes.len()) };
    Ok(())
}

/// Writes an info answer and its type.
///
/// # Safety
/// As [`write_bytes`]; `data_type`, when not NULL, must point to an `i32`.
pub(crate) unsafe fn write_info(
    value: &InfoValue,
    data_type: *mut i32,
    buffer: *mut c_void,
    size: *mut usize,
) -> GcResult<()> {
    if !data_type.is_null() {
        // SAFETY: not NULL, points to an INFO_DATATYPE (caller's contract).
        unsafe { data_type.write_unaligned(value.data_type()) };
    }
    // SAFETY: forwarded contract.
    unsafe { write_bytes(&value.to_bytes(), buffer, size) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_carry_a_terminator_and_sizes_are_reported() {
        let v = InfoValue::String("U3V".into());
        let mut size = 0usize;
        let mut ty = 0i32;
        unsafe { write_info(&v, &mut ty, std::ptr::null_mut(), &mut size) }.unwrap();
        assert_eq!((ty, size), (INFO_DATATYPE_STRING, 4));
        let mut small = [0u8; 2];
        size = 2;
        let e = unsafe { write_info(&v, &mut ty, small.as_mut_ptr().cast(), &mut size) };
        assert_eq!(e, Err(GcError::BufferTooSmall { needed: 4 }));
        assert_eq!(size, 4);
        let mut big = [0xFFu8; 8];
        size = 8;
        unsafe { write_info(&v, &mut ty, big.as_mut_ptr().cast(), &mut size) }.unwrap();
        assert_eq!(&big[..4], b"U3V\0");
        assert_eq!(size, 4);
    }

    #[test]
    fn a_null_size_is_an_invalid_parameter() {
        let e = unsafe { write_bytes(&[1, 2], std::ptr::null_mut(), std::ptr::null_mut()) };
        assert_eq!(e.map_err(|e| e.code()), Err(GC_ERR_INVALID_PARAMETER));
    }
}
