//! The producer's error type, its GenTL error code, and the last error of
//! each thread that `GCGetLastError` reports.

use std::cell::RefCell;

use crate::abi::*;

/// Why a GenTL call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GcError {
    /// `GCInitLib` was not called, or `GCCloseLib` was.
    #[error("the producer is not initialised: call GCInitLib first")]
    NotInitialized,
    /// The call or command is not implemented.
    #[error("not implemented: {0}")]
    NotImplemented(String),
    /// The resource is already opened or started.
    #[error("in use: {0}")]
    ResourceInUse(String),
    /// The access mode does not allow the call.
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// A handle that is not open, or of the wrong kind.
    #[error("invalid handle")]
    InvalidHandle,
    /// An id that names nothing.
    #[error("unknown id {0:?}")]
    InvalidId(String),
    /// Nothing to report.
    #[error("no data: {0}")]
    NoData(String),
    /// A NULL pointer or an unusable argument.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// The device did not answer or refused.
    #[error("I/O error: {0}")]
    Io(String),
    /// Nothing arrived in time.
    #[error("timeout after {0} ms")]
    Timeout(u64),
    /// The wait was aborted (`EventKill`, a closed module).
    #[error("aborted: {0}")]
    Abort(String),
    /// A buffer handle this stream does not know.
    #[error("invalid buffer: {0}")]
    InvalidBuffer(String),
    /// The information exists but cannot be given now.
    #[error("not available: {0}")]
    NotAvailable(String),
    /// A register address outside the port.
    #[error("invalid address {0:#x}")]
    InvalidAddress(u64),
    /// The caller's buffer is smaller than the answer.
    #[error("buffer too small: {needed} bytes needed")]
    BufferTooSmall {
        /// Bytes the answer needs.
        needed: usize,
    },
    /// An index past the end of a list.
    #[error("index {0} out of range")]
    InvalidIndex(u64),
    /// A value outside what the call accepts.
    #[error("invalid value: {0}")]
    InvalidValue(String),
    /// Not enough buffers or memory.
    #[error("resource exhausted: {0}")]
    ResourceExhausted(String),
    /// The resource is busy with something else.
    #[error("busy: {0}")]
    Busy(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl GcError {
    /// The GenTL error code.
    pub fn code(&self) -> GcErrorCode {
        match self {
            GcError::NotInitialized => GC_ERR_NOT_INITIALIZED,
            GcError::NotImplemented(_) => GC_ERR_NOT_IMPLEMENTED,
            GcError::ResourceInUse(_) => GC_ERR_RESOURCE_IN_USE,
            GcError::AccessDenied(_) => GC_ERR_ACCESS_DENIED,
            GcError::InvalidHandle => GC_ERR_INVALID_HANDLE,
            GcError::InvalidId(_) => GC_ERR_INVALID_ID,
            GcError::NoData(_) => GC_ERR_NO_DATA,
            GcError::InvalidParameter(_) => GC_ERR_INVALID_PARAMETER,
            GcError::Io(_) => GC_ERR_IO,
            GcError::Timeout(_) => GC_ERR_TIMEOUT,
            GcError::Abort(_) => GC_ERR_ABORT,
            GcError::InvalidBuffer(_) => GC_ERR_INVALID_BUFFER,
            GcError::NotAvailable(_) => GC_ERR_NOT_AVAILABLE,
            GcError::InvalidAddress(_) => GC_ERR_INVALID_ADDRESS,
            GcError::BufferTooSmall { .. } => GC_ERR_BUFFER_TOO_SMALL,
            GcError::InvalidIndex(_) => GC_ERR_INVALID_INDEX,
            GcError::InvalidValue(_) => GC_ERR_INVALID_VALUE,
            GcError::ResourceExhausted(_) => GC_ERR_RESOURCE_EXHAUSTED,
            GcError::Busy(_) => GC_ERR_BUSY,
            GcError::Other(_) => GC_ERR_ERROR,
        }
    }

    /// A NULL pointer argument.
    pub(crate) fn null(what: &str) -> GcError {
        GcError::InvalidParameter(format!("{what} is NULL"))
    }
}

impl From<mvcam::Error> for GcError {
    fn from(e: mvcam::Error) -> GcError {
        match e {
            mvcam::Error::InUse { .. } | mvcam::Error::AlreadyStreaming { .. } => {
                GcError::ResourceInUse(e.to_string())
            }
            mvcam::Error::Timeout(d) => {
                GcError::Timeout(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            }
            mvcam::Error::NoDevice { .. } => GcError::InvalidId(e.to_string()),
            mvcam::Error::Disconnected { .. }
            | mvcam::Error::Unreachable { .. }
            | mvcam::Error::Protocol { .. }
            | mvcam::Error::Io { .. }
            | mvcam::Error::Usb(_) => GcError::Io(e.to_string()),
            other => GcError::Other(other.to_string()),
        }
    }
}

/// The result of a producer operation.
pub type GcResult<T> = Result<T, GcError>;

thread_local! {
    static LAST_ERROR: RefCell<(GcErrorCode, String)> =
        const { RefCell::new((GC_ERR_SUCCESS, String::new())) };
}

/// Remembers `e` as this thread's last error.
pub(crate) fn set_last_error(code: GcErrorCode, text: String) {
    LAST_ERROR.with(|l| *l.borrow_mut() = (code, text));
}

/// This thread's last error: code and text (`GC_ERR_SUCCESS` and an
/// empty text when no call failed yet).
pub fn last_error() -> (GcErrorCode, String) {
    LAST_ERROR.with(|l| l.borrow().clone())
}
