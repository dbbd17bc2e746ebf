//! The commands that look at and configure a camera: `list`, `info`,
//! `features`, `get`, `set`, `exec`, `config`, `userset`, `xml`, `events`,
//! `trigger`.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use mvcam::{Event, FeatureFilter, Level, StreamOptions, UserSetAction};

use crate::device::{OpenCamera, Session};
use crate::error::{CliError, CliResult};
use crate::output::outln;

/// `mvcam list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// One JSON object per device, one per line.
    #[arg(long)]
    json: bool,
}

/// `mvcam info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The device (overrides -d).
    dev: Option<String>,
    /// Print a JSON object.
    #[arg(long)]
    json: bool,
}

/// `mvcam features`.
#[derive(Debug, Args)]
pub struct FeaturesArgs {
    /// The user level: beginner, expert or guru.
    #[arg(long, default_value = "beginner", value_parser = parse_level)]
    level: Level,
    /// Only features whose name or category contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// One JSON object per feature, one per line.
    #[arg(long)]
    json: bool,
}

/// `mvcam get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The features to read.
    #[arg(required = true, value_name = "FEATURE")]
    features: Vec<String>,
    /// Print a JSON object of the values.
    #[arg(long)]
    json: bool,
}

/// `mvcam set`.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// Assignments, applied in order; if one fails none is kept.
    #[arg(required = true, value_name = "FEATURE=VALUE")]
    assignments: Vec<String>,
}

/// `mvcam exec`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The command feature, e.g. TriggerSoftware.
    command: String,
    /// How long to wait for the command to complete, seconds.
    #[arg(long, default_value = "10")]
    timeout: f64,
}

/// `mvcam config`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Saves the camera's settings in the GenApi persistence format.
    Save {
        /// The file to write.
        file: PathBuf,
    },
    /// Loads settings; reports every feature that failed and why.
    Load {
        /// The file to read.
        file: PathBuf,
    },
}

/// `mvcam userset`.
#[derive(Debug, Subcommand)]
pub enum UserSetCommand {
    /// Saves the current settings into a user set (UserSet1, UserSet2).
    Save {
        /// The user set.
        name: String,
    },
    /// Loads a user set (Default, UserSet1, UserSet2) into the settings.
    Load {
        /// The user set.
        name: String,
    },
    /// Makes a user set the one loaded at power-up.
    Default {
        /// The user set.
        name: String,
    },
}

/// `mvcam xml`.
#[derive(Debug, Args)]
pub struct XmlArgs {
    /// Write the file as the device serves it (XML or zip) here instead of
    /// printing the XML.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// `mvcam events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// How long to listen, seconds.
    #[arg(long, default_value = "5")]
    seconds: f64,
    /// Device events to turn on (EventSelector entries, e.g. ExposureEnd);
    /// repeatable. With any, the camera acquires while listening so that
    /// acquisition events happen.
    #[arg(long, value_name = "NAME")]
    enable: Vec<String>,
    /// One JSON object per event, one per line.
    #[arg(long)]
    json: bool,
}

/// `mvcam trigger`.
#[derive(Debug, Args)]
pub struct TriggerArgs {
    /// Save the triggered frame here (PNG, TIFF, BMP or raw by extension).
    #[arg(long)]
    out: Option<PathBuf>,
    /// How long to wait for the frame, seconds.
    #[arg(long, default_value = "10")]
    timeout: f64,
    /// Print the frame's metadata as JSON.
    #[arg(long)]
    json: bool,
}

fn parse_level(s: &str) -> Result<Level, String> {
    Level::from_name(s).ok_or_else(|| format!("{s:?}: expected beginner, expert or guru"))
}

/// A duration from user seconds, refusing negative, infinite and NaN.
pub fn seconds(s: f64, what: &str) -> CliResult<Duration> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| CliError::Usage(format!("{what}: {s} is not a number of seconds")))
}

/// `mvcam list`.
pub fn list(session: &Session, args: &ListArgs) -> CliResult {
    let found = session.system().devices();
    for w in &found.warnings {
        eprintln!("mvcam: warning: {w}");
    }
    let mut out = std::io::stdout().lock();
    for (i, d) in found.devices.iter().enumerate() {
        if args.json {
            let mut j = d.to_json();
            j["index"] = i.into();
            writeln!(out, "{j}")
        } else {
            writeln!(
                out,
                "{i}: {} {} serial {} user id {:?} at {} ({}, {})",
                d.vendor, d.model, d.serial, d.user_id, d.transport, d.link_speed, d.access
            )
        }
        .map_err(|e| CliError::io("stdout", e))?;
    }
    if found.devices.is_empty() && !args.json {
        outln!("no devices")?;
    }
    Ok(())
}

