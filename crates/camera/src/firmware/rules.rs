//! The firmware's answers to feature reads and writes: computed values,
//! ranges that follow other features, availability and locks, and what a
//! write sets in motion.

use std::sync::Arc;

use pixel::defect::DefectList;
use pixel::lut::Lut12;
use u3v::gencp::Status;

use super::geometry::{geometry, Geometry};
use super::{Core, State};
use crate::features::table::{
    DEFECT_LIST_CAPACITY, LUT_LEN, OUTPUT_EDGE_CAPACITY, OUTPUT_EDGE_LEN,
};
use crate::features::{Backend, Value};
use crate::lines::{LineConfig, LineId, LineMode, LineSource, PullUp};
use crate::model::ShutterMode;
use crate::schedule::{
    AcquisitionMode, ScheduleConfig, TriggerActivation, TriggerConfig, TriggerSource,
};
use crate::timing::{frame_period_ns, timing, Timing, TimingInput};

/// The modelled USB link: about 400 MB/s.
pub const LINK_SPEED: i64 = 400_000_000;
/// Largest digital gain, dB.
pub const MAX_DIGITAL_GAIN_DB: f64 = 24.0;

impl State {
    /// The geometry of the current settings.
    pub fn geometry(&self, core: &Core) -> Geometry {
        geometry(
            &core.spec,
            self.pixel_format(),
            (self.int("BinningHorizontal"), self.int("BinningVertical")),
            (
                self.int("DecimationHorizontal"),
                self.int("DecimationVertical"),
            ),
        )
    }

    /// (Width, Height, OffsetX, OffsetY).
    pub fn roi(&self) -> (i64, i64, i64, i64) {
        (
            self.int("Width"),
            self.int("Height"),
            self.int("OffsetX"),
            self.int("OffsetY"),
        )
    }

    /// Bytes of the image part of a payload.
    pub fn image_bytes(&self) -> u64 {
        let (w, h, _, _) = self.roi();
        self.pixel_format()
            .image_bytes(w.max(0) as usize, h.max(0) as usize)
            .unwrap_or(0) as u64
    }

    /// Bytes of the chunks appended to each image (0 without chunk mode).
    pub fn chunk_bytes(&self) -> u64 {
        if self.int("ChunkModeActive") == 0 {
            return 0;
        }
        // The image's own chunk tag, then each enabled chunk (8 bytes of
        // data and its tag).
        let tag = u3v::stream::CHUNK_TAG_LEN as u64;
        let enabled = (0..crate::features::table::CHUNKS.len())
            .filter(|&i| self.int_at("ChunkEnable", i) != 0)
            .count() as u64;
        tag + enabled * (8 + tag)
    }

    /// PayloadSize.
    pub fn payload_size(&self) -> u64 {
        self.image_bytes() + self.chunk_bytes()
    }

    /// The link bandwidth the camera uses, bytes/s.
    pub fn link_bytes_per_s(&self) -> f64 {
        let mut link = LINK_SPEED as f64;
        if self.int("DeviceLinkThroughputLimitMode") == 1 {
            link = link.min(self.int("DeviceLinkThroughputLimit") as f64);
        }
        link
    }

    fn shutter(&self) -> ShutterMode {
        match self.int("SensorShutterMode") {
            1 => ShutterMode::Rolling,
            2 => ShutterMode::GlobalReset,
            _ => ShutterMode::Global,
        }
    }

    /// The frame-rate model's view of the current settings.
    pub fn timing(&self, core: &Core) -> Timing {
        let (_, h, _, _) = self.roi();
        timing(&TimingInput {
            payload_bytes: self.payload_size(),
            link_bytes_per_s: self.link_bytes_per_s(),
            rows_read: (h * self.int("BinningVertical") * self.int("DecimationVertical")).max(1)
                as u32,
            row_time_ns: core.spec.sensor.row_time_ns,
            frame_overhead_us: core.spec.sensor.frame_overhead_us,
            exposure_us: self.float("ExposureTime"),
            shutter: self.shutter(),
        })
    }

