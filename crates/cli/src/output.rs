//! Writing results to standard output without panicking when the reader
//! goes away (`mvcam events | head`).

use std::io::Write;

use crate::error::{CliError, CliResult};

/// Writes one line to standard output.
pub fn line(args: std::fmt::Arguments<'_>) -> CliResult {
    let mut out = std::io::stdout().lock();
    out.write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(|e| CliError::io("stdout", e))
}

/// Writes text as it is to standard output.
pub fn text(s: &str) -> CliResult {
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| CliError::io("stdout", e))
}

/// Whether an error only says that standard output was closed by its
/// reader, which is no failure of the command.
pub fn is_closed_output(e: &(dyn std::error::Error + 'static)) -> bool {
    matches!(
        e.downcast_ref::<CliError>(),
        Some(CliError::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe
    )
}

/// `println!` that returns an error instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::line(format_args!($($arg)*))
    };
}
pub(crate) use outln;
