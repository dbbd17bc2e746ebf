//! The acquisition and trigger state machine (manual 3.2 "Acquisition mode",
//! 3.3 "Trigger Mode", 3.5 "Trigger Delay").
//!
//! The model is pure and time-explicit: every command carries its time `t_ns`
//! on the camera clock, and [`Schedule::advance`] returns every event due up
//! to a time, in time order. Times never go back: a command with a time
//! earlier than the latest time the schedule has reached is taken as
//! happening at that latest time. Before a command takes effect, everything
//! due up to its time happens first (so a frame due at the very time of a
//! stop is still taken).
//!
//! # Frames
//!
//! A frame starts its exposure at `FrameStart`, ends it `exposure_ns` later
//! (`ExposureEnd`), and is read out in `readout_ns`; at `FrameReady` the
//! readout is done and the camera renders and sends the frame. Frame ids
//! count from 0 at each acquisition start. The exposure, readout and overlap
//! of a frame are those of the configuration when it starts;
//! [`Schedule::set_config`] takes effect from the next frame on.
//!
//! The sensor is ready for the next frame when both:
//! - `period_ns` has passed since the previous frame started (the rate the
//!   timing model allows, or `AcquisitionFrameRate`), and
//! - the previous frame no longer holds the sensor: when `overlapped`, once
//!   its readout has begun (the exposure of frame n+1 runs while frame n is
//!   read out); otherwise once its readout is done.
//!
//! A frame's readout begins at its exposure end, or when the previous
//! frame's readout is done if that is later.
//!
//! # Acquisition modes
//!
//! - *Continuous*: frames until stopped.
//! - *SingleFrame*: one frame, then `AcquisitionEnd` at its `FrameReady`.
//! - *MultiFrame*: `frame_count` frames (0 counts as 1), then `AcquisitionEnd`.
//!
//! Without a FrameStart trigger the camera runs free: the first frame starts
//! with the acquisition and each next one as soon as the sensor is ready,
//! i.e. one every `period_ns`.
//!
//! [`stop`](Schedule::stop) (`AcquisitionStop`) takes no new frame; the frames
//! being exposed or read complete, then `AcquisitionEnd`.
//! [`abort`](Schedule::abort) (`AcquisitionAbort`) ends at once: the frames
//! in flight are dropped (no `ExposureEnd` nor `FrameReady` for them) and
//! `AcquisitionEnd` follows immediately. Every [`start`](Schedule::start) that
//! is taken is closed by exactly one `AcquisitionEnd`.
//!
//! # Triggers
//!
//! A trigger is taken by a selector when its `TriggerMode` is On and the
//! source matches; for a line source the edge must match
//! `TriggerActivation`, a software trigger always fires. It then fires after
//! its `TriggerDelay`. Triggers waiting within their delay are kept in a
//! queue of [`TRIGGER_QUEUE_CAPACITY`] per selector; one arriving when the
//! queue is full is missed at once. Triggers arriving while no acquisition
//! was started are ignored (not counted).
//!
//! - *FrameStart* on: a trigger that fires while the camera can take a frame
//!   (acquisition running, not stopping, frames left in the mode, sensor
//!   ready) starts one exposure at its firing time. Otherwise it is missed:
//!   `FrameTriggerMissed` at its firing time, and counted.
//! - *AcquisitionStart* on: [`start`](Schedule::start) arms the camera; the
//!   first trigger that fires while armed starts the acquisition, which then
//!   runs as its mode says. A trigger arriving or firing once the acquisition
//!   runs is missed (`AcquisitionTriggerMissed`, counted).
//!
//! # Levels
//!
//! The signals an output line can carry: `AcquisitionActive` is high from
//! `AcquisitionStart` to `AcquisitionEnd`; `ExposureActive` from `FrameStart`
//! to `ExposureEnd`; `FrameTriggerWait` while the FrameStart trigger is on and
//! a trigger firing now would start a frame. A `LevelChange` is emitted only
//! when a level changes.

use std::collections::VecDeque;

/// Triggers one selector keeps while they wait out their delay.
pub const TRIGGER_QUEUE_CAPACITY: usize = 64;

/// Largest `TriggerDelay`, µs (1 s).
pub const MAX_TRIGGER_DELAY_US: f64 = 1e6;

/// `AcquisitionMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AcquisitionMode {
    /// Frames until stopped.
    Continuous,
    /// One frame.
    SingleFrame,
    /// `AcquisitionFrameCount` frames.
    MultiFrame,
}

impl AcquisitionMode {
    /// Every mode.
    pub const ALL: [AcquisitionMode; 3] = [
        AcquisitionMode::Continuous,
        AcquisitionMode::SingleFrame,
        AcquisitionMode::MultiFrame,
    ];

    /// The GenICam enumeration entry name.
    pub fn name(self) -> &'static str {
        match self {
            AcquisitionMode::Continuous => "Continuous",
            AcquisitionMode::SingleFrame => "SingleFrame",
            AcquisitionMode::MultiFrame => "MultiFrame",
        }
    }

    /// The mode called `name` (see [`name`](Self::name)), case-insensitive.
    pub fn from_name(name: &str) -> Option<AcquisitionMode> {
        Self::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(name))
    }
}

/// `TriggerSelector`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TriggerSelector {
    /// One trigger, one frame.
    FrameStart,
    /// One trigger starts the acquisition.
    AcquisitionStart,
}

impl TriggerSelector {
    /// Every selector.
    pub const ALL: [TriggerSelector; 2] = [
        TriggerSelector::FrameStart,
        TriggerSelector::AcquisitionStart,
    ];

    /// The GenICam enumeration entry name.
    pub fn name(self) -> &'static str {
        match self {
            TriggerSelector::FrameStart => "FrameStart",
            TriggerSelector::AcquisitionStart => "AcquisitionStart",
        }
    }

    /// The selector called `name` (see [`name`](Self::name)), case-insensitive.
    pub fn from_name(name: &str) -> Option<TriggerSelector> {
        Self::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }
}

/// `TriggerSource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TriggerSource {
    /// `TriggerSoftware` command.
    Software,
    /// Input line 0.
    Line0,
    /// Input line 1.
    Line1,
    /// Input line 2.
    Line2,
}

impl TriggerSource {
    /// Every source.
    pub const ALL: [TriggerSource; 4] = [
        TriggerSource::Software,
        TriggerSource::Line0,
        TriggerSource::Line1,
        TriggerSource::Line2,
    ];

    /// The GenICam enumeration entry name.
    pub fn name(self) -> &'static str {
        match self {
            TriggerSource::Software => "Software",
            TriggerSource::Line0 => "Line0",
            TriggerSource::Line1 => "Line1",
            TriggerSource::Line2 => "Line2",
        }
    }

    /// The source called `name` (see [`name`](Self::name)), case-insensitive.
    pub fn from_name(name: &str) -> Option<TriggerSource> {
        Self::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }
}

