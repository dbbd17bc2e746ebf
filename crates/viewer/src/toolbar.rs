//! The toolbar: play / stop with the play mode, saving frames, zoom,
//! 1:1, fit, mirror.

use crate::acquisition::PlayMode;
use crate::app::App;

/// Zoom limits, screen points per sensor pixel.
const ZOOM_RANGE: (f32, f32) = (1.0 / 32.0, 32.0);

/// Draws the toolbar.
pub(crate) fn ui(app: &mut App, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        let playing = app.is_playing();
        let connected = app.camera.is_some();
        if ui
            .add_enabled(connected && !playing, egui::Button::new("Play"))
            .clicked()
        {
            let ctx = ui.ctx().clone();
            let r = app.play(move || ctx.request_repaint());
            app.report(r);
        }
        if ui.add_enabled(playing, egui::Button::new("Stop")).clicked() {
            app.stop();
        }
        let mut mode = app.play_mode;
        let mode_label = ui.label("Play mode:").id;
        ui.add_enabled_ui(!playing, |ui| {
            egui::ComboBox::from_id_salt("play-mode")
                .selected_text(mode_name(mode))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut mode, PlayMode::Continuous, "Continuous");
                    ui.selectable_value(&mut mode, PlayMode::SingleFrame, "Single frame");
                    let multi = PlayMode::MultiFrame(app.multi_count);
                    ui.selectable_value(&mut mode, multi, "Multi-frame");
                })
                .response
                .labelled_by(mode_label)
                .on_disabled_hover_text("Stop to change the play mode");
            if matches!(mode, PlayMode::MultiFrame(_)) {
                let l = ui.label("Frames:").id;
                if ui
                    .add(egui::DragValue::new(&mut app.multi_count).range(1..=255))
                    .labelled_by(l)
                    .changed()
                {
                    mode = PlayMode::MultiFrame(app.multi_count);
                }
            }
        });
        if mode != app.play_mode {
            let r = app.set_play_mode(mode);
            app.report(r);
        }
        ui.separator();
        let l = ui.label("Frames to save:").id;
        ui.add(egui::DragValue::new(&mut app.save_count).range(1..=10_000))
            .labelled_by(l);
        if ui
            .add_enabled(playing, egui::Button::new("Save frames"))
            .on_hover_text("Saves the next frames as PNG files")
            .clicked()
        {
            let r = app.save_frames(app.save_count);
            app.report(r);
        }
        ui.separator();
        let v = &mut app.view;
        if ui.button("Zoom in").clicked() {
            v.zoom = (v.zoom * 1.25).clamp(ZOOM_RANGE.0, ZOOM_RANGE.1);
            v.fit = false;
        }
        if ui.button("Zoom out").clicked() {
            v.zoom = (v.zoom / 1.25).clamp(ZOOM_RANGE.0, ZOOM_RANGE.1);
            v.fit = false;
        }
        if ui.button("1:1").clicked() {
            v.zoom = 1.0;
            v.fit = false;
        }
        if ui.selectable_label(v.fit, "Fit").clicked() {
            v.fit = !v.fit;
        }
        ui.toggle_value(&mut v.mirror_x, "Mirror horizontally");
        ui.toggle_value(&mut v.mirror_y, "Mirror vertically");
        ui.weak(if v.fit {
            "fit".to_string()
        } else {
            format!("{:.0} %", v.zoom * 100.0)
        });
    });
}

/// The play mode as the combo box shows it.
pub(crate) fn mode_name(mode: PlayMode) -> String {
    match mode {
        PlayMode::Continuous => "Continuous".into(),
        PlayMode::SingleFrame => "Single frame".into(),
        PlayMode::MultiFrame(n) => format!("Multi-frame ({n})"),
    }
}
