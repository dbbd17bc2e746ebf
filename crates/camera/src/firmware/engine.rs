//! The acquisition engine: one thread per camera that runs the schedule on
//! the camera clock, turns its events into frames, events and line levels,
//! and makes each frame: scene → sensor → auto functions → image pipeline
//! → chunks → stream.

use std::sync::Arc;
use std::time::Duration;

use pixel::format::PixelFormat;
use pixel::geometry::{Binning, BinningMode, Decimation, PixelLayout, Roi};
use pixel::pipeline::DemosaicMethod;
use u3v::stream::{encode_chunk, ImageInfo, PayloadType};
use u3v::stream_sender::Frame;

use super::{ClockMode, Core, State};
use crate::auto::{self, AutoMode, ExposureLimits};
use crate::features::table::{CHUNKS, CHUNK_IMAGE_ID};
use crate::features::Value;
use crate::isp::{Isp, IspSettings, RawWindow};
use crate::lines::{LineId, Signal};
use crate::scene::Scene;
use crate::schedule::{Level, ScheduleEvent, TriggerActivation, TriggerSelector, TriggerSource};
use crate::sensor::Exposure;
use crate::test_image::{self, TestImage};

/// Indices into [`EVENTS`](crate::features::table::EVENTS).
mod ev {
    pub const EXPOSURE_END: usize = 0;
    pub const FRAME_START: usize = 1;
    pub const FRAME_TRIGGER_MISSED: usize = 2;
    pub const ACQUISITION_START: usize = 3;
    pub const ACQUISITION_END: usize = 4;
    pub const LINE1_RISING: usize = 5;
    pub const LINE1_FALLING: usize = 6;
}

/// How long a frame waits for room in the stream queue in wall-time mode
/// before the camera drops it (its frame buffer is full).
const WALL_PUSH_TIMEOUT: Duration = Duration::from_millis(50);
/// The same as fast as possible: the camera waits for the host.
const FAST_PUSH_TIMEOUT: Duration = Duration::from_secs(2);

/// One frame to make, with everything it needs, taken under the lock.
pub struct FrameJob {
    block_id: u64,
    frame_index: u64,
    timestamp: u64,
    t_us: u64,
    window: RawWindow,
    out_size: (u32, u32),
    offset: (u32, u32),
    format: PixelFormat,
    exposure: Exposure,
    isp: IspSettings,
    test_image: TestImage,
    scene: Arc<Scene>,
    chunks: Vec<(u32, [u8; 8])>,
    auto: AutoJob,
    drop_payload: bool,
    push_timeout: Duration,
}

/// What the auto functions are to do after this frame.
#[derive(Debug, Clone, Copy)]
struct AutoJob {
    exposure: AutoMode,
    gain: AutoMode,
    balance: AutoMode,
    black: AutoMode,
    limits: ExposureLimits,
    exposure_us: f64,
    gain_db: f64,
    balance_ratios: [f64; 3],
    black_level: f64,
    black_range: (f64, f64),
}

fn auto_mode(v: i64) -> AutoMode {
    match v {
        1 => AutoMode::Once,
        2 => AutoMode::Continuous,
        _ => AutoMode::Off,
    }
}

impl Core {
    /// The sensor operating point of the current settings.
    pub(crate) fn exposure(&self, st: &State) -> Exposure {
        let exposure_us = match st.trigger_width_ns {
            Some(w) if st.int("ExposureMode") == 1 => w as f64 / 1000.0,
            _ => st.float("ExposureTime"),
        };
        Exposure {
            exposure_us: exposure_us.clamp(1.0, 1_000_000.0),
            analog_gain_db: st.float_at("Gain", 0),
            black_level_dn: st.float("BlackLevel"),
            adc_bits: st.int("AdcBitDepth").clamp(8, 12) as u32,
            temperature_c: self.temperature(st),
            light: st.float("SimulationLightLevel"),
        }
    }

