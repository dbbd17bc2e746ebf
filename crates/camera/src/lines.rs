//! The camera's digital I/O lines (manual sections 3.6–3.8): Line0, an
//! opto-isolated output; Line1, an opto-isolated input; Line2, a
//! bidirectional TTL GPIO.
//!
//! The model is pure and time-explicit: every call carries the time `t_ns` on
//! the camera clock, and times are non-decreasing. A call with an earlier time
//! than the model has already reached is taken as happening now.
//!
//! Inputs go through three stages: the electrical threshold with hysteresis
//! (a voltage between the logic-0 and logic-1 thresholds holds the last
//! state), the debouncer (a new level is accepted only once it has been
//! stable for `LineDebouncerTime`; the accepted edge happens at the raw edge
//! time plus the debouncer time, and shorter pulses are filtered out
//! entirely), and the inverter. Voltage changes and pulses may be scheduled
//! ahead of time; [`Lines::advance`] replays them in time order and returns
//! the accepted edges of every line, in time order.
//!
//! Outputs follow their `LineSource` (an internal camera signal or a user
//! output) immediately, through the inverter. Each change of the driven logic
//! level is recorded as an [`OutputEdge`] with the electrical timing of the
//! line: Line0 follows the manual's Table 3-4 for the pull-up voltage, Line2
//! is a push-pull TTL driver (1 µs delay, 0.5 µs rise and fall).

use std::collections::{BTreeMap, VecDeque};

/// One of the camera's three I/O lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineId {
    /// Opto-isolated output.
    Line0,
    /// Opto-isolated input.
    Line1,
    /// Bidirectional TTL GPIO.
    Line2,
}

impl LineId {
    /// Every line, in index order.
    pub const ALL: [LineId; 3] = [LineId::Line0, LineId::Line1, LineId::Line2];

    /// The line's index (its bit in `LineStatusAll`).
    pub fn index(self) -> usize {
        match self {
            LineId::Line0 => 0,
            LineId::Line1 => 1,
            LineId::Line2 => 2,
        }
    }

    /// The `LineSelector` entry name, e.g. `"Line1"`.
    pub fn name(self) -> &'static str {
        match self {
            LineId::Line0 => "Line0",
            LineId::Line1 => "Line1",
            LineId::Line2 => "Line2",
        }
    }

    /// The line with this `LineSelector` entry name.
    pub fn from_name(name: &str) -> Option<LineId> {
        LineId::ALL.into_iter().find(|line| line.name() == name)
    }
}

/// Whether a line receives or drives (`LineMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineMode {
    /// The line is read.
    Input,
    /// The line is driven by the camera.
    Output,
}

impl LineMode {
    /// The `LineMode` entry name.
    pub fn name(self) -> &'static str {
        match self {
            LineMode::Input => "Input",
            LineMode::Output => "Output",
        }
    }

    /// The mode with this `LineMode` entry name.
    pub fn from_name(name: &str) -> Option<LineMode> {
        [LineMode::Input, LineMode::Output]
            .into_iter()
            .find(|mode| mode.name() == name)
    }
}

/// What an output line drives (`LineSource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineSource {
    /// Nothing: logic 0 (logic 1 when inverted).
    Off,
    /// High while the sensor is exposing.
    ExposureActive,
    /// High while the camera waits for a frame trigger.
    FrameTriggerWait,
    /// High while acquisition is running.
    AcquisitionActive,
    /// `UserOutputValue` of user output 0.
    UserOutput0,
    /// `UserOutputValue` of user output 1.
    UserOutput1,
}

impl LineSource {
    /// Every source, in enumeration order.
    pub const ALL: [LineSource; 6] = [
        LineSource::Off,
        LineSource::ExposureActive,
        LineSource::FrameTriggerWait,
        LineSource::AcquisitionActive,
        LineSource::UserOutput0,
        LineSource::UserOutput1,
    ];

    /// The `LineSource` entry name.
    pub fn name(self) -> &'static str {
        match self {
            LineSource::Off => "Off",
            LineSource::ExposureActive => "ExposureActive",
            LineSource::FrameTriggerWait => "FrameTriggerWait",
            LineSource::AcquisitionActive => "AcquisitionActive",
            LineSource::UserOutput0 => "UserOutput0",
            LineSource::UserOutput1 => "UserOutput1",
        }
    }

    /// The source with this `LineSource` entry name.
    pub fn from_name(name: &str) -> Option<LineSource> {
        LineSource::ALL
            .into_iter()
            .find(|source| source.name() == name)
    }
}

/// An internal camera signal that the acquisition engine sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// The sensor is exposing.
    ExposureActive,
    /// The camera waits for a frame trigger.
    FrameTriggerWait,
    /// Acquisition is running.
    AcquisitionActive,
}

impl Signal {
    fn index(self) -> usize {
        match self {
            Signal::ExposureActive => 0,
            Signal::FrameTriggerWait => 1,
            Signal::AcquisitionActive => 2,
        }
    }
}

/// The external pull-up supply of Line0's opto-isolated output, which sets its
/// edge timing (Table 3-4). The default is 12 V, the middle of the table and a
/// common PLC supply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PullUp {
    /// 5 V (270 Ω recommended).
    V5,
    /// 12 V (560 Ω recommended).
    #[default]
    V12,
    /// 24 V (1 kΩ recommended).
    V24,
}

/// The settings of one line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineConfig {
    /// `LineMode`: fixed Output on Line0, fixed Input on Line1.
    pub mode: LineMode,
    /// `LineInverter`: inverts the level read (input) or driven (output).
    pub inverter: bool,
    /// `LineSource`: what the line drives in output mode.
    pub source: LineSource,
    /// `LineDebouncerTime`, µs (0 to 5 000 000); used in input mode only.
    pub debouncer_us: f64,
}

/// An accepted input edge, after debouncing and inversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputEdge {
    /// The line.
    pub line: LineId,
    /// `true` for a rising edge of the reported level.
    pub rising: bool,
    /// When the edge was accepted: raw edge time plus the debouncer time.
    pub t_ns: u64,
}

/// A recorded edge of an output line's waveform.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutputEdge {
    /// The line.
    pub line: LineId,
    /// `true` for a rising edge of the driven level.
    pub rising: bool,
    /// The internal logic edge.
    pub logic_ns: u64,
    /// The electrical edge start: 10 % of the amplitude (rising) or 90 %
    /// (falling).
    pub start_ns: u64,
    /// The electrical edge end: 90 % of the amplitude (rising) or 10 %
    /// (falling).
    pub reach_ns: u64,
}

