//! What can go wrong in the viewer.

use std::path::PathBuf;

/// An error the viewer shows in its status bar.
#[derive(Debug, thiserror::Error)]
pub enum ViewerError {
    /// The SDK refused (the message names the feature or device).
    #[error(transparent)]
    Sdk(#[from] mvcam::Error),
    /// A file of the viewer's own (the recent list, a frame folder).
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The action needs a connected camera.
    #[error("no camera is connected")]
    NotConnected,
    /// The action is not possible in the present state (the text says why).
    #[error("{0}")]
    NotNow(String),
}