    /// The trigger configuration of selector `index` (0 FrameStart, 1
    /// AcquisitionStart).
    pub(crate) fn trigger_config(&self, index: usize) -> TriggerConfig {
        TriggerConfig {
            enabled: self.int_at("TriggerMode", index) == 1,
            source: match self.int_at("TriggerSource", index) {
                1 => TriggerSource::Line0,
                2 => TriggerSource::Line1,
                3 => TriggerSource::Line2,
                _ => TriggerSource::Software,
            },
            activation: if self.int_at("TriggerActivation", index) == 1 {
                TriggerActivation::FallingEdge
            } else {
                TriggerActivation::RisingEdge
            },
            delay_us: self.float_at("TriggerDelay", index),
        }
    }

    /// The schedule configuration of the current settings.
    pub fn schedule_config(&self, core: &Core) -> ScheduleConfig {
        let t = self.timing(core);
        ScheduleConfig {
            mode: match self.int("AcquisitionMode") {
                1 => AcquisitionMode::SingleFrame,
                2 => AcquisitionMode::MultiFrame,
                _ => AcquisitionMode::Continuous,
            },
            frame_count: self.int("AcquisitionFrameCount").clamp(1, 255) as u32,
            frame_start: self.trigger_config(0),
            acquisition_start: self.trigger_config(1),
            period_ns: frame_period_ns(
                &t,
                self.int("AcquisitionFrameRateEnable") == 1,
                self.float("AcquisitionFrameRate"),
            ),
            exposure_ns: self.exposure_ns(core, &t),
            readout_ns: t.readout_ns,
            overlapped: t.overlapped,
        }
    }

    /// The exposure of the next frame, ns: ExposureTime, or with
    /// ExposureMode TriggerWidth the width of the last trigger pulse.
    fn exposure_ns(&self, _core: &Core, t: &Timing) -> u64 {
        if self.int("ExposureMode") == 1 {
            self.trigger_width_ns.unwrap_or(t.exposure_ns)
        } else {
            t.exposure_ns
        }
    }

    /// The merged defect list the correction uses.
    pub fn defect_list(&self) -> DefectList {
        let mut all = (*self.factory_defects).clone();
        all.merge(&self.user_defects);
        all
    }

    /// Whether the LUT features are available: not while Gamma is enabled
    /// and not 1.
    pub fn lut_available(&self) -> bool {
        !(self.int("GammaEnable") == 1 && (self.float("Gamma") - 1.0).abs() > 1e-9)
    }

    fn line_config(&self, line: usize) -> LineConfig {
        LineConfig {
            mode: if self.int_at("LineMode", line) == 1 {
                LineMode::Output
            } else {
                LineMode::Input
            },
            inverter: self.int_at("LineInverter", line) == 1,
            source: match self.int_at("LineSource", line) {
                1 => LineSource::ExposureActive,
                2 => LineSource::FrameTriggerWait,
                3 => LineSource::AcquisitionActive,
                4 => LineSource::UserOutput0,
                5 => LineSource::UserOutput1,
                _ => LineSource::Off,
            },
            debouncer_us: self.float_at("LineDebouncerTime", line),
        }
    }
}

fn line_id(index: usize) -> Option<LineId> {
    LineId::ALL.get(index).copied()
}

impl Core {
    /// After a write that may change sizes: clamps the ROI to its new
    /// limits, and updates PayloadSize in the stream registers and the
    /// schedule's timing.
    pub(crate) fn refresh(&self, st: &mut State) {
        let geo = st.geometry(self);
        let (w, h, ox, oy) = geo.clamp(
            st.int("Width"),
            st.int("Height"),
            st.int("OffsetX"),
            st.int("OffsetY"),
        );
        st.put("Width", 0, Value::Int(w));
        st.put("Height", 0, Value::Int(h));
        st.put("OffsetX", 0, Value::Int(ox));
        st.put("OffsetY", 0, Value::Int(oy));
        self.stream.set_required_payload_size(st.payload_size());
        let config = st.schedule_config(self);
        st.schedule.set_config(config);
        self.wake.notify_all();
    }

