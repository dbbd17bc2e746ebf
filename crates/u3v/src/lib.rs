//! USB3 Vision wire formats and state machines (in progress).
