//! The Tools windows besides FFC: the defect pixel tool and user sets.

use mvcam::{Camera, UserSetAction, Value};

use crate::app::App;
use crate::worker::Task;

/// State of the tool windows.
#[derive(Debug, Default)]
pub struct Tools {
    task: Option<Task>,
    user_set: String,
}

impl Tools {
    /// Whether a detection runs.
    pub fn busy(&self) -> bool {
        self.task.is_some()
    }

    /// The outcome of a finished detection.
    pub(crate) fn poll(&mut self, _camera: &Camera) -> Option<String> {
        let r = self.task.as_ref()?.poll()?;
        self.task = None;
        Some(r.unwrap_or_else(|e| e))
    }
}

/// Detects hot (`dark` true, lens covered) or dead pixels and adds them
/// to the user list; a simulated camera is shown the matching scene.
fn detect(cam: &Camera, dark: bool) -> Result<String, String> {
    let e = |e: mvcam::Error| e.to_string();
    let scene = cam.get_str("SimulationScene").ok();
    if scene.is_some() {
        let s = if dark { "Dark" } else { "Uniform" };
        cam.set("SimulationScene", Value::Enumeration(s.into()))
            .map_err(e)?;
    }
    let kind = if dark { "Hot" } else { "Dead" };
    let r = cam
        .set("DefectPixelDetectSelector", Value::Enumeration(kind.into()))
        .and_then(|()| cam.execute_timeout("DefectPixelDetect", std::time::Duration::from_secs(60)))
        .and_then(|()| cam.set("DefectPixelListSelector", Value::Enumeration("User".into())))
        .and_then(|()| cam.integer("DefectPixelCount"));
    if let Some(s) = scene {
        cam.set("SimulationScene", Value::Enumeration(s))
            .map_err(e)?;
    }
    r.map(|n| format!("{kind} pixel detection done: {n} pixels in the user list"))
        .map_err(e)
}

/// Draws the defect pixel and user set windows while they are open.
pub(crate) fn windows(app: &mut App, ctx: &egui::Context) {
    let Some(camera) = app.camera.clone() else {
        return;
    };
    let mut open = app.windows.defects;
    egui::Window::new("Defect pixels")
        .open(&mut open)
        .show(ctx, |ui| {
            let mut on = camera
                .boolean("DefectPixelCorrectionEnable")
                .unwrap_or(false);
            if ui.checkbox(&mut on, "Correct defect pixels").changed() {
                let r = camera.set("DefectPixelCorrectionEnable", on);
                app.report(r.map_err(Into::into));
            }
            for list in ["Factory", "User"] {
                let n = camera
                    .set("DefectPixelListSelector", Value::Enumeration(list.into()))
                    .and_then(|()| camera.integer("DefectPixelCount"));
                ui.label(format!(
                    "{list} list: {}",
                    n.map_or("-".into(), |n| format!("{n} pixels"))
                ));
            }
            let sim = camera.feature("SimulationScene").is_ok();
            let busy = app.tools.busy();
            ui.label("Hot pixels: cover the lens. Dead pixels: uniform light.");
            if sim {
                ui.weak(
                    "Virtual camera: the scene is switched to Dark or Uniform for the detection.",
                );
            }
            ui.horizontal(|ui| {
                for (text, dark) in [("Detect hot pixels", true), ("Detect dead pixels", false)] {
                    if ui.add_enabled(!busy, egui::Button::new(text)).clicked() {
                        app.stop();
                        let cam = camera.clone();
                        app.tools.task = Some(Task::spawn(move || detect(&cam, dark)));
                    }
                }
            });
            if busy {
                ui.spinner();
            }
        });
    app.windows.defects = open;

    let mut open = app.windows.user_sets;
    egui::Window::new("User sets")
        .open(&mut open)
        .show(ctx, |ui| {
            let sets = camera.user_sets().unwrap_or_default();
            if !sets.contains(&app.tools.user_set) {
                app.tools.user_set = sets.first().cloned().unwrap_or_default();
            }
            egui::ComboBox::from_label("User set")
                .selected_text(app.tools.user_set.as_str())
                .show_ui(ui, |ui| {
                    for s in &sets {
                        ui.selectable_value(&mut app.tools.user_set, s.clone(), s.as_str());
                    }
                });
            let set = app.tools.user_set.clone();
            ui.horizontal(|ui| {
                for (text, action) in [
                    ("Load", UserSetAction::Load),
                    ("Save", UserSetAction::Save),
                    ("Make default", UserSetAction::MakeDefault),
                ] {
                    if ui.button(text).clicked() {
                        if action == UserSetAction::Load {
                            app.stop();
                        }
                        app.message = match camera.user_set(action, &set) {
                            Ok(()) => format!("{text}: {set}"),
                            Err(e) => e.to_string(),
                        };
                        app.features.mark_stale();
                    }
                }
            });
            if let Ok(d) = camera.get_str("UserSetDefault") {
                ui.weak(format!("Loaded at power-up: {d}"));
            }
        });
    app.windows.user_sets = open;
}