    fn get_in(&self, st: &State, name: &str, index: usize) -> Result<Value, Status> {
        let int = Value::Int;
        Ok(match name {
            "WidthMax" => int(st.geometry(self).width_max),
            "HeightMax" => int(st.geometry(self).height_max),
            "SensorWidth" => int(i64::from(self.spec.sensor.width)),
            "SensorHeight" => int(i64::from(self.spec.sensor.height)),
            "PayloadSize" => int(st.payload_size() as i64),
            "PixelSize" => int(i64::from(st.pixel_format().bits_per_pixel())),
            "ResultingFrameRate" => Value::Float(st.timing(self).resulting_frame_rate),
            "DeviceTemperature" => Value::Float(self.temperature(st)),
            "DeviceLinkSpeed" => int(LINK_SPEED),
            "LineStatus" => int(line_id(index).is_some_and(|l| st.lines.status(l)) as i64),
            "LineStatusAll" => int(i64::from(st.lines.status_all())),
            "LineFormat" => int(i64::from(index == 2)),
            "TimestampLatchValue" => int(st.latched),
            "TriggerMissedCount" => int(st.missed as i64),
            "FFCStatus" => int(st.ffc_status),
            "DefectPixelCount" => int(if index == 0 {
                st.factory_defects.len()
            } else {
                st.user_defects.len()
            } as i64),
            "DefectPixelList" => Value::Bytes(encode_defects(if index == 0 {
                &st.factory_defects
            } else {
                &st.user_defects
            })),
            "LUTValueAll" => Value::Bytes(
                st.lut
                    .table()
                    .iter()
                    .flat_map(|v| u32::from(*v).to_le_bytes())
                    .collect(),
            ),
            "LUTValue" => int(i64::from(st.lut.get(index).unwrap_or(0))),
            "GainRaw" => int((st.float_at("Gain", index) * 10.0).round() as i64),
            "SimulationLineDamaged" => {
                int(line_id(index).is_some_and(|l| st.lines.is_damaged(l)) as i64)
            }
            "SimulationOutputEdgeCount" => int(line_id(index).map_or(0, |l| {
                st.lines.output_edges(l).len().min(OUTPUT_EDGE_CAPACITY)
            }) as i64),
            "SimulationOutputEdges" => {
                let mut out = Vec::with_capacity(OUTPUT_EDGE_CAPACITY * OUTPUT_EDGE_LEN);
                if let Some(l) = line_id(index) {
                    let edges = st.lines.output_edges(l);
                    let skip = edges.len().saturating_sub(OUTPUT_EDGE_CAPACITY);
                    for e in edges.iter().skip(skip) {
                        out.extend_from_slice(&e.logic_ns.to_le_bytes());
                        out.extend_from_slice(&e.start_ns.to_le_bytes());
                        out.extend_from_slice(&e.reach_ns.to_le_bytes());
                        out.extend_from_slice(&u64::from(e.rising).to_le_bytes());
                    }
                }
                Value::Bytes(out)
            }
            // The command's IsDone: it reads back as its command value (1)
            // until the frames in flight are complete and queued to send.
            "AcquisitionStop" => int(i64::from(st.stop_pending())),
            "AcquisitionStart"
            | "AcquisitionAbort"
            | "TriggerSoftware"
            | "UserSetLoad"
            | "UserSetSave"
            | "FFCCalibrate"
            | "DefectPixelDetect"
            | "TimestampLatch"
            | "TimestampReset"
            | "DeviceReset"
            | "SimulationLinePulse"
            | "SimulationOutputEdgesClear"
            | "SimulationFaultStallStream"
            | "SimulationDisconnect" => int(0),
            "DeviceVendorName" => Value::Str(crate::model::VENDOR_NAME.into()),
            "DeviceModelName" => Value::Str(self.spec.model_name.into()),
            "DeviceFamilyName" => Value::Str(self.spec.family_name.into()),
            "DeviceVersion" | "DeviceFirmwareVersion" => {
                Value::Str(crate::model::FIRMWARE_VERSION.into())
            }
            "DeviceManufacturerInfo" => Value::Str(crate::model::MANUFACTURER_INFO.into()),
            "DeviceSerialNumber" => Value::Str(self.serial.clone()),
            _ => {
                if let Some(pos) = crate::features::table::EVENTS
                    .iter()
                    .position(|e| e.2.contains(&name))
                {
                    let (ts, frame) = st.last_events.get(pos).copied().unwrap_or((0, 0));
                    let e = &crate::features::table::EVENTS[pos];
                    return Ok(if name == e.2[0] {
                        int(i64::from(e.1))
                    } else if name == e.2[1] {
                        int(ts as i64)
                    } else {
                        int(frame as i64)
                    });
                }
                st.value(name, index)
                    .cloned()
                    .ok_or(Status::INVALID_ADDRESS)?
            }
        })
    }

