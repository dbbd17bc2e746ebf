//! The error type of the USB/IP codec.

/// Everything that can go wrong while encoding or decoding USB/IP messages.
///
/// Decoding errors mean the peer sent bytes that are not a valid USB/IP
/// message (the connection should normally be dropped: the stream cannot be
/// resynchronised). Encoding errors mean the message to send is inconsistent
/// (for example a payload whose length differs from the length field) or
/// does not fit its fixed-size wire field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The operation header carries a protocol version other than 0x0111.
    #[error("unsupported USB/IP version {0:#06x} (expected 0x0111)")]
    UnsupportedVersion(u16),

    /// The operation header carries an unknown command/reply code.
    #[error("unknown USB/IP operation code {0:#06x}")]
    UnknownOpCode(u16),

    /// The URB header carries an unknown command code.
    #[error("unknown USB/IP URB command {0:#010x}")]
    UnknownCommand(u32),

    /// A numeric field is above the sanity limit the codec accepts.
    #[error("{field} is {value}, above the limit of {max}")]
    TooLarge {
        /// Wire name of the field.
        field: &'static str,
        /// Value found (or about to be written).
        value: u64,
        /// Largest value accepted.
        max: u64,
    },

    /// A field holds a value the protocol does not allow.
    #[error("invalid {field}: {value}")]
    InvalidField {
        /// Wire name of the field.
        field: &'static str,
        /// Value found (or about to be written).
        value: i64,
    },

    /// A RET_SUBMIT answers a sequence number the caller does not know, so
    /// the direction of its transfer (and thus its length) is unknown.
    #[error("RET_SUBMIT with seqnum {0} answers no pending CMD_SUBMIT")]
    UnknownSeqnum(u32),

    /// A string does not fit its NUL-terminated fixed-size field.
    #[error("{field} is {len} bytes long, the field holds at most {max}")]
    StringTooLong {
        /// Wire name of the field.
        field: &'static str,
        /// Length of the string in bytes.
        len: usize,
        /// Largest length that leaves room for the terminating NUL.
        max: usize,
    },

    /// A string to encode contains a NUL byte (it would not decode back).
    #[error("{field} contains a NUL byte")]
    StringHasNul {
        /// Wire name of the field.
        field: &'static str,
    },

    /// A received string field is not valid UTF-8.
    #[error("{field} is not valid UTF-8")]
    InvalidString {
        /// Wire name of the field.
        field: &'static str,
    },

    /// Two values that the protocol ties together disagree, e.g. a payload
    /// and its length field, or a descriptor list and its count.
    #[error("{field}: expected {expected}, got {actual}")]
    LengthMismatch {
        /// What is being counted.
        field: &'static str,
        /// Value implied by the header or count field.
        expected: u64,
        /// Value actually present.
        actual: u64,
    },

    /// A message is internally inconsistent in a way no length describes.
    #[error("inconsistent message: {0}")]
    Inconsistent(&'static str),
}
