//! The flat-field correction wizard, the manual's section 3.4 steps 1–6:
//! open it from Tools (1–2), follow the prompts (3–4): a dark field with
//! the lens covered, a bright field under uniform light, store; then the
//! FFCEnable dialog with ON / OFF (5); then compare the dark parts of
//! the image (6).
//!
//! On the virtual camera the wizard plays the "cover the lens" and
//! "uniform light" parts itself by switching `SimulationScene` to `Dark`
//! and `Uniform`, and puts the scene back afterwards.

use std::time::Duration;

use mvcam::{Camera, Value};

use crate::app::App;
use crate::worker::Task;

/// The longest a calibration step may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// Radiance of the uniform scene for the bright field (1 = white): well
/// inside the sensor's range, so that no pixel saturates.
const BRIGHT_LEVEL: f64 = 0.5;

/// Where the wizard is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FfcStep {
    /// What FFC does; acquisition is stopped when going on.
    Intro,
    /// Cover the lens; capture the dark field.
    DarkField,
    /// Uniform light; capture the bright field.
    BrightField,
    /// Compute and store the coefficients.
    Store,
    /// The FFCEnable dialog: ON or OFF.
    Enable,
    /// Finished.
    Done,
}

/// The wizard's state.
#[derive(Debug)]
pub struct FfcWizard {
    step: FfcStep,
    simulated: bool,
    scene_before: Option<String>,
    task: Option<(Task, FfcStep)>,
    note: String,
    enabled: Option<bool>,
}

impl FfcWizard {
    /// A wizard for `camera`; a camera with simulation features is
    /// driven through its simulated scene.
    pub fn new(camera: &Camera) -> FfcWizard {
        let scene_before = camera.get_str("SimulationScene").ok();
        FfcWizard {
            step: FfcStep::Intro,
            simulated: scene_before.is_some(),
            scene_before,
            task: None,
            note: String::new(),
            enabled: None,
        }
    }

    /// The present step.
    pub fn step(&self) -> FfcStep {
        self.step
    }

    /// Whether the camera's scene is simulated (virtual camera).
    pub fn is_simulated(&self) -> bool {
        self.simulated
    }

    /// Whether a calibration step is running.
    pub fn busy(&self) -> bool {
        self.task.is_some()
    }

    /// The outcome of the last step, or the error.
    pub fn note(&self) -> &str {
        &self.note
    }

    /// What the user chose in the FFCEnable dialog.
    pub fn enabled(&self) -> Option<bool> {
        self.enabled
    }

    /// Takes in a finished calibration step; true when one finished.
    pub(crate) fn poll(&mut self, _camera: &Camera) -> bool {
        let Some((task, next)) = &self.task else {
            return false;
        };
        let Some(r) = task.poll() else {
            return false;
        };
        match r {
            Ok(m) => {
                self.note = m;
                self.step = *next;
            }
            Err(e) => self.note = e,
        }
        self.task = None;
        true
    }

    fn run(&mut self, camera: &Camera, step: FfcStep) {
        let cam = camera.clone();
        let simulated = self.simulated;
        let scene_before = self.scene_before.clone();
        let (work, next): (Box<dyn FnOnce() -> Result<String, String> + Send>, FfcStep) = match step
        {
            FfcStep::DarkField => (
                Box::new(move || {
                    if simulated {
                        set_enum(&cam, "SimulationScene", "Dark")?;
                    }
                    calibrate(&cam, "DarkField", "DarkFieldDone")
                }),
                FfcStep::BrightField,
            ),
            FfcStep::BrightField => (
                Box::new(move || {
                    if simulated {
                        set_enum(&cam, "SimulationScene", "Uniform")?;
                        cam.set("SimulationUniformLevel", BRIGHT_LEVEL)
                            .map_err(|e| e.to_string())?;
                    }
                    calibrate(&cam, "BrightField", "BrightFieldDone")
                }),
                FfcStep::Store,
            ),
            _ => (
                Box::new(move || {
                    let r = calibrate(&cam, "Done", "Calibrated");
                    if let Some(scene) = scene_before {
                        set_enum(&cam, "SimulationScene", &scene)?;
                    }
                    r.map(|_| "Calibration stored in the camera.".to_string())
                }),
                FfcStep::Enable,
            ),
        };
        self.note = "Calibrating…".into();
        self.task = Some((Task::spawn(work), next));
    }
}

fn set_enum(cam: &Camera, name: &str, entry: &str) -> Result<(), String> {
    cam.set(name, Value::Enumeration(entry.into()))
        .map_err(|e| e.to_string())
}