    /// The sensor temperature: ambient plus the self-heating that builds up
    /// over the first minutes after power-up.
    pub fn temperature(&self, st: &State) -> f64 {
        let uptime_s = st.clock.now_ns() as f64 * 1e-9;
        st.float("SimulationAmbientTemperature")
            + f64::from(self.spec.sensor.self_heating_c) * (1.0 - (-uptime_s / 300.0).exp())
    }

    fn limits_in(&self, st: &State, name: &str, index: usize) -> (f64, f64, i64) {
        let geo = st.geometry(self);
        let (w, h, ox, oy) = st.roi();
        let f = |(a, b, c): (i64, i64, i64)| (a as f64, b as f64, c);
        let max_analog = f64::from(self.spec.sensor.max_analog_gain_db);
        match name {
            "Width" => f(geo.width_limits(ox)),
            "Height" => f(geo.height_limits(oy)),
            "OffsetX" => f(geo.offset_x_limits(w)),
            "OffsetY" => f(geo.offset_y_limits(h)),
            "BlackLevel" => {
                let bits = st.int("AdcBitDepth").clamp(8, 12);
                (0.0, ((1i64 << (bits - 4)) - 1) as f64, 1)
            }
            "Gain" if index == 0 => (0.0, max_analog, 1),
            "Gain" => (0.0, MAX_DIGITAL_GAIN_DB, 1),
            "GainRaw" if index == 0 => (0.0, (max_analog * 10.0).round(), 1),
            "GainRaw" => (0.0, (MAX_DIGITAL_GAIN_DB * 10.0).round(), 1),
            "AutoGainLowerLimit" | "AutoGainUpperLimit" => (0.0, max_analog, 1),
            "AutoExposureTimeLowerLimit" => (10.0, st.float("AutoExposureTimeUpperLimit"), 1),
            "AutoExposureTimeUpperLimit" => {
                (st.float("AutoExposureTimeLowerLimit"), 1_000_000.0, 1)
            }
            _ => (0.0, 0.0, 1),
        }
    }

    fn available_in(&self, st: &State, name: &str, index: usize) -> bool {
        let color = self.spec.sensor.bayer.is_some();
        match name {
            "DeviceLinkThroughputLimit" => st.int("DeviceLinkThroughputLimitMode") == 1,
            "ExposureTime" => st.int("ExposureMode") == 0,
            "LineSource" => st.int_at("LineMode", index) == 1,
            "LineDebouncerTime" | "SimulationLineVoltage" | "SimulationLinePulse" => {
                st.int_at("LineMode", index) == 0
            }
            "FFCEnable" => st.ffc.is_some(),
            "LUTSelector" | "LUTEnable" | "LUTIndex" | "LUTValue" | "LUTValueAll" => {
                st.lut_available()
            }
            "BalanceRatioSelector"
            | "BalanceRatio"
            | "BalanceWhiteAuto"
            | "ColorInterpolation"
            | "ColorTransformationSelector"
            | "ColorTransformationEnable"
            | "ColorTransformationValueSelector"
            | "ColorTransformationValue"
            | "Saturation"
            | "Hue" => color,
            _ => true,
        }
    }

