//! Acquisition for the display: frames arrive on the SDK's callback
//! thread, which only keeps the newest one; a converter thread turns it
//! into a [`DisplayFrame`]; frames the user asked to save go to a saver
//! thread. The window never waits for any of them.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mvcam::{AcquisitionMode, CallbackStream, Camera, Frame, Statistics, StreamOptions};

use crate::display::DisplayFrame;
use crate::error::ViewerError;

/// How many frames one press of Play acquires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayMode {
    /// Until Stop.
    Continuous,
    /// One frame.
    SingleFrame,
    /// This many frames.
    MultiFrame(u32),
}

impl PlayMode {
    fn acquisition_mode(self) -> AcquisitionMode {
        match self {
            PlayMode::Continuous => AcquisitionMode::Continuous,
            PlayMode::SingleFrame => AcquisitionMode::SingleFrame,
            PlayMode::MultiFrame(n) => AcquisitionMode::MultiFrame(n.max(1)),
        }
    }
}

/// Locks a mutex, taking over the data of a thread that panicked.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

type Repaint = Box<dyn Fn() + Send + Sync>;

struct Shared {
    newest: Mutex<Option<Frame>>,
    ready: Condvar,
    quit: AtomicBool,
    display: Mutex<Option<Arc<DisplayFrame>>>,
    converted: AtomicU64,
    max_side: AtomicUsize,
    save_left: AtomicU32,
    saved: AtomicU64,
    save_error: Mutex<Option<String>>,
    save_tx: Mutex<Option<Sender<Frame>>>,
    repaint: Repaint,
}

/// A running acquisition feeding the display.
pub struct Acquisition {
    stream: Option<CallbackStream>,
    shared: Arc<Shared>,
    converter: Option<JoinHandle<()>>,
    saver: Option<JoinHandle<()>>,
    mode: PlayMode,
}