/// Runs one calibration step and checks the status it leaves.
fn calibrate(cam: &Camera, step: &str, expect: &str) -> Result<String, String> {
    set_enum(cam, "FFCCalibrationStep", step)?;
    cam.execute_timeout("FFCCalibrate", STEP_TIMEOUT)
        .map_err(|e| e.to_string())?;
    let status = cam.get_str("FFCStatus").map_err(|e| e.to_string())?;
    if status == expect {
        Ok(format!("{step}: {status}"))
    } else if status == "BrightFieldRejected" {
        Err(
            "Bright field rejected: the brightest part is more than twice the darkest. \
             Make the light more uniform and capture again."
                .into(),
        )
    } else {
        Err(format!("{step}: the camera reports {status}"))
    }
}

/// Draws the wizard while it is open.
pub(crate) fn window(app: &mut App, ctx: &egui::Context) {
    let Some(mut w) = app.ffc.take() else {
        return;
    };
    let Some(camera) = app.camera.clone() else {
        return;
    };
    let mut open = true;
    let mut stop_acquisition = false;
    egui::Window::new("Flat-field correction")
        .open(&mut open)
        .collapsible(false)
        .default_width(420.0)
        .show(ctx, |ui| {
            let sim = w.simulated;
            let busy = w.busy();
            match w.step {
                FfcStep::Intro => {
                    ui.label(
                        "FFC combines three corrections: in a dark field, the sensor's \
                         fixed-pattern noise; in a bright field, the pixels' uneven response \
                         and the lens or light shading. The brightest part of the bright \
                         field may be at most twice the darkest.",
                    );
                    ui.label("Acquisition stops while calibrating.");
                    if ui.button("Start").clicked() {
                        stop_acquisition = true;
                        w.step = FfcStep::DarkField;
                    }
                }
                FfcStep::DarkField => {
                    ui.label("Step 1 of 3: cover the lens so that no light reaches the sensor.");
                    if sim {
                        ui.weak("Virtual camera: its scene is switched to Dark for this step.");
                    }
                    if ui
                        .add_enabled(!busy, egui::Button::new("Capture dark field"))
                        .clicked()
                    {
                        w.run(&camera, FfcStep::DarkField);
                    }
                }
                FfcStep::BrightField => {
                    ui.label(
                        "Step 2 of 3: uncover the lens and light the field of view \
                         uniformly, without saturating.",
                    );
                    if sim {
                        ui.weak("Virtual camera: its scene is switched to Uniform for this step.");
                    }
                    if ui
                        .add_enabled(!busy, egui::Button::new("Capture bright field"))
                        .clicked()
                    {
                        w.run(&camera, FfcStep::BrightField);
                    }
                }
                FfcStep::Store => {
                    ui.label("Step 3 of 3: compute the coefficients and store them in the camera.");
                    if sim {
                        ui.weak("Virtual camera: its scene is put back afterwards.");
                    }
                    if ui
                        .add_enabled(!busy, egui::Button::new("Store calibration"))
                        .clicked()
                    {
                        w.run(&camera, FfcStep::Store);
                    }
                }
                FfcStep::Enable => {
                    ui.label("FFCEnable: apply the flat-field correction to the images?");
                    ui.horizontal(|ui| {
                        for (text, on) in [("ON", true), ("OFF", false)] {
                            if ui.button(text).clicked() {
                                match camera.set("FFCEnable", on) {
                                    Ok(()) => {
                                        w.enabled = Some(on);
                                        w.step = FfcStep::Done;
                                        w.note = format!("FFCEnable {text}");
                                    }
                                    Err(e) => w.note = e.to_string(),
                                }
                            }
                        }
                    });
                }
                FfcStep::Done => {
                    ui.label(
                        "Done. Press Play and compare the brightness of the dark parts of \
                         the image with and without FFCEnable.",
                    );
                    if ui.button("Close").clicked() {
                        w.step = FfcStep::Done;
                        w.note = "closed".into();
                    }
                }
            }
            if busy {
                ui.spinner();
            }
            if !w.note.is_empty() {
                ui.weak(&w.note);
            }
        });
    if stop_acquisition {
        app.stop();
    }
    let closed = !open || (w.step == FfcStep::Done && w.note == "closed");
    if closed && !w.busy() {
        app.features.mark_stale();
        app.message = "FFC wizard closed".into();
    } else {
        app.ffc = Some(w);
    }
}
