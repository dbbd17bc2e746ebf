//! The feature panel: the camera's categories and features at the chosen
//! user level, a widget per feature type, a search box.

use std::time::{Duration, Instant};

use egui::{CollapsingHeader, ComboBox, DragValue, ScrollArea, Slider, TextEdit};
use mvcam::{Camera, FeatureFilter, FeatureInfo, FeatureKind, Level, Value};

use crate::error::ViewerError;

/// How often the panel reads the values again on its own (features
/// change behind the user's back: resulting frame rate, temperature).
const REFRESH_EVERY: Duration = Duration::from_secs(1);

/// Largest range a number feature gets a slider for.
const SLIDER_SPAN: f64 = 100_000.0;

/// The state of the feature panel.
#[derive(Debug)]
pub struct FeaturePanel {
    level: Level,
    search: String,
    features: Vec<FeatureInfo>,
    stale: bool,
    last_refresh: Option<Instant>,
    text_edits: std::collections::HashMap<String, String>,
}

impl Default for FeaturePanel {
    fn default() -> Self {
        FeaturePanel {
            level: Level::Beginner,
            search: String::new(),
            features: Vec::new(),
            stale: true,
            last_refresh: None,
            text_edits: Default::default(),
        }
    }
}

/// The bounds of a range text `min..=max` or `min..=max (step s)`.
pub fn parse_range(text: &str) -> Option<(f64, f64)> {
    let head = text.split(" (").next()?;
    let (a, b) = head.split_once("..=")?;
    let (min, max) = (a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?);
    (min.is_finite() && max.is_finite() && min <= max).then_some((min, max))
}

impl FeaturePanel {
    /// The user level whose features are listed.
    pub fn level(&self) -> Level {
        self.level
    }

    /// Changes the user level.
    pub fn set_level(&mut self, level: Level) {
        if level != self.level {
            self.level = level;
            self.stale = true;
        }
    }

    /// The features listed now.
    pub fn features(&self) -> &[FeatureInfo] {
        &self.features
    }

    /// Asks for the values to be read again before the next drawing.
    pub fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// Forgets the listed features (no camera).
    pub fn clear(&mut self) {
        self.features.clear();
        self.text_edits.clear();
        self.stale = true;
    }

    /// Reads the features from `camera` when they are stale or old.
    pub fn refresh_if_needed(&mut self, camera: &Camera) -> Result<(), ViewerError> {
        let old = match self.last_refresh {
            Some(t) => t.elapsed() >= REFRESH_EVERY,
            None => true,
        };
        if !(self.stale || old) {
            return Ok(());
        }
        self.stale = false;
        self.last_refresh = Some(Instant::now());
        let text = self.search.trim();
        self.features = camera.features(&FeatureFilter {
            level: self.level,
            text: (!text.is_empty()).then(|| text.to_string()),
        })?;
        Ok(())
    }

