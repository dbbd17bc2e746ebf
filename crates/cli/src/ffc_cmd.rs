//! `mvcam ffc`: the flat-field calibration, step by step in the terminal.
//!
//! Flat-field correction combines three corrections: the dark field
//! (lens covered) measures the fixed-pattern noise of each pixel; the
//! bright field (uniform light) measures each pixel's response and the
//! shading of the lens and the light. The camera refuses a bright field
//! whose brightest/darkest ratio exceeds 2: such light is too uneven to
//! correct.

use std::io::{BufRead, Write};
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::device::{OpenCamera, Session};
use crate::error::{CliError, CliResult};

/// Whether to turn the correction on after calibrating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    /// FFCEnable on.
    On,
    /// FFCEnable off.
    Off,
}

/// `mvcam ffc`.
#[derive(Debug, Args)]
pub struct FfcArgs {
    /// Run without prompts (the lens and the light are ready when asked).
    #[arg(long)]
    yes: bool,
    /// Let the virtual camera's simulated scene play the lens cap and the
    /// uniform light (SimulationScene Dark, then Uniform).
    #[arg(long)]
    simulate: bool,
    /// FFCEnable after calibrating; asked when not given (on with --yes).
    #[arg(long, value_enum)]
    enable: Option<OnOff>,
    /// Frames averaged by each step (FFCFrameCount).
    #[arg(long)]
    frames: Option<u32>,
}

/// How long one calibration step may take (it averages up to 64 frames).
const STEP_TIMEOUT: Duration = Duration::from_secs(120);

/// Prompts on the terminal; answers yes by itself with `--yes`.
struct Guide {
    yes: bool,
}

impl Guide {
    fn say(&self, text: &str) {
        eprintln!("{text}");
    }

    /// Waits for Enter; false when the user types `q` or input ends.
    fn ready(&self, prompt: &str) -> CliResult<bool> {
        if self.yes {
            eprintln!("{prompt} [--yes]");
            return Ok(true);
        }
        let answer = self.ask(&format!("{prompt} Press Enter when ready (q to quit): "))?;
        Ok(!matches!(answer.as_deref(), None | Some("q") | Some("Q")))
    }

    /// A yes/no question; `default` when the answer is empty or `--yes`.
    fn confirm(&self, prompt: &str, default: bool) -> CliResult<bool> {
        if self.yes {
            return Ok(default);
        }
        let hint = if default { "[Y/n]" } else { "[y/N]" };
        let answer = self.ask(&format!("{prompt} {hint} "))?;
        Ok(
            match answer.as_deref().map(str::to_ascii_lowercase).as_deref() {
                Some("y") | Some("yes") => true,
                Some("n") | Some("no") => false,
                _ => default,
            },
        )
    }

    fn ask(&self, prompt: &str) -> CliResult<Option<String>> {
        eprint!("{prompt}");
        std::io::stderr()
            .flush()
            .map_err(|e| CliError::io("stderr", e))?;
        let mut line = String::new();
        let n = std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::io("stdin", e))?;
        Ok((n > 0).then(|| line.trim().to_string()))
    }
}

fn step(open: &OpenCamera, name: &str) -> CliResult<String> {
    open.camera.set_str("FFCCalibrationStep", name)?;
    open.camera.execute_timeout("FFCCalibrate", STEP_TIMEOUT)?;
    Ok(open.camera.get_str("FFCStatus")?)
}

/// `mvcam ffc`.
pub fn ffc(session: &Session, args: &FfcArgs) -> CliResult {
    let open = session.open(None)?;
    let guide = Guide { yes: args.yes };
    let scene = if args.simulate {
        Some(open.camera.get_str("SimulationScene")?)
    } else {
        None
    };
    let result = calibrate(&open, &guide, args);
    if let Some(s) = scene {
        let _ = open.camera.set_str("SimulationScene", &s);
    }
    if result.is_err() {
        let _ = open.camera.set_str("FFCCalibrationStep", "Idle");
        let _ = open.camera.execute("FFCCalibrate");
    }
    open.persist()?;
    result
}

fn calibrate(open: &OpenCamera, guide: &Guide, args: &FfcArgs) -> CliResult {
    let cam = &open.camera;
    if let Some(n) = args.frames {
        cam.set_str("FFCFrameCount", &n.to_string())?;
    }
    guide.say("Flat-field correction: dark field, then bright field, then done.");
    guide.say("Step 1 of 3: dark field (fixed-pattern noise).");
    if !guide.ready("Cover the lens so that no light reaches the sensor.")? {
        return Err(CliError::Calibration("stopped by the user".into()));
    }
    if args.simulate {
        cam.set_str("SimulationScene", "Dark")?;
    }
    let status = step(open, "DarkField")?;
    if status != "DarkFieldDone" {
        return Err(CliError::Calibration(format!(
            "the dark field failed (FFCStatus {status})"
        )));
    }
    guide.say("  dark field done.");
    loop {
        guide.say("Step 2 of 3: bright field (pixel response, lens and light shading).");
        if !guide.ready(
            "Point the camera at a uniform light filling the view, bright but not saturated.",
        )? {
            return Err(CliError::Calibration("stopped by the user".into()));
        }
        if args.simulate {
            cam.set_str("SimulationScene", "Uniform")?;
        }
        let status = step(open, "BrightField")?;
        match status.as_str() {
            "BrightFieldDone" => break,
            "BrightFieldRejected" => {
                let why = "the bright field is too uneven: its brightest/darkest ratio exceeds 2";
                if guide.yes {
                    return Err(CliError::Calibration(why.into()));
                }
                guide.say(&format!(
                    "  {why}; make the light more uniform and try again."
                ));
            }
            other => {
                return Err(CliError::Calibration(format!(
                    "the bright field failed (FFCStatus {other})"
                )))
            }
        }
    }
    guide.say("  bright field done.");
    guide.say("Step 3 of 3: storing the coefficients in the camera.");
    let status = step(open, "Done")?;
    if status != "Calibrated" {
        return Err(CliError::Calibration(format!(
            "storing failed (FFCStatus {status})"
        )));
    }
    guide.say("  calibrated.");
    let enable = match args.enable {
        Some(OnOff::On) => true,
        Some(OnOff::Off) => false,
        None => guide.confirm("Turn flat-field correction on (FFCEnable)?", true)?,
    };
    cam.set("FFCEnable", enable)?;
    guide.say(&format!(
        "FFCEnable is {}.",
        if enable { "on" } else { "off" }
    ));
    Ok(())
}
