//! The Event window: the camera's event notifications (device events,
//! feature updates, stream underruns) and the switches that turn device
//! events on.

use std::collections::VecDeque;
use std::sync::mpsc::Receiver;
use std::time::SystemTime;

use mvcam::{Camera, Event, Value};

use crate::app::App;

/// How many events the log keeps.
const LOG_CAPACITY: usize = 500;

/// The events received from the connected camera, newest last.
#[derive(Debug, Default)]
pub struct EventLog {
    rx: Option<Receiver<Event>>,
    entries: VecDeque<(SystemTime, Event)>,
    total: u64,
    /// Device events and whether their notification is on, read once.
    switches: Option<Vec<(String, bool)>>,
}

impl EventLog {
    pub(crate) fn subscribe(&mut self, camera: &Camera) {
        self.rx = Some(camera.events());
        self.switches = None;
    }

    pub(crate) fn unsubscribe(&mut self) {
        self.rx = None;
        self.switches = None;
    }

    /// Takes in the events that arrived; true when a feature changed.
    pub(crate) fn poll(&mut self) -> bool {
        let mut changed = false;
        let Some(rx) = &self.rx else {
            return false;
        };
        while let Ok(e) = rx.try_recv() {
            changed |= matches!(e, Event::FeatureChanged { .. });
            self.total += 1;
            self.entries.push_back((SystemTime::now(), e));
            while self.entries.len() > LOG_CAPACITY {
                self.entries.pop_front();
            }
        }
        changed
    }

    /// The events kept, oldest first.
    pub fn entries(&self) -> impl Iterator<Item = &Event> {
        self.entries.iter().map(|(_, e)| e)
    }

    /// Events received since connecting.
    pub fn total(&self) -> u64 {
        self.total
    }
}

fn describe(e: &Event) -> String {
    match e {
        Event::Device {
            name,
            id,
            timestamp,
            ..
        } => format!("{name} (id {id:#06x}) at {timestamp} ns"),
        Event::FeatureChanged { name } if name == "*" => "settings loaded".into(),
        Event::FeatureChanged { name } => format!("{name} changed"),
        Event::StreamUnderrun { count } => format!("stream cache underrun ({count} so far)"),
        Event::Disconnected => "camera disconnected".into(),
    }
}

/// Draws the Event window while it is open.
pub(crate) fn window(app: &mut App, ctx: &egui::Context) {
    let mut open = app.windows.events;
    egui::Window::new("Events")
        .open(&mut open)
        .default_width(420.0)
        .show(ctx, |ui| {
            if let Some(camera) = app.camera.clone() {
                ui.collapsing("Device event notifications", |ui| {
                    if let Some(m) = notification_switches(ui, &camera, &mut app.events.switches) {
                        app.message = m;
                    }
                });
            }
            ui.label(format!("{} events received", app.events.total));
            egui::ScrollArea::vertical()
                .max_height(300.0)
                .stick_to_bottom(true)
                .show(ui, |ui| {
                    for (t, e) in &app.events.entries {
                        let secs = t
                            .duration_since(SystemTime::UNIX_EPOCH)
                            .map(|d| d.as_secs_f64() % 86_400.0)
                            .unwrap_or(0.0);
                        ui.monospace(format!("{secs:>9.3}  {}", describe(e)));
                    }
                });
        });
    app.windows.events = open;
}

/// A switch per device event (EventSelector / EventNotification).
fn notification_switches(
    ui: &mut egui::Ui,
    camera: &Camera,
    switches: &mut Option<Vec<(String, bool)>>,
) -> Option<String> {
    let list = switches.get_or_insert_with(|| {
        let names = camera
            .feature("EventSelector")
            .map(|f| f.entries)
            .unwrap_or_default();
        names
            .into_iter()
            .map(|name| {
                let on = camera
                    .set("EventSelector", Value::Enumeration(name.clone()))
                    .and_then(|()| camera.get_str("EventNotification"))
                    .is_ok_and(|v| v == "On");
                (name, on)
            })
            .collect()
    });
    if list.is_empty() {
        ui.weak("This camera sends no events.");
        return None;
    }
    let mut message = None;
    for (name, on) in list.iter_mut() {
        if ui.checkbox(on, name.as_str()).changed() {
            let want = *on;
            let r = camera
                .set("EventSelector", Value::Enumeration(name.clone()))
                .and_then(|()| {
                    camera.set(
                        "EventNotification",
                        Value::Enumeration(if want { "On" } else { "Off" }.into()),
                    )
                });
            message = Some(match r {
                Ok(()) => format!("{name} notification {}", if want { "on" } else { "off" }),
                Err(e) => {
                    *on = !want;
                    e.to_string()
                }
            });
        }
    }
    message
}