    fn isp_settings(&self, st: &State) -> IspSettings {
        let mode = |v: i64| {
            if v == 1 {
                BinningMode::Average
            } else {
                BinningMode::Sum
            }
        };
        let color_matrix = (st.int("ColorTransformationEnable") == 1).then(|| {
            let g = |i: usize| st.float_at("ColorTransformationValue", i);
            [[g(0), g(1), g(2)], [g(3), g(4), g(5)], [g(6), g(7), g(8)]]
        });
        // Gamma 1 is the identity, and leaves the LUT available (and
        // applied when enabled).
        let gamma = (st.int("GammaEnable") == 1 && !st.lut_available()).then(|| st.float("Gamma"));
        let lut = (st.int("LUTEnable") == 1 && st.lut_available()).then(|| st.lut.clone());
        IspSettings {
            adc_bits: st.int("AdcBitDepth").clamp(8, 12) as u32,
            binning: Binning {
                horizontal: st.int("BinningHorizontal") as u32,
                vertical: st.int("BinningVertical") as u32,
                horizontal_mode: mode(st.int("BinningHorizontalMode")),
                vertical_mode: mode(st.int("BinningVerticalMode")),
            },
            decimation: Decimation {
                horizontal: st.int("DecimationHorizontal") as u32,
                vertical: st.int("DecimationVertical") as u32,
            },
            reverse_x: st.int("ReverseX") == 1,
            reverse_y: st.int("ReverseY") == 1,
            pixel_format: st.pixel_format(),
            defects: (st.int("DefectPixelCorrectionEnable") == 1)
                .then(|| Arc::new(st.defect_list())),
            flat_field: if st.int("FFCEnable") == 1 {
                st.ffc.clone()
            } else {
                None
            },
            balance: [
                st.float_at("BalanceRatio", 0),
                st.float_at("BalanceRatio", 1),
                st.float_at("BalanceRatio", 2),
            ],
            digital_gain_db: st.float_at("Gain", 1),
            digital_shift: st.int("DigitalShift").clamp(0, 4) as u32,
            demosaic: if st.int("ColorInterpolation") == 1 {
                DemosaicMethod::GradientCorrected
            } else {
                DemosaicMethod::Bilinear
            },
            color_matrix,
            saturation: st.float("Saturation"),
            hue_degrees: st.float("Hue"),
            gamma,
            lut,
        }
    }

    /// Takes what frame `block_id` needs from the state.
    fn frame_job(&self, st: &State, block_id: u64, frame_index: u64, t_ns: u64) -> FrameJob {
        let geo = st.geometry(self);
        let roi = st.roi();
        let window = geo.window(
            &self.spec,
            roi,
            (st.int("ReverseX") == 1, st.int("ReverseY") == 1),
        );
        let exposure = self.exposure(st);
        let timestamp = st.clock.timestamp(t_ns);
        let mut chunks = Vec::new();
        if st.int("ChunkModeActive") == 1 {
            for (i, &(_, id, _, _)) in CHUNKS.iter().enumerate() {
                if st.int_at("ChunkEnable", i) == 0 {
                    continue;
                }
                let data = match i {
                    0 => timestamp.to_le_bytes(),
                    1 => block_id.to_le_bytes(),
                    2 => exposure.exposure_us.to_le_bytes(),
                    3 => st.float_at("Gain", 0).to_le_bytes(),
                    _ => u64::from(st.lines.status_all()).to_le_bytes(),
                };
                chunks.push((id, data));
            }
        }
        let bl_bits = st.int("AdcBitDepth").clamp(8, 12);
        FrameJob {
            block_id,
            frame_index,
            timestamp,
            t_us: t_ns / 1000,
            window,
            out_size: (roi.0 as u32, roi.1 as u32),
            offset: (roi.2 as u32, roi.3 as u32),
            format: st.pixel_format(),
            exposure,
            isp: self.isp_settings(st),
            test_image: TestImage::ALL
                .get(st.int("TestImageSelector") as usize)
                .copied()
                .unwrap_or(TestImage::Off),
            scene: st.scene.clone(),
            chunks,
            auto: AutoJob {
                exposure: auto_mode(st.int("ExposureAuto")),
                gain: auto_mode(st.int("GainAuto")),
                balance: if self.spec.sensor.bayer.is_some() {
                    auto_mode(st.int("BalanceWhiteAuto"))
                } else {
                    AutoMode::Off
                },
                black: auto_mode(st.int("BlackLevelAuto")),
                limits: ExposureLimits {
                    target: st.int("AutoTargetBrightness") as f64,
                    exposure_min_us: st.float("AutoExposureTimeLowerLimit"),
                    exposure_max_us: st.float("AutoExposureTimeUpperLimit"),
                    gain_min_db: st.float("AutoGainLowerLimit"),
                    gain_max_db: st.float("AutoGainUpperLimit"),
                },
                exposure_us: st.float("ExposureTime"),
                gain_db: st.float_at("Gain", 0),
                balance_ratios: [
                    st.float_at("BalanceRatio", 0),
                    st.float_at("BalanceRatio", 1),
                    st.float_at("BalanceRatio", 2),
                ],
                black_level: st.float("BlackLevel"),
                black_range: (0.0, ((1i64 << (bl_bits - 4)) - 1) as f64),
            },
            drop_payload: false,
            push_timeout: if st.clock.mode() == ClockMode::AsFastAsPossible {
                FAST_PUSH_TIMEOUT
            } else {
                WALL_PUSH_TIMEOUT
            },
        }
    }

