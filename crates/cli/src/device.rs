//! Choosing and opening a device, and the built-in virtual camera's state
//! between invocations.
//!
//! The built-in virtual camera lives inside each `mvcam` process. So that
//! it behaves like a camera that stays powered between commands, it gets a
//! state directory ([`state_dir`]): the directory is the camera's
//! non-volatile memory (user sets, calibration), and its live settings are
//! kept in `<state>/live-<serial>.txt` (GenApi persistence format), loaded
//! when the camera is opened and saved after every command that changes
//! them. Cameras reached over USB/IP keep their own state.

use std::path::{Path, PathBuf};

use clap::Args;
use mvcam::{Camera, System, SystemOptions, Transport};

use crate::error::{CliError, CliResult};

/// Environment variable naming the state directory of the built-in virtual
/// camera.
pub const ENV_STATE_DIR: &str = "MVCAM_STATE_DIR";

/// The options that choose a device; global to every command.
#[derive(Debug, Clone, Args)]
pub struct DeviceArgs {
    /// The device: an index, a serial number, a user id or
    /// usbip://host:port/busid (default: the first device).
    #[arg(short = 'd', long, global = true, value_name = "DEV")]
    pub device: Option<String>,
    /// A USB/IP server to list (repeatable; also MVCAM_USBIP, comma
    /// separated). For `emulate`: the address to serve on.
    #[arg(long = "usbip", global = true, value_name = "HOST:PORT")]
    pub usbip: Vec<String>,
    /// The virtual cameras of this process: models (color5mp, mono5mp,
    /// highspeed) separated by commas, a count, or 0 for none (also
    /// MVCAM_VIRTUAL; default one color5mp).
    #[arg(long = "virtual", global = true, value_name = "LIST")]
    pub virtual_models: Option<String>,
}

/// The state directory of the built-in virtual camera: `$MVCAM_STATE_DIR`,
/// else `$XDG_STATE_HOME/mvcam`, else `~/.local/state/mvcam`; `None` when
/// none of these is known.
pub fn state_dir() -> Option<PathBuf> {
    let non_empty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(d) = non_empty(ENV_STATE_DIR) {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = non_empty("XDG_STATE_HOME") {
        return Some(PathBuf::from(d).join("mvcam"));
    }
    non_empty("HOME").map(|h| PathBuf::from(h).join(".local/state/mvcam"))
}

/// The devices this invocation can reach, and which one the user chose.
pub struct Session {
    system: System,
    selector: String,
    state: Option<PathBuf>,
}

/// An opened camera; for the built-in virtual camera, where its live
/// settings are kept.
pub struct OpenCamera {
    /// The camera.
    pub camera: Camera,
    live_file: Option<PathBuf>,
}

impl Session {
    /// Discovery as the options and the environment say; the virtual
    /// cameras get the state directory as their non-volatile memory.
    pub fn new(args: &DeviceArgs) -> CliResult<Session> {
        let mut options = SystemOptions::from_env()?;
        if let Some(list) = &args.virtual_models {
            options.virtual_models = mvcam::system::parse_models(list)?;
        }
        options.usbip_servers.extend(args.usbip.iter().cloned());
        let state = state_dir().and_then(|d| match std::fs::create_dir_all(&d) {
            Ok(()) => Some(d),
            Err(e) => {
                eprintln!(
                    "mvcam: warning: state directory {}: {e}; the virtual camera forgets its settings",
                    d.display()
                );
                None
            }
        });
        options.store = state.clone();
        Ok(Session {
            system: System::new(options)?,
            selector: args.device.clone().unwrap_or_default(),
            state,
        })
    }

    /// Passes the link of every camera opened from now on through
    /// `wrapper` (the `--pcap` recorder).
    pub fn set_link_wrapper(&mut self, wrapper: mvcam::LinkWrapper) {
        self.system.set_link_wrapper(wrapper);
    }

    /// The SDK system.
    pub fn system(&self) -> &System {
        &self.system
    }

    /// Opens the chosen device (or `selector` when given). A virtual camera
    /// gets its live settings back from the state directory.
    pub fn open(&self, selector: Option<&str>) -> CliResult<OpenCamera> {
        let camera = self.system.open(selector.unwrap_or(&self.selector))?;
        let live_file = match (&camera.info().transport, &self.state) {
            (Transport::Virtual(_), Some(dir)) => Some(live_path(dir, &camera.info().serial)),
            _ => None,
        };
        if let Some(path) = &live_file {
            if path.exists() {
                restore_live(&camera, path);
            }
        }
        Ok(OpenCamera { camera, live_file })
    }
}

fn live_path(dir: &Path, serial: &str) -> PathBuf {
    let safe: String = serial
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    dir.join(format!("live-{safe}.txt"))
}

/// Loads the saved live settings. Features that no longer apply are
/// skipped: the camera then starts from its power-up settings for them.
fn restore_live(camera: &Camera, path: &Path) {
    match camera.load_config_file(path) {
        Ok(_) => {}
        Err(e @ mvcam::Error::MalformedConfig { .. }) => {
            eprintln!(
                "mvcam: warning: ignoring the saved settings {}: {e}",
                path.display()
            );
        }
        Err(_) => {}
    }
}

impl OpenCamera {
    /// Keeps the built-in virtual camera's live settings for the next
    /// invocation (nothing to do for other cameras, which keep their own).
    pub fn persist(&self) -> CliResult {
        if let Some(path) = &self.live_file {
            if self.camera.is_disconnected() {
                return Ok(());
            }
            let text = self.camera.save_config()?;
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, text).map_err(|e| CliError::io(&tmp, e))?;
            std::fs::rename(&tmp, path).map_err(|e| CliError::io(path, e))?;
        }
        Ok(())
    }

    /// Applies `FEATURE=VALUE` assignments in order. If one fails, the
    /// ones already applied are put back, so that bad input changes
    /// nothing on the camera.
    pub fn set_all(&self, assignments: &[String]) -> CliResult {
        let mut applied: Vec<(String, Option<String>)> = Vec::new();
        for a in assignments {
            let Some((name, value)) = a.split_once('=') else {
                self.undo(&applied);
                return Err(CliError::Usage(format!("{a:?}: expected FEATURE=VALUE")));
            };
            let name = name.trim();
            let old = self.camera.get_str(name).ok();
            if let Err(e) = self.camera.set_str(name, value) {
                self.undo(&applied);
                return Err(e.into());
            }
            applied.push((name.to_string(), old));
        }
        Ok(())
    }

    fn undo(&self, applied: &[(String, Option<String>)]) {
        for (name, old) in applied.iter().rev() {
            if let Some(v) = old {
                let _ = self.camera.set_str(name, v);
            }
        }
    }
}
