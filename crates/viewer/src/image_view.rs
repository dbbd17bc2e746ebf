//! The image: zoom, fit, mirror, the cursor's pixel; the image
//! information, the histogram with its saturation warning and the pixel
//! inspector.

use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2};

use crate::app::App;
use crate::display::{DisplayFrame, Histogram, SATURATION_WARNING};

/// Half the side of the pixel inspector's neighbourhood.
const INSPECT_RADIUS: usize = 2;

/// Draws the image in the central panel.
pub(crate) fn ui(app: &mut App, ui: &mut egui::Ui) {
    let (Some(tex), Some(frame)) = (app.texture.as_ref(), app.shown.clone()) else {
        app.cursor = None;
        ui.centered_and_justified(|ui| {
            ui.weak(if app.camera.is_some() {
                "Press Play to acquire"
            } else {
                "Connect a camera (double-click it in the device list)"
            });
        });
        return;
    };
    let size = Vec2::new(frame.width as f32, frame.height as f32);
    let avail = ui.available_size();
    let scale = if app.view.fit {
        (avail.x / size.x).min(avail.y / size.y).max(1e-3)
    } else {
        app.view.zoom
    };
    let mut uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
    if app.view.mirror_x {
        std::mem::swap(&mut uv.min.x, &mut uv.max.x);
    }
    if app.view.mirror_y {
        std::mem::swap(&mut uv.min.y, &mut uv.max.y);
    }
    let id = tex.id();
    let mut hovered = None;
    egui::ScrollArea::both()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let (rect, resp) = ui.allocate_exact_size(size * scale, Sense::hover());
            ui.painter().image(id, rect, uv, Color32::WHITE);
            if let Some(p) = resp.hover_pos() {
                let mut x = ((p.x - rect.min.x) / scale) as usize;
                let mut y = ((p.y - rect.min.y) / scale) as usize;
                if app.view.mirror_x {
                    x = frame.width.saturating_sub(x + 1);
                }
                if app.view.mirror_y {
                    y = frame.height.saturating_sub(y + 1);
                }
                if x < frame.width && y < frame.height {
                    hovered = Some((x, y));
                }
            }
        });
    app.cursor = hovered;
}

/// The text for a pixel value: grey level or RGB.
pub fn value_text(v: &[u8]) -> String {
    match v {
        [g] => format!("grey {g}"),
        [r, g, b] => format!("R {r} G {g} B {b}"),
        _ => String::new(),
    }
}

/// Draws the image information, histogram and pixel inspector.
pub(crate) fn info_panel(app: &App, ui: &mut egui::Ui) {
    egui::CollapsingHeader::new("Image information")
        .default_open(true)
        .show(ui, |ui| {
            let s = app.statistics();
            egui::Grid::new("image-info").num_columns(2).show(ui, |ui| {
                ui.label("Frame rate");
                ui.label(format!("{:.1} fps", s.measured_frame_rate));
                ui.end_row();
                ui.label("Display rate");
                ui.label(format!("{:.1} fps", app.display_rate.rate()));
                ui.end_row();
                let f = app.shown.as_ref();
                ui.label("Image size");
                ui.label(f.map_or("-".into(), |f| {
                    format!("{} x {} {}", f.width, f.height, f.pixel_format)
                }));
                ui.end_row();
                ui.label("Cursor");
                ui.label(
                    app.cursor
                        .map_or("-".into(), |(x, y)| format!("({x}, {y})")),
                );
                ui.end_row();
                ui.label("Value");
                let v = f
                    .zip(app.cursor)
                    .and_then(|(f, (x, y))| f.pixel(x, y).map(value_text));
                ui.label(v.unwrap_or_else(|| "-".into()));
                ui.end_row();
            });
        });
    if let Some(f) = &app.shown {
        egui::CollapsingHeader::new("Histogram")
            .default_open(true)
            .show(ui, |ui| histogram(ui, &f.histogram));
        if let Some(c) = app.cursor {
            egui::CollapsingHeader::new("Pixel inspector")
                .default_open(true)
                .show(ui, |ui| inspector(ui, f, c));
        }
    }
}

fn histogram(ui: &mut egui::Ui, h: &Histogram) {
    let (rect, _) = ui.allocate_exact_size(Vec2::new(ui.available_width(), 90.0), Sense::hover());
    let p = ui.painter_at(rect);
    p.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
    let colors: &[Color32] = if h.bins.len() == 1 {
        &[Color32::LIGHT_GRAY]
    } else {
        &[
            Color32::RED,
            Color32::GREEN,
            Color32::from_rgb(80, 140, 255),
        ]
    };
    let peak = h
        .bins
        .iter()
        .flat_map(|b| b.iter())
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f32;
    for (bins, color) in h.bins.iter().zip(colors) {
        let points: Vec<Pos2> = bins
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let x = rect.min.x + rect.width() * i as f32 / 255.0;
                // Square root so that small populations stay visible.
                let y = rect.max.y - rect.height() * (n as f32 / peak).sqrt();
                Pos2::new(x, y)
            })
            .collect();
        p.add(egui::Shape::line(points, Stroke::new(1.0, *color)));
    }
    let sat = h.saturated_fraction();
    if h.is_saturated() {
        let names = ["R", "G", "B"];
        let which: Vec<String> = sat
            .iter()
            .enumerate()
            .filter(|(_, f)| **f > SATURATION_WARNING)
            .map(|(i, f)| {
                let n = if sat.len() == 1 {
                    "grey"
                } else {
                    names[i.min(2)]
                };
                format!("{n} {:.1} %", f * 100.0)
            })
            .collect();
        ui.colored_label(
            ui.visuals().error_fg_color,
            format!("Saturated: {}", which.join(", ")),
        );
    }
}

fn inspector(ui: &mut egui::Ui, f: &DisplayFrame, (cx, cy): (usize, usize)) {
    egui::Grid::new("inspector").show(ui, |ui| {
        for y in cy.saturating_sub(INSPECT_RADIUS)..=cy + INSPECT_RADIUS {
            for x in cx.saturating_sub(INSPECT_RADIUS)..=cx + INSPECT_RADIUS {
                let text = f
                    .pixel(x, y)
                    .map(|v| {
                        v.iter()
                            .map(|c| c.to_string())
                            .collect::<Vec<_>>()
                            .join("/")
                    })
                    .unwrap_or_default();
                let t = egui::RichText::new(text).monospace().small();
                if (x, y) == (cx, cy) {
                    ui.label(t.strong());
                } else {
                    ui.label(t);
                }
            }
            ui.end_row();
        }
    });
}
