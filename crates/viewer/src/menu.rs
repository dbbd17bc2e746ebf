//! The menu bar (File, Event, Statistics, Tools) and the configuration
//! file dialog.

use std::path::PathBuf;

use crate::app::{App, FileDialog};

/// Draws the menu bar.
pub(crate) fn ui(app: &mut App, ui: &mut egui::Ui) {
    egui::MenuBar::new().ui(ui, |ui| {
        let connected = app.camera.is_some();
        ui.menu_button("File", |ui| {
            if ui
                .add_enabled(connected, egui::Button::new("Open…"))
                .clicked()
            {
                app.file_dialog = Some(FileDialog {
                    save: false,
                    path: path_text(app.config_path.as_ref()),
                });
            }
            ui.add_enabled_ui(connected, |ui| {
                ui.menu_button("Open Recent", |ui| {
                    if app.recent.entries().is_empty() {
                        ui.weak("(none)");
                    }
                    let mut chosen = None;
                    for p in app.recent.entries() {
                        if ui.button(p.display().to_string()).clicked() {
                            chosen = Some(p.clone());
                        }
                    }
                    if let Some(p) = chosen {
                        let r = app.open_config(&p);
                        app.report(r);
                    }
                });
            });
            if ui
                .add_enabled(connected, egui::Button::new("Save"))
                .clicked()
            {
                match app.config_path.clone() {
                    Some(p) => {
                        let r = app.save_config(&p);
                        app.report(r);
                    }
                    None => {
                        app.file_dialog = Some(FileDialog {
                            save: true,
                            path: String::new(),
                        })
                    }
                }
            }
            if ui
                .add_enabled(connected, egui::Button::new("Save As…"))
                .clicked()
            {
                app.file_dialog = Some(FileDialog {
                    save: true,
                    path: path_text(app.config_path.as_ref()),
                });
            }
        });
        ui.menu_button("Event", |ui| {
            if ui.button("Event notifications…").clicked() {
                app.windows.events = true;
            }
        });
        ui.menu_button("Statistics", |ui| {
            if ui.button("Stream statistics…").clicked() {
                app.windows.statistics = true;
            }
        });
        ui.menu_button("Tools", |ui| {
            if ui
                .add_enabled(connected, egui::Button::new("FFC wizard…"))
                .clicked()
            {
                let r = app.open_ffc_wizard();
                app.report(r);
            }
            if ui
                .add_enabled(connected, egui::Button::new("Defect pixels…"))
                .clicked()
            {
                app.windows.defects = true;
            }
            if ui
                .add_enabled(connected, egui::Button::new("User sets…"))
                .clicked()
            {
                app.windows.user_sets = true;
            }
        });
    });
}

fn path_text(p: Option<&PathBuf>) -> String {
    p.map(|p| p.display().to_string()).unwrap_or_default()
}

/// Draws the Open / Save As dialog while it is open.
pub(crate) fn file_dialog(app: &mut App, ctx: &egui::Context) {
    let Some(mut dialog) = app.file_dialog.take() else {
        return;
    };
    let title = if dialog.save {
        "Save configuration"
    } else {
        "Open configuration"
    };
    let mut keep = true;
    egui::Window::new(title).collapsible(false).show(ctx, |ui| {
        let l = ui
            .label("Configuration file (GenApi persistence format):")
            .id;
        ui.add(
            egui::TextEdit::singleline(&mut dialog.path)
                .hint_text("path/to/settings.txt")
                .desired_width(360.0),
        )
        .labelled_by(l);
        ui.horizontal(|ui| {
            let action = if dialog.save { "Save" } else { "Open" };
            if ui.button(action).clicked() && !dialog.path.trim().is_empty() {
                let p = PathBuf::from(dialog.path.trim());
                let r = if dialog.save {
                    app.save_config(&p)
                } else {
                    app.open_config(&p)
                };
                keep = r.is_err();
                app.report(r);
            }
            if ui.button("Cancel").clicked() {
                keep = false;
            }
        });
    });
    if keep {
        app.file_dialog = Some(dialog);
    }
}
