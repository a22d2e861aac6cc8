//! Runtime primitives that know nothing of tokens or 8x8: clocks and deadlines, fork detection and the
//! descriptors a forked child must not hold, the log sink, and the counters.

pub mod clock;
pub mod fork;
pub mod inherited_fds;
pub mod limiter;
pub mod log;
pub mod os;
pub mod stats;