/// `TriggerActivation`: which edge of a line fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TriggerActivation {
    /// Low to high.
    RisingEdge,
    /// High to low.
    FallingEdge,
}

impl TriggerActivation {
    /// Every activation.
    pub const ALL: [TriggerActivation; 2] = [
        TriggerActivation::RisingEdge,
        TriggerActivation::FallingEdge,
    ];

    /// The GenICam enumeration entry name.
    pub fn name(self) -> &'static str {
        match self {
            TriggerActivation::RisingEdge => "RisingEdge",
            TriggerActivation::FallingEdge => "FallingEdge",
        }
    }

    /// The activation called `name` (see [`name`](Self::name)),
    /// case-insensitive.
    pub fn from_name(name: &str) -> Option<TriggerActivation> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }
}

/// The trigger features of one selector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TriggerConfig {
    /// `TriggerMode` On.
    pub enabled: bool,
    /// `TriggerSource`.
    pub source: TriggerSource,
    /// `TriggerActivation` (line sources only).
    pub activation: TriggerActivation,
    /// `TriggerDelay`, µs; clamped to 0..=[`MAX_TRIGGER_DELAY_US`], NaN
    /// counts as 0.
    pub delay_us: f64,
}

impl Default for TriggerConfig {
    /// Trigger mode Off, software source, rising edge, no delay.
    fn default() -> Self {
        TriggerConfig {
            enabled: false,
            source: TriggerSource::Software,
            activation: TriggerActivation::RisingEdge,
            delay_us: 0.0,
        }
    }
}

impl TriggerConfig {
    /// Whether a trigger from `source` (an edge, `rising` or not) fires.
    fn fires_on(&self, source: TriggerSource, rising: bool) -> bool {
        self.enabled
            && self.source == source
            && (source == TriggerSource::Software
                || rising == (self.activation == TriggerActivation::RisingEdge))
    }

    /// The delay, ns.
    fn delay_ns(&self) -> u64 {
        // `clamp` keeps NaN; `as` maps it to 0.
        (self.delay_us.clamp(0.0, MAX_TRIGGER_DELAY_US) * 1e3).round() as u64
    }
}

/// What the schedule runs on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScheduleConfig {
    /// `AcquisitionMode`.
    pub mode: AcquisitionMode,
    /// `AcquisitionFrameCount` (1..=255), for MultiFrame.
    pub frame_count: u32,
    /// The FrameStart trigger.
    pub frame_start: TriggerConfig,
    /// The AcquisitionStart trigger.
    pub acquisition_start: TriggerConfig,
    /// Shortest time between two frame starts, ns (the free-running period;
    /// 0 counts as 1).
    pub period_ns: u64,
    /// Exposure time, ns.
    pub exposure_ns: u64,
    /// Sensor readout time, ns.
    pub readout_ns: u64,
    /// Whether the next exposure may run while this frame is read out.
    pub overlapped: bool,
}

/// An internal signal an output line can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// High while a frame is exposed.
    ExposureActive,
    /// High while the camera waits for, and can take, a frame trigger.
    FrameTriggerWait,
    /// High while the acquisition runs.
    AcquisitionActive,
}

/// Something the schedule did, at a time on the camera clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleEvent {
    /// The acquisition started (after its trigger when that trigger is on).
    AcquisitionStart {
        /// Time, ns.
        t_ns: u64,
    },
    /// A frame's exposure began.
    FrameStart {
        /// Time, ns.
        t_ns: u64,
        /// Frame id, from 0 at each acquisition start.
        frame_id: u64,
    },
    /// A frame's exposure ended.
    ExposureEnd {
        /// Time, ns.
        t_ns: u64,
        /// Frame id.
        frame_id: u64,
    },
    /// A frame's readout is done: the camera renders and sends it now.
    FrameReady {
        /// Time, ns.
        t_ns: u64,
        /// Frame id.
        frame_id: u64,
        /// When its exposure began, ns.
        exposure_start_ns: u64,
    },
    /// A frame trigger fired that the camera could not take.
    FrameTriggerMissed {
        /// Time, ns.
        t_ns: u64,
    },
    /// An acquisition trigger came when the acquisition was already running.
    AcquisitionTriggerMissed {
        /// Time, ns.
        t_ns: u64,
    },
    /// The acquisition ended (frames done, stopped or aborted).
    AcquisitionEnd {
        /// Time, ns.
        t_ns: u64,
    },
    /// A level changed.
    LevelChange {
        /// Time, ns.
        t_ns: u64,
        /// Which level.
        level: Level,
        /// Its new state.
        high: bool,
    },
}

impl ScheduleEvent {
    /// When it happened, ns.
    pub fn t_ns(&self) -> u64 {
        match *self {
            ScheduleEvent::AcquisitionStart { t_ns }
            | ScheduleEvent::FrameStart { t_ns, .. }
            | ScheduleEvent::ExposureEnd { t_ns, .. }
            | ScheduleEvent::FrameReady { t_ns, .. }
            | ScheduleEvent::FrameTriggerMissed { t_ns }
            | ScheduleEvent::AcquisitionTriggerMissed { t_ns }
            | ScheduleEvent::AcquisitionEnd { t_ns }
            | ScheduleEvent::LevelChange { t_ns, .. } => t_ns,
        }
    }
}

/// Where the acquisition is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not acquiring.
    Idle,
    /// Started, waiting for the AcquisitionStart trigger.
    Armed,
    /// Acquiring.
    Running,
}

/// A frame being exposed or read out.
#[derive(Debug, Clone, Copy)]
struct Frame {
    id: u64,
    start_ns: u64,
    exposure_end_ns: u64,
    ready_ns: u64,
    exposure_ended: bool,
}

impl Frame {
    fn next_event_ns(&self) -> u64 {
        if self.exposure_ended {
            self.ready_ns
        } else {
            self.exposure_end_ns
        }
    }
}

/// The next thing due. At equal times the variant order is the order of
/// processing: frames complete before new ones start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    /// Exposure end or readout end of the frame at this index.
    Frame(usize),
    /// The acquisition is over.
    End,
    /// `FrameTriggerWait` changes.
    TriggerWait,
    /// The first queued AcquisitionStart trigger fires.
    AcquisitionTrigger,
    /// The first queued FrameStart trigger fires.
    FrameTrigger,
    /// The next free-running frame starts.
    FreeRunFrame,
}

