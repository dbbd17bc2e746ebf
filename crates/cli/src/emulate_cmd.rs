//! `mvcam emulate`: serves virtual cameras over USB/IP until stopped.

use std::io::Write;

use clap::Args;
use mvcam::{EmulatorOptions, Model};

use crate::error::{CliError, CliResult};

/// Where the emulator listens unless told otherwise: loopback only, since
/// USB/IP has no authentication.
pub const DEFAULT_ADDRESS: &str = "127.0.0.1:3240";

/// `mvcam emulate`.
#[derive(Debug, Args)]
pub struct EmulateArgs {
    /// A camera model to serve: color5mp, mono5mp or highspeed
    /// (repeatable; default one color5mp).
    #[arg(long = "model", value_name = "M")]
    models: Vec<String>,
    /// Serial numbers, in the order of the models (repeatable).
    #[arg(long = "serial", value_name = "S")]
    serials: Vec<String>,
    /// Print one JSON object per served camera.
    #[arg(long)]
    json: bool,
}

/// `mvcam emulate`: `listen` is the `--usbip` address (at most one).
pub fn emulate(args: &EmulateArgs, listen: &[String]) -> CliResult {
    let address = match listen {
        [] => DEFAULT_ADDRESS.to_string(),
        [one] => one.clone(),
        _ => {
            return Err(CliError::Usage(
                "emulate serves on one address: give --usbip once".into(),
            ))
        }
    };
    let mut models = Vec::new();
    for m in &args.models {
        models.extend(mvcam::system::parse_models(m)?);
    }
    if models.is_empty() {
        models.push(Model::Color5MP);
    }
    if args.serials.len() > models.len() {
        return Err(CliError::Usage(format!(
            "{} serial numbers for {} camera(s)",
            args.serials.len(),
            models.len()
        )));
    }
    let emulator = mvcam::emulate(&EmulatorOptions {
        models,
        serials: args.serials.clone(),
        address,
        ..EmulatorOptions::default()
    })?;
    let mut out = std::io::stdout().lock();
    for d in emulator.devices() {
        if args.json {
            writeln!(
                out,
                "{}",
                serde_json::json!({"url": d.url, "serial": d.serial, "busid": d.busid})
            )
        } else {
            writeln!(out, "{}", d.url)
        }
        .map_err(|e| CliError::io("stdout", e))?;
    }
    out.flush().map_err(|e| CliError::io("stdout", e))?;
    drop(out);
    eprintln!(
        "serving {} camera(s); stop with Ctrl-C",
        emulator.devices().len()
    );
    loop {
        std::thread::park();
    }
}
