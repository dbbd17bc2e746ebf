//! The errors of the camera commands: each a one-line message naming the
//! problem.

use std::path::PathBuf;

/// Why a camera command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The SDK refused or failed (unknown feature, out of range, in use,
    /// unreachable server, ...).
    #[error(transparent)]
    Sdk(#[from] mvcam::Error),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Arguments that make no sense together, or a value that does not parse.
    #[error("{0}")]
    Usage(String),
    /// A configuration file was applied but some features failed.
    #[error("{failed} of {lines} feature line(s) of {} could not be set (listed above)", path.display())]
    ConfigFailed {
        /// The file.
        path: PathBuf,
        /// Feature lines in the file.
        lines: usize,
        /// Lines that failed.
        failed: usize,
    },
    /// A calibration step the camera rejected.
    #[error("flat-field calibration: {0}")]
    Calibration(String),
}

/// The result of a camera command.
pub type CliResult<T = ()> = Result<T, CliError>;

impl CliError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> CliError {
        CliError::Io {
            path: path.into(),
            source,
        }
    }
}
