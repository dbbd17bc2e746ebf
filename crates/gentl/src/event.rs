//! GenTL events: a queue of event data per registered (module, event
//! type), filled by the producer and drained by `EventGetData`.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::abi::GENTL_INFINITE;
use crate::error::{GcError, GcResult};

#[derive(Default)]
struct QueueState {
    items: VecDeque<Vec<u8>>,
    fired: u64,
    /// `EventKill` calls not yet consumed by a waiter.
    kills: u32,
    /// Unregistered or its module closed.
    closed: bool,
}

/// One registered event.
pub struct EventQueue {
    event_type: i32,
    state: Mutex<QueueState>,
    cond: Condvar,
}

impl EventQueue {
    /// An empty queue for `event_type`.
    pub fn new(event_type: i32) -> EventQueue {
        EventQueue {
            event_type,
            state: Mutex::new(QueueState::default()),
            cond: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The `EVENT_TYPE`.
    pub fn event_type(&self) -> i32 {
        self.event_type
    }

    /// Whether the event was unregistered or its module closed.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Adds one event's data and wakes a waiter.
    pub fn push(&self, data: Vec<u8>) {
        let mut st = self.lock();
        st.items.push_back(data);
        st.fired += 1;
        self.cond.notify_one();
    }

    /// The oldest event's data, waiting up to `timeout_ms`
    /// ([`GENTL_INFINITE`] waits for ever).
    pub fn pop(&self, timeout_ms: u64) -> GcResult<Vec<u8>> {
        let deadline = if timeout_ms == GENTL_INFINITE {
            None
        } else {
            Instant::now().checked_add(Duration::from_millis(timeout_ms))
        };
        let mut st = self.lock();
        loop {
            if st.kills > 0 {
                st.kills -= 1;
                return Err(GcError::Abort("EventKill".into()));
            }
            if st.closed {
                return Err(GcError::Abort("the event was unregistered".into()));
            }
            if let Some(d) = st.items.pop_front() {
                return Ok(d);
            }
            let wait = match deadline {
                None => Duration::from_millis(500),
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(GcError::Timeout(timeout_ms));
                    }
                    left
                }
            };
            st = self
                .cond
                .wait_timeout(st, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Looks at the oldest event's data without taking it.
    pub fn peek(&self) -> Option<Vec<u8>> {
        self.lock().items.front().cloned()
    }

    /// Removes the events waiting for a `pop` for which `keep` is false.
    pub fn retain(&self, mut keep: impl FnMut(&[u8]) -> bool) {
        self.lock().items.retain(|d| keep(d));
    }

    /// Drops every waiting event (`EventFlush`).
    pub fn flush(&self) {
        self.lock().items.clear();
    }

    /// Makes one waiting (or the next) `pop` return [`GcError::Abort`].
    pub fn kill(&self) {
        self.lock().kills += 1;
        self.cond.notify_all();
    }

    /// Ends the queue: every `pop` returns [`GcError::Abort`].
    pub fn close(&self) {
        self.lock().closed = true;
        self.cond.notify_all();
    }

    /// Events waiting.
    pub fn waiting(&self) -> usize {
        self.lock().items.len()
    }

    /// Events pushed since registration.
    pub fn fired(&self) -> u64 {
        self.lock().fired
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn pop_times_out_then_delivers_in_order_and_kill_aborts() {
        let q = Arc::new(EventQueue::new(1));
        assert_eq!(q.pop(10), Err(GcError::Timeout(10)));
        q.push(vec![1]);
        q.push(vec![2]);
        assert_eq!((q.waiting(), q.fired()), (2, 2));
        assert_eq!(q.pop(0).unwrap(), vec![1]);
        q.flush();
        assert_eq!(q.waiting(), 0);
        let q2 = q.clone();
        let waiter = std::thread::spawn(move || q2.pop(GENTL_INFINITE));
        std::thread::sleep(Duration::from_millis(50));
        q.kill();
        assert!(matches!(waiter.join().unwrap(), Err(GcError::Abort(_))));
        q.push(vec![3]);
        assert_eq!(q.pop(GENTL_INFINITE).unwrap(), vec![3]);
        q.close();
        assert!(matches!(q.pop(GENTL_INFINITE), Err(GcError::Abort(_))));
    }
}
