//! Logging at a bounded rate: a guest that sends malformed chains in a loop
//! must not fill the host's disk with warnings. Every occurrence is counted;
//! the first [`BURST`] are logged, then at most one per [`INTERVAL`], which
//! says how many went unlogged since the last.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Occurrences logged before the rate applies.
pub const BURST: u64 = 10;
/// At most one line per this interval after the burst.
pub const INTERVAL: Duration = Duration::from_secs(10);

/// A counter with a log budget.
#[derive(Debug, Default)]
pub struct RateLimited {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    total: u64,
    unlogged: u64,
    last: Option<Instant>,
}

impl RateLimited {
    /// Counts one occurrence; `Some(n)` when it may be logged, `n` being how
    /// many were not logged since the last logged one.
    pub fn allow(&self) -> Option<u64> {
        self.allow_at(Instant::now())
    }

    fn allow_at(&self, now: Instant) -> Option<u64> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.total += 1;
        let due = s.total <= BURST || s.last.map_or(true, |t| now.duration_since(t) >= INTERVAL);
        if due {
            s.last = Some(now);
            Some(std::mem::take(&mut s.unlogged))
        } else {
            s.unlogged += 1;
            None
        }
    }

    /// Occurrences so far.
    pub fn total(&self) -> u64 {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_logs_the_burst_then_one_line_per_interval() {
        let r = RateLimited::default();
        let t0 = Instant::now();
        let logged = (0..10_000).filter(|_| r.allow_at(t0).is_some()).count();
        assert_eq!(logged as u64, BURST);
        assert_eq!(r.total(), 10_000);
        assert_eq!(r.allow_at(t0 + INTERVAL), Some(10_000 - BURST));
        assert_eq!(r.allow_at(t0 + INTERVAL), None);
    }
}
