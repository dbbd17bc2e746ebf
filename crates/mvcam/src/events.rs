//! Device events (from the camera's event endpoint) and SDK events (from
//! the SDK itself), delivered through one channel.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Mutex;

/// Something that happened on a camera.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An event the camera sent (EventNotification on).
    Device {
        /// Its name (`ExposureEnd`, `FrameTriggerMissed`, ...), or
        /// `Event0x....` for an id the SDK does not know.
        name: String,
        /// The USB3 Vision event id.
        id: u16,
        /// Device timestamp, ns.
        timestamp: u64,
        /// The event's data.
        data: Vec<u8>,
    },
    /// A feature was written through this SDK.
    FeatureChanged {
        /// The feature.
        name: String,
    },
    /// A frame arrived while no buffer was free; it was dropped.
    StreamUnderrun {
        /// Underruns so far in this stream.
        count: u64,
    },
    /// The camera went away.
    Disconnected,
}

impl Event {
    /// A short name for display: the device event's name, or
    /// `FeatureChanged`, `StreamUnderrun`, `Disconnected`.
    pub fn name(&self) -> &str {
        match self {
            Event::Device { name, .. } => name,
            Event::FeatureChanged { .. } => "FeatureChanged",
            Event::StreamUnderrun { .. } => "StreamUnderrun",
            Event::Disconnected => "Disconnected",
        }
    }

    /// The event as a JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Event::Device {
                name,
                id,
                timestamp,
                data,
            } => serde_json::json!({
                "kind": "device", "name": name, "id": id, "timestamp": timestamp,
                "data": data.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            }),
            Event::FeatureChanged { name } => {
                serde_json::json!({"kind": "sdk", "name": "FeatureChanged", "feature": name})
            }
            Event::StreamUnderrun { count } => {
                serde_json::json!({"kind": "sdk", "name": "StreamUnderrun", "count": count})
            }
            Event::Disconnected => serde_json::json!({"kind": "sdk", "name": "Disconnected"}),
        }
    }
}

/// The name of a device event id: the virtual camera's event table, the
/// GenCP test event, or `Event0xNNNN`.
pub fn device_event_name(id: u16) -> String {
    if let Some((name, _, _)) = camera::features::table::EVENTS
        .iter()
        .find(|(_, eid, _)| *eid == id)
    {
        return (*name).to_string();
    }
    if id == u3v::event_channel::TEST_EVENT_ID {
        return "Test".to_string();
    }
    format!("Event{id:#06x}")
}

/// Fans events out to every subscriber; subscribers that went away are
/// forgotten.
#[derive(Default)]
pub(crate) struct EventHub {
    subscribers: Mutex<Vec<Sender<Event>>>,
}

impl EventHub {
    pub(crate) fn subscribe(&self) -> Receiver<Event> {
        let (tx, rx) = channel();
        self.lock().push(tx);
        rx
    }

    pub(crate) fn emit(&self, e: Event) {
        self.lock().retain(|s| s.send(e.clone()).is_ok());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Sender<Event>>> {
        self.subscribers.lock().unwrap_or_else(|e| e.into_inner())
    }
}