    fn locked_in(&self, st: &State, id: usize, name: &str, index: usize) -> bool {
        let acquiring_lock = self
            .table
            .defs()
            .get(id)
            .is_some_and(|d| d.locked_while_acquiring);
        if acquiring_lock && st.params_locked() {
            return true;
        }
        match name {
            // Line0 is an output and Line1 an input for good.
            "LineMode" => index != 2,
            "ExposureTime" => st.int("ExposureAuto") != 0,
            "Gain" | "GainRaw" => index == 0 && st.int("GainAuto") != 0,
            "BalanceRatio" => st.int("BalanceWhiteAuto") != 0,
            "BlackLevel" => st.int("BlackLevelAuto") != 0,
            "DefectPixelList" => index == 0,
            // Changing the clock mode or the scene mid-acquisition is fine;
            // the sensor's conversion depth is not.
            _ => false,
        }
    }

    fn entry_available_in(&self, st: &State, name: &str, entry: &str) -> bool {
        match (name, entry) {
            // A trigger source line must be an input: Line0 never is,
            // Line1 always, Line2 in input mode.
            ("TriggerSource", "Line0") => false,
            ("TriggerSource", "Line1") => true,
            ("TriggerSource", "Line2") => st.int_at("LineMode", 2) == 0,
            // Only a saved user set can be the power-up set.
            ("UserSetDefault", "UserSet1") => matches!(st.nv.user_sets.first(), Some(Some(_))),
            ("UserSetDefault", "UserSet2") => matches!(st.nv.user_sets.get(1), Some(Some(_))),
            _ => true,
        }
    }