impl std::fmt::Debug for Acquisition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acquisition")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl Acquisition {
    /// Starts streaming from `camera`. `save_dir` is where saved frames
    /// go; `repaint` is called whenever a new display frame is ready.
    pub fn start(
        camera: &Camera,
        mode: PlayMode,
        save_dir: PathBuf,
        repaint: impl Fn() + Send + Sync + 'static,
    ) -> Result<Acquisition, ViewerError> {
        let (save_tx, save_rx) = channel::<Frame>();
        let shared = Arc::new(Shared {
            newest: Mutex::new(None),
            ready: Condvar::new(),
            quit: AtomicBool::new(false),
            display: Mutex::new(None),
            converted: AtomicU64::new(0),
            max_side: AtomicUsize::new(2048),
            save_left: AtomicU32::new(0),
            saved: AtomicU64::new(0),
            save_error: Mutex::new(None),
            save_tx: Mutex::new(Some(save_tx)),
            repaint: Box::new(repaint),
        });
        let options = StreamOptions {
            mode: mode.acquisition_mode(),
            ..StreamOptions::default()
        };
        let stream = camera.start_stream(&options)?;
        let s = shared.clone();
        let stream = stream.on_frame(move |frame| {
            if s.save_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                if let Ok(image) = frame.to_image() {
                    if let Some(tx) = lock(&s.save_tx).as_ref() {
                        let _ = tx.send(Frame::from_image(image, frame.info().block_id));
                    }
                }
            }
            *lock(&s.newest) = Some(frame);
            s.ready.notify_one();
            true
        });
        let s = shared.clone();
        let converter = std::thread::Builder::new()
            .name("mvcam-viewer-convert".into())
            .spawn(move || convert_loop(&s))
            .map_err(|e| ViewerError::NotNow(format!("cannot start a thread: {e}")))?;
        let s = shared.clone();
        let saver = std::thread::Builder::new()
            .name("mvcam-viewer-save".into())
            .spawn(move || {
                for frame in save_rx {
                    let path = save_dir.join(format!("frame-{:08}.png", frame.info().block_id));
                    let r = std::fs::create_dir_all(&save_dir)
                        .map_err(|e| e.to_string())
                        .and_then(|()| frame.save(&path).map_err(|e| e.to_string()));
                    match r {
                        Ok(()) => {
                            s.saved.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(e) => *lock(&s.save_error) = Some(format!("{}: {e}", path.display())),
                    }
                }
            })
            .ok();
        Ok(Acquisition {
            stream: Some(stream),
            shared,
            converter: Some(converter),
            saver,
            mode,
        })
    }

    /// The play mode it was started with.
    pub fn mode(&self) -> PlayMode {
        self.mode
    }

    /// Whether the acquisition ended by itself (single or multi-frame
    /// done, or the camera went away).
    pub fn is_finished(&self) -> bool {
        match &self.stream {
            Some(s) => s.is_finished(),
            None => true,
        }
    }

    /// The stream statistics so far.
    pub fn statistics(&self) -> Statistics {
        self.stream
            .as_ref()
            .map(CallbackStream::statistics)
            .unwrap_or_default()
    }

    /// The newest converted frame and its sequence number (increases with
    /// every conversion).
    pub fn latest(&self) -> (u64, Option<Arc<DisplayFrame>>) {
        let d = lock(&self.shared.display).clone();
        (self.shared.converted.load(Ordering::SeqCst), d)
    }

    /// Sets the largest texture side the preview may have.
    pub fn set_max_side(&self, side: usize) {
        self.shared.max_side.store(side.max(1), Ordering::Relaxed);
    }

    /// Saves the next `count` frames as PNG files.
    pub fn save_next(&self, count: u32) {
        self.shared.save_left.fetch_add(count, Ordering::SeqCst);
    }

    /// Frames saved so far, and the last save error.
    pub fn saved(&self) -> (u64, Option<String>) {
        (
            self.shared.saved.load(Ordering::SeqCst),
            lock(&self.shared.save_error).clone(),
        )
    }

    /// Stops the stream and the threads; returns the final statistics.
    pub fn stop(mut self) -> Result<Statistics, ViewerError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<Statistics, ViewerError> {
        let result = match self.stream.take() {
            Some(s) => s.stop().map_err(ViewerError::from),
            None => Ok(Statistics::default()),
        };
        self.shared.quit.store(true, Ordering::SeqCst);
        self.shared.ready.notify_all();
        if let Some(t) = self.converter.take() {
            let _ = t.join();
        }
        lock(&self.shared.save_tx).take();
        if let Some(t) = self.saver.take() {
            let _ = t.join();
        }
        result
    }
}

impl Drop for Acquisition {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// Most display conversions per second: more than a screen shows.
const MAX_CONVERSIONS_PER_SECOND: u32 = 30;

/// Niceness of the converter thread: the display gives way to
/// acquisition (and to an in-process virtual camera) for the CPU.
#[cfg(target_os = "linux")]
const CONVERTER_NICENESS: i32 = 10;

/// Gives the calling thread a lower scheduling priority (Linux: a
/// thread's niceness is its own).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority take plain integers and only change
    // this thread's scheduling; failure leaves the priority as it was.
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, CONVERTER_NICENESS);
    }
}

fn convert_loop(s: &Shared) {
    lower_priority();
    let min_interval = Duration::from_secs(1) / MAX_CONVERSIONS_PER_SECOND;
    let mut last = None::<Instant>;
    loop {
        if let Some(t) = last {
            std::thread::sleep(min_interval.saturating_sub(t.elapsed()));
        }
        let frame = {
            let mut slot = lock(&s.newest);
            loop {
                if s.quit.load(Ordering::SeqCst) {
                    return;
                }
                if let Some(f) = slot.take() {
                    break f;
                }
                slot = s.ready.wait(slot).unwrap_or_else(|e| e.into_inner());
            }
        };
        last = Some(Instant::now());
        let max_side = s.max_side.load(Ordering::Relaxed);
        if let Ok(d) = DisplayFrame::from_frame(&frame, max_side) {
            drop(frame);
            *lock(&s.display) = Some(Arc::new(d));
            s.converted.fetch_add(1, Ordering::SeqCst);
            (s.repaint)();
        }
    }
}