/// The acquisition and trigger state machine (see the module documentation).
#[derive(Debug, Clone)]
pub struct Schedule {
    config: ScheduleConfig,
    /// The latest time reached.
    now_ns: u64,
    phase: Phase,
    /// `AcquisitionStop` received: no new frame.
    stopping: bool,
    acquisition_start_ns: u64,
    /// Frames started whose `FrameReady` is still to come, in start order.
    in_flight: VecDeque<Frame>,
    frames_started: u64,
    triggers_missed: u64,
    last_start_ns: Option<u64>,
    /// When the last frame stops holding the sensor.
    sensor_free_ns: u64,
    /// When the last frame's readout is done.
    readout_free_ns: u64,
    /// Firing times of the FrameStart triggers waiting out their delay,
    /// sorted.
    frame_triggers: VecDeque<u64>,
    /// Firing times of the AcquisitionStart triggers, sorted.
    acquisition_triggers: VecDeque<u64>,
    exposure_active: bool,
    frame_trigger_wait: bool,
    acquisition_active: bool,
    /// Events produced but not yet returned by `advance`, in time order.
    outbox: VecDeque<ScheduleEvent>,
}

impl Schedule {
    /// An idle schedule at time 0.
    pub fn new(config: ScheduleConfig) -> Schedule {
        Schedule {
            config,
            now_ns: 0,
            phase: Phase::Idle,
            stopping: false,
            acquisition_start_ns: 0,
            in_flight: VecDeque::new(),
            frames_started: 0,
            triggers_missed: 0,
            last_start_ns: None,
            sensor_free_ns: 0,
            readout_free_ns: 0,
            frame_triggers: VecDeque::new(),
            acquisition_triggers: VecDeque::new(),
            exposure_active: false,
            frame_trigger_wait: false,
            acquisition_active: false,
            outbox: VecDeque::new(),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &ScheduleConfig {
        &self.config
    }

    /// Replaces the configuration; frames already started keep their
    /// timing, the next frame uses the new one.
    pub fn set_config(&mut self, config: ScheduleConfig) {
        self.config = config;
    }

    /// `AcquisitionStart`: starts the acquisition, or arms it when the
    /// AcquisitionStart trigger is on. Ignored while acquiring. Resets the
    /// frame and missed-trigger counters.
    pub fn start(&mut self, t_ns: u64) {
        let t = self.run_until(t_ns);
        if self.phase != Phase::Idle {
            return;
        }
        self.frames_started = 0;
        self.triggers_missed = 0;
        self.frame_triggers.clear();
        self.acquisition_triggers.clear();
        self.stopping = false;
        if self.config.acquisition_start.enabled {
            self.phase = Phase::Armed;
        } else {
            self.begin_acquisition(t);
        }
        self.run_until(t);
    }

    /// `AcquisitionStop`: no new frame; the frames in flight complete, then
    /// `AcquisitionEnd`. Ignored when not acquiring.
    pub fn stop(&mut self, t_ns: u64) {
        let t = self.run_until(t_ns);
        if self.phase == Phase::Idle {
            return;
        }
        self.stopping = true;
        self.frame_triggers.clear();
        self.acquisition_triggers.clear();
        self.sync_frame_trigger_wait(t);
        self.run_until(t);
    }

    /// `AcquisitionAbort`: ends at once, dropping the frames in flight.
    /// Ignored when not acquiring.
    pub fn abort(&mut self, t_ns: u64) {
        let t = self.run_until(t_ns);
        if self.phase == Phase::Idle {
            return;
        }
        self.in_flight.clear();
        self.set_level(Level::ExposureActive, false, t);
        self.end_acquisition(t);
    }

    /// A trigger on `selector`: a software trigger (`TriggerSoftware`,
    /// `rising` ignored) or an edge of an input line (`rising` or falling).
    /// Ignored unless that selector's trigger is on with that source (and,
    /// for a line, that activation), and while no acquisition was started.
    /// Otherwise it fires after the selector's `TriggerDelay`.
    pub fn trigger(
        &mut self,
        selector: TriggerSelector,
        source: TriggerSource,
        rising: bool,
        t_ns: u64,
    ) {
        let t = self.run_until(t_ns);
        let config = match selector {
            TriggerSelector::FrameStart => self.config.frame_start,
            TriggerSelector::AcquisitionStart => self.config.acquisition_start,
        };
        if !config.fires_on(source, rising) || self.phase == Phase::Idle {
            return;
        }
        let fire_ns = t.saturating_add(config.delay_ns());
        match selector {
            TriggerSelector::FrameStart => {
                if !enqueue(&mut self.frame_triggers, fire_ns) {
                    self.miss(ScheduleEvent::FrameTriggerMissed { t_ns: t });
                }
            }
            TriggerSelector::AcquisitionStart => {
                if self.phase == Phase::Running || !enqueue(&mut self.acquisition_triggers, fire_ns)
                {
                    self.miss(ScheduleEvent::AcquisitionTriggerMissed { t_ns: t });
                }
            }
        }
        self.run_until(t);
    }

    /// Whether an acquisition was started and has not ended yet (as of the
    /// latest time reached).
    pub fn is_acquiring(&self) -> bool {
        self.phase != Phase::Idle
    }

    /// Whether `AcquisitionStop` was given and the acquisition has not
    /// ended yet: frames in flight are still completing.
    pub fn is_stopping(&self) -> bool {
        self.stopping && self.phase != Phase::Idle
    }

    /// Frames started since the last [`start`](Self::start).
    pub fn frames_started(&self) -> u64 {
        self.frames_started
    }

    /// Triggers missed (frame and acquisition) since the last
    /// [`start`](Self::start).
    pub fn triggers_missed(&self) -> u64 {
        self.triggers_missed
    }

    /// When the next event is due: the time of the first event
    /// [`advance`](Self::advance) would return, `None` when nothing will
    /// happen without a command.
    pub fn next_deadline(&self) -> Option<u64> {
        match self.outbox.front() {
            Some(event) => Some(event.t_ns()),
            None => self.next_step().map(|(t, _)| t),
        }
    }

    /// Every event due up to `t_ns`, in time order.
    pub fn advance(&mut self, t_ns: u64) -> Vec<ScheduleEvent> {
        self.run_until(t_ns);
        let due = self.outbox.partition_point(|e| e.t_ns() <= t_ns);
        self.outbox.drain(..due).collect()
    }

    /// Processes everything due up to `t_ns` (or up to the latest time
    /// reached, if later), and returns the time reached.
    fn run_until(&mut self, t_ns: u64) -> u64 {
        let t = t_ns.max(self.now_ns);
        while let Some((when, step)) = self.next_step() {
            if when > t {
                break;
            }
            self.now_ns = when;
            self.process(step, when);
            self.sync_frame_trigger_wait(when);
        }
        self.now_ns = t;
        t
    }

    /// The earliest step due, at or after the latest time reached.
    fn next_step(&self) -> Option<(u64, Step)> {
        let now = self.now_ns;
        let frames = self
            .in_flight
            .iter()
            .enumerate()
            .map(|(i, f)| (f.next_event_ns().max(now), Step::Frame(i)));
        let end = self.end_due().then_some((now, Step::End));
        let wait = self
            .frame_trigger_wait_change_ns()
            .map(|t| (t.max(now), Step::TriggerWait));
        let acquisition_trigger = self
            .acquisition_triggers
            .front()
            .map(|&t| (t.max(now), Step::AcquisitionTrigger));
        let frame_trigger = self
            .frame_triggers
            .front()
            .map(|&t| (t.max(now), Step::FrameTrigger));
        let free_run = self
            .free_run_start_ns()
            .map(|t| (t.max(now), Step::FreeRunFrame));
        frames
            .chain(end)
            .chain(wait)
            .chain(acquisition_trigger)
            .chain(frame_trigger)
            .chain(free_run)
            .min()
    }

    fn process(&mut self, step: Step, t: u64) {
        match step {
            Step::Frame(index) => {
                let Some(frame) = self.in_flight.get_mut(index) else {
                    return;
                };
                if !frame.exposure_ended {
                    frame.exposure_ended = true;
                    let frame_id = frame.id;
                    self.outbox
                        .push_back(ScheduleEvent::ExposureEnd { t_ns: t, frame_id });
                    self.set_level(Level::ExposureActive, false, t);
                } else {
                    let frame = *frame;
                    self.in_flight.remove(index);
                    self.outbox.push_back(ScheduleEvent::FrameReady {
                        t_ns: t,
                        frame_id: frame.id,
                        exposure_start_ns: frame.start_ns,
                    });
                }
            }
            Step::End => self.end_acquisition(t),
            // The level is synchronised after every step.
            Step::TriggerWait => {}
            Step::AcquisitionTrigger => {
                self.acquisition_triggers.pop_front();
                if self.phase == Phase::Armed {
                    self.begin_acquisition(t);
                } else {
                    self.miss(ScheduleEvent::AcquisitionTriggerMissed { t_ns: t });
                }
            }
            Step::FrameTrigger => {
                self.frame_triggers.pop_front();
                if self.frame_trigger_wait_at(t) {
                    self.start_frame(t);
                } else {
                    self.miss(ScheduleEvent::FrameTriggerMissed { t_ns: t });
                }
            }
            Step::FreeRunFrame => self.start_frame(t),
        }
    }

    fn begin_acquisition(&mut self, t: u64) {
        self.phase = Phase::Running;
        self.acquisition_start_ns = t;
        self.last_start_ns = None;
        self.sensor_free_ns = t;
        self.readout_free_ns = t;
        self.outbox
            .push_back(ScheduleEvent::AcquisitionStart { t_ns: t });
        self.set_level(Level::AcquisitionActive, true, t);
    }

    fn end_acquisition(&mut self, t: u64) {
        self.phase = Phase::Idle;
        self.stopping = false;
        self.in_flight.clear();
        self.frame_triggers.clear();
        self.acquisition_triggers.clear();
        self.sync_frame_trigger_wait(t);
        self.set_level(Level::AcquisitionActive, false, t);
        self.outbox
            .push_back(ScheduleEvent::AcquisitionEnd { t_ns: t });
    }

    fn start_frame(&mut self, t: u64) {
        let config = &self.config;
        let exposure_end_ns = t.saturating_add(config.exposure_ns);
        let readout_start_ns = exposure_end_ns.max(self.readout_free_ns);
        let ready_ns = readout_start_ns.saturating_add(config.readout_ns);
        self.sensor_free_ns = if config.overlapped {
            readout_start_ns
        } else {
            ready_ns
        };
        self.readout_free_ns = ready_ns;
        self.last_start_ns = Some(t);
        let frame_id = self.frames_started;
        self.frames_started = self.frames_started.saturating_add(1);
        self.in_flight.push_back(Frame {
            id: frame_id,
            start_ns: t,
            exposure_end_ns,
            ready_ns,
            exposure_ended: false,
        });
        self.outbox
            .push_back(ScheduleEvent::FrameStart { t_ns: t, frame_id });
        self.set_level(Level::ExposureActive, true, t);
    }

    fn miss(&mut self, event: ScheduleEvent) {
        self.triggers_missed = self.triggers_missed.saturating_add(1);
        self.outbox.push_back(event);
    }

    /// Whether the mode allows another frame.
    fn frames_left(&self) -> bool {
        let limit = match self.config.mode {
            AcquisitionMode::Continuous => return true,
            AcquisitionMode::SingleFrame => 1,
            AcquisitionMode::MultiFrame => u64::from(self.config.frame_count.max(1)),
        };
        self.frames_started < limit
    }

    /// Whether the acquisition takes new frames.
    fn taking_frames(&self) -> bool {
        self.phase == Phase::Running && !self.stopping && self.frames_left()
    }

    /// The earliest time the next frame may start; `None` if beyond the
    /// clock.
    fn sensor_ready_ns(&self) -> Option<u64> {
        match self.last_start_ns {
            None => Some(self.acquisition_start_ns),
            Some(last) => last
                .checked_add(self.config.period_ns.max(1))
                .map(|t| t.max(self.sensor_free_ns)),
        }
    }

    fn end_due(&self) -> bool {
        match self.phase {
            Phase::Idle => false,
            Phase::Armed => self.stopping,
            Phase::Running => self.in_flight.is_empty() && (self.stopping || !self.frames_left()),
        }
    }

    fn free_run_start_ns(&self) -> Option<u64> {
        if self.taking_frames() && !self.config.frame_start.enabled {
            self.sensor_ready_ns()
        } else {
            None
        }
    }

    /// Whether a frame trigger firing at `t` would start a frame.
    fn frame_trigger_wait_at(&self, t: u64) -> bool {
        self.taking_frames()
            && self.config.frame_start.enabled
            && self.sensor_ready_ns().is_some_and(|ready| t >= ready)
    }

    /// When `FrameTriggerWait` next changes by itself.
    fn frame_trigger_wait_change_ns(&self) -> Option<u64> {
        let now = self.now_ns;
        if self.frame_trigger_wait_at(now) != self.frame_trigger_wait {
            Some(now)
        } else if !self.frame_trigger_wait
            && self.taking_frames()
            && self.config.frame_start.enabled
        {
            self.sensor_ready_ns()
        } else {
            None
        }
    }

    fn sync_frame_trigger_wait(&mut self, t: u64) {
        let high = self.frame_trigger_wait_at(t);
        self.set_level(Level::FrameTriggerWait, high, t);
    }

    fn set_level(&mut self, level: Level, high: bool, t: u64) {
        let state = match level {
            Level::ExposureActive => &mut self.exposure_active,
            Level::FrameTriggerWait => &mut self.frame_trigger_wait,
            Level::AcquisitionActive => &mut self.acquisition_active,
        };
        if *state != high {
            *state = high;
            self.outbox.push_back(ScheduleEvent::LevelChange {
                t_ns: t,
                level,
                high,
            });
        }
    }
}

/// Queues a trigger firing at `fire_ns`, keeping the queue sorted; `false`
/// when the queue is full.
fn enqueue(queue: &mut VecDeque<u64>, fire_ns: u64) -> bool {
    if queue.len() >= TRIGGER_QUEUE_CAPACITY {
        return false;
    }
    let at = queue.partition_point(|&t| t <= fire_ns);
    queue.insert(at, fire_ns);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;
    const US: u64 = 1_000;

    fn config(
        period_ns: u64,
        exposure_ns: u64,
        readout_ns: u64,
        overlapped: bool,
    ) -> ScheduleConfig {
        ScheduleConfig {
            mode: AcquisitionMode::Continuous,
            frame_count: 1,
            frame_start: TriggerConfig::default(),
            acquisition_start: TriggerConfig::default(),
            period_ns,
            exposure_ns,
            readout_ns,
            overlapped,
        }
    }

    fn software(delay_us: f64) -> TriggerConfig {
        TriggerConfig {
            enabled: true,
            source: TriggerSource::Software,
            activation: TriggerActivation::RisingEdge,
            delay_us,
        }
    }

    fn frame_starts(events: &[ScheduleEvent]) -> Vec<(u64, u64)> {
        events
            .iter()
            .filter_map(|e| match *e {
                ScheduleEvent::FrameStart { t_ns, frame_id } => Some((t_ns, frame_id)),
                _ => None,
            })
            .collect()
    }

    fn frames_ready(events: &[ScheduleEvent]) -> Vec<(u64, u64, u64)> {
        events
            .iter()
            .filter_map(|e| match *e {
                ScheduleEvent::FrameReady {
                    t_ns,
                    frame_id,
                    exposure_start_ns,
                } => Some((t_ns, frame_id, exposure_start_ns)),
                _ => None,
            })
            .collect()
    }

    fn ends(events: &[ScheduleEvent]) -> Vec<u64> {
        events
            .iter()
            .filter_map(|e| match *e {
                ScheduleEvent::AcquisitionEnd { t_ns } => Some(t_ns),
                _ => None,
            })
            .collect()
    }

    fn missed(events: &[ScheduleEvent]) -> Vec<u64> {
        events
            .iter()
            .filter_map(|e| match *e {
                ScheduleEvent::FrameTriggerMissed { t_ns } => Some(t_ns),
                _ => None,
            })
            .collect()
    }

    fn levels(events: &[ScheduleEvent], level: Level) -> Vec<(u64, bool)> {
        events
            .iter()
            .filter_map(|e| match *e {
                ScheduleEvent::LevelChange {
                    t_ns,
                    level: l,
                    high,
                } if l == level => Some((t_ns, high)),
                _ => None,
            })
            .collect()
    }

    fn assert_time_ordered(events: &[ScheduleEvent]) {
        assert!(
            events.windows(2).all(|w| w[0].t_ns() <= w[1].t_ns()),
            "{events:?}"
        );
    }

    #[test]
    fn continuous_runs_free_at_the_period() {
        let t0 = 1_000;
        let mut s = Schedule::new(config(10 * MS, 5 * MS, 8 * MS, true));
        assert_eq!(s.next_deadline(), None);
        s.start(t0);
        assert!(s.is_acquiring());
        assert_eq!(s.next_deadline(), Some(t0));
        let events = s.advance(t0 + 34 * MS);
        assert_time_ordered(&events);
        assert_eq!(events[0], ScheduleEvent::AcquisitionStart { t_ns: t0 });
        assert_eq!(
            frame_starts(&events),
            vec![
                (t0, 0),
                (t0 + 10 * MS, 1),
                (t0 + 20 * MS, 2),
                (t0 + 30 * MS, 3)
            ]
        );
        assert_eq!(
            frames_ready(&events),
            vec![
                (t0 + 13 * MS, 0, t0),
                (t0 + 23 * MS, 1, t0 + 10 * MS),
                (t0 + 33 * MS, 2, t0 + 20 * MS)
            ]
        );
        assert!(events.contains(&ScheduleEvent::ExposureEnd {
            t_ns: t0 + 25 * MS,
            frame_id: 2
        }));
        assert_eq!(s.frames_started(), 4);
        assert_eq!(s.next_deadline(), Some(t0 + 35 * MS));
        assert!(ends(&events).is_empty());
        // No trigger is on: FrameTriggerWait stays low.
        assert!(levels(&events, Level::FrameTriggerWait).is_empty());
        assert_eq!(
            levels(&events, Level::ExposureActive)[..4],
            [
                (t0, true),
                (t0 + 5 * MS, false),
                (t0 + 10 * MS, true),
                (t0 + 15 * MS, false)
            ]
        );
        assert_eq!(levels(&events, Level::AcquisitionActive), vec![(t0, true)]);
    }

    #[test]
    fn single_frame_takes_one_frame() {
        let mut c = config(10 * MS, 2 * MS, 3 * MS, false);
        c.mode = AcquisitionMode::SingleFrame;
        let mut s = Schedule::new(c);
        s.start(0);
        let events = s.advance(100 * MS);
        assert_eq!(frame_starts(&events), vec![(0, 0)]);
        assert_eq!(frames_ready(&events), vec![(5 * MS, 0, 0)]);
        assert_eq!(ends(&events), vec![5 * MS]);
        assert_eq!(
            events.last(),
            Some(&ScheduleEvent::AcquisitionEnd { t_ns: 5 * MS })
        );
        assert_eq!(
            levels(&events, Level::AcquisitionActive),
            vec![(0, true), (5 * MS, false)]
        );
        assert!(!s.is_acquiring());
        assert_eq!(s.next_deadline(), None);
        assert!(s.advance(u64::MAX).is_empty());
    }

    #[test]
    fn multi_frame_takes_frame_count_frames_and_restarts_from_id_0() {
        let mut c = config(10 * MS, 2 * MS, 3 * MS, true);
        c.mode = AcquisitionMode::MultiFrame;
        c.frame_count = 3;
        let mut s = Schedule::new(c);
        s.start(0);
        let events = s.advance(1_000 * MS);
        assert_eq!(
            frame_starts(&events),
            vec![(0, 0), (10 * MS, 1), (20 * MS, 2)]
        );
        assert_eq!(ends(&events), vec![25 * MS]);
        assert_eq!(s.frames_started(), 3);

        s.start(2_000 * MS);
        let events = s.advance(3_000 * MS);
        assert_eq!(
            frame_starts(&events),
            vec![(2_000 * MS, 0), (2_010 * MS, 1), (2_020 * MS, 2)]
        );
        assert_eq!(ends(&events), vec![2_025 * MS]);
    }

    #[test]
    fn stop_lets_the_frames_in_flight_finish() {
        // Overlapped: at 12 ms frame 1 is exposing and frame 0 is read out.
        let mut s = Schedule::new(config(10 * MS, 5 * MS, 8 * MS, true));
        s.start(0);
        s.stop(12 * MS);
        assert!(s.is_acquiring());
        let events = s.advance(1_000 * MS);
        assert_time_ordered(&events);
        assert_eq!(frame_starts(&events), vec![(0, 0), (10 * MS, 1)]);
        assert_eq!(
            frames_ready(&events),
            vec![(13 * MS, 0, 0), (23 * MS, 1, 10 * MS)]
        );
        assert_eq!(ends(&events), vec![23 * MS]);
        assert!(!s.is_acquiring());
        // A stop while idle does nothing.
        s.stop(2_000 * MS);
        assert!(s.advance(3_000 * MS).is_empty());
    }

    #[test]
    fn abort_drops_the_frames_in_flight() {
        let mut s = Schedule::new(config(10 * MS, 5 * MS, 8 * MS, true));
        s.start(0);
        s.abort(12 * MS);
        assert!(!s.is_acquiring());
        let events = s.advance(1_000 * MS);
        assert_time_ordered(&events);
        assert_eq!(frame_starts(&events), vec![(0, 0), (10 * MS, 1)]);
        assert_eq!(frames_ready(&events), vec![]);
        assert!(!events.contains(&ScheduleEvent::ExposureEnd {
            t_ns: 15 * MS,
            frame_id: 1
        }));
        assert_eq!(ends(&events), vec![12 * MS]);
        assert_eq!(
            levels(&events, Level::ExposureActive),
            vec![
                (0, true),
                (5 * MS, false),
                (10 * MS, true),
                (12 * MS, false)
            ]
        );
        assert_eq!(
            levels(&events, Level::AcquisitionActive),
            vec![(0, true), (12 * MS, false)]
        );
    }

    #[test]
    fn stop_exactly_at_a_frame_start_still_takes_that_frame() {
        let mut s = Schedule::new(config(10 * MS, MS, 2 * MS, true));
        s.start(0);
        s.stop(10 * MS);
        let events = s.advance(1_000 * MS);
        assert_eq!(frame_starts(&events), vec![(0, 0), (10 * MS, 1)]);
        assert_eq!(ends(&events), vec![13 * MS]);
    }

    #[test]
    fn frame_trigger_starts_a_frame_after_its_delay() {
        let mut c = config(10 * MS, MS, 2 * MS, false);
        c.frame_start = software(250.0);
        let mut s = Schedule::new(c);
        s.start(0);
        let events = s.advance(50 * MS);
        assert_eq!(frame_starts(&events), vec![]);
        assert_eq!(levels(&events, Level::FrameTriggerWait), vec![(0, true)]);
        // Wrong source and the lines' activation do not fire.
        s.trigger(
            TriggerSelector::FrameStart,
            TriggerSource::Line1,
            true,
            60 * MS,
        );
        s.trigger(
            TriggerSelector::AcquisitionStart,
            TriggerSource::Software,
            true,
            60 * MS,
        );
        assert_eq!(s.next_deadline(), None);
        s.trigger(
            TriggerSelector::FrameStart,
            TriggerSource::Software,
            true,
            60 * MS,
        );
        assert_eq!(s.next_deadline(), Some(60 * MS + 250 * US));
        let events = s.advance(100 * MS);
        let t = 60 * MS + 250 * US;
        assert_eq!(frame_starts(&events), vec![(t, 0)]);
        assert_eq!(frames_ready(&events), vec![(t + 3 * MS, 0, t)]);
        // Ready again 10 ms (the period) after the start.
        assert_eq!(
            levels(&events, Level::FrameTriggerWait),
            vec![(t, false), (t + 10 * MS, true)]
        );
        assert_eq!(s.triggers_missed(), 0);
    }

    #[test]
    fn line_trigger_follows_activation() {
        let mut c = config(MS, 100 * US, 200 * US, false);
        c.frame_start = TriggerConfig {
            enabled: true,
            source: TriggerSource::Line2,
            activation: TriggerActivation::FallingEdge,
            delay_us: 0.0,
        };
        let mut s = Schedule::new(c);
        s.start(0);
        s.trigger(
            TriggerSelector::FrameStart,
            TriggerSource::Line2,
            true,
            5 * MS,
        );
        s.trigger(
            TriggerSelector::FrameStart,
            TriggerSource::Line2,
            false,
            6 * MS,
        );
        s.trigger(
            TriggerSelector::FrameStart,
            TriggerSource::Software,
            true,
            7 * MS,
        );
        let events = s.advance(20 * MS);
        assert_eq!(frame_starts(&events), vec![(6 * MS, 0)]);
    }

    #[test]
    fn software_trigger_ignores_activation() {
        let mut c = config(MS, 100 * US, 200 * US, false);
        c.frame_start = software(0.0);
        c.frame_start.activation = TriggerActivation::FallingEdge;
        let mut s = Schedule::new(c);
        s.start(0);
        s.trigger(
            TriggerSelector::FrameStart,
            TriggerSource::Software,
            true,
            5 * MS,
        );
        let events = s.advance(20 * MS);
        assert_eq!(frame_starts(&events), vec![(5 * MS, 0)]);
    }

    #[test]
    fn trigger_train_faster_than_the_sensor_misses_an_exact_count() {
        // Not overlapped: ready 5 ms (exposure + readout) after each start.
        let mut c = config(5 * MS, MS, 4 * MS, false);
        c.frame_start = software(0.0);
        let mut s = Schedule::new(c);
        s.start(0);
        for k in 0..20 {
            s.trigger(
                TriggerSelector::FrameStart,
                TriggerSource::Software,
                true,
                k * MS,
            );
        }
        let events = s.advance(100 * MS);
        assert_time_ordered(&events);
        let starts: Vec<u64> = frame_starts(&events).iter().map(|&(t, _)| t).collect();
        assert_eq!(starts, vec![0, 5 * MS, 10 * MS, 15 * MS]);
        assert_eq!(missed(&events).len(), 16);
        assert_eq!(s.triggers_missed(), 16);
        assert!(missed(&events).contains(&(4 * MS)));
        assert!(!missed(&events).contains(&(5 * MS)));

        // Overlapped, 4 ms period: a trigger every 4 ms is taken.
        let mut c = config(4 * MS, MS, 4 * MS, true);
        c.frame_start = software(0.0);
        let mut s = Schedule::new(c);
        s.start(0);
        for k in 0..20 {
            s.trigger(
                TriggerSelector::FrameStart,
                TriggerSource::Software,
                true,
                k * MS,
            );
        }
        let events = s.advance(100 * MS);
        let starts: Vec<u64> = frame_starts(&events).iter().map(|&(t, _)| t).collect();
        assert_eq!(starts, vec![0, 4 * MS, 8 * MS, 12 * MS, 16 * MS]);
        assert_eq!(s.triggers_missed(), 15);
        // Frame n+1 is exposed while frame n is read out.
        let ready = frames_ready(&events);
        assert_eq!(ready[0], (5 * MS, 0, 0));
        assert_eq!(ready[1], (9 * MS, 1, 4 * MS));
    }

    #[test]
    fn triggers_queue_within_their_delay_up_to_the_capacity() {
        let mut c = config(MS, 100 * US, 100 * US, true);
        c.frame_start = software(1_000.0);
        let mut s = Schedule::new(c);
        s.start(0);
        let n = TRIGGER_QUEUE_CAPACITY as u64 + 6;
        for k in 0..n {
            s.trigger(
                TriggerSelector::FrameStart,
                TriggerSource::Software,
                true,
                10 * MS + k,
            );
        }
        // The 6 over capacity are missed at once.
        assert_eq!(s.triggers_missed(), 6);
        let events = s.advance(10 * MS + 500 * US);
        assert_eq!(missed(&events).len(), 6);
        assert!(missed(&events).iter().all(|&t| t >= 10 * MS + 64));
        let events = s.advance(100 * MS);
        // The first queued trigger fires and starts a frame; the others fire
        // within the 1 ms period and are missed.
        assert_eq!(frame_starts(&events), vec![(11 * MS, 0)]);
        assert_eq!(missed(&events).len(), 63);
        assert_eq!(s.triggers_missed(), 69);
    }

    #[test]
    fn several_delayed_triggers_fire_in_order() {
        let mut c = config(MS, 100 * US, 100 * US, true);
        c.frame_start = software(3_000.0);
        let mut s = Schedule::new(c);
        s.start(0);
        for t in [10 * MS, 12 * MS, 14 * MS] {
            s.trigger(
                TriggerSelector::FrameStart,
                TriggerSource::Software,
                true,
                t,
            );
        }
        // A later trigger with a shorter delay fires before the earlier ones
        // still waiting out theirs.
        let mut short = c;
        short.frame_start.delay_us = 0.0;
        s.set_config(short);
        s.trigger(
            TriggerSelector::FrameStart,
            TriggerSource::Software,
            true,
            14_500 * US,
        );
        let events = s.advance(100 * MS);
        assert_time_ordered(&events);
        assert_eq!(
            frame_starts(&events),
            vec![(13 * MS, 0), (14_500 * US, 1), (17 * MS, 2)]
        );
        // The one firing at 15 ms comes within the 1 ms period.
        assert_eq!(missed(&events), vec![15 * MS]);
    }

    #[test]
    fn acquisition_start_trigger_arms_then_starts() {
        let mut c = config(10 * MS, MS, 2 * MS, true);
        c.acquisition_start = TriggerConfig {
            enabled: true,
            source: TriggerSource::Line1,
            activation: TriggerActivation::RisingEdge,
            delay_us: 50.0,
        };
        let mut s = Schedule::new(c);
        s.start(0);
        assert!(s.is_acquiring());
        assert!(s.advance(100 * MS).is_empty());
        assert_eq!(s.next_deadline(), None);
        let t = 100 * MS;
        s.trigger(
            TriggerSelector::AcquisitionStart,
            TriggerSource::Line1,
            true,
            t,
        );
        // Arrives while armed: queued, but fires once the first one started
        // the acquisition.
        s.trigger(
            TriggerSelector::AcquisitionStart,
            TriggerSource::Line1,
            true,
            t + 10 * US,
        );
        let events = s.advance(t + 25 * MS);
        assert_time_ordered(&events);
        let start = t + 50 * US;
        assert_eq!(events[0], ScheduleEvent::AcquisitionStart { t_ns: start });
        assert!(events.contains(&ScheduleEvent::AcquisitionTriggerMissed {
            t_ns: start + 10 * US
        }));
        assert_eq!(
            frame_starts(&events),
            vec![(start, 0), (start + 10 * MS, 1), (start + 20 * MS, 2)]
        );
        // Arriving while running: missed at once.
        s.trigger(
            TriggerSelector::AcquisitionStart,
            TriggerSource::Line1,
            true,
            t + 30 * MS,
        );
        assert_eq!(s.triggers_missed(), 2);
        s.stop(t + 40 * MS);
        s.advance(t + 100 * MS);
        assert!(!s.is_acquiring());
        // A stop while armed ends at once.
        s.start(t + 200 * MS);
        s.stop(t + 201 * MS);
        let events = s.advance(t + 300 * MS);
        assert_eq!(
            events,
            vec![ScheduleEvent::AcquisitionEnd { t_ns: t + 201 * MS }]
        );
    }

    #[test]
    fn single_frame_with_frame_trigger_waits_for_one_trigger() {
        let mut c = config(MS, 100 * US, 200 * US, false);
        c.mode = AcquisitionMode::SingleFrame;
        c.frame_start = software(0.0);
        let mut s = Schedule::new(c);
        s.start(0);
        assert!(frame_starts(&s.advance(50 * MS)).is_empty());
        s.trigger(
            TriggerSelector::FrameStart,
            TriggerSource::Software,
            true,
            50 * MS,
        );
        // The one frame is taken: a second trigger is missed.
        s.trigger(
            TriggerSelector::FrameStart,
            TriggerSource::Software,
            true,
            50 * MS + 250 * US,
        );
        let events = s.advance(60 * MS);
        assert_eq!(frame_starts(&events), vec![(50 * MS, 0)]);
        assert_eq!(missed(&events), vec![50 * MS + 250 * US]);
        assert_eq!(ends(&events), vec![50 * MS + 300 * US]);
        assert_eq!(
            levels(&events, Level::FrameTriggerWait),
            vec![(50 * MS, false)]
        );
        // Idle: triggers are ignored, not counted.
        s.trigger(
            TriggerSelector::FrameStart,
            TriggerSource::Software,
            true,
            70 * MS,
        );
        assert!(s.advance(80 * MS).is_empty());
        assert_eq!(s.triggers_missed(), 1);
        // A new start resets the counters.
        s.start(90 * MS);
        assert_eq!(s.triggers_missed(), 0);
        assert_eq!(s.frames_started(), 0);
    }

    #[test]
    fn config_change_takes_effect_for_the_next_frame() {
        let mut s = Schedule::new(config(10 * MS, 5 * MS, MS, true));
        s.start(0);
        s.advance(12 * MS);
        // Frame 1 started at 10 ms with a 5 ms exposure; the new exposure and
        // period apply from frame 2 on.
        s.set_config(config(20 * MS, 2 * MS, MS, true));
        let events = s.advance(55 * MS);
        assert_eq!(frame_starts(&events), vec![(30 * MS, 2), (50 * MS, 3)]);
        assert_eq!(
            frames_ready(&events),
            vec![
                (16 * MS, 1, 10 * MS),
                (33 * MS, 2, 30 * MS),
                (53 * MS, 3, 50 * MS)
            ]
        );
        // A shorter period whose next start is already past starts now.
        s.set_config(config(MS, 100 * US, 100 * US, true));
        let events = s.advance(56 * MS);
        assert_eq!(frame_starts(&events), vec![(55 * MS, 4), (56 * MS, 5)]);
    }

    #[test]
    fn turning_the_frame_trigger_off_resumes_free_running() {
        let mut c = config(10 * MS, MS, MS, true);
        c.frame_start = software(0.0);
        let mut s = Schedule::new(c);
        s.start(0);
        s.trigger(
            TriggerSelector::FrameStart,
            TriggerSource::Software,
            true,
            5 * MS,
        );
        s.advance(20 * MS);
        c.frame_start.enabled = false;
        s.set_config(c);
        let events = s.advance(40 * MS);
        assert_eq!(
            levels(&events, Level::FrameTriggerWait),
            vec![(20 * MS, false)]
        );
        assert_eq!(
            frame_starts(&events),
            vec![(20 * MS, 1), (30 * MS, 2), (40 * MS, 3)]
        );
    }

    #[test]
    fn readout_paces_frames_when_the_period_is_shorter() {
        // Inconsistent timing (period < readout): a frame's readout waits for
        // the previous one, and the next exposure waits for that readout to
        // begin, so at most two frames are in flight.
        let mut s = Schedule::new(config(MS, MS, 5 * MS, true));
        s.start(0);
        let events = s.advance(17 * MS);
        let starts: Vec<u64> = frame_starts(&events).iter().map(|&(t, _)| t).collect();
        assert_eq!(starts, vec![0, MS, 6 * MS, 11 * MS, 16 * MS]);
        let ready: Vec<u64> = frames_ready(&events).iter().map(|&(t, _, _)| t).collect();
        assert_eq!(ready, vec![6 * MS, 11 * MS, 16 * MS]);
    }

    #[test]
    fn deadlines_announce_every_event() {
        let mut c = config(3 * MS, MS, 2 * MS, true);
        c.mode = AcquisitionMode::MultiFrame;
        c.frame_count = 5;
        let mut s = Schedule::new(c);
        s.start(7);
        let mut all = Vec::new();
        let mut last = 0;
        while let Some(deadline) = s.next_deadline() {
            assert!(deadline >= last);
            // Nothing is due before the deadline.
            assert!(deadline == 0 || s.advance(deadline - 1).is_empty());
            let events = s.advance(deadline);
            assert!(!events.is_empty());
            assert!(events.iter().all(|e| e.t_ns() == deadline));
            all.extend(events);
            last = deadline;
        }
        assert_time_ordered(&all);
        assert_eq!(frame_starts(&all).len(), 5);
        assert_eq!(ends(&all), vec![7 + 4 * 3 * MS + 3 * MS]);
    }

    /// SplitMix64, for the randomised scenario.
    struct SplitMix64(u64);

    impl SplitMix64 {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
    }

    #[test]
    fn random_commands_keep_events_ordered_and_levels_consistent() {
        let mut rng = SplitMix64(42);
        let mut c = config(2 * MS, 500 * US, 1_500 * US, true);
        c.frame_start = software(300.0);
        let mut s = Schedule::new(c);
        let mut t = 0;
        let mut all = Vec::new();
        for _ in 0..2_000 {
            t += rng.next() % (2 * MS);
            match rng.next() % 10 {
                0 => s.start(t),
                1 => s.stop(t),
                2 => s.abort(t),
                3 => {
                    c.overlapped = !c.overlapped;
                    c.frame_start.enabled = rng.next() % 2 == 0;
                    c.mode = AcquisitionMode::ALL[(rng.next() % 3) as usize];
                    c.frame_count = (rng.next() % 4) as u32;
                    s.set_config(c);
                }
                _ => s.trigger(
                    TriggerSelector::FrameStart,
                    TriggerSource::Software,
                    true,
                    t,
                ),
            }
            all.extend(s.advance(t));
        }
        all.extend(s.advance(t + 10_000 * MS));
        assert_time_ordered(&all);
        // Levels alternate, frames complete in order with matching starts,
        // every acquisition start is closed.
        for level in [
            Level::ExposureActive,
            Level::FrameTriggerWait,
            Level::AcquisitionActive,
        ] {
            let changes = levels(&all, level);
            assert!(changes
                .iter()
                .enumerate()
                .all(|(i, &(_, high))| high == (i % 2 == 0)));
        }
        let starts = all
            .iter()
            .filter(|e| matches!(e, ScheduleEvent::AcquisitionStart { .. }))
            .count();
        assert!(starts > 10);
        assert_eq!(starts, ends(&all).len());
        assert!(frames_ready(&all).len() > 50);
        for (t_ready, _, t_start) in frames_ready(&all) {
            assert!(t_ready >= t_start);
        }
    }

    #[test]
    fn degenerate_config_does_not_stall_or_panic() {
        let mut s = Schedule::new(config(0, 0, 0, true));
        s.start(u64::MAX - 5);
        let events = s.advance(u64::MAX);
        assert_eq!(frame_starts(&events).len(), 6);
        let mut c = config(0, u64::MAX, u64::MAX, false);
        c.frame_start = software(f64::NAN);
        let mut s = Schedule::new(c);
        s.start(0);
        s.trigger(
            TriggerSelector::FrameStart,
            TriggerSource::Software,
            true,
            10,
        );
        s.trigger(
            TriggerSelector::FrameStart,
            TriggerSource::Software,
            true,
            20,
        );
        let events = s.advance(u64::MAX);
        assert_eq!(frame_starts(&events), vec![(10, 0)]);
        assert_eq!(missed(&events), vec![20]);
    }

    #[test]
    fn names_round_trip() {
        for m in AcquisitionMode::ALL {
            assert_eq!(AcquisitionMode::from_name(m.name()), Some(m));
        }
        for x in TriggerSelector::ALL {
            assert_eq!(TriggerSelector::from_name(x.name()), Some(x));
        }
        for x in TriggerSource::ALL {
            assert_eq!(TriggerSource::from_name(x.name()), Some(x));
        }
        for x in TriggerActivation::ALL {
            assert_eq!(TriggerActivation::from_name(x.name()), Some(x));
        }
        assert_eq!(
            AcquisitionMode::from_name("multiframe"),
            Some(AcquisitionMode::MultiFrame)
        );
        assert_eq!(TriggerSource::from_name("Line3"), None);
    }
}