    /// A write the table has validated.
    fn set_in(&self, st: &mut State, name: &str, index: usize, value: Value) -> Result<(), Status> {
        let now = st.clock.now_ns();
        let as_int = value.as_int().unwrap_or(0);
        match name {
            "BinningHorizontal"
            | "BinningVertical"
            | "DecimationHorizontal"
            | "DecimationVertical"
                if !matches!(as_int, 1 | 2 | 4) =>
            {
                return Err(Status::INVALID_PARAMETER)
            }
            "FFCEnable" if as_int == 1 && st.ffc.is_none() => {
                return Err(Status::INVALID_PARAMETER)
            }
            "DeviceUserID" => {
                if let Value::Str(s) = &value {
                    st.nv.device_user_id = s.clone();
                    self.nv.save_settings(&st.nv).map_err(|_| Status::ERROR)?;
                }
            }
            "UserSetDefault" => {
                let saved = |i: i64| matches!(st.nv.user_sets.get((i - 1) as usize), Some(Some(_)));
                if as_int != 0 && !saved(as_int) {
                    return Err(Status::INVALID_PARAMETER);
                }
                st.nv.user_set_default = as_int;
                self.nv.save_settings(&st.nv).map_err(|_| Status::ERROR)?;
            }
            _ => {}
        }
        // Commands act; they are not stored.
        if crate::features::Kind::Command == self.kind_of(name) {
            return self.execute(st, name, index, now);
        }
        match name {
            "GainRaw" => st.put("Gain", index, Value::Float(as_int as f64 / 10.0)),
            "LUTValue" => {
                let mut lut = (*st.lut).clone();
                lut.set(index, as_int as u16)
                    .map_err(|_| Status::INVALID_PARAMETER)?;
                st.lut = Arc::new(lut);
            }
            "LUTValueAll" => {
                let Value::Bytes(b) = &value else {
                    return Err(Status::INVALID_PARAMETER);
                };
                let mut table = st.lut.table().to_vec();
                for (slot, c) in table.iter_mut().zip(b.chunks_exact(4)) {
                    let v = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                    *slot = u16::try_from(v)
                        .ok()
                        .filter(|&v| v < 4096)
                        .ok_or(Status::INVALID_PARAMETER)?;
                }
                st.lut =
                    Arc::new(Lut12::from_slice(&table, 12).map_err(|_| Status::INVALID_PARAMETER)?);
            }
            "DefectPixelList" => {
                let Value::Bytes(b) = &value else {
                    return Err(Status::INVALID_PARAMETER);
                };
                let list = decode_defects(b, &self.spec)?;
                self.nv.save_defects(&list).map_err(|_| Status::ERROR)?;
                st.user_defects = Arc::new(list);
            }
            _ => st.put(name, index, value.clone()),
        }
        // Side effects.
        match name {
            "LineMode" | "LineInverter" | "LineSource" | "LineDebouncerTime" => {
                if let Some(l) = line_id(index) {
                    let config = st.line_config(index);
                    st.lines
                        .set_config(l, config, now)
                        .map_err(|_| Status::INVALID_PARAMETER)?;
                }
            }
            "UserOutputValue" => {
                st.lines
                    .set_user_output(index, as_int == 1, now)
                    .map_err(|_| Status::INVALID_PARAMETER)?;
            }
            "SimulationPullUpVoltage" => st.lines.set_pull_up(match as_int {
                5 => PullUp::V5,
                24 => PullUp::V24,
                _ => PullUp::V12,
            }),
            "SimulationLineVoltage" => {
                if let Some(l) = line_id(index) {
                    st.lines
                        .set_input_voltage(l, value.as_f64().unwrap_or(0.0), now)
                        .map_err(|_| Status::INVALID_PARAMETER)?;
                }
            }
            "SimulationClockMode" => st.clock.set_mode(if as_int == 1 {
                super::ClockMode::AsFastAsPossible
            } else {
                super::ClockMode::WallTime
            }),
            "SimulationScene" | "SimulationImagePath" | "SimulationUniformLevel" => {
                self.update_scene(st)?;
            }
            "SimulationFaultDropTransfers" => st.drop_transfers = as_int,
            "DeviceLinkThroughputLimitMode" | "DeviceLinkThroughputLimit" => {}
            _ => {}
        }
        self.refresh(st);
        Ok(())
    }

    fn kind_of(&self, name: &str) -> crate::features::Kind {
        self.table
            .def(name)
            .map(|d| d.kind.clone())
            .unwrap_or(crate::features::Kind::Integer)
    }

    fn execute(&self, st: &mut State, name: &str, index: usize, now: u64) -> Result<(), Status> {
        match name {
            "AcquisitionStart" => {
                if st.schedule.is_acquiring() {
                    return Ok(());
                }
                st.missed = 0;
                let config = st.schedule_config(self);
                st.schedule.set_config(config);
                st.schedule.start(now);
            }
            "AcquisitionStop" => st.schedule.stop(now),
            "AcquisitionAbort" => {
                st.schedule.abort(now);
                st.pending.clear();
            }
            "TriggerSoftware" => {
                let selector = if index == 1 {
                    crate::schedule::TriggerSelector::AcquisitionStart
                } else {
                    crate::schedule::TriggerSelector::FrameStart
                };
                st.schedule
                    .trigger(selector, TriggerSource::Software, true, now);
            }
            "TimestampLatch" => st.latched = st.clock.timestamp(now) as i64,
            "TimestampReset" => st.clock.reset_timestamp(),
            "UserSetLoad" => self.load_user_set(st, st.int("UserSetSelector"))?,
            "UserSetSave" => self.save_user_set(st, st.int("UserSetSelector"))?,
            "FFCCalibrate" => self.ffc_step(st)?,
            "DefectPixelDetect" => self.detect_defects(st)?,
            "SimulationLinePulse" => {
                if let Some(l) = line_id(index) {
                    st.lines
                        .pulse(
                            l,
                            st.float("SimulationLinePulseVoltage"),
                            st.float("SimulationLinePulseWidth"),
                            now,
                        )
                        .map_err(|_| Status::INVALID_PARAMETER)?;
                }
            }
            "SimulationOutputEdgesClear" => st.lines.clear_output_edges(),
            "SimulationFaultStallStream" => self.stream.halt(),
            "SimulationDisconnect" => self.disconnect(),
            "DeviceReset" => {
                st.schedule.abort(now);
                st.pending.clear();
                let set = st.nv.user_set_default;
                self.load_user_set(st, set)?;
                self.reset_device();
            }
            _ => return Err(Status::NOT_IMPLEMENTED),
        }
        self.wake.notify_all();
        Ok(())
    }

