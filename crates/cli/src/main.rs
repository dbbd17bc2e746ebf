//! `mvcam`: the command line of the mvcam camera stack.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod acquire_cmd;
mod bench_cmd;
mod camera_cmd;
mod device;
mod emulate_cmd;
mod error;
mod ffc_cmd;
mod genapi_cmd;
mod output;
mod pcap;
mod synthetic;

use device::{DeviceArgs, Session};

/// Text after the options in `mvcam --help`.
const AFTER_HELP: &str = "\
Devices: without -d, the first device is used; on a machine with no camera that is \
the built-in virtual camera (a colour 5 MP model running in this process).

The built-in virtual camera stays 'powered' between commands: its state directory \
($MVCAM_STATE_DIR, else $XDG_STATE_HOME/mvcam, else ~/.local/state/mvcam) is its \
non-volatile memory (user sets, calibration), and its live settings are kept in \
<state>/live-<serial>.txt, loaded when it is opened and saved after every command \
that changes them. Delete that file to power it up afresh. Cameras over USB/IP keep \
their own state (`mvcam emulate` serves them from one long-running process).

Example: mvcam acquire -n 100 --out frames";

/// mvcam: discover, configure, stream from and record USB3 Vision cameras,
/// virtual or real.
#[derive(Debug, Parser)]
#[command(name = "mvcam", version, after_long_help = AFTER_HELP)]
struct Cli {
    #[command(flatten)]
    device: DeviceArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the cameras: virtual, USB/IP and USB.
    List(camera_cmd::ListArgs),
    /// Describe a camera.
    Info(camera_cmd::InfoArgs),
    /// List the features by category at a user level.
    Features(camera_cmd::FeaturesArgs),
    /// Read features.
    Get(camera_cmd::GetArgs),
    /// Write features (FEATURE=VALUE ...).
    Set(camera_cmd::SetArgs),
    /// Execute a command feature and wait for it to complete.
    Exec(camera_cmd::ExecArgs),
    /// Acquire frames, optionally into files; then print the statistics.
    Acquire(acquire_cmd::AcquireArgs),
    /// Stream and print live statistics once a second.
    Stats(acquire_cmd::StatsArgs),
    /// Save or load the settings (GenApi persistence format).
    #[command(subcommand)]
    Config(camera_cmd::ConfigCommand),
    /// Save, load or make default a user set.
    #[command(subcommand)]
    Userset(camera_cmd::UserSetCommand),
    /// Print or save the camera's GenICam file.
    Xml(camera_cmd::XmlArgs),
    /// Print device and SDK events.
    Events(camera_cmd::EventsArgs),
    /// Take one frame with a software trigger.
    Trigger(camera_cmd::TriggerArgs),
    /// Flat-field calibration, guided step by step.
    Ffc(ffc_cmd::FfcArgs),
    /// Serve virtual cameras over USB/IP until stopped (--usbip sets the
    /// address; default 127.0.0.1:3240).
    Emulate(emulate_cmd::EmulateArgs),
    /// Inspect and exercise GenICam description files.
    #[command(subcommand)]
    Genapi(genapi_cmd::GenapiCommand),
    /// Measure the speed of mvcam's kernels and streams.
    #[command(subcommand)]
    Bench(bench_cmd::BenchCommand),
}

type AnyResult = Result<(), Box<dyn std::error::Error>>;

fn run(cli: Cli) -> AnyResult {
    let device = cli.device;
    let on_camera = |f: &dyn Fn(&Session) -> error::CliResult| -> AnyResult {
        let session = Session::new(&device)?;
        Ok(f(&session)?)
    };
    match cli.command {
        Command::Genapi(c) => genapi_cmd::run(c),
        Command::Bench(c) => bench_cmd::run(c),
        Command::Emulate(a) => Ok(emulate_cmd::emulate(&a, &device.usbip)?),
        Command::List(a) => on_camera(&|s| camera_cmd::list(s, &a)),
        Command::Info(a) => on_camera(&|s| camera_cmd::info(s, &a)),
        Command::Features(a) => on_camera(&|s| camera_cmd::features(s, &a)),
        Command::Get(a) => on_camera(&|s| camera_cmd::get(s, &a)),
        Command::Set(a) => on_camera(&|s| camera_cmd::set(s, &a)),
        Command::Exec(a) => on_camera(&|s| camera_cmd::exec(s, &a)),
        Command::Acquire(a) => {
            let mut session = Session::new(&device)?;
            let capture = match a.pcap() {
                Some(path) => {
                    let c = pcap::Capture::create(path)
                        .map_err(|e| format!("--pcap {}: {e}", path.display()))?;
                    let wrap = c.clone();
                    session.set_link_wrapper(std::sync::Arc::new(move |l| wrap.wrap(l)));
                    Some((c, path))
                }
                None => None,
            };
            acquire_cmd::acquire(&session, &a)?;
            drop(session);
            if let Some((c, path)) = capture {
                c.finish()
                    .map_err(|e| format!("--pcap {}: {e}", path.display()))?;
            }
            Ok(())
        }
        Command::Stats(a) => on_camera(&|s| acquire_cmd::stats(s, &a)),
        Command::Config(c) => on_camera(&|s| camera_cmd::config(s, &c)),
        Command::Userset(c) => on_camera(&|s| camera_cmd::userset(s, &c)),
        Command::Xml(a) => on_camera(&|s| camera_cmd::xml(s, &a)),
        Command::Events(a) => on_camera(&|s| camera_cmd::events(s, &a)),
        Command::Trigger(a) => on_camera(&|s| camera_cmd::trigger(s, &a)),
        Command::Ffc(a) => on_camera(&|s| ffc_cmd::ffc(s, &a)),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if output::is_closed_output(e.as_ref()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mvcam: {e}");
            ExitCode::FAILURE
        }
    }
}
