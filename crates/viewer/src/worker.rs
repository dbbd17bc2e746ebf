//! Slow camera operations (calibrations, defect detection) run on a
//! thread of their own so that the window stays responsive.

use std::sync::mpsc::{channel, Receiver, TryRecvError};

/// A running background task; its outcome is a message or an error text.
#[derive(Debug)]
pub struct Task {
    rx: Receiver<Result<String, String>>,
}

impl Task {
    /// Runs `f` on a new thread.
    pub fn spawn(f: impl FnOnce() -> Result<String, String> + Send + 'static) -> Task {
        let (tx, rx) = channel();
        let spawned = std::thread::Builder::new()
            .name("mvcam-viewer-task".into())
            .spawn(move || {
                let _ = tx.send(f());
            });
        if let Err(e) = spawned {
            let (tx, rx2) = channel();
            let _ = tx.send(Err(format!("cannot start a thread: {e}")));
            return Task { rx: rx2 };
        }
        Task { rx }
    }

    /// The outcome, once the task has finished.
    pub fn poll(&self) -> Option<Result<String, String>> {
        match self.rx.try_recv() {
            Ok(r) => Some(r),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err("the task ended without an answer".into())),
        }
    }
}