    /// Rebuilds the scene when its settings changed.
    pub(crate) fn update_scene(&self, st: &mut State) -> Result<(), Status> {
        let kind = st.int("SimulationScene");
        let path = st.string("SimulationImagePath");
        let level = st.float("SimulationUniformLevel");
        let key = format!("{kind}|{path}|{level}");
        if key == st.scene_key {
            return Ok(());
        }
        let scene = match kind {
            1 => crate::scene::Scene::uniform(level as f32),
            2 => crate::scene::Scene::dark(),
            3 | 4 if path.is_empty() => return Ok(()),
            3 => crate::scene::Scene::from_file(std::path::Path::new(&path))
                .map_err(|_| Status::INVALID_PARAMETER)?,
            4 => crate::scene::Scene::from_folder(std::path::Path::new(&path))
                .map_err(|_| Status::INVALID_PARAMETER)?,
            _ => crate::scene::Scene::synthetic(),
        };
        st.scene = Arc::new(scene);
        st.scene_key = key;
        Ok(())
    }

    /// Loads user set `set` (0 Default, 1 UserSet1, 2 UserSet2).
    pub(crate) fn load_user_set(&self, st: &mut State, set: i64) -> Result<(), Status> {
        if st.params_locked() {
            return Err(Status::ACCESS_DENIED);
        }
        let defaults = super::Values::defaults(&self.table, &self.spec);
        let data = match set {
            0 => defaults.snapshot(&self.table),
            1 | 2 => st
                .nv
                .user_sets
                .get(set as usize - 1)
                .cloned()
                .flatten()
                .ok_or(Status::INVALID_PARAMETER)?,
            _ => return Err(Status::INVALID_PARAMETER),
        };
        // Start from the defaults so that a set saved by an older firmware
        // with fewer features leaves the others at their defaults.
        let keep_user_id = st.string("DeviceUserID");
        let selector = st.int("UserSetSelector");
        let default_set = st.int("UserSetDefault");
        st.values = defaults;
        for (name, vals) in &data.0 {
            for (i, v) in vals.iter().enumerate() {
                st.put(name, i, v.clone());
            }
        }
        st.put("DeviceUserID", 0, Value::Str(keep_user_id));
        st.put("UserSetSelector", 0, Value::Int(selector));
        st.put("UserSetDefault", 0, Value::Int(default_set));
        if st.ffc.is_none() {
            st.put("FFCEnable", 0, Value::Int(0));
        }
        self.apply_all(st);
        Ok(())
    }

    /// Re-applies every setting that lives outside the values (lines, LUT,
    /// scene, clock) after a user set load.
    pub(crate) fn apply_all(&self, st: &mut State) {
        let now = st.clock.now_ns();
        for (i, l) in LineId::ALL.iter().enumerate() {
            let c = st.line_config(i);
            let _ = st.lines.set_config(*l, c, now);
        }
        for i in 0..2 {
            let v = st.int_at("UserOutputValue", i) == 1;
            let _ = st.lines.set_user_output(i, v, now);
        }
        let lut: Vec<u16> = (0..LUT_LEN)
            .map(|i| st.int_at("LUTValue", i).clamp(0, 4095) as u16)
            .collect();
        if let Ok(l) = Lut12::from_slice(&lut, 12) {
            st.lut = Arc::new(l);
        }
        let mode = if st.int("SimulationClockMode") == 1 {
            super::ClockMode::AsFastAsPossible
        } else {
            super::ClockMode::WallTime
        };
        if st.clock.mode() != mode {
            st.clock.set_mode(mode);
        }
        let _ = self.update_scene(st);
        self.refresh(st);
    }

