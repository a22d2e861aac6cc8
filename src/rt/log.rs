//! The diagnostics hook: an optional callback through which the library tells operators what it does (token
//! fetches, refreshes, retries and why). Messages are composed by the library from facts it controls and
//! never include the secret or a token.

use parking_lot::RwLock;
use std::fmt;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
}

impl Level {
    pub fn from_i32(v: i32) -> Option<Level> {
        match v {
            1 => Some(Level::Error),
            2 => Some(Level::Warn),
            3 => Some(Level::Info),
            4 => Some(Level::Debug),
            _ => None,
        }
    }
}

pub type LogFn = dyn Fn(Level, &str) + Send + Sync;

/// Cheap to clone and to call when no callback is set: formatting only happens for messages that will be seen.
///
/// Each client attaches its own gate (`attached`), which `close` shuts when the client is freed: a background
/// renewal still running afterwards then logs nothing, so a C caller's `user_data` is never used after
/// `x8_client_free` returns. A callback in progress holds the gate open; `close` waits for it.
#[derive(Clone, Default)]
pub struct Logger {
    sink: Option<Arc<LogFn>>,
    max_level: Option<Level>,
    gate: Option<Arc<RwLock<bool>>>,
}

impl Logger {
    pub fn new(sink: Arc<LogFn>, max_level: Level) -> Logger {
        Logger {
            sink: Some(sink),
            max_level: Some(max_level),
            gate: None,
        }
    }

    /// The same sink behind a new gate of its own, for one client.
    pub fn attached(&self) -> Logger {
        Logger {
            gate: Some(Arc::new(RwLock::new(true))),
            ..self.clone()
        }
    }

    /// Stops all further messages through this gate, waiting for any callback in progress to return.
    pub fn close(&self) {
        if let Some(gate) = &self.gate {
            *gate.write() = false;
        }
    }

    pub fn enabled(&self, level: Level) -> bool {
        self.sink.is_some() && self.max_level.is_some_and(|max| level <= max)
    }

    pub fn log(&self, level: Level, message: impl FnOnce() -> String) {
        let (Some(sink), true) = (&self.sink, self.enabled(level)) else {
            return;
        };
        let open = self.gate.as_ref().map(|g| g.read());
        if open.as_ref().is_none_or(|o| **o) {
            sink(level, &message());
        }
    }
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("enabled", &self.sink.is_some())
            .field("max_level", &self.max_level)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;

    #[test]
    fn filters_by_level_and_formats_lazily() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let logger = Logger::new(
            Arc::new(move |l, m: &str| sink.lock().push((l, m.to_owned()))),
            Level::Info,
        );
        logger.log(Level::Debug, || {
            panic!("a filtered message must not be formatted")
        });
        logger.log(Level::Warn, || "w".into());
        assert_eq!(seen.lock().as_slice(), [(Level::Warn, "w".to_owned())]);
        Logger::default().log(Level::Error, || panic!("no sink, no formatting"));
    }

    #[test]
    fn a_closed_gate_silences_only_its_own_client() {
        let seen = Arc::new(Mutex::new(0));
        let sink = seen.clone();
        let shared = Logger::new(Arc::new(move |_, _: &str| *sink.lock() += 1), Level::Debug);
        let (a, b) = (shared.attached(), shared.attached());
        a.close();
        a.log(Level::Error, || "dropped".into());
        b.log(Level::Error, || "kept".into());
        assert_eq!(*seen.lock(), 1);
    }
}
