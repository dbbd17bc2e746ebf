//! The device list, grouped by interface, with connect marks; the
//! selected device's information; connecting to a USB/IP address.

use mvcam::{DeviceInfo, Transport};

use crate::app::App;

/// The interface groups, in the order the list shows them.
pub const GROUPS: [&str; 3] = ["USB3 Vision", "USB/IP", "Virtual"];

/// The group a device is listed under.
pub fn group_of(d: &DeviceInfo) -> &'static str {
    match d.transport {
        Transport::Usb { .. } => GROUPS[0],
        Transport::UsbIp { .. } => GROUPS[1],
        Transport::Virtual(_) => GROUPS[2],
    }
}

/// Draws the device list and the device information.
pub(crate) fn ui(app: &mut App, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.heading("Devices");
        if ui.button("Refresh").clicked() {
            app.refresh_devices();
        }
    });
    let mut connect = None;
    for group in GROUPS {
        let members: Vec<usize> = (0..app.devices.len())
            .filter(|i| group_of(&app.devices[*i]) == group)
            .collect();
        egui::CollapsingHeader::new(format!("{group} ({})", members.len()))
            .id_salt(group)
            .default_open(true)
            .show(ui, |ui| {
                for i in members {
                    let d = &app.devices[i];
                    let connected = app.is_connected_to(i);
                    let text = format!("{} {}", d.model, d.serial);
                    let r = ui
                        .horizontal(|ui| {
                            connection_mark(ui, connected);
                            ui.selectable_label(app.selected == Some(i), text)
                        })
                        .inner
                        .on_hover_text(if connected {
                            "connected".to_string()
                        } else {
                            format!("not connected ({})", d.access)
                        });
                    if r.clicked() {
                        app.selected = Some(i);
                    }
                    if r.double_clicked() {
                        connect = Some(i);
                    }
                }
            });
    }
    for w in &app.warnings {
        ui.colored_label(ui.visuals().warn_fg_color, w);
    }
    ui.horizontal(|ui| {
        let sel = app.selected;
        let connected = sel.is_some_and(|i| app.is_connected_to(i));
        if ui
            .add_enabled(sel.is_some() && !connected, egui::Button::new("Connect"))
            .clicked()
        {
            connect = sel;
        }
        if ui
            .add_enabled(app.camera.is_some(), egui::Button::new("Disconnect"))
            .clicked()
        {
            app.disconnect();
        }
    });
    if let Some(i) = connect {
        let r = app.connect(i);
        app.report(r);
    }
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(&mut app.usbip_address)
                .hint_text("host:port/busid")
                .desired_width(150.0),
        );
        if ui.button("Connect USB/IP").clicked() {
            let a = app.usbip_address.clone();
            let r = app.connect_usbip(&a);
            app.report(r);
        }
    });
    ui.separator();
    info(app, ui);
    ui.separator();
    crate::image_view::info_panel(app, ui);
}

/// A filled green dot for the connected device, a hollow one otherwise.
fn connection_mark(ui: &mut egui::Ui, connected: bool) {
    let (rect, _) = ui.allocate_exact_size(egui::Vec2::splat(12.0), egui::Sense::hover());
    let c = rect.center();
    if connected {
        ui.painter()
            .circle_filled(c, 5.0, egui::Color32::from_rgb(40, 180, 60));
    } else {
        let stroke = egui::Stroke::new(1.5, ui.visuals().weak_text_color());
        ui.painter().circle_stroke(c, 5.0, stroke);
    }
}

/// The selected device's interface and device information.
fn info(app: &App, ui: &mut egui::Ui) {
    let Some(d) = app.selected.and_then(|i| app.devices.get(i)) else {
        ui.weak("No device selected.");
        return;
    };
    egui::CollapsingHeader::new("Device information")
        .default_open(true)
        .show(ui, |ui| {
            egui::Grid::new("device-info")
                .num_columns(2)
                .show(ui, |ui| {
                    let rows = [
                        ("Interface", group_of(d).to_string()),
                        ("Address", d.transport.to_string()),
                        ("Link speed", d.link_speed.clone()),
                        ("Vendor", d.vendor.clone()),
                        ("Model", d.model.clone()),
                        ("Serial number", d.serial.clone()),
                        ("User ID", d.user_id.clone()),
                        ("Access", d.access.to_string()),
                    ];
                    for (k, v) in rows {
                        ui.label(k);
                        ui.label(v);
                        ui.end_row();
                    }
                });
        });
}