    /// Handles what the schedule and the lines produced up to `now`.
    fn process_due(&self, st: &mut State, now: u64) {
        for _ in 0..64 {
            // Schedule events first, so that the signals they drive reach
            // the lines at their own times, before the lines move to `now`.
            let events = st.schedule.advance(now);
            let had_events = !events.is_empty();
            for e in events {
                self.handle_event(st, e);
            }
            let edges = st.lines.advance(now);
            if !had_events && edges.is_empty() {
                break;
            }
            for edge in edges {
                let source = match edge.line {
                    LineId::Line0 => TriggerSource::Line0,
                    LineId::Line1 => TriggerSource::Line1,
                    LineId::Line2 => TriggerSource::Line2,
                };
                if !self.trigger_width_edge(st, source, edge.rising, edge.t_ns) {
                    st.schedule.trigger(
                        TriggerSelector::FrameStart,
                        source,
                        edge.rising,
                        edge.t_ns,
                    );
                }
                st.schedule.trigger(
                    TriggerSelector::AcquisitionStart,
                    source,
                    edge.rising,
                    edge.t_ns,
                );
                if edge.line == LineId::Line1 {
                    let which = if edge.rising {
                        ev::LINE1_RISING
                    } else {
                        ev::LINE1_FALLING
                    };
                    self.send_event(st, which, edge.t_ns, 0);
                }
            }
        }
    }

    /// ExposureMode TriggerWidth with a line frame trigger: the pulse's
    /// width is the exposure. The activation edge opens the pulse; the
    /// opposite edge closes it and triggers the frame, exposed for the
    /// pulse's width (the frame starts at the closing edge, since the
    /// width is known only then). Returns whether the edge was taken here.
    fn trigger_width_edge(
        &self,
        st: &mut State,
        source: TriggerSource,
        rising: bool,
        t: u64,
    ) -> bool {
        let frame_trigger = st.trigger_config(0);
        if st.int("ExposureMode") != 1 || !frame_trigger.enabled || frame_trigger.source != source {
            return false;
        }
        let activation_rising = frame_trigger.activation == TriggerActivation::RisingEdge;
        if rising == activation_rising {
            st.width_start = Some(t);
        } else if let Some(start) = st.width_start.take() {
            st.trigger_width_ns = Some(t.saturating_sub(start).max(1_000));
            let config = st.schedule_config(self);
            st.schedule.set_config(config);
            st.schedule
                .trigger(TriggerSelector::FrameStart, source, activation_rising, t);
        }
        true
    }

