//! The camera clock: nanoseconds since power-up, following wall time or
//! jumping ahead as fast as the camera can compute.

use std::time::{Duration, Instant};

/// How the clock advances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockMode {
    /// Follows wall time.
    WallTime,
    /// Stands still while the camera computes and jumps to the next thing
    /// due: frames come as fast as they can be made and sent.
    AsFastAsPossible,
}

/// The camera clock. Monotonic; the timestamp counter the host sees is
/// this minus the time of the last TimestampReset.
#[derive(Debug, Clone)]
pub struct Clock {
    mode: ClockMode,
    /// Wall-time origin: the instant at which the clock read `origin_ns`.
    base: Instant,
    origin_ns: u64,
    /// The clock's value in AsFastAsPossible mode.
    virtual_ns: u64,
    timestamp_zero: u64,
}

impl Clock {
    /// A clock at 0 in `mode`.
    pub fn new(mode: ClockMode) -> Clock {
        Clock {
            mode,
            base: Instant::now(),
            origin_ns: 0,
            virtual_ns: 0,
            timestamp_zero: 0,
        }
    }

    /// The mode.
    pub fn mode(&self) -> ClockMode {
        self.mode
    }

    /// Changes the mode; the clock keeps its value.
    pub fn set_mode(&mut self, mode: ClockMode) {
        let now = self.now_ns();
        self.mode = mode;
        self.base = Instant::now();
        self.origin_ns = now;
        self.virtual_ns = now;
    }

    /// Nanoseconds since power-up.
    pub fn now_ns(&self) -> u64 {
        match self.mode {
            ClockMode::WallTime => self
                .origin_ns
                .saturating_add(u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)),
            ClockMode::AsFastAsPossible => self.virtual_ns,
        }
    }

    /// AsFastAsPossible: jumps to `t_ns` (never backwards). Wall time: no
    /// effect.
    pub fn advance_to(&mut self, t_ns: u64) {
        if self.mode == ClockMode::AsFastAsPossible {
            self.virtual_ns = self.virtual_ns.max(t_ns);
        }
    }

    /// How long to wait in wall time until the clock reads `t_ns`.
    pub fn wait_for(&self, t_ns: u64) -> Duration {
        Duration::from_nanos(t_ns.saturating_sub(self.now_ns()))
    }

    /// The timestamp the host sees for clock value `t_ns`.
    pub fn timestamp(&self, t_ns: u64) -> u64 {
        t_ns.saturating_sub(self.timestamp_zero)
    }

    /// TimestampReset: the timestamp counter restarts at 0 now.
    pub fn reset_timestamp(&mut self) {
        self.timestamp_zero = self.now_ns();
    }
}