/// A rejected line operation.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum LineError {
    /// The line cannot be an output, or be driven by the camera.
    #[error("{0} is an input only")]
    InputOnly(&'static str),
    /// The line cannot be an input, or be driven from outside.
    #[error("{0} is an output only")]
    OutputOnly(&'static str),
    /// The line is currently in output mode.
    #[error("{0} is in Output mode, not Input")]
    NotInput(&'static str),
    /// `LineDebouncerTime` outside 0 to 5 000 000 µs, or not a number.
    #[error("{line}: LineDebouncerTime {value} µs is outside 0 to 5000000 µs")]
    Debouncer {
        /// The line name.
        line: &'static str,
        /// The rejected value, µs.
        value: f64,
    },
    /// A voltage that is not a finite number.
    #[error("{line}: input voltage {volts} V is not a finite number")]
    Voltage {
        /// The line name.
        line: &'static str,
        /// The rejected value, V.
        volts: f64,
    },
    /// A pulse width that is not a positive finite number of at least 1 ns, or
    /// whose end is beyond the clock's range.
    #[error("{line}: pulse width {width_us} µs is not a positive finite duration")]
    PulseWidth {
        /// The line name.
        line: &'static str,
        /// The rejected width, µs.
        width_us: f64,
    },
    /// A user output other than 0 or 1.
    #[error("UserOutput{0} does not exist (0 or 1)")]
    UserOutput(usize),
}

/// The largest `LineDebouncerTime`, µs.
pub const MAX_DEBOUNCER_US: f64 = 5_000_000.0;

/// Above this voltage an input is damaged (the absolute limit of Tables 3-2
/// and 3-3).
const DAMAGE_VOLTS: f64 = 30.0;

/// How many output edges are kept per line.
const OUTPUT_EDGE_CAPACITY: usize = 1024;

/// The electrical timing of an output edge, ns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EdgeTiming {
    /// tR: 10 % to 90 % of the amplitude.
    rise_ns: u64,
    /// tF: 90 % to 10 % of the amplitude.
    fall_ns: u64,
    /// tDR: internal logic edge to 90 % of the amplitude.
    rise_delay_ns: u64,
    /// tDF: internal logic edge to 10 % of the amplitude.
    fall_delay_ns: u64,
}

impl PullUp {
    /// Line0's timing, Table 3-4.
    fn timing(self) -> EdgeTiming {
        match self {
            PullUp::V5 => EdgeTiming {
                rise_ns: 19_700,
                fall_ns: 3_200,
                rise_delay_ns: 39_900,
                fall_delay_ns: 8_060,
            },
            PullUp::V12 => EdgeTiming {
                rise_ns: 24_060,
                fall_ns: 5_220,
                rise_delay_ns: 44_800,
                fall_delay_ns: 11_800,
            },
            PullUp::V24 => EdgeTiming {
                rise_ns: 30_110,
                fall_ns: 8_100,
                rise_delay_ns: 44_800,
                fall_delay_ns: 53_200,
            },
        }
    }
}

/// Line2's push-pull TTL driver: 1 µs from the logic edge to 90 % (rising) or
/// 10 % (falling), with 0.5 µs rise and fall times.
const GPIO_TIMING: EdgeTiming = EdgeTiming {
    rise_ns: 500,
    fall_ns: 500,
    rise_delay_ns: 1_000,
    fall_delay_ns: 1_000,
};

/// The logic thresholds of an input, V: logic 0 at or below `low`, logic 1
/// above `high`; in between the input holds its last state.
#[derive(Debug, Clone, Copy)]
struct Thresholds {
    low: f64,
    high: f64,
    /// Whether exactly `low` already reads logic 0.
    low_inclusive: bool,
}

impl Thresholds {
    /// The new raw level for `volts`, given the last one.
    fn level(self, volts: f64, last: bool) -> bool {
        let is_low = if self.low_inclusive {
            volts <= self.low
        } else {
            volts < self.low
        };
        if is_low {
            false
        } else if volts > self.high {
            true
        } else {
            last
        }
    }
}

/// Line1's opto-coupler: logic 0 at 0–1.4 V, logic 1 above 2.2 V (Table 3-3).
const OPTO_THRESHOLDS: Thresholds = Thresholds {
    low: 1.4,
    high: 2.2,
    low_inclusive: true,
};

/// Line2's 5 V TTL input: logic 0 below 0.8 V, logic 1 above 2.0 V.
const TTL_THRESHOLDS: Thresholds = Thresholds {
    low: 0.8,
    high: 2.0,
    low_inclusive: false,
};

/// A raw level change waiting for the debouncer.
#[derive(Debug, Clone, Copy)]
struct PendingLevel {
    /// When the raw level changed.
    since_ns: u64,
    /// When it will be accepted if it stays.
    deadline_ns: u64,
}

/// The state of one line.
#[derive(Debug, Clone)]
struct LineState {
    config: LineConfig,
    /// The external voltage last applied, V.
    volts: f64,
    /// The thresholded input level, before debouncing.
    raw: bool,
    /// The debounced input level, before inversion.
    accepted: bool,
    pending: Option<PendingLevel>,
    /// The driven output logic level, after inversion.
    driven: bool,
    damaged: bool,
    output_edges: VecDeque<OutputEdge>,
}

impl LineState {
    fn new(mode: LineMode) -> LineState {
        LineState {
            config: LineConfig {
                mode,
                inverter: false,
                source: LineSource::Off,
                debouncer_us: 0.0,
            },
            volts: 0.0,
            raw: false,
            accepted: false,
            pending: None,
            driven: false,
            damaged: false,
            output_edges: VecDeque::new(),
        }
    }

    fn debouncer_ns(&self) -> u64 {
        // Validated to 0..=5e6 µs, so the product fits comfortably.
        (self.config.debouncer_us * 1000.0).round() as u64
    }
}

/// A scheduled external voltage on an input line.
#[derive(Debug, Clone, Copy)]
struct VoltageChange {
    line: LineId,
    volts: f64,
}

/// The three I/O lines.
#[derive(Debug, Clone)]
pub struct Lines {
    lines: [LineState; 3],
    pull_up: PullUp,
    signals: [bool; 3],
    user_outputs: [bool; 2],
    /// Scheduled voltage changes keyed by (time, order of scheduling).
    scheduled: BTreeMap<(u64, u64), VoltageChange>,
    next_sequence: u64,
    /// The time the model has been brought to.
    now_ns: u64,
    /// Accepted input edges not yet returned by `advance`.
    ready: Vec<InputEdge>,
}

impl Default for Lines {
    fn default() -> Self {
        Lines::new()
    }
}

impl Lines {
    /// Line0 Output with source Off, Line1 and Line2 Input; no debouncing, no
    /// inversion; pull-up 12 V; all inputs at 0 V.
    pub fn new() -> Lines {
        Lines {
            lines: [
                LineState::new(LineMode::Output),
                LineState::new(LineMode::Input),
                LineState::new(LineMode::Input),
            ],
            pull_up: PullUp::default(),
            signals: [false; 3],
            user_outputs: [false; 2],
            scheduled: BTreeMap::new(),
            next_sequence: 0,
            now_ns: 0,
            ready: Vec::new(),
        }
    }

    /// The line's settings.
    pub fn config(&self, line: LineId) -> LineConfig {
        self.state(line).config
    }

    /// Applies new settings at `t_ns`. Line0 must stay Output and Line1 Input;
    /// the debouncer must be within 0 to 5 000 000 µs. Switching Line2 to
    /// Input takes the level of the voltage on the pin without an edge; a
    /// change of the inverter on an input flips the status without an edge; a
    /// new debouncer time applies to a level already waiting (counted from its
    /// raw edge). An output whose driven level changes records an edge.
    pub fn set_config(
        &mut self,
        line: LineId,
        config: LineConfig,
        t_ns: u64,
    ) -> Result<(), LineError> {
        match (line, config.mode) {
            (LineId::Line0, LineMode::Input) => return Err(LineError::OutputOnly(line.name())),
            (LineId::Line1, LineMode::Output) => return Err(LineError::InputOnly(line.name())),
            _ => {}
        }
        if !(0.0..=MAX_DEBOUNCER_US).contains(&config.debouncer_us) {
            return Err(LineError::Debouncer {
                line: line.name(),
                value: config.debouncer_us,
            });
        }
        self.run_until(t_ns);
        let now = self.now_ns;
        let thresholds = thresholds(line);
        let state = self.state_mut(line);
        let old_mode = state.config.mode;
        state.config = config;
        if config.mode == LineMode::Input {
            if old_mode != LineMode::Input && !state.damaged {
                state.raw = thresholds.level(state.volts, state.raw);
                state.accepted = state.raw;
                state.pending = None;
            }
            state.driven = false;
            if let Some(pending) = state.pending {
                let deadline_ns = pending.since_ns.saturating_add(state.debouncer_ns());
                state.pending = Some(PendingLevel {
                    since_ns: pending.since_ns,
                    deadline_ns: deadline_ns.max(now),
                });
            }
            // A deadline that is now due is accepted at once.
            self.run_until(now);
        } else {
            state.pending = None;
        }
        self.update_outputs(now);
        Ok(())
    }

    /// Sets Line0's external pull-up supply; later output edges use its timing.
    pub fn set_pull_up(&mut self, pull_up: PullUp) {
        self.pull_up = pull_up;
    }

    /// Line0's external pull-up supply.
    pub fn pull_up(&self) -> PullUp {
        self.pull_up
    }

    /// Applies `volts` to an input line from `t_ns` on (scheduled if later than
    /// now). Negative voltages read logic 0; above 30 V the line is damaged.
    pub fn set_input_voltage(
        &mut self,
        line: LineId,
        volts: f64,
        t_ns: u64,
    ) -> Result<(), LineError> {
        self.check_input(line)?;
        if !volts.is_finite() {
            return Err(LineError::Voltage {
                line: line.name(),
                volts,
            });
        }
        self.schedule(line, volts, t_ns);
        Ok(())
    }

    /// A rectangular pulse: `high_volts` from t_ns for width_us, then 0 V.
    pub fn pulse(
        &mut self,
        line: LineId,
        high_volts: f64,
        width_us: f64,
        t_ns: u64,
    ) -> Result<(), LineError> {
        self.check_input(line)?;
        if !high_volts.is_finite() {
            return Err(LineError::Voltage {
                line: line.name(),
                volts: high_volts,
            });
        }
        let width_error = LineError::PulseWidth {
            line: line.name(),
            width_us,
        };
        let width_ns = width_us * 1000.0;
        // 1.8e19 ns is just below u64::MAX; the cast below is then exact enough.
        if !(0.5..1.8e19).contains(&width_ns) {
            return Err(width_error);
        }
        let start_ns = t_ns.max(self.now_ns);
        let end_ns = start_ns
            .checked_add(width_ns.round() as u64)
            .ok_or(width_error)?;
        self.schedule(line, high_volts, start_ns);
        self.schedule(line, 0.0, end_ns);
        Ok(())
    }

    /// Sets an internal camera signal at `t_ns`; outputs driven by it follow.
    pub fn set_signal(&mut self, signal: Signal, level: bool, t_ns: u64) {
        self.run_until(t_ns);
        self.signals[signal.index()] = level;
        self.update_outputs(self.now_ns);
    }

    /// Sets `UserOutputValue` of user output `index` (0 or 1) at `t_ns`.
    pub fn set_user_output(
        &mut self,
        index: usize,
        value: bool,
        t_ns: u64,
    ) -> Result<(), LineError> {
        if index >= self.user_outputs.len() {
            return Err(LineError::UserOutput(index));
        }
        self.run_until(t_ns);
        if let Some(slot) = self.user_outputs.get_mut(index) {
            *slot = value;
        }
        self.update_outputs(self.now_ns);
        Ok(())
    }

    /// `UserOutputValue` of user output `index`; `false` for one that does not
    /// exist.
    pub fn user_output(&self, index: usize) -> bool {
        self.user_outputs.get(index).copied().unwrap_or(false)
    }

    /// Advances to `t_ns`: returns the debounced input edges that happened up to then, in time order.
    pub fn advance(&mut self, t_ns: u64) -> Vec<InputEdge> {
        self.run_until(t_ns);
        std::mem::take(&mut self.ready)
    }

    /// The earliest future time at which something pending (a debounce expiry,
    /// a pulse end, a scheduled voltage) happens, if any. When accepted edges
    /// are waiting to be returned, that is now.
    pub fn next_deadline(&self) -> Option<u64> {
        if !self.ready.is_empty() {
            return Some(self.now_ns);
        }
        let scheduled = self.scheduled.keys().next().map(|&(t, _)| t);
        let debounce = self
            .lines
            .iter()
            .filter_map(|state| state.pending.map(|p| p.deadline_ns))
            .min();
        match (scheduled, debounce) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// `LineStatus`: the debounced, inverted input level, or the driven output
    /// logic level. A damaged line reads `false`.
    pub fn status(&self, line: LineId) -> bool {
        let state = self.state(line);
        if state.damaged {
            return false;
        }
        match state.config.mode {
            LineMode::Input => state.accepted != state.config.inverter,
            LineMode::Output => state.driven,
        }
    }

    /// `LineStatusAll`: bit i = status(Line i).
    pub fn status_all(&self) -> u32 {
        LineId::ALL
            .into_iter()
            .filter(|&line| self.status(line))
            .map(|line| 1u32 << line.index())
            .sum()
    }

    /// Whether an over-voltage (above 30 V) has damaged the line. A damaged
    /// line reads `false` from then on, reports no more input edges and drives
    /// nothing; the damage itself is not reported as an edge.
    pub fn is_damaged(&self, line: LineId) -> bool {
        self.state(line).damaged
    }

    /// `LineFormat`: `"OptoCoupled"` for Line0 and Line1, `"TTL"` for Line2.
    pub fn format(line: LineId) -> &'static str {
        match line {
            LineId::Line0 | LineId::Line1 => "OptoCoupled",
            LineId::Line2 => "TTL",
        }
    }

    /// The recorded output edges (most recent last, at most 1024 per line).
    pub fn output_edges(&self, line: LineId) -> Vec<OutputEdge> {
        self.state(line).output_edges.iter().copied().collect()
    }

    /// Forgets the recorded output edges of every line.
    pub fn clear_output_edges(&mut self) {
        for state in &mut self.lines {
            state.output_edges.clear();
        }
    }

    fn state(&self, line: LineId) -> &LineState {
        match line {
            LineId::Line0 => &self.lines[0],
            LineId::Line1 => &self.lines[1],
            LineId::Line2 => &self.lines[2],
        }
    }

    fn state_mut(&mut self, line: LineId) -> &mut LineState {
        match line {
            LineId::Line0 => &mut self.lines[0],
            LineId::Line1 => &mut self.lines[1],
            LineId::Line2 => &mut self.lines[2],
        }
    }

    /// Whether the line can currently be driven from outside.
    fn check_input(&self, line: LineId) -> Result<(), LineError> {
        if line == LineId::Line0 {
            return Err(LineError::OutputOnly(line.name()));
        }
        if self.state(line).config.mode != LineMode::Input {
            return Err(LineError::NotInput(line.name()));
        }
        Ok(())
    }

    fn schedule(&mut self, line: LineId, volts: f64, t_ns: u64) {
        let key = (t_ns.max(self.now_ns), self.next_sequence);
        self.next_sequence = self.next_sequence.wrapping_add(1);
        self.scheduled.insert(key, VoltageChange { line, volts });
    }

    /// Replays scheduled voltages and debounce expiries up to `t_ns`, in time
    /// order. At equal times a debounce expiry comes first, so a pulse exactly
    /// as long as the debouncer passes.
    fn run_until(&mut self, t_ns: u64) {
        loop {
            let next_change = self
                .scheduled
                .keys()
                .next()
                .copied()
                .filter(|&(t, _)| t <= t_ns);
            let next_expiry = LineId::ALL
                .into_iter()
                .filter_map(|line| {
                    self.state(line)
                        .pending
                        .map(|pending| (pending.deadline_ns, line))
                })
                .filter(|&(t, _)| t <= t_ns)
                .min_by_key(|&(t, line)| (t, line.index()));
            match (next_change, next_expiry) {
                (Some((change_t, _)), Some((expiry_t, line))) if expiry_t <= change_t => {
                    self.accept(line, expiry_t);
                }
                (None, Some((expiry_t, line))) => self.accept(line, expiry_t),
                (Some(key), _) => {
                    if let Some(change) = self.scheduled.remove(&key) {
                        self.apply_voltage(change, key.0);
                    }
                }
                (None, None) => break,
            }
        }
        self.now_ns = self.now_ns.max(t_ns);
    }

    /// The external voltage on `change.line` becomes `change.volts` at `t_ns`.
    fn apply_voltage(&mut self, change: VoltageChange, t_ns: u64) {
        let thresholds = thresholds(change.line);
        let state = self.state_mut(change.line);
        state.volts = change.volts;
        if state.damaged {
            return;
        }
        if change.volts > DAMAGE_VOLTS {
            state.damaged = true;
            state.raw = false;
            state.accepted = false;
            state.pending = None;
            state.driven = false;
            return;
        }
        if state.config.mode != LineMode::Input {
            return;
        }
        let raw = thresholds.level(change.volts, state.raw);
        if raw == state.raw {
            return;
        }
        state.raw = raw;
        if raw == state.accepted {
            // Back to the accepted level before the debouncer expired: the
            // excursion is filtered out.
            state.pending = None;
            return;
        }
        let debouncer_ns = state.debouncer_ns();
        if debouncer_ns == 0 {
            self.accept(change.line, t_ns);
        } else {
            state.pending = Some(PendingLevel {
                since_ns: t_ns,
                deadline_ns: t_ns.saturating_add(debouncer_ns),
            });
        }
    }

    /// The raw level of `line` has been stable long enough: accept it.
    fn accept(&mut self, line: LineId, t_ns: u64) {
        let state = self.state_mut(line);
        state.pending = None;
        if state.accepted == state.raw {
            return;
        }
        state.accepted = state.raw;
        let rising = state.accepted != state.config.inverter;
        self.ready.push(InputEdge { line, rising, t_ns });
    }

    /// Brings every output line to the level of its source and records the
    /// edges of those that change.
    fn update_outputs(&mut self, t_ns: u64) {
        for line in LineId::ALL {
            let timing = match line {
                LineId::Line0 => self.pull_up.timing(),
                _ => GPIO_TIMING,
            };
            let source_level = self.source_level(self.state(line).config.source);
            let state = self.state_mut(line);
            if state.config.mode != LineMode::Output || state.damaged {
                continue;
            }
            let level = source_level != state.config.inverter;
            if level == state.driven {
                continue;
            }
            state.driven = level;
            let (reach_ns, edge_ns) = if level {
                (t_ns.saturating_add(timing.rise_delay_ns), timing.rise_ns)
            } else {
                (t_ns.saturating_add(timing.fall_delay_ns), timing.fall_ns)
            };
            if state.output_edges.len() >= OUTPUT_EDGE_CAPACITY {
                state.output_edges.pop_front();
            }
            state.output_edges.push_back(OutputEdge {
                line,
                rising: level,
                logic_ns: t_ns,
                start_ns: reach_ns.saturating_sub(edge_ns),
                reach_ns,
            });
        }
    }

    /// The un-inverted level of an output source.
    fn source_level(&self, source: LineSource) -> bool {
        match source {
            LineSource::Off => false,
            LineSource::ExposureActive => self.signals[Signal::ExposureActive.index()],
            LineSource::FrameTriggerWait => self.signals[Signal::FrameTriggerWait.index()],
            LineSource::AcquisitionActive => self.signals[Signal::AcquisitionActive.index()],
            LineSource::UserOutput0 => self.user_outputs[0],
            LineSource::UserOutput1 => self.user_outputs[1],
        }
    }
}

/// The input thresholds of a line (Line0 has none; it never reads).
fn thresholds(line: LineId) -> Thresholds {
    match line {
        LineId::Line2 => TTL_THRESHOLDS,
        LineId::Line0 | LineId::Line1 => OPTO_THRESHOLDS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: u64 = 1_000;
    const MS: u64 = 1_000_000;

    fn input_config(debouncer_us: f64, inverter: bool) -> LineConfig {
        LineConfig {
            mode: LineMode::Input,
            inverter,
            source: LineSource::Off,
            debouncer_us,
        }
    }

    fn output_config(source: LineSource, inverter: bool) -> LineConfig {
        LineConfig {
            mode: LineMode::Output,
            inverter,
            source,
            debouncer_us: 0.0,
        }
    }

    fn edge(line: LineId, rising: bool, t_ns: u64) -> InputEdge {
        InputEdge { line, rising, t_ns }
    }

    /// Applies `volts` at `t_ns` and returns the status right after.
    fn level_after(lines: &mut Lines, line: LineId, volts: f64, t_ns: u64) -> bool {
        lines.set_input_voltage(line, volts, t_ns).unwrap();
        lines.advance(t_ns);
        lines.status(line)
    }

    #[test]
    fn defaults() {
        let lines = Lines::new();
        assert_eq!(lines.config(LineId::Line0).mode, LineMode::Output);
        assert_eq!(lines.config(LineId::Line0).source, LineSource::Off);
        assert_eq!(lines.config(LineId::Line1).mode, LineMode::Input);
        assert_eq!(lines.config(LineId::Line2).mode, LineMode::Input);
        for line in LineId::ALL {
            assert!(!lines.config(line).inverter);
            assert_eq!(lines.config(line).debouncer_us, 0.0);
            assert!(!lines.status(line));
            assert!(!lines.is_damaged(line));
        }
        assert_eq!(lines.pull_up(), PullUp::V12);
        assert_eq!(lines.next_deadline(), None);
    }

    #[test]
    fn opto_input_thresholds_and_hysteresis() {
        let mut lines = Lines::new();
        let l1 = LineId::Line1;
        assert!(!level_after(&mut lines, l1, 1.0, 10));
        assert!(!level_after(&mut lines, l1, 1.8, 20), "1.8 V holds 0");
        assert!(
            !level_after(&mut lines, l1, 2.2, 30),
            "2.2 V is not above 2.2"
        );
        assert!(level_after(&mut lines, l1, 2.5, 40));
        assert!(level_after(&mut lines, l1, 1.8, 50), "1.8 V holds 1");
        assert!(level_after(&mut lines, l1, 1.41, 60), "1.41 V holds 1");
        assert!(!level_after(&mut lines, l1, 1.4, 70), "1.4 V is logic 0");
        assert!(level_after(&mut lines, l1, 24.0, 80));
        assert!(!level_after(&mut lines, l1, -12.0, 90), "negative reads 0");
        assert!(!lines.is_damaged(l1));
    }

    #[test]
    fn opto_input_reports_each_change_once() {
        let mut lines = Lines::new();
        let l1 = LineId::Line1;
        for (i, volts) in [1.0, 2.5, 1.8, 3.0, 1.8, 1.0, 1.8].into_iter().enumerate() {
            lines.set_input_voltage(l1, volts, i as u64 * US).unwrap();
        }
        assert_eq!(
            lines.advance(10 * US),
            vec![edge(l1, true, US), edge(l1, false, 5 * US)]
        );
    }

    #[test]
    fn ttl_thresholds_on_line2() {
        let mut lines = Lines::new();
        let l2 = LineId::Line2;
        assert!(!level_after(&mut lines, l2, 0.7, 10));
        assert!(!level_after(&mut lines, l2, 1.5, 20), "1.5 V holds 0");
        assert!(
            !level_after(&mut lines, l2, 2.0, 30),
            "2.0 V is not above 2.0"
        );
        assert!(level_after(&mut lines, l2, 2.1, 40));
        assert!(
            level_after(&mut lines, l2, 0.8, 50),
            "0.8 V is not below 0.8"
        );
        assert!(level_after(&mut lines, l2, 1.5, 60), "1.5 V holds 1");
        assert!(!level_after(&mut lines, l2, 0.79, 70));
        // 2.1 V is high for TTL but inside the opto-coupler's unstable band.
        let mut other = Lines::new();
        assert!(!level_after(&mut other, LineId::Line1, 2.1, 10));
    }

    #[test]
    fn over_voltage_damages_an_input() {
        let mut lines = Lines::new();
        let l1 = LineId::Line1;
        assert!(level_after(&mut lines, l1, 30.0, 10));
        assert!(!lines.is_damaged(l1), "30 V is the limit, not beyond it");
        lines.set_input_voltage(l1, 30.5, 20).unwrap();
        assert_eq!(lines.advance(30), vec![]);
        assert!(lines.is_damaged(l1));
        assert!(!lines.status(l1));
        lines.pulse(l1, 5.0, 10.0, 40).unwrap();
        assert_eq!(lines.advance(MS), vec![]);
        assert!(!lines.status(l1));
        assert!(lines.is_damaged(l1));
        // An inverted damaged line still reads 0.
        let mut config = lines.config(l1);
        config.inverter = true;
        lines.set_config(l1, config, 2 * MS).unwrap();
        assert!(!lines.status(l1));
        assert!(!lines.is_damaged(LineId::Line2));

        let l2 = LineId::Line2;
        lines.set_input_voltage(l2, 48.0, 3 * MS).unwrap();
        lines.advance(3 * MS);
        assert!(lines.is_damaged(l2));
        assert_eq!(lines.status_all(), 0);
    }

    #[test]
    fn debouncer_filters_short_pulses() {
        let mut lines = Lines::new();
        let l1 = LineId::Line1;
        lines
            .set_config(l1, input_config(1500.0, false), 0)
            .unwrap();
        lines.pulse(l1, 5.0, 1000.0, MS).unwrap();
        assert_eq!(lines.advance(10 * MS), vec![]);
        assert!(!lines.status(l1));
        // The manual's example: a debouncer longer than the pulses lets no
        // trigger through.
        lines
            .set_config(l1, input_config(5000.0, false), 10 * MS)
            .unwrap();
        for k in 0..5 {
            lines.pulse(l1, 12.0, 4000.0, 20 * MS + k * 8 * MS).unwrap();
        }
        assert_eq!(lines.advance(100 * MS), vec![]);
    }

    #[test]
    fn debouncer_delays_accepted_edges() {
        let mut lines = Lines::new();
        let l1 = LineId::Line1;
        lines
            .set_config(l1, input_config(1500.0, false), 0)
            .unwrap();
        lines.pulse(l1, 5.0, 2000.0, MS).unwrap();
        assert_eq!(lines.advance(2 * MS), vec![]);
        assert!(!lines.status(l1));
        assert_eq!(
            lines.advance(2 * MS + 500 * US),
            vec![edge(l1, true, 2_500 * US)]
        );
        assert!(lines.status(l1));
        assert_eq!(
            lines.advance(10 * MS),
            vec![edge(l1, false, 3 * MS + 1_500 * US)]
        );
        // A pulse exactly as long as the debouncer passes.
        lines.pulse(l1, 5.0, 1500.0, 20 * MS).unwrap();
        assert_eq!(
            lines.advance(30 * MS),
            vec![edge(l1, true, 21_500 * US), edge(l1, false, 23 * MS)]
        );
    }

    #[test]
    fn bouncing_contact_gives_one_edge() {
        let mut lines = Lines::new();
        let l2 = LineId::Line2;
        lines.set_config(l2, input_config(500.0, false), 0).unwrap();
        // A contact closing: 5 bounces 100 µs apart, then high for good.
        for k in 0..10u64 {
            let volts = if k % 2 == 0 { 5.0 } else { 0.0 };
            lines
                .set_input_voltage(l2, volts, MS + k * 100 * US)
                .unwrap();
        }
        lines.set_input_voltage(l2, 5.0, 2 * MS).unwrap();
        assert_eq!(lines.advance(10 * MS), vec![edge(l2, true, 2_500 * US)]);
        // Without the debouncer every bounce comes through.
        let mut raw = Lines::new();
        for k in 0..10u64 {
            let volts = if k % 2 == 0 { 5.0 } else { 0.0 };
            raw.set_input_voltage(l2, volts, MS + k * 100 * US).unwrap();
        }
        assert_eq!(raw.advance(10 * MS).len(), 10);
    }

    #[test]
    fn debouncer_change_applies_to_a_waiting_level() {
        let mut lines = Lines::new();
        let l1 = LineId::Line1;
        lines
            .set_config(l1, input_config(1000.0, false), 0)
            .unwrap();
        lines.set_input_voltage(l1, 5.0, MS).unwrap();
        lines.advance(MS + 100 * US);
        assert_eq!(lines.next_deadline(), Some(2 * MS));
        lines
            .set_config(l1, input_config(400.0, false), MS + 200 * US)
            .unwrap();
        assert_eq!(lines.next_deadline(), Some(MS + 400 * US));
        // Shortened below the time already waited: accepted at once.
        let mut late = Lines::new();
        late.set_config(l1, input_config(1000.0, false), 0).unwrap();
        late.set_input_voltage(l1, 5.0, MS).unwrap();
        late.set_config(l1, input_config(100.0, false), MS + 600 * US)
            .unwrap();
        assert_eq!(
            late.advance(MS + 600 * US),
            vec![edge(l1, true, MS + 600 * US)]
        );
        assert_eq!(lines.advance(5 * MS), vec![edge(l1, true, MS + 400 * US)]);
    }

    #[test]
    fn inverter_on_input() {
        let mut lines = Lines::new();
        let l1 = LineId::Line1;
        lines.set_config(l1, input_config(0.0, true), 0).unwrap();
        assert!(lines.status(l1), "0 V inverted reads 1");
        assert_eq!(lines.status_all(), 0b010);
        lines.pulse(l1, 5.0, 10.0, 100 * US).unwrap();
        assert_eq!(
            lines.advance(MS),
            vec![edge(l1, false, 100 * US), edge(l1, true, 110 * US)]
        );
        // Changing the inverter flips the status without an edge.
        lines
            .set_config(l1, input_config(0.0, false), 2 * MS)
            .unwrap();
        assert!(!lines.status(l1));
        assert_eq!(lines.advance(3 * MS), vec![]);
    }

    #[test]
    fn inverter_on_output() {
        let mut lines = Lines::new();
        let l0 = LineId::Line0;
        lines.set_pull_up(PullUp::V5);
        lines
            .set_config(l0, output_config(LineSource::UserOutput0, true), 10 * US)
            .unwrap();
        assert!(lines.status(l0), "inverted user output 0 drives high");
        lines.set_user_output(0, true, 100 * US).unwrap();
        assert!(!lines.status(l0));
        assert!(lines.user_output(0));
        assert_eq!(
            lines.output_edges(l0),
            vec![
                OutputEdge {
                    line: l0,
                    rising: true,
                    logic_ns: 10 * US,
                    start_ns: 10 * US + 20_200,
                    reach_ns: 10 * US + 39_900,
                },
                OutputEdge {
                    line: l0,
                    rising: false,
                    logic_ns: 100 * US,
                    start_ns: 100 * US + 4_860,
                    reach_ns: 100 * US + 8_060,
                },
            ]
        );
        // An inverted Off drives high.
        lines
            .set_config(l0, output_config(LineSource::Off, true), 200 * US)
            .unwrap();
        assert!(lines.status(l0));
    }

    /// Sets the signal or user output behind `source` to `level` at `t_ns`.
    fn drive_source(lines: &mut Lines, source: LineSource, level: bool, t_ns: u64) {
        match source {
            LineSource::Off => {}
            LineSource::ExposureActive => lines.set_signal(Signal::ExposureActive, level, t_ns),
            LineSource::FrameTriggerWait => lines.set_signal(Signal::FrameTriggerWait, level, t_ns),
            LineSource::AcquisitionActive => {
                lines.set_signal(Signal::AcquisitionActive, level, t_ns)
            }
            LineSource::UserOutput0 => lines.set_user_output(0, level, t_ns).unwrap(),
            LineSource::UserOutput1 => lines.set_user_output(1, level, t_ns).unwrap(),
        }
    }

    #[test]
    fn every_source_drives_line0_with_table_3_4_timing() {
        // (pull-up, tR, tF, tDR, tDF) in ns, Table 3-4.
        let table = [
            (PullUp::V5, 19_700, 3_200, 39_900, 8_060),
            (PullUp::V12, 24_060, 5_220, 44_800, 11_800),
            (PullUp::V24, 30_110, 8_100, 44_800, 53_200),
        ];
        for (pull_up, t_r, t_f, t_dr, t_df) in table {
            for source in LineSource::ALL.into_iter().skip(1) {
                let mut lines = Lines::new();
                lines.set_pull_up(pull_up);
                let l0 = LineId::Line0;
                lines
                    .set_config(l0, output_config(source, false), 0)
                    .unwrap();
                assert!(lines.output_edges(l0).is_empty());
                drive_source(&mut lines, source, true, MS);
                assert!(lines.status(l0), "{source:?}");
                drive_source(&mut lines, source, false, 2 * MS);
                assert!(!lines.status(l0), "{source:?}");
                assert_eq!(
                    lines.output_edges(l0),
                    vec![
                        OutputEdge {
                            line: l0,
                            rising: true,
                            logic_ns: MS,
                            start_ns: MS + t_dr - t_r,
                            reach_ns: MS + t_dr,
                        },
                        OutputEdge {
                            line: l0,
                            rising: false,
                            logic_ns: 2 * MS,
                            start_ns: 2 * MS + t_df - t_f,
                            reach_ns: 2 * MS + t_df,
                        },
                    ],
                    "{source:?} at {pull_up:?}"
                );
            }
        }
    }

    #[test]
    fn every_source_drives_line2_with_gpio_timing() {
        for pull_up in [PullUp::V5, PullUp::V12, PullUp::V24] {
            for source in LineSource::ALL.into_iter().skip(1) {
                let mut lines = Lines::new();
                lines.set_pull_up(pull_up);
                let l2 = LineId::Line2;
                lines
                    .set_config(l2, output_config(source, false), 0)
                    .unwrap();
                drive_source(&mut lines, source, true, MS);
                assert_eq!(lines.status_all(), 0b100, "{source:?}");
                drive_source(&mut lines, source, false, 2 * MS);
                assert_eq!(
                    lines.output_edges(l2),
                    vec![
                        OutputEdge {
                            line: l2,
                            rising: true,
                            logic_ns: MS,
                            start_ns: MS + 500,
                            reach_ns: MS + 1_000,
                        },
                        OutputEdge {
                            line: l2,
                            rising: false,
                            logic_ns: 2 * MS,
                            start_ns: 2 * MS + 500,
                            reach_ns: 2 * MS + 1_000,
                        },
                    ],
                    "{source:?}"
                );
                // Line0 stays Off throughout.
                assert!(lines.output_edges(LineId::Line0).is_empty());
            }
        }
    }

    #[test]
    fn source_off_and_other_sources_ignore_unrelated_signals() {
        let mut lines = Lines::new();
        lines
            .set_config(
                LineId::Line2,
                output_config(LineSource::UserOutput1, false),
                0,
            )
            .unwrap();
        lines.set_signal(Signal::ExposureActive, true, MS);
        lines.set_signal(Signal::AcquisitionActive, true, MS);
        lines.set_user_output(0, true, MS).unwrap();
        assert!(lines.output_edges(LineId::Line0).is_empty());
        assert!(lines.output_edges(LineId::Line2).is_empty());
        assert_eq!(lines.status_all(), 0);
        lines.set_user_output(1, true, 2 * MS).unwrap();
        assert_eq!(lines.status_all(), 0b100);
        // Switching back to input releases the line without an edge and reads
        // the pin.
        lines
            .set_config(LineId::Line2, input_config(0.0, false), 3 * MS)
            .unwrap();
        assert_eq!(lines.output_edges(LineId::Line2).len(), 1);
        assert_eq!(lines.status_all(), 0);
    }

    #[test]
    fn status_all_bits() {
        let mut lines = Lines::new();
        lines
            .set_config(
                LineId::Line0,
                output_config(LineSource::UserOutput0, false),
                0,
            )
            .unwrap();
        lines.set_user_output(0, true, 10).unwrap();
        assert_eq!(lines.status_all(), 0b001);
        lines.set_input_voltage(LineId::Line2, 5.0, 20).unwrap();
        lines.advance(20);
        assert_eq!(lines.status_all(), 0b101);
        lines.set_input_voltage(LineId::Line1, 5.0, 30).unwrap();
        lines.advance(30);
        assert_eq!(lines.status_all(), 0b111);
        lines.set_user_output(0, false, 40).unwrap();
        assert_eq!(lines.status_all(), 0b110);
    }

    #[test]
    fn config_errors() {
        let mut lines = Lines::new();
        assert_eq!(
            lines.set_config(LineId::Line0, input_config(0.0, false), 0),
            Err(LineError::OutputOnly("Line0"))
        );
        let err = lines
            .set_config(LineId::Line1, output_config(LineSource::Off, false), 0)
            .unwrap_err();
        assert_eq!(err, LineError::InputOnly("Line1"));
        assert_eq!(err.to_string(), "Line1 is an input only");
        for bad in [f64::NAN, -1.0, 5_000_000.5, f64::INFINITY] {
            let err = lines
                .set_config(LineId::Line2, input_config(bad, false), 0)
                .unwrap_err();
            assert!(
                matches!(err, LineError::Debouncer { line: "Line2", .. }),
                "{bad}"
            );
            assert!(err.to_string().contains("Line2"));
        }
        assert!(lines
            .set_config(LineId::Line1, input_config(MAX_DEBOUNCER_US, false), 0)
            .is_ok());
        // Rejected settings leave the line as it was.
        assert_eq!(lines.config(LineId::Line2).debouncer_us, 0.0);

        assert_eq!(
            lines.set_input_voltage(LineId::Line0, 5.0, 0),
            Err(LineError::OutputOnly("Line0"))
        );
        assert!(matches!(
            lines.set_input_voltage(LineId::Line1, f64::NAN, 0),
            Err(LineError::Voltage { line: "Line1", .. })
        ));
        for width in [0.0, -3.0, f64::NAN, 1e-6, 1e30] {
            assert!(
                matches!(
                    lines.pulse(LineId::Line1, 5.0, width, 0),
                    Err(LineError::PulseWidth { line: "Line1", .. })
                ),
                "{width}"
            );
        }
        assert!(matches!(
            lines.pulse(LineId::Line1, 5.0, 1e12, u64::MAX - 10),
            Err(LineError::PulseWidth { .. })
        ));
        assert_eq!(
            lines.set_user_output(2, true, 0),
            Err(LineError::UserOutput(2))
        );
        assert!(!lines.user_output(7));
        lines
            .set_config(LineId::Line2, output_config(LineSource::Off, false), 0)
            .unwrap();
        assert_eq!(
            lines.pulse(LineId::Line2, 5.0, 10.0, 0),
            Err(LineError::NotInput("Line2"))
        );
        assert_eq!(lines.next_deadline(), None, "nothing was scheduled");
    }

    #[test]
    fn edges_in_time_order_across_lines() {
        let mut lines = Lines::new();
        let (l1, l2) = (LineId::Line1, LineId::Line2);
        lines.set_config(l1, input_config(300.0, false), 0).unwrap();
        lines.pulse(l1, 5.0, 1000.0, 0).unwrap();
        lines.pulse(l2, 5.0, 100.0, 100 * US).unwrap();
        lines.pulse(l2, 5.0, 100.0, 1_250 * US).unwrap();
        assert_eq!(
            lines.advance(5 * MS),
            vec![
                edge(l2, true, 100 * US),
                edge(l2, false, 200 * US),
                edge(l1, true, 300 * US),
                edge(l2, true, 1_250 * US),
                edge(l1, false, 1_300 * US),
                edge(l2, false, 1_350 * US),
            ]
        );
    }

    #[test]
    fn advance_returns_only_edges_up_to_its_time() {
        let mut lines = Lines::new();
        let l1 = LineId::Line1;
        lines.pulse(l1, 5.0, 50.0, 100 * US).unwrap();
        assert_eq!(lines.advance(99 * US), vec![]);
        assert_eq!(lines.advance(100 * US), vec![edge(l1, true, 100 * US)]);
        assert_eq!(lines.advance(149 * US), vec![]);
        assert_eq!(lines.advance(150 * US), vec![edge(l1, false, 150 * US)]);
        assert_eq!(lines.advance(150 * US), vec![]);
    }

    #[test]
    fn next_deadline_tracks_pending_work() {
        let mut lines = Lines::new();
        let l1 = LineId::Line1;
        assert_eq!(lines.next_deadline(), None);
        lines.set_config(l1, input_config(200.0, false), 0).unwrap();
        lines.pulse(l1, 5.0, 1000.0, MS).unwrap();
        assert_eq!(lines.next_deadline(), Some(MS));
        lines.advance(MS);
        // Debounce expiry before the pulse end.
        assert_eq!(lines.next_deadline(), Some(MS + 200 * US));
        lines.advance(MS + 200 * US - 1);
        assert_eq!(lines.next_deadline(), Some(MS + 200 * US));
        assert_eq!(lines.advance(MS + 200 * US).len(), 1);
        assert_eq!(lines.next_deadline(), Some(2 * MS));
        lines.advance(2 * MS);
        assert_eq!(lines.next_deadline(), Some(2 * MS + 200 * US));
        assert_eq!(lines.advance(3 * MS).len(), 1);
        assert_eq!(lines.next_deadline(), None);
        // An edge accepted by another call waits for `advance`: due now.
        lines.set_input_voltage(l1, 5.0, 4 * MS).unwrap();
        lines.set_signal(Signal::ExposureActive, true, 5 * MS);
        assert_eq!(lines.next_deadline(), Some(5 * MS));
        assert_eq!(lines.advance(5 * MS), vec![edge(l1, true, 4_200 * US)]);
        assert_eq!(lines.next_deadline(), None);
    }

    #[test]
    fn output_edges_are_capped_and_cleared() {
        let mut lines = Lines::new();
        let l0 = LineId::Line0;
        lines
            .set_config(l0, output_config(LineSource::ExposureActive, false), 0)
            .unwrap();
        for k in 0..1500u64 {
            lines.set_signal(Signal::ExposureActive, k % 2 == 0, (k + 1) * MS);
        }
        let edges = lines.output_edges(l0);
        assert_eq!(edges.len(), OUTPUT_EDGE_CAPACITY);
        assert_eq!(edges.last().map(|e| e.logic_ns), Some(1500 * MS));
        assert_eq!(edges.first().map(|e| e.logic_ns), Some(477 * MS));
        lines.clear_output_edges();
        assert!(lines.output_edges(l0).is_empty());
    }

    #[test]
    fn names_round_trip() {
        for line in LineId::ALL {
            assert_eq!(LineId::from_name(line.name()), Some(line));
        }
        for source in LineSource::ALL {
            assert_eq!(LineSource::from_name(source.name()), Some(source));
        }
        for mode in [LineMode::Input, LineMode::Output] {
            assert_eq!(LineMode::from_name(mode.name()), Some(mode));
        }
        assert_eq!(LineId::from_name("Line3"), None);
        assert_eq!(LineSource::from_name("ExposureActiv"), None);
        assert_eq!(Lines::format(LineId::Line0), "OptoCoupled");
        assert_eq!(Lines::format(LineId::Line1), "OptoCoupled");
        assert_eq!(Lines::format(LineId::Line2), "TTL");
        assert_eq!(LineId::Line2.index(), 2);
    }
}