    fn save_user_set(&self, st: &mut State, set: i64) -> Result<(), Status> {
        if !(1..=2).contains(&set) {
            // Default is read-only.
            return Err(Status::WRITE_PROTECT);
        }
        // LUTValue is kept in the LUT; copy it back for the snapshot.
        for i in 0..LUT_LEN {
            let v = i64::from(st.lut.get(i).unwrap_or(0));
            st.put("LUTValue", i, Value::Int(v));
        }
        let data = st.values.snapshot(&self.table);
        if let Some(slot) = st.nv.user_sets.get_mut(set as usize - 1) {
            *slot = Some(data);
        }
        self.nv.save_settings(&st.nv).map_err(|_| Status::ERROR)
    }
}

/// The register form of a defect list: (x: u16, y: u16) LE pairs ended by
/// x = 0xFFFF.
fn encode_defects(list: &DefectList) -> Vec<u8> {
    let mut out = Vec::with_capacity(DEFECT_LIST_CAPACITY * 4);
    for d in list.iter().take(DEFECT_LIST_CAPACITY - 1) {
        out.extend_from_slice(&(d.x as u16).to_le_bytes());
        out.extend_from_slice(&(d.y as u16).to_le_bytes());
    }
    out.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    out.resize(DEFECT_LIST_CAPACITY * 4, 0);
    out
}

fn decode_defects(bytes: &[u8], spec: &crate::model::ModelSpec) -> Result<DefectList, Status> {
    let mut points = Vec::new();
    for c in bytes.chunks_exact(4) {
        let x = u16::from_le_bytes([c[0], c[1]]);
        let y = u16::from_le_bytes([c[2], c[3]]);
        if x == 0xFFFF {
            break;
        }
        if u32::from(x) >= spec.sensor.width || u32::from(y) >= spec.sensor.height {
            return Err(Status::INVALID_PARAMETER);
        }
        points.push((u32::from(x), u32::from(y)));
    }
    Ok(DefectList::from_points(points))
}

impl Core {
    /// The name of feature `id` of the table.
    fn name_of(&self, id: usize) -> Option<&'static str> {
        self.table.defs().get(id).map(|d| d.name)
    }
}

impl Backend for Core {
    fn get(&self, id: usize, index: usize) -> Result<Value, Status> {
        let name = self.name_of(id).ok_or(Status::INVALID_ADDRESS)?;
        let st = self.lock();
        self.get_in(&st, name, index)
    }

    fn set(&self, id: usize, index: usize, value: Value) -> Result<(), Status> {
        let name = self.name_of(id).ok_or(Status::INVALID_ADDRESS)?;
        let mut st = self.lock();
        self.set_in(&mut st, name, index, value)
    }

    fn limits(&self, id: usize, index: usize) -> (f64, f64, i64) {
        let Some(name) = self.name_of(id) else {
            return (0.0, 0.0, 1);
        };
        let st = self.lock();
        self.limits_in(&st, name, index)
    }

    fn available(&self, id: usize, index: usize) -> bool {
        let Some(name) = self.name_of(id) else {
            return false;
        };
        let st = self.lock();
        self.available_in(&st, name, index)
    }

    fn locked(&self, id: usize, index: usize) -> bool {
        let Some(name) = self.name_of(id) else {
            return true;
        };
        let st = self.lock();
        self.locked_in(&st, id, name, index)
    }

    fn entry_available(&self, id: usize, _index: usize, entry: &str) -> bool {
        let Some(name) = self.name_of(id) else {
            return false;
        };
        let st = self.lock();
        self.entry_available_in(&st, name, entry)
    }
}