    fn handle_event(&self, st: &mut State, e: ScheduleEvent) {
        match e {
            ScheduleEvent::AcquisitionStart { t_ns } => {
                self.send_event(st, ev::ACQUISITION_START, t_ns, st.next_block_id)
            }
            ScheduleEvent::FrameStart { t_ns, .. } => {
                self.send_event(st, ev::FRAME_START, t_ns, st.next_block_id)
            }
            ScheduleEvent::ExposureEnd { t_ns, .. } => {
                self.send_event(st, ev::EXPOSURE_END, t_ns, st.next_block_id)
            }
            ScheduleEvent::FrameReady {
                t_ns,
                frame_id,
                exposure_start_ns,
            } => {
                let block_id = st.next_block_id;
                st.next_block_id += 1;
                let mut job = self.frame_job(st, block_id, frame_id, exposure_start_ns);
                let _ = t_ns;
                if st.drop_transfers > 0 {
                    st.drop_transfers -= 1;
                    job.drop_payload = true;
                }
                st.pending.push_back(job);
            }
            ScheduleEvent::FrameTriggerMissed { t_ns } => {
                st.missed += 1;
                self.send_event(st, ev::FRAME_TRIGGER_MISSED, t_ns, st.next_block_id);
            }
            ScheduleEvent::AcquisitionTriggerMissed { .. } => st.missed += 1,
            ScheduleEvent::AcquisitionEnd { t_ns } => {
                self.send_event(st, ev::ACQUISITION_END, t_ns, st.next_block_id)
            }
            ScheduleEvent::LevelChange { t_ns, level, high } => {
                let signal = match level {
                    Level::ExposureActive => Signal::ExposureActive,
                    Level::FrameTriggerWait => Signal::FrameTriggerWait,
                    Level::AcquisitionActive => Signal::AcquisitionActive,
                };
                st.lines.set_signal(signal, high, t_ns);
            }
        }
    }

