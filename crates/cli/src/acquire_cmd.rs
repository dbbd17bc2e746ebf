//! `mvcam acquire` (frames to files, then the statistics) and `mvcam
//! stats` (live statistics).

use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use mvcam::{AcquisitionMode, FileFormat, Frame, Recorder, Statistics, StreamOptions};

use crate::camera_cmd::seconds;
use crate::device::Session;
use crate::error::{CliError, CliResult};
use crate::output::outln;

/// Acquisition modes of the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Stream until N frames are received.
    Continuous,
    /// One frame.
    Single,
    /// The camera sends exactly N frames (MultiFrame, N at most 255).
    Multi,
}

/// Image file types of the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// PNG.
    Png,
    /// Uncompressed TIFF.
    Tiff,
    /// Windows bitmap.
    Bmp,
    /// The wire bytes with a JSON sidecar.
    Raw,
}

impl Format {
    fn file_format(self) -> FileFormat {
        match self {
            Format::Png => FileFormat::Png,
            Format::Tiff => FileFormat::Tiff,
            Format::Bmp => FileFormat::Bmp,
            Format::Raw => FileFormat::Raw,
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Tiff => "tiff",
            Format::Bmp => "bmp",
            Format::Raw => "raw",
        }
    }
}

/// `mvcam acquire`.
#[derive(Debug, Args)]
pub struct AcquireArgs {
    /// Frames to acquire.
    #[arg(short = 'n', long = "count", default_value = "10")]
    count: u32,
    /// Acquisition mode.
    #[arg(long, value_enum, default_value = "continuous")]
    mode: Mode,
    /// FEATURE=VALUE applied before starting (repeatable).
    #[arg(long = "set", value_name = "FEATURE=VALUE")]
    set: Vec<String>,
    /// Save the frames into this directory.
    #[arg(long)]
    out: Option<PathBuf>,
    /// File type of the saved frames.
    #[arg(long, value_enum, default_value = "png")]
    format: Format,
    /// File name pattern: {n} sequence number, {n:05} zero-padded,
    /// {block} block id (default frame_{n:05}.<format>).
    #[arg(long)]
    pattern: Option<String>,
    /// Buffers in the stream's pool.
    #[arg(long, default_value = "16")]
    buffers: usize,
    /// How long to wait for each frame, seconds.
    #[arg(long, default_value = "10")]
    timeout: f64,
    /// Largest payload transfer, bytes (a frame that fits in one transfer
    /// costs the host no copy).
    #[arg(long, default_value = "16777216", value_parser = clap::value_parser!(u32).range(1024..=(64 << 20)))]
    max_transfer: u32,
    /// Print the statistics as JSON.
    #[arg(long)]
    json: bool,
    /// Record the session's USB3 Vision traffic in this pcap file (link
    /// type 220, as Linux usbmon; Wireshark decodes it).
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
}

impl AcquireArgs {
    /// The `--pcap` file, if any.
    pub fn pcap(&self) -> Option<&std::path::Path> {
        self.pcap.as_deref()
    }
}

/// `mvcam stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// How long to stream, seconds.
    #[arg(long, default_value = "5")]
    seconds: f64,
    /// FEATURE=VALUE applied before starting (repeatable).
    #[arg(long = "set", value_name = "FEATURE=VALUE")]
    set: Vec<String>,
    /// One JSON object per second.
    #[arg(long)]
    json: bool,
}

/// Where and how frames are saved: the directory, the name pattern (as a
/// [`Recorder`], which checks it) and the file type.
struct Output {
    dir: PathBuf,
    names: Recorder,
    format: FileFormat,
}

/// Writes frames to files on a few threads, so that the stream's buffers
/// come back while files are encoded.
struct Writers {
    queue: Option<SyncSender<(u64, Frame)>>,
    threads: Vec<JoinHandle<()>>,
    first_error: Arc<Mutex<Option<mvcam::Error>>>,
}