/// Features `info` shows when the camera can be opened.
const INFO_FEATURES: [&str; 8] = [
    "DeviceFirmwareVersion",
    "DeviceVersion",
    "SensorWidth",
    "SensorHeight",
    "Width",
    "Height",
    "PixelFormat",
    "ResultingFrameRate",
];

/// `mvcam info`.
pub fn info(session: &Session, args: &InfoArgs) -> CliResult {
    let open = session.open(args.dev.as_deref())?;
    let mut j = open.camera.info().to_json();
    let mut features = serde_json::Map::new();
    for name in INFO_FEATURES {
        if let Ok(v) = open.camera.get(name) {
            features.insert(name.to_string(), v.to_json());
        }
    }
    if args.json {
        j["features"] = features.into();
        outln!("{j}")?;
    } else {
        if let Some(obj) = j.as_object() {
            for (k, v) in obj {
                outln!("{k:>22}: {}", plain(v))?;
            }
        }
        for (k, v) in &features {
            outln!("{k:>22}: {}", plain(v))?;
        }
    }
    Ok(())
}

/// A JSON value as plain text (strings without quotes).
fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `mvcam features`.
pub fn features(session: &Session, args: &FeaturesArgs) -> CliResult {
    let open = session.open(None)?;
    let list = open.camera.features(&FeatureFilter {
        level: args.level,
        text: args.filter.clone(),
    })?;
    let mut out = std::io::stdout().lock();
    let mut category = String::new();
    for f in &list {
        let r = if args.json {
            writeln!(out, "{}", f.to_json())
        } else {
            if f.category != category {
                category.clone_from(&f.category);
                writeln!(out, "{category}").map_err(|e| CliError::io("stdout", e))?;
            }
            let value = f.value.as_ref().map(|v| v.to_string()).unwrap_or_default();
            let unit = f.unit.as_deref().unwrap_or("");
            let access = match (f.readable, f.writable) {
                (true, true) => "RW",
                (true, false) => "RO",
                (false, true) => "WO",
                (false, false) => "NA",
            };
            let mut line = format!(
                "  {:<36} {:<11} {access} {value} {unit}",
                f.name,
                f.kind.as_str()
            );
            if let Some(r) = &f.range {
                line.push_str(&format!("  [{r}]"));
            }
            if !f.entries.is_empty() {
                line.push_str(&format!("  {{{}}}", f.entries.join(", ")));
            }
            writeln!(out, "{}", line.trim_end())
        };
        r.map_err(|e| CliError::io("stdout", e))?;
    }
    Ok(())
}

/// `mvcam get`.
pub fn get(session: &Session, args: &GetArgs) -> CliResult {
    let open = session.open(None)?;
    let mut values = Vec::new();
    for name in &args.features {
        values.push((name, open.camera.get(name)?));
    }
    if args.json {
        let map: serde_json::Map<String, serde_json::Value> = values
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_json()))
            .collect();
        outln!("{}", serde_json::Value::Object(map))?;
    } else if let [(_, v)] = values.as_slice() {
        outln!("{v}")?;
    } else {
        for (n, v) in &values {
            outln!("{n}={v}")?;
        }
    }
    Ok(())
}

/// `mvcam set`.
pub fn set(session: &Session, args: &SetArgs) -> CliResult {
    let open = session.open(None)?;
    open.set_all(&args.assignments)?;
    open.persist()
}

/// `mvcam exec`.
pub fn exec(session: &Session, args: &ExecArgs) -> CliResult {
    let open = session.open(None)?;
    let timeout = seconds(args.timeout, "--timeout")?;
    open.camera.execute_timeout(&args.command, timeout)?;
    open.persist()
}

/// `mvcam config`.
pub fn config(session: &Session, cmd: &ConfigCommand) -> CliResult {
    let open = session.open(None)?;
    match cmd {
        ConfigCommand::Save { file } => {
            open.camera.save_config_file(file)?;
            eprintln!("saved the settings to {}", file.display());
            Ok(())
        }
        ConfigCommand::Load { file } => {
            let report = open.camera.load_config_file(file)?;
            open.persist()?;
            for f in &report.failures {
                eprintln!("mvcam: {}: {f}", file.display());
            }
            if report.failures.is_empty() {
                eprintln!(
                    "loaded {} feature line(s) from {}",
                    report.lines,
                    file.display()
                );
                Ok(())
            } else {
                Err(CliError::ConfigFailed {
                    path: file.clone(),
                    lines: report.lines,
                    failed: report.failures.len(),
                })
            }
        }
    }
}