    /// The engine thread's loop; returns when the camera shuts down.
    pub(crate) fn run_engine(&self) {
        let mut isp = Isp::new();
        let mut bufs = Buffers::default();
        let mut st = self.lock();
        loop {
            if st.shutdown {
                return;
            }
            let now = st.clock.now_ns();
            self.process_due(&mut st, now);
            if let Some(job) = st.pending.pop_front() {
                st.making = true;
                drop(st);
                let result = self.make_frame(&job, &mut isp, &mut bufs);
                st = self.lock();
                st.making = false;
                if let Ok(updates) = result {
                    self.apply_auto(&mut st, updates);
                }
                continue;
            }
            let deadline = match (st.schedule.next_deadline(), st.lines.next_deadline()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            match (st.clock.mode(), deadline) {
                (ClockMode::AsFastAsPossible, Some(t)) => st.clock.advance_to(t),
                (ClockMode::WallTime, Some(t)) => {
                    let wait = st.clock.wait_for(t);
                    if !wait.is_zero() {
                        st = self
                            .wake
                            .wait_timeout(st, wait)
                            .unwrap_or_else(|e| e.into_inner())
                            .0;
                    }
                }
                (_, None) => {
                    st = self.wake.wait(st).unwrap_or_else(|e| e.into_inner());
                }
            }
        }
    }

    /// Makes and sends one frame; returns what the auto functions decided.
    fn make_frame(
        &self,
        job: &FrameJob,
        isp: &mut Isp,
        bufs: &mut Buffers,
    ) -> Result<AutoUpdates, ()> {
        let (w, h) = job.out_size;
        let info = ImageInfo {
            pixel_format: job.format.code(),
            size_x: w,
            size_y: h,
            offset_x: job.offset.0,
            offset_y: job.offset.1,
            padding_x: 0,
        };
        // A still test image without chunks is the same bytes every frame:
        // it is made once and shared by every frame sent (no copy), so the
        // camera is then as fast as its link.
        let still = matches!(
            job.test_image,
            TestImage::GreyHorizontalRamp
                | TestImage::GreyVerticalRamp
                | TestImage::ColorBar
                | TestImage::Checkerboard
        ) && job.chunks.is_empty();
        let key = (job.test_image, job.format, job.out_size, job.offset);
        if still {
            if let Some((k, payload)) = &bufs.still {
                if *k == key {
                    let frame = Frame::image(job.block_id, job.timestamp, info, payload.clone());
                    self.send(frame, job);
                    return Ok(AutoUpdates::default());
                }
            }
        }
        let image_len = job.format.image_bytes(w as usize, h as usize).ok_or(())?;
        let chunk_len: usize = (job.chunks.len() + 1) * (8 + u3v::stream::CHUNK_TAG_LEN);
        let mut payload = Vec::with_capacity(image_len + chunk_len);
        payload.resize(image_len, 0);
        let mut updates = AutoUpdates::default();
        if job.test_image != TestImage::Off {
            render_test_image(job, &mut bufs.samples, &mut payload)?;
        } else {
            let win = &job.window;
            let n = win.width as usize * win.height as usize;
            bufs.radiance.resize(n, 0.0);
            bufs.raw.resize(n, 0);
            let roi = Roi {
                x: win.x as usize,
                y: win.y as usize,
                width: win.width as usize,
                height: win.height as usize,
            };
            job.scene
                .render(
                    job.t_us,
                    job.frame_index,
                    self.spec.sensor.width,
                    self.spec.sensor.height,
                    roi,
                    win.cfa,
                    &mut bufs.radiance,
                )
                .map_err(|_| ())?;
            let seed = job.block_id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ job.timestamp;
            self.sensor
                .expose(&bufs.radiance, roi, &job.exposure, seed, &mut bufs.raw)
                .map_err(|_| ())?;
            updates = self.run_auto(job, &bufs.raw);
            isp.process(&bufs.raw, win, &job.isp, &mut payload)
                .map_err(|_| ())?;
        }
        if !job.chunks.is_empty() {
            // The image is the payload's first chunk: its tag follows the
            // pixels, then come the other chunks.
            payload.extend_from_slice(&CHUNK_IMAGE_ID.to_le_bytes());
            payload.extend_from_slice(&(image_len as u32).to_le_bytes());
        }
        for (id, data) in &job.chunks {
            encode_chunk(*id, data, &mut payload).map_err(|_| ())?;
        }
        let mut frame = if still {
            let shared: Arc<[u8]> = payload.into();
            bufs.still = Some((key, shared.clone()));
            Frame::image(job.block_id, job.timestamp, info, shared)
        } else {
            Frame::image(job.block_id, job.timestamp, info, payload)
        };
        if !job.chunks.is_empty() {
            frame.payload_type = PayloadType::ImageExtendedChunk;
        }
        self.send(frame, job);
        Ok(updates)
    }

    /// Queues a frame on the stream endpoint.
    fn send(&self, mut frame: Frame, job: &FrameJob) {
        // With the frame, not the sender: frames queued ahead keep theirs.
        frame.drop_payload_transfer = job.drop_payload;
        // A full queue (no host reading) drops the frame, as a camera whose
        // frame buffer is full does; the host sees the block-id gap.
        let _ = self.stream.push(frame, job.push_timeout);
    }

    fn run_auto(&self, job: &FrameJob, raw: &[u16]) -> AutoUpdates {
        let a = &job.auto;
        let mut u = AutoUpdates::default();
        if a.exposure == AutoMode::Off
            && a.gain == AutoMode::Off
            && a.balance == AutoMode::Off
            && a.black == AutoMode::Off
        {
            return u;
        }
        let win = &job.window;
        let cfa = win
            .cfa
            .map(|p| pixel::geometry::bayer_after_offset(p, win.x as usize, win.y as usize));
        let Ok(b) = auto::measure(raw, win.width, win.height, job.exposure.adc_bits, cfa) else {
            return u;
        };
        if a.exposure != AutoMode::Off {
            let (v, done) = auto::exposure_step(&b, a.exposure_us, &a.limits);
            u.exposure = Some((v, done && a.exposure == AutoMode::Once));
        }
        if a.gain != AutoMode::Off {
            let (v, done) = auto::gain_step(&b, a.gain_db, &a.limits);
            u.gain = Some((v, done && a.gain == AutoMode::Once));
        }
        if a.balance != AutoMode::Off {
            let (v, done) = auto::balance_step(&b, a.balance_ratios);
            u.balance = Some((v, done && a.balance == AutoMode::Once));
        }
        if a.black != AutoMode::Off {
            if let Ok((v, done)) =
                auto::black_level_step(raw, job.exposure.adc_bits, a.black_level, a.black_range)
            {
                u.black = Some((v, done && a.black == AutoMode::Once));
            }
        }
        u
    }

    fn apply_auto(&self, st: &mut State, u: AutoUpdates) {
        let mut changed = false;
        if let Some((v, off)) = u.exposure {
            if st.int("ExposureAuto") != 0 {
                st.put("ExposureTime", 0, Value::Float(v.clamp(10.0, 1_000_000.0)));
                if off {
                    st.put("ExposureAuto", 0, Value::Int(0));
                }
                changed = true;
            }
        }
        if let Some((v, off)) = u.gain {
            if st.int("GainAuto") != 0 {
                let max = f64::from(self.spec.sensor.max_analog_gain_db);
                st.put("Gain", 0, Value::Float(v.clamp(0.0, max)));
                if off {
                    st.put("GainAuto", 0, Value::Int(0));
                }
            }
        }
        if let Some((v, off)) = u.balance {
            if st.int("BalanceWhiteAuto") != 0 {
                for (i, r) in v.iter().enumerate() {
                    st.put("BalanceRatio", i, Value::Float(r.clamp(0.0, 15.0)));
                }
                if off {
                    st.put("BalanceWhiteAuto", 0, Value::Int(0));
                }
            }
        }
        if let Some((v, off)) = u.black {
            if st.int("BlackLevelAuto") != 0 {
                st.put("BlackLevel", 0, Value::Float(v));
                if off {
                    st.put("BlackLevelAuto", 0, Value::Int(0));
                }
            }
        }
        if changed {
            // The exposure changes the frame period.
            let config = st.schedule_config(self);
            st.schedule.set_config(config);
        }
    }
}

/// New values from the auto functions: (value, whether a Once mode is done).
#[derive(Debug, Default)]
struct AutoUpdates {
    exposure: Option<(f64, bool)>,
    gain: Option<(f64, bool)>,
    balance: Option<([f64; 3], bool)>,
    black: Option<(f64, bool)>,
}

/// Buffers the engine reuses from frame to frame.
#[derive(Default)]
struct Buffers {
    radiance: Vec<f32>,
    raw: Vec<u16>,
    samples: Vec<u16>,
    /// The last still test image: what it was made for, and its bytes.
    still: Option<(StillKey, Arc<[u8]>)>,
}

/// What a still test image depends on.
type StillKey = (TestImage, PixelFormat, (u32, u32), (u32, u32));

/// Renders the test image straight in the output format.
fn render_test_image(job: &FrameJob, samples: &mut Vec<u16>, out: &mut [u8]) -> Result<(), ()> {
    let (w, h) = job.out_size;
    let f = job.format;
    let (layout, bits) = match f {
        PixelFormat::RGB8 | PixelFormat::YUV422_8 => (PixelLayout::Rgb, 8),
        PixelFormat::BGR8 => (PixelLayout::Bgr, 8),
        _ => match f.bayer() {
            Some(p) => (PixelLayout::Bayer(p), f.pixel_bits()),
            None => (PixelLayout::Mono, f.pixel_bits()),
        },
    };
    let n = w as usize * h as usize * layout.samples_per_pixel();
    samples.resize(n, 0);
    test_image::render(
        job.test_image,
        job.frame_index,
        job.offset.0,
        job.offset.1,
        w,
        h,
        layout,
        bits,
        samples,
    )
    .map_err(|_| ())?;
    match f {
        PixelFormat::RGB8 | PixelFormat::BGR8 => {
            for (o, s) in out.iter_mut().zip(samples.iter()) {
                *o = *s as u8;
            }
            Ok(())
        }
        PixelFormat::YUV422_8 => {
            let rgb: Vec<u8> = samples.iter().map(|s| *s as u8).collect();
            crate::isp::rgb8_to_yuv422(&rgb, w as usize, h as usize, out).map_err(|_| ())
        }
        _ => pixel::pack::pack_from_u16(f, w as usize, h as usize, samples, out).map_err(|_| ()),
    }
}
