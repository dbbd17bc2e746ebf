//! The Statistics window (the manual's Table 2-2) and the status bar.

use mvcam::Statistics;

use crate::app::App;

/// The statistics as label / value rows.
pub fn rows(s: &Statistics) -> Vec<(&'static str, String)> {
    vec![
        (
            "Configured frame rate",
            format!("{:.2} fps", s.configured_frame_rate),
        ),
        (
            "Measured frame rate",
            format!("{:.2} fps", s.measured_frame_rate),
        ),
        ("Bandwidth", format!("{:.1} MB/s", s.bandwidth / 1e6)),
        ("Images received", s.images_received.to_string()),
        (
            "Frame loss rate",
            format!(
                "{:.3} % ({} lost)",
                s.frame_loss_rate * 100.0,
                s.frames_lost
            ),
        ),
        (
            "Error images",
            format!("{} ({:.3} %)", s.error_images, s.error_image_rate * 100.0),
        ),
        ("Buffer underruns", s.underruns.to_string()),
    ]
}

/// Draws the Statistics window while it is open.
pub(crate) fn window(app: &mut App, ctx: &egui::Context) {
    let s = app.statistics();
    egui::Window::new("Statistics")
        .open(&mut app.windows.statistics)
        .show(ctx, |ui| {
            egui::Grid::new("statistics").num_columns(2).show(ui, |ui| {
                for (k, v) in rows(&s) {
                    ui.label(k);
                    ui.label(v);
                    ui.end_row();
                }
            });
        });
}

/// Draws the status bar: frame rate, bandwidth, errors, the last message.
pub(crate) fn status_bar(app: &mut App, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        let s = app.statistics();
        ui.label(format!(
            "{:.1} fps | {:.1} MB/s | {} errors | {} lost",
            s.measured_frame_rate,
            s.bandwidth / 1e6,
            s.error_images,
            s.frames_lost
        ));
        ui.separator();
        ui.label(&app.message);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_show_every_figure_of_the_manual() {
        let s = Statistics {
            configured_frame_rate: 30.0,
            measured_frame_rate: 29.5,
            bandwidth: 150e6,
            images_received: 100,
            frames_lost: 2,
            frame_loss_rate: 0.0196,
            error_images: 1,
            ..Statistics::default()
        };
        let r = rows(&s);
        let get = |k: &str| {
            r.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(get("Configured frame rate"), "30.00 fps");
        assert_eq!(get("Bandwidth"), "150.0 MB/s");
        assert_eq!(get("Images received"), "100");
        assert_eq!(get("Frame loss rate"), "1.960 % (2 lost)");
        assert!(get("Error images").starts_with("1 "));
    }
}
