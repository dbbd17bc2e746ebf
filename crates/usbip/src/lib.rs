//! The USB/IP protocol (in progress).