impl Writers {
    /// Up to `waiting` frames wait while the threads write.
    fn new(output: Output, waiting: usize) -> Writers {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 4);
        let (tx, rx) = sync_channel::<(u64, Frame)>(waiting.max(1));
        let rx = Arc::new(Mutex::new(rx));
        let output = Arc::new(output);
        let first_error = Arc::new(Mutex::new(None));
        let threads = (0..threads)
            .filter_map(|i| {
                let (rx, out, err) = (rx.clone(), output.clone(), first_error.clone());
                std::thread::Builder::new()
                    .name(format!("mvcam-writer-{i}"))
                    .spawn(move || write_loop(&rx, &out, &err))
                    .ok()
            })
            .collect();
        Writers {
            queue: Some(tx),
            threads,
            first_error,
        }
    }

    /// Queues the `n`th frame of the recording.
    fn push(&self, n: u64, frame: Frame) -> CliResult {
        if let Some(e) = lock(&self.first_error).take() {
            return Err(e.into());
        }
        match &self.queue {
            Some(q) => q
                .send((n, frame))
                .map_err(|_| CliError::Usage("the file writers stopped".into())),
            None => Ok(()),
        }
    }

    /// Waits for every file to be written.
    fn finish(mut self) -> CliResult {
        self.queue = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        match lock(&self.first_error).take() {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn write_loop(
    rx: &Mutex<Receiver<(u64, Frame)>>,
    output: &Output,
    first_error: &Mutex<Option<mvcam::Error>>,
) {
    loop {
        let received = lock(rx).recv();
        let Ok((n, frame)) = received else { return };
        let r = output
            .names
            .file_name(n, frame.info().block_id)
            .and_then(|name| frame.save_as(output.dir.join(name), output.format));
        drop(frame);
        if let Err(e) = r {
            lock(first_error).get_or_insert(e);
            return;
        }
    }
}

fn progress(count: u64) -> ProgressBar {
    let bar = ProgressBar::new(count);
    let style =
        ProgressStyle::with_template("{spinner} {bar:40} {pos}/{len} frames  {per_sec}  eta {eta}");
    if let Ok(s) = style {
        bar.set_style(s);
    }
    bar
}

/// Prints the statistics; `host_cpu` is the CPU time (user + system, all
/// threads) this process spent during the acquisition, which includes an
/// in-process virtual camera's own work.
/// `wall` is the wall time over which `host_cpu` was measured.
fn print_statistics(s: &Statistics, host_cpu: Option<f64>, wall: f64, json: bool) -> CliResult {
    let cpu_fraction = host_cpu.filter(|_| wall > 0.0).map(|c| c / wall);
    if json {
        let mut j = s.to_json();
        j["host_cpu_s"] = host_cpu.into();
        j["host_cpu_fraction_of_one_core"] = cpu_fraction.into();
        return outln!("{j}");
    }
    outln!("configured frame rate  {:.2} Hz", s.configured_frame_rate)?;
    outln!("measured frame rate    {:.2} Hz", s.measured_frame_rate)?;
    outln!("bandwidth              {:.1} MB/s", s.bandwidth / 1e6)?;
    outln!("images received        {}", s.images_received)?;
    outln!("frames lost            {}", s.frames_lost)?;
    outln!("frame loss rate        {:.3} %", s.frame_loss_rate * 100.0)?;
    outln!("error images           {}", s.error_images)?;
    outln!("error image rate       {:.3} %", s.error_image_rate * 100.0)?;
    outln!("underruns              {}", s.underruns)?;
    match cpu_fraction {
        Some(f) => outln!("host CPU               {:.1} % of one core", f * 100.0),
        None => Ok(()),
    }
}

/// `mvcam acquire`.
pub fn acquire(session: &Session, args: &AcquireArgs) -> CliResult {
    let timeout = seconds(args.timeout, "--timeout")?;
    let (mode, count) = match args.mode {
        Mode::Continuous => (AcquisitionMode::Continuous, u64::from(args.count)),
        Mode::Single => (AcquisitionMode::SingleFrame, 1),
        Mode::Multi => (
            AcquisitionMode::MultiFrame(args.count),
            u64::from(args.count),
        ),
    };
    if count == 0 {
        return Err(CliError::Usage("-n: at least one frame".into()));
    }
    if args.buffers == 0 || args.buffers > 1024 {
        return Err(CliError::Usage("--buffers: 1 to 1024".into()));
    }
    let output = match &args.out {
        Some(dir) => {
            let pattern = args
                .pattern
                .clone()
                .unwrap_or_else(|| format!("frame_{{n:05}}.{}", args.format.extension()));
            Some(Output {
                dir: dir.clone(),
                names: Recorder::new(dir, &pattern)?,
                format: args.format.file_format(),
            })
        }
        None => None,
    };
    let open = session.open(None)?;
    open.set_all(&args.set)?;
    let cpu_start = mvcam::bench::process_cpu_seconds();
    let wall_start = std::time::Instant::now();
    let stream = open.camera.start_stream(&StreamOptions {
        mode,
        buffers: args.buffers,
        max_transfer: args.max_transfer,
        ..StreamOptions::default()
    })?;
    let writers = output.map(|o| Writers::new(o, args.buffers / 2));
    let bar = progress(count);
    let mut received = 0u64;
    let mut failure: Option<CliError> = None;
    while received < count {
        match stream.next_frame(timeout) {
            Ok(frame) => {
                if let Some(w) = &writers {
                    if let Err(e) = w.push(received, frame) {
                        failure = Some(e);
                        break;
                    }
                }
                received += 1;
                bar.inc(1);
            }
            Err(mvcam::Error::StreamEnded) => break,
            Err(e) => {
                failure = Some(e.into());
                break;
            }
        }
    }
    bar.finish_and_clear();
    // The statistics of the frames asked for; the camera may send a few
    // more before it stops.
    let asked = stream.statistics();
    let host_cpu = cpu_start
        .zip(mvcam::bench::process_cpu_seconds())
        .map(|(a, b)| b - a);
    let wall = wall_start.elapsed().as_secs_f64();
    let stopped = stream.stop();
    let written = writers.map(Writers::finish);
    open.persist()?;
    if let Some(e) = failure {
        return Err(e);
    }
    if let Some(w) = written {
        w?;
    }
    let stats = if received == count {
        if let Err(e) = &stopped {
            eprintln!("mvcam: warning: stopping the acquisition: {e}");
        }
        asked
    } else {
        stopped?
    };
    if received < count {
        eprintln!("mvcam: warning: the acquisition ended after {received} of {count} frame(s)");
    }
    if let Some(dir) = &args.out {
        eprintln!("wrote {received} frame(s) to {}", dir.display());
        if stats.underruns > 0 {
            eprintln!(
                "mvcam: note: {} frame(s) found no free buffer while files were written; \
                 lower AcquisitionFrameRate or use --format raw to keep every frame",
                stats.underruns
            );
        }
    }
    print_statistics(&stats, host_cpu, wall, args.json)
}

/// `mvcam stats`: streams and prints the statistics once a second.
pub fn stats(session: &Session, args: &StatsArgs) -> CliResult {
    let duration = seconds(args.seconds, "--seconds")?;
    let open = session.open(None)?;
    open.set_all(&args.set)?;
    let stream = open.camera.start_stream(&StreamOptions::default())?;
    let start = Instant::now();
    let mut next_report = start + Duration::from_secs(1);
    let end = start + duration;
    let mut failure = None;
    loop {
        let now = Instant::now();
        if now >= next_report || now >= end {
            let s = stream.statistics();
            let t = now.duration_since(start).as_secs_f64();
            if args.json {
                let mut j = s.to_json();
                j["t_s"] = t.into();
                outln!("{j}")?;
            } else {
                outln!(
                    "{t:6.1} s  {:8.2} fps (configured {:.2})  {:8.1} MB/s  received {}  lost {} ({:.3} %)  errors {} ({:.3} %)  underruns {}",
                    s.measured_frame_rate,
                    s.configured_frame_rate,
                    s.bandwidth / 1e6,
                    s.images_received,
                    s.frames_lost,
                    s.frame_loss_rate * 100.0,
                    s.error_images,
                    s.error_image_rate * 100.0,
                    s.underruns
                )?;
            }
            next_report += Duration::from_secs(1);
            if now >= end {
                break;
            }
        }
        let wait = next_report
            .min(end)
            .saturating_duration_since(Instant::now());
        match stream.next_frame(wait.max(Duration::from_millis(1))) {
            Ok(f) => drop(f),
            Err(mvcam::Error::Timeout(_)) => {}
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let r = stream.stop();
    open.persist()?;
    if let Some(e) = failure {
        return Err(e.into());
    }
    r?;
    Ok(())
}