    /// Draws the panel; returns a message for the status bar when a write
    /// failed or a command ran.
    pub fn ui(&mut self, ui: &mut egui::Ui, camera: Option<&Camera>) -> Option<String> {
        let mut message = None;
        ui.horizontal(|ui| {
            ui.label("User level:");
            for (level, name) in [
                (Level::Beginner, "Beginner"),
                (Level::Expert, "Expert"),
                (Level::Guru, "Guru"),
            ] {
                if ui.selectable_label(self.level == level, name).clicked() {
                    self.set_level(level);
                }
            }
        });
        let search = ui.add(
            TextEdit::singleline(&mut self.search)
                .hint_text("Search features")
                .desired_width(f32::INFINITY),
        );
        if search.changed() {
            self.stale = true;
        }
        let Some(camera) = camera else {
            ui.weak("Connect a camera to see its features.");
            return None;
        };
        if let Err(e) = self.refresh_if_needed(camera) {
            message = Some(e.to_string());
        }
        let features = std::mem::take(&mut self.features);
        ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                let mut start = 0;
                while start < features.len() {
                    let category = features[start].category.clone();
                    let end = features[start..]
                        .iter()
                        .position(|f| f.category != category)
                        .map_or(features.len(), |n| start + n);
                    let title = if category.is_empty() {
                        "Other"
                    } else {
                        category.as_str()
                    };
                    CollapsingHeader::new(title)
                        .default_open(true)
                        .show(ui, |ui| {
                            egui::Grid::new(("features", title))
                                .num_columns(2)
                                .striped(true)
                                .show(ui, |ui| {
                                    for f in &features[start..end] {
                                        if let Some(m) = self.feature_row(ui, camera, f) {
                                            message = Some(m);
                                        }
                                        ui.end_row();
                                    }
                                });
                        });
                    start = end;
                }
            });
        if self.features.is_empty() {
            self.features = features;
        }
        message
    }

    /// One row: the name, then the widget for the feature's type.
    fn feature_row(
        &mut self,
        ui: &mut egui::Ui,
        camera: &Camera,
        f: &FeatureInfo,
    ) -> Option<String> {
        let tip = f.description.clone().unwrap_or_default();
        let mut write: Option<Value> = None;
        let mut execute = false;
        let enabled = f.writable;
        let mut label_id = None;
        if f.kind != FeatureKind::Boolean && f.kind != FeatureKind::Command {
            let l = ui
                .label(&f.display_name)
                .on_hover_text(&tip)
                .on_disabled_hover_text(&tip);
            label_id = Some(l.id);
        }
        // The value widget is named by the feature's label (screen readers, tests).
        let named = |r: egui::Response| match label_id {
            Some(id) => r.labelled_by(id),
            None => r,
        };
        let range = f.range.as_deref().and_then(parse_range);
        let unit = f.unit.clone().unwrap_or_default();
        match (&f.kind, &f.value) {
            (FeatureKind::Integer, Some(Value::Integer(v))) => {
                let mut v = *v;
                let resp = match range {
                    Some((min, max)) if max - min <= SLIDER_SPAN => ui.add_enabled(
                        enabled,
                        Slider::new(&mut v, min as i64..=max as i64).suffix(suffix(&unit)),
                    ),
                    Some((min, max)) => ui.add_enabled(
                        enabled,
                        DragValue::new(&mut v)
                            .range(min..=max)
                            .suffix(suffix(&unit)),
                    ),
                    None => ui.add_enabled(enabled, DragValue::new(&mut v).suffix(suffix(&unit))),
                };
                if named(resp)
                    .on_hover_text(&tip)
                    .on_disabled_hover_text(&tip)
                    .changed()
                {
                    write = Some(Value::Integer(v));
                }
            }
            (FeatureKind::Float, Some(Value::Float(v))) => {
                let mut v = *v;
                let resp = match range {
                    Some((min, max)) if max - min <= SLIDER_SPAN => ui.add_enabled(
                        enabled,
                        Slider::new(&mut v, min..=max).suffix(suffix(&unit)),
                    ),
                    Some((min, max)) => ui.add_enabled(
                        enabled,
                        DragValue::new(&mut v)
                            .range(min..=max)
                            .speed((max - min) / 1000.0)
                            .suffix(suffix(&unit)),
                    ),
                    None => ui.add_enabled(enabled, DragValue::new(&mut v).suffix(suffix(&unit))),
                };
                if named(resp)
                    .on_hover_text(&tip)
                    .on_disabled_hover_text(&tip)
                    .changed()
                {
                    write = Some(Value::Float(v));
                }
            }
            (FeatureKind::Boolean, Some(Value::Boolean(b))) => {
                ui.label("");
                let mut b = *b;
                let resp = ui
                    .add_enabled(enabled, egui::Checkbox::new(&mut b, &f.display_name))
                    .on_hover_text(&tip)
                    .on_disabled_hover_text(&tip);
                if resp.changed() {
                    write = Some(Value::Boolean(b));
                }
            }
            (FeatureKind::Enumeration, Some(Value::Enumeration(cur))) => {
                let mut chosen = cur.clone();
                ui.add_enabled_ui(enabled, |ui| {
                    let r = ComboBox::from_id_salt(("enum", &f.name))
                        .selected_text(cur.as_str())
                        .show_ui(ui, |ui| {
                            for e in &f.entries {
                                ui.selectable_value(&mut chosen, e.clone(), e.as_str());
                            }
                        })
                        .response;
                    named(r).on_hover_text(&tip).on_disabled_hover_text(&tip);
                });
                if &chosen != cur {
                    write = Some(Value::Enumeration(chosen));
                }
            }
            (FeatureKind::String, Some(Value::String(s))) => {
                let buf = self
                    .text_edits
                    .entry(f.name.clone())
                    .or_insert_with(|| s.clone());
                let resp =
                    named(ui.add_enabled(enabled, TextEdit::singleline(buf))).on_hover_text(&tip);
                if resp.lost_focus() && buf != s {
                    write = Some(Value::String(buf.clone()));
                } else if !resp.has_focus() && !resp.lost_focus() {
                    *buf = s.clone();
                }
            }
            (FeatureKind::Command, _) => {
                ui.label("");
                execute = ui
                    .add_enabled(enabled, egui::Button::new(&f.display_name))
                    .on_hover_text(&tip)
                    .on_disabled_hover_text(&tip)
                    .clicked();
            }
            (FeatureKind::Register, Some(Value::Register(bytes))) => {
                named(ui.weak(format!("{} bytes", bytes.len()))).on_hover_text(&tip);
            }
            _ => {
                ui.weak("(not readable now)").on_hover_text(&tip);
            }
        }
        let result = if execute {
            camera
                .execute(&f.name)
                .map(|()| format!("{} executed", f.name))
        } else if let Some(v) = write {
            camera.set(&f.name, v).map(|()| format!("{} set", f.name))
        } else {
            return None;
        };
        self.stale = true;
        Some(match result {
            Ok(m) => m,
            Err(e) => e.to_string(),
        })
    }
}

fn suffix(unit: &str) -> String {
    if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_with_and_without_step() {
        assert_eq!(parse_range("16..=2448 (step 16)"), Some((16.0, 2448.0)));
        assert_eq!(parse_range("-1.5..=3"), Some((-1.5, 3.0)));
        assert_eq!(parse_range("3..=1"), None);
        assert_eq!(parse_range("nonsense"), None);
        assert_eq!(parse_range("a..=b"), None);
    }
}
