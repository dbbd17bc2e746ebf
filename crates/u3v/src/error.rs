//! Error types shared by every codec of this crate.

use thiserror::Error;

/// Why a byte buffer could not be decoded.
///
/// Every variant names the message (`what`) and, where it applies, the field
/// that was found wrong, so that a log line is enough to locate the problem.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The buffer ends before the message (or one of its parts) does.
    #[error("{what}: truncated: need {needed} bytes, have {available}")]
    Truncated {
        /// The message or structure being decoded.
        what: &'static str,
        /// Bytes needed to continue.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// The four-byte magic prefix is not the expected one.
    #[error("{what}: bad prefix {found:#010x}, expected {expected:#010x}")]
    BadPrefix {
        /// The message being decoded.
        what: &'static str,
        /// The prefix this message must start with.
        expected: u32,
        /// The prefix found.
        found: u32,
    },
    /// The buffer holds more bytes than the message's own length field says.
    #[error("{what}: {extra} trailing bytes after the message")]
    TrailingBytes {
        /// The message being decoded.
        what: &'static str,
        /// Number of unexpected bytes after the end of the message.
        extra: usize,
    },
    /// A length or size field is inconsistent with the buffer or the layout.
    #[error("{what}: `{field}` = {value}: {reason}")]
    BadLength {
        /// The message being decoded.
        what: &'static str,
        /// The offending field.
        field: &'static str,
        /// Its value on the wire.
        value: u64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A command or acknowledge identifier this codec does not know.
    #[error("{what}: unknown command id {id:#06x}")]
    UnknownCommand {
        /// The message being decoded.
        what: &'static str,
        /// The identifier found.
        id: u16,
    },
    /// A stream payload type this codec does not know.
    #[error("{what}: unknown payload type {value:#06x}")]
    UnknownPayloadType {
        /// The message being decoded.
        what: &'static str,
        /// The payload type found.
        value: u16,
    },
    /// Any other field with a value that cannot be accepted.
    #[error("{what}: invalid `{field}`: {reason}")]
    InvalidField {
        /// The message or structure being decoded.
        what: &'static str,
        /// The offending field.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Why a value could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The caller's output slice is shorter than the encoded message.
    #[error("output buffer too small: need {needed} bytes, have {available}")]
    BufferTooSmall {
        /// Bytes the encoding needs.
        needed: usize,
        /// Bytes the caller provided.
        available: usize,
    },
    /// A value does not fit its wire field.
    #[error("{what}: `{field}` = {value} exceeds the maximum {max}")]
    TooLarge {
        /// The message being encoded.
        what: &'static str,
        /// The field that overflows.
        field: &'static str,
        /// The value given.
        value: u64,
        /// The largest value the field can carry.
        max: u64,
    },
    /// A value that the wire format cannot represent for another reason.
    #[error("{what}: invalid `{field}`: {reason}")]
    Invalid {
        /// The message being encoded.
        what: &'static str,
        /// The offending field.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Why [`StreamSizing::compute`](crate::StreamSizing::compute) found no sizing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SizingError {
    /// The alignment is zero or not a power of two.
    #[error("alignment {0} is not a power of two")]
    BadAlignment(u32),
    /// The maximum transfer size is smaller than one alignment unit.
    #[error("maximum transfer size {max_transfer} is below the alignment {alignment}")]
    MaxTransferBelowAlignment {
        /// The maximum transfer size given.
        max_transfer: u32,
        /// The alignment given.
        alignment: u32,
    },
    /// The payload would need more than `u32::MAX` transfers.
    #[error(
        "payload of {payload} bytes needs more than u32::MAX transfers of {transfer_size} bytes"
    )]
    TooManyTransfers {
        /// The required payload size.
        payload: u64,
        /// The chosen transfer size.
        transfer_size: u32,
    },
    /// Rounding a leader or trailer size up to the alignment overflows `u32`.
    #[error("`{field}` = {value} cannot be rounded up to the alignment within u32")]
    Overflow {
        /// The field that overflows.
        field: &'static str,
        /// Its value.
        value: u32,
    },
}
