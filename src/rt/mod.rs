//! Runtime primitives that know nothing of tokens or 8x8: clocks and deadlines, fork detection, the log sink,
//! and the counters.

pub mod clock;
pub mod fork;
pub mod limiter;
pub mod log;
pub mod os;
pub mod stats;