/// `mvcam userset`.
pub fn userset(session: &Session, cmd: &UserSetCommand) -> CliResult {
    let open = session.open(None)?;
    let (action, name) = match cmd {
        UserSetCommand::Save { name } => (UserSetAction::Save, name),
        UserSetCommand::Load { name } => (UserSetAction::Load, name),
        UserSetCommand::Default { name } => (UserSetAction::MakeDefault, name),
    };
    let sets = open.camera.user_sets()?;
    if !sets.iter().any(|s| s == name) {
        return Err(CliError::Usage(format!(
            "no user set {name:?}; user sets: {}",
            sets.join(", ")
        )));
    }
    open.camera.user_set(action, name)?;
    open.persist()
}

/// `mvcam xml`.
pub fn xml(session: &Session, args: &XmlArgs) -> CliResult {
    let open = session.open(None)?;
    match &args.out {
        Some(path) => {
            let (bytes, _) = open.camera.genicam_file();
            std::fs::write(path, bytes).map_err(|e| CliError::io(path, e))?;
            eprintln!("wrote {} bytes to {}", bytes.len(), path.display());
        }
        None => crate::output::text(&open.camera.genicam_xml()?)?,
    }
    Ok(())
}

/// Turns on the notification of each named device event.
fn enable_events(open: &OpenCamera, names: &[String]) -> CliResult {
    for name in names {
        open.camera.set_str("EventSelector", name)?;
        open.camera.set_str("EventNotification", "On")?;
    }
    Ok(())
}

fn print_event(e: &Event, json: bool) -> CliResult {
    if json {
        outln!("{}", e.to_json())
    } else {
        match e {
            Event::Device {
                name, timestamp, ..
            } => outln!("device  {name} at {timestamp} ns"),
            Event::FeatureChanged { name } => outln!("sdk     FeatureChanged {name}"),
            other => outln!("sdk     {}", other.name()),
        }
    }
}

/// `mvcam events`.
pub fn events(session: &Session, args: &EventsArgs) -> CliResult {
    let open = session.open(None)?;
    let duration = seconds(args.seconds, "--seconds")?;
    let rx = open.camera.events();
    enable_events(&open, &args.enable)?;
    let stream = if args.enable.is_empty() {
        None
    } else {
        Some(open.camera.start_stream(&StreamOptions::default())?)
    };
    let end = Instant::now() + duration;
    let mut last_error = None;
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if let Some(s) = &stream {
            // Keep the buffers flowing; the frames themselves are not wanted.
            while let Ok(f) = s.next_frame(Duration::ZERO) {
                drop(f);
            }
        }
        match rx.recv_timeout((end - now).min(Duration::from_millis(20))) {
            Ok(e) => {
                let gone = matches!(e, Event::Disconnected);
                print_event(&e, args.json)?;
                if gone {
                    last_error = Some(mvcam::Error::Disconnected {
                        device: open.camera.info().id(),
                    });
                    break;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    if let Some(s) = stream {
        s.stop()?;
    }
    // Events printed while stopping.
    while let Ok(e) = rx.try_recv() {
        print_event(&e, args.json)?;
    }
    match last_error {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// `mvcam trigger`: one software-triggered frame.
pub fn trigger(session: &Session, args: &TriggerArgs) -> CliResult {
    let open = session.open(None)?;
    let timeout = seconds(args.timeout, "--timeout")?;
    let cam = &open.camera;
    let _ = cam.set_str("TriggerSelector", "FrameStart");
    let previous = (
        cam.get_str("TriggerMode").ok(),
        cam.get_str("TriggerSource").ok(),
    );
    open.set_all(&["TriggerMode=On".into(), "TriggerSource=Software".into()])?;
    let result = (|| -> CliResult<mvcam::Frame> {
        let stream = cam.start_stream(&StreamOptions::default())?;
        // The camera waits for the trigger once acquisition has started.
        std::thread::sleep(Duration::from_millis(20));
        cam.execute("TriggerSoftware")?;
        let frame = stream.next_frame(timeout)?;
        drop(stream.stop());
        Ok(frame)
    })();
    if let Some(v) = previous.0 {
        let _ = cam.set_str("TriggerMode", &v);
    }
    if let Some(v) = previous.1 {
        let _ = cam.set_str("TriggerSource", &v);
    }
    let frame = result?;
    let info = frame.info();
    if let Some(path) = &args.out {
        frame.save(path)?;
    }
    if args.json {
        outln!(
            "{}",
            serde_json::json!({
                "block_id": info.block_id,
                "timestamp": info.timestamp,
                "width": info.width,
                "height": info.height,
                "pixel_format": frame.pixel_format().map(|p| format!("{p:?}")),
                "file": args.out.as_ref().map(|p| p.display().to_string()),
            })
        )?;
    } else {
        outln!(
            "frame {} ({}x{}) at {} ns{}",
            info.block_id,
            info.width,
            info.height,
            info.timestamp,
            args.out
                .as_ref()
                .map(|p| format!(", saved to {}", p.display()))
                .unwrap_or_default()
        )?;
    }
    open.persist()
}
