//! Runtime primitives that know nothing of tokens or 8x8: cancellation, clocks and deadlines, fork detection and
//! the descriptors a forked child must not hold, the log sink, the counters, name lookups that end at a
//! deadline or a cancel, and how TCP sockets are made.

/// cbindgen:ignore
pub mod cancel;
pub mod clock;
pub mod fork;
pub mod inherited_fds;
pub mod limiter;
pub mod log;
pub mod lookup;
pub mod os;
pub mod sockets;
pub mod stats;
